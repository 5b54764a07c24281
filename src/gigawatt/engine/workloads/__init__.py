"""Workload handlers by ``kind``. A new kind registers its handler class in :data:`HANDLERS`."""

from collections.abc import Callable
from typing import Any

from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.engine.workloads.multisite import inference_handler
from gigawatt.engine.workloads.training import TrainingHandler
from gigawatt.engine.workloads.utilization import UtilizationHandler

#: Kind → handler class or factory ``(spec, ctx, index) -> WorkloadHandler`` (an inference service with several
#: placements gets :class:`~gigawatt.engine.workloads.multisite.MultiSiteInferenceHandler`).
HANDLERS: dict[str, Callable[[Any, Any, int], WorkloadHandler]] = {
    "utilization": UtilizationHandler,
    "training": TrainingHandler,
    "inference": inference_handler,
}

__all__ = ["HANDLERS", "WorkloadHandler", "WorkloadOutput"]
