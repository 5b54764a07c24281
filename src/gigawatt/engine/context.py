"""What a workload handler sees of the simulation: clock, fleet, ledger, facility feedback, random streams."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from gigawatt.engine.clock import Clock, wall_clock_offset_h
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import LoadLedger
from gigawatt.rng import stream_rng
from gigawatt.scenario.resolve import target_groups
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.targets import GpuTarget, PoolTarget

if TYPE_CHECKING:  # the engine of a training workload (a type only: no import of the workloads at run time)
    from gigawatt.engine.workloads.training import TrainingEngine

__all__ = ["SimContext", "ThroughputBoard", "TrainingPools"]

ThroughputListener = Callable[[float, float], None]
TrainingListener = Callable[[float, float, dict[int, float], float], None]
"""``(t_s, clock_frac, paused_frac_by_priority, paused_default_frac)``."""
TrainingSource = Callable[[], list[tuple[int, int, dict[int, int]]]]
"""Returns ``(hall, rack_group, {priority: allocated GPUs})`` of a training pool's running jobs, now."""
PowerListener = Callable[[float, bool], None]
"""``(t_s, powered)``: the hall lost (False) or regained (True) power."""


class ThroughputBoard:
    """Current throughput factor per hall, published by the facility controller.

    Workloads read :meth:`current` and may :meth:`subscribe` to be called back ``(t_s, new_frac)`` when
    their hall's factor changes (so a job can re-time its progress; cost O(jobs in that hall) per change).
    This *progress* factor is the clock factor times the running fraction of the hall's load.

    Training is paused by priority (power capping pauses the lowest priority first), so training pools read
    :meth:`training` and :meth:`subscribe_training` instead: the hall's clock factor ``c`` (thermal limits
    and DVFS) and the paused fraction ``q_p`` of each training priority level; a job of priority ``p``
    progresses at ``c·(1 − q_p)``. Training pools register a :data:`TrainingSource` with
    :meth:`add_training_source` so the controller knows the running GPUs by priority when it caps power.

    When the supply cannot cover what power capping leaves, whole halls lose power (the site's
    ``power_capping.blackout_order``): the controller calls :meth:`publish_power` at the exact start and end
    of each dark stretch, and listeners registered with :meth:`subscribe_power` stop and restart their work.
    """

    def __init__(self, n_halls: int) -> None:
        self._value = np.ones(n_halls)
        self._listeners: list[list[ThroughputListener]] = [[] for _ in range(n_halls)]
        self._clock = np.ones(n_halls)
        self._paused: list[dict[int, float]] = [{} for _ in range(n_halls)]
        self._paused_default = np.zeros(n_halls)
        self._train_listeners: list[list[TrainingListener]] = [[] for _ in range(n_halls)]
        self._sources: list[TrainingSource] = []
        self._powered = np.ones(n_halls, dtype=bool)
        self._power_listeners: list[list[PowerListener]] = [[] for _ in range(n_halls)]

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

    # ------------------------------------------------------------------------------ training by priority
    def training(self, hall: int) -> tuple[float, dict[int, float], float]:
        """``(clock_frac, paused_frac_by_priority, paused_default_frac)`` of ``hall`` now."""
        return float(self._clock[hall]), dict(self._paused[hall]), float(self._paused_default[hall])

    def subscribe_training(self, hall: int, callback: TrainingListener) -> Callable[[], None]:
        """Call ``callback(t_s, clock_frac, paused_by_priority, paused_default)`` when ``hall``'s values
        change; returns an unsubscribe function."""
        self._train_listeners[hall].append(callback)
        return lambda: self._train_listeners[hall].remove(callback)

    @property
    def has_training_listeners(self) -> bool:
        """Whether any training job listens for clock/pause changes (else publishing them can be skipped)."""
        return any(self._train_listeners)

    def publish_training(
        self,
        t_s: float,
        clock_frac: np.ndarray,
        paused_frac: list[dict[int, float]],
        paused_default_frac: np.ndarray,
        tol: float = 1e-9,
    ) -> None:
        """Set every hall's clock factor (H,), paused fraction per training priority (one dict per hall) and
        paused fraction of other priorities (H,); notify listeners of halls where any changed by > ``tol``."""
        clock_frac = np.asarray(clock_frac, dtype=float)
        paused_default_frac = np.asarray(paused_default_frac, dtype=float)
        if (
            not any(paused_frac)
            and not any(self._paused)
            and np.all(np.abs(clock_frac - self._clock) <= tol)
            and np.all(np.abs(paused_default_frac - self._paused_default) <= tol)
        ):  # nothing changed (the common case): no per-hall work
            return
        for h in range(self._clock.size):
            old, new = self._paused[h], paused_frac[h]
            same = (
                abs(clock_frac[h] - self._clock[h]) <= tol
                and abs(paused_default_frac[h] - self._paused_default[h]) <= tol
                and old.keys() == new.keys()
                and all(abs(new[p] - old[p]) <= tol for p in new)
            )
            self._clock[h] = clock_frac[h]
            self._paused[h] = dict(new)
            self._paused_default[h] = paused_default_frac[h]
            if not same:
                for cb in list(self._train_listeners[h]):
                    cb(t_s, float(clock_frac[h]), dict(new), float(paused_default_frac[h]))

    # ----------------------------------------------------------------------------------- power loss
    def powered(self, hall: int) -> bool:
        """Whether ``hall`` has power now (False while it is dark in a blackout)."""
        return bool(self._powered[hall])

    def subscribe_power(self, hall: int, callback: PowerListener) -> Callable[[], None]:
        """Call ``callback(t_s, powered)`` when ``hall`` loses or regains power; returns an unsubscribe
        function."""
        self._power_listeners[hall].append(callback)
        return lambda: self._power_listeners[hall].remove(callback)

    def publish_power(self, t_s: float, hall: int, powered: bool) -> None:
        """Set whether ``hall`` has power; notify its listeners when that changes."""
        if bool(self._powered[hall]) == bool(powered):
            return
        self._powered[hall] = bool(powered)
        for cb in list(self._power_listeners[hall]):
            cb(t_s, bool(powered))

    def add_training_source(self, source: TrainingSource) -> None:
        """Register a training pool's report of its running GPUs by priority (see :data:`TrainingSource`)."""
        self._sources.append(source)

    def training_gpus_by_priority(self) -> list[tuple[int, int, dict[int, int]]]:
        """Every registered pool's ``(hall, rack_group, {priority: allocated GPUs})`` now."""
        return [row for src in self._sources for row in src()]


