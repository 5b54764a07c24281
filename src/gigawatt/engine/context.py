"""What a workload handler sees of the simulation: clock, fleet, ledger, facility feedback, random streams."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from gigawatt.engine.clock import Clock
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import LoadLedger
from gigawatt.scenario.resolve import target_groups
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.workloads import GpuTarget

__all__ = ["SimContext", "ThroughputBoard"]

ThroughputListener = Callable[[float, float], None]


class ThroughputBoard:
    """Current throughput factor per hall, published by the facility controller.

    Workloads read :meth:`current` and may :meth:`subscribe` to be called back ``(t_s, new_frac)`` when
    their hall's factor changes (so a job can re-time its progress; cost O(jobs in that hall) per change).
    """

    def __init__(self, n_halls: int) -> None:
        self._value = np.ones(n_halls)
        self._listeners: list[list[ThroughputListener]] = [[] for _ in range(n_halls)]

    def current(self, hall: int) -> float:
        """Throughput factor of ``hall`` now (1 = unconstrained)."""
        return float(self._value[hall])

    def subscribe(self, hall: int, callback: ThroughputListener) -> Callable[[], None]:
        """Call ``callback(t_s, new_frac)`` whenever ``hall``'s factor changes; returns an unsubscribe function."""
        self._listeners[hall].append(callback)
        return lambda: self._listeners[hall].remove(callback)

    def publish(self, t_s: float, values: np.ndarray, tol: float = 1e-9) -> None:
        """Set every hall's factor; notify listeners of halls whose value changed by more than ``tol``."""
        changed = np.flatnonzero(np.abs(values - self._value) > tol)
        self._value = np.asarray(values, dtype=float).copy()
        for h in changed:
            for cb in list(self._listeners[h]):
                cb(t_s, float(values[h]))


@dataclass
class SimContext:
    """Shared simulation state handed to workload handlers."""

    scenario: Scenario
    seed: int
    clock: Clock
    fleet: Fleet
    ledger: LoadLedger
    env: simpy.Environment
    throughput: ThroughputBoard
    extras: dict[str, Any] = field(default_factory=dict)
    """Scratch space for cooperation between handlers (e.g. a shared GPU pool registry)."""

    def rng(self, *key: str | int) -> np.random.Generator:
        """An independent random stream named by ``key`` (e.g. ``("workload", "pretrain", "failures")``).

        Derived as ``SeedSequence(seed, spawn_key=crc32(key))``: the same seed and key give the same stream,
        regardless of creation order or of how many other streams exist.
        """
        words = tuple(zlib.crc32(str(k).encode()) for k in key)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=words))

    def groups_for(self, target: GpuTarget) -> np.ndarray:
        """Global rack-group indices covered by a workload target."""
        keys = target_groups(self.scenario, target)
        sc = self.scenario
        names = [
            f"{sc.sites[s].name}/{sc.sites[s].halls[h].name}/{sc.sites[s].halls[h].racks[g].name}"
            for s, h, g in keys
        ]
        return np.array([self.fleet.group_keys.index(n) for n in names], dtype=np.int64)
