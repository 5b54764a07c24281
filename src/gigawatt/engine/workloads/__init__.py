"""Workload handlers by ``kind``. A new kind registers its handler class in :data:`HANDLERS`."""

from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.engine.workloads.inference import InferenceHandler
from gigawatt.engine.workloads.training import TrainingHandler
from gigawatt.engine.workloads.utilization import UtilizationHandler

HANDLERS: dict[str, type[WorkloadHandler]] = {
    "utilization": UtilizationHandler,
    "training": TrainingHandler,
    "inference": InferenceHandler,
}

__all__ = ["HANDLERS", "WorkloadHandler", "WorkloadOutput"]