class TrainingPools:
    """The training engines of a run by workload name, for workloads that borrow their nodes.

    A ``kind: training`` handler registers its engine when it starts; an inference service with
    ``shared_with_training`` looks it up by the training workload's name.
    """

    def __init__(self) -> None:
        self._engines: dict[str, TrainingEngine] = {}

    def register(self, name: str, engine: TrainingEngine) -> None:
        """Make ``engine`` the training engine of workload ``name`` (a name is registered once)."""
        if name in self._engines:
            raise ValueError(f"training workload {name!r} is registered twice")
        self._engines[name] = engine

    def lookup(self, name: str, field_path: str = "") -> TrainingEngine:
        """The engine of training workload ``name``.

        Raises
        ------
        LookupError
            No training workload of that name has started (``field_path``, e.g.
            ``workloads[2].shared_with_training``, names the field that asked for it).
        """
        try:
            return self._engines[name]
        except KeyError:
            where = f"{field_path}: " if field_path else ""
            raise LookupError(
                f"{where}no training workload named {name!r} (training workloads: {sorted(self._engines)})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._engines

    def __len__(self) -> int:
        return len(self._engines)


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
    """Scratch space for cooperation between handlers."""
    training_pools: TrainingPools = field(default_factory=TrainingPools)
    """Training engines by workload name (inference services borrow their nodes)."""

    def rng(self, *key: str | int) -> np.random.Generator:
        """An independent random stream named by ``key`` (e.g. ``("workload", "pretrain", "failures")``).

        Derived as ``SeedSequence(seed, spawn_key=crc32(key))``: the same seed and key give the same stream,
        regardless of creation order or of how many other streams exist.
        """
        return stream_rng(self.seed, *key)

    def wall_clock_offset_h(self, groups: np.ndarray) -> float:
        """Offset from UTC [h] of the wall clock of hour-of-day rules for workloads on ``groups``
        (``Scenario.wall_clock``: the local standard time of the first group's site, or UTC)."""
        site = self.scenario.sites[int(self.fleet.group_site[int(groups[0])])] if len(groups) else None
        return wall_clock_offset_h(self.scenario.wall_clock, site, self.scenario.resolve_path)

    def groups_for(self, target: GpuTarget | PoolTarget) -> np.ndarray:
        """Global rack-group indices covered by a workload target."""
        keys = target_groups(self.scenario, target)
        sc = self.scenario
        names = [
            f"{sc.sites[s].name}/{sc.sites[s].halls[h].name}/{sc.sites[s].halls[h].racks[g].name}"
            for s, h, g in keys
        ]
        return np.array([self.fleet.group_keys.index(n) for n in names], dtype=np.int64)
