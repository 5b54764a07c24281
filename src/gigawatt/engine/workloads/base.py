"""Workload handler protocol: how a workload kind plugs into the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from gigawatt.engine.context import SimContext

__all__ = ["WorkloadHandler", "WorkloadOutput"]


@dataclass
class WorkloadOutput:
    """What a handler contributes to the :class:`~gigawatt.Result`."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    """Extra time-series columns ``(n_steps,)``, full column names (e.g. ``"chat:served_rps"``)."""
    jobs: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    services: pd.DataFrame | None = None
    requests: pd.DataFrame | None = None
    kpis: dict[str, float] = field(default_factory=dict)


class WorkloadHandler:
    """Base class: one instance per workload in the scenario.

    Lifecycle: ``__init__`` (validate against the fleet) → :meth:`start` (register simpy processes and/or
    ledger profiles) → simulation runs → :meth:`finish` (build outputs; ``flows`` are the final facility
    arrays, e.g. ``flows["accel_power_kw"]`` per group).
    """

    kind: ClassVar[str] = ""

    @property
    def runs_processes(self) -> bool:
        """Whether the workload runs simpy processes of its own during the run (then the facility controller
        wakes at every feedback block; see :attr:`gigawatt.engine.ledger.BoundaryWatch`). Default: True."""
        return True

    def __init__(self, spec: Any, ctx: SimContext, index: int) -> None:
        self.spec = spec
        self.ctx = ctx
        self.index = index

    def start(self) -> None:
        raise NotImplementedError

    def before_finalize(self) -> None:
        """Called after the run, before the controller's final physics pass: correct ledger profiles with what
        only the run could tell (e.g. GPUs a shared pool actually lent). Default: nothing."""

    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        return WorkloadOutput()
