"""Workload handlers by ``kind``. A new kind registers its handler class in :data:`HANDLERS`."""

from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.engine.workloads.utilization import UtilizationHandler

HANDLERS: dict[str, type[WorkloadHandler]] = {
    "utilization": UtilizationHandler,
}

__all__ = ["HANDLERS", "WorkloadHandler", "WorkloadOutput"]
