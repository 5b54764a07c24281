"""Facility controller: turns GPU occupancy and weather into facility physics, and feeds back throughput.

Stages (each a pure function of arrays, see ``docs/architecture.md``):

1. **IT power** (:mod:`gigawatt.physics.power`): occupancy by phase → accelerator and host power per group.
2. **Facility** (:mod:`gigawatt.physics.facility`): hall IT power + weather → cooling, electrical losses,
   other load, throughput factor (thermal limits).
3. **Supply** (:class:`gigawatt.engine.energy.SupplyStage`): per site, dispatch of grid, on-site generation
   and battery (:mod:`gigawatt.physics.dispatch`) → grid import, energy cost, emissions; when supply falls
   short, the power-capping policy (:mod:`gigawatt.physics.capping`) lowers throughput (DVFS) and pauses or
   sheds load so the facility fits under the supply available.

During the run the controller wakes once per *feedback block* (``block_steps`` control steps), predicts the
block's load from the current state (:meth:`LoadLedger.predict`), decides each hall's throughput factor for
the block and publishes it on the :class:`ThroughputBoard` — for training, the clock factor and the paused
fraction of each job priority level (power capping pauses the lowest level first). When even every capping
action leaves a site's load above its supply, whole halls lose power in the site's ``blackout_order`` until
the lit halls fit (:meth:`FacilityController._plan_blackout`); a dark hall draws nothing and its work stops
(the controller announces each dark stretch at its exact start and end on the board, see
:meth:`ThroughputBoard.publish_power`). When no stage can reduce throughput, it does not look ahead at
all. A load change that provably leaves the decided steps as they are is not re-decided
(:meth:`FacilityController.harmless_until`); every such skip is verified exactly after the run
(:meth:`FacilityController.unsound_skips`) and :func:`gigawatt.simulate` repeats the run with a re-decision
where one was not, so the decisions never depend on the skip. After the run, :meth:`finalize` evaluates
every stage once over the whole horizon with
the exact, time-weighted occupancy and the throughput factors that were in force, so energy is exact and
cost does not grow with the number of steps in Python.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Generator
from typing import Any

import numpy as np
import pandas as pd
import simpy

from gigawatt.engine.context import SimContext
from gigawatt.engine.energy import PHASE_KIND, CapDecision, SupplyStage, plan_power_cap
from gigawatt.engine.plant import build_plant
from gigawatt.engine.weather import site_weather
from gigawatt.engine.workloads.base import WorkloadOutput
from gigawatt.physics import facility, it_power, power
from gigawatt.physics.facility_kernel import facility_power_given_throughput_compiled
from gigawatt.physics.phases import Phase

__all__ = [
    "BLACKOUT_TOL_FRAC",
    "FINALIZE_CHUNK_STEPS",
    "FINAL_FLOWS",
    "SLOPE_ESTIMATE_MARGIN",
    "FacilityController",
    "black_out",
    "hall_blackout_order",
    "marginal_facility_per_it_kw",
]

#: Safety factor on the sampled marginal facility power per kW of IT (see :func:`marginal_facility_per_it_kw`;
#: an engineering choice, not a measured constant). It only makes a repeated run rarer: every skip is verified
#: exactly after the run (:meth:`FacilityController.unsound_skips`), so the estimate decides speed, never the
#: answer.
SLOPE_ESTIMATE_MARGIN = 1.25
#: Rows (weather sample × load) per evaluation when sampling the slope (a cache-sized chunk; any size gives
#: the same numbers, the model being elementwise).
_SLOPE_CHUNK_ROWS = 4096


def marginal_facility_per_it_kw(
    plant: facility.FacilityPlant,
    dry_bulb_c: np.ndarray,
    wet_bulb_c: np.ndarray,
    max_it_kw: np.ndarray,
    *,
    n_weather: int = 128,
    n_load: int = 161,
) -> np.ndarray:
    """Largest marginal facility power per kW of added IT load, dP_facility/dP_IT, of each hall [kW/kW].

    Sampled for this plant and run: at steps of the run's weather spread evenly in time and in dry- and
    wet-bulb rank (``n_weather`` each, extremes included) and ``n_load`` IT loads from 0 to ``max_it_kw``,
    as forward differences over 0.1 % of ``max_it_kw`` of the full facility model (server fans, cooling,
    electrical losses). Typical values are 1.1-1.7; near zero load and where cooling stages switch on
    (rejection fans, trim chillers) they reach 3-9 for some designs and ``capacity_frac``. There is no finite
    bound over all weather: a free-cooling rejection fan holding its approach runs at speed
    ``a·Q/(Q_d·(T_s − T_sink))``, so its cubic power rises ever more steeply as the sink nears the set point.
    Hence an estimate: the controller verifies every decision it kept with it (see
    :meth:`FacilityController.unsound_skips`).

    Parameters
    ----------
    plant : FacilityPlant
    dry_bulb_c, wet_bulb_c : array (T, H)
        Each hall's ambient over the run [°C].
    max_it_kw : array (H,)
        Largest IT load each hall can draw [kW].

    Returns
    -------
    array (H,)
        The sampled maximum of ``(P_fac(x + h) − P_fac(x)) / h`` per hall (at least 1).
    """
    n_t, n_h = dry_bulb_c.shape
    if n_t == 0 or n_h == 0:
        return np.ones(n_h)
    # steps evenly spread in time and in dry- and wet-bulb rank (so every temperature band is sampled,
    # including the extremes)
    even = np.linspace(0, n_t - 1, min(n_weather, n_t)).astype(np.int64)
    sites = [
        h
        for h in range(n_h)
        if not any(
            np.array_equal(dry_bulb_c[:, h], dry_bulb_c[:, k])
            and np.array_equal(wet_bulb_c[:, h], wet_bulb_c[:, k])
            for k in range(h)
        )
    ]  # halls with their own weather (one per site)
    idx = np.unique(
        np.concatenate(
            [even]
            + [np.argsort(t[:, h], kind="stable")[even] for t in (dry_bulb_c, wet_bulb_c) for h in sites]
        )
    )
    x_max = np.maximum(np.asarray(max_it_kw, dtype=float), 1e-3)
    # even spread plus a geometric ladder near zero load, where the slopes are steepest
    frac = np.union1d(np.linspace(0.0, 1.0, n_load), np.geomspace(1e-4, 0.05, 32))
    n_load = frac.size
    h_kw = 0.001 * x_max
    x_load = frac[:, None] * x_max[None, :]  # (n_load, H)
    slope = np.full(n_h, -np.inf)
    # elementwise model: evaluate in chunks of weather samples that keep the temporaries in cache
    per_chunk = max(1, _SLOPE_CHUNK_ROWS // n_load)
    for i0 in range(0, idx.size, per_chunk):
        rows = idx[i0 : i0 + per_chunk]
        shape = (rows.size, n_load, n_h)
        x = np.broadcast_to(x_load[None, :, :], shape).reshape(-1, n_h)
        db = np.broadcast_to(dry_bulb_c[rows][:, None, :], shape).reshape(-1, n_h)
        wb = np.broadcast_to(wet_bulb_c[rows][:, None, :], shape).reshape(-1, n_h)
        # both points in one evaluation: the facility power at x and at x + h
        f = facility.facility_power_given_throughput_kw(
            plant, np.concatenate([x, x + h_kw]), 0.0, np.concatenate([db, db]), np.concatenate([wb, wb]), 1.0
        )
        f0, f1 = f[: x.shape[0]], f[x.shape[0] :]
        slope = np.maximum(slope, np.max((f1 - f0) / h_kw, axis=0))
    return np.asarray(np.maximum(slope, 1.0), dtype=float)


class _Window:
    """The look-ahead window cache: throughput decided for steps ``start..end`` at one event-driven load.

    ``level`` is the ledger's event-driven level the decision was made at, ``n_changes`` the ledger's change
    count the window was last checked against, ``size`` the current look-ahead length [steps] (doubles while
    the load is unchanged, back to one block after a change that moved a decision).
    """

    def __init__(self, block_steps: int) -> None:
        self.thr: np.ndarray | None = None
        self.start = self.end = 0
        self.n_changes = -1
        self.level: np.ndarray | None = None
        self.size = block_steps
        self.plain = False
        """Whether the decided steps run unconstrained (see :meth:`FacilityController._plain`)."""
        self.dark = False
        """Whether some hall is dark at some decided step."""

    def covers(self, step1: int) -> bool:
        """Whether the window has decided every step before ``step1``."""
        return self.thr is not None and step1 <= self.end

    def set(self, thr: np.ndarray, start: int, n_changes: int, level: np.ndarray) -> None:
        self.thr, self.start, self.end = thr, start, start + thr.shape[0]
        self.n_changes, self.level = n_changes, level

    def block(self, step: int, end: int) -> np.ndarray:
        """The decided throughput of steps ``step..end`` (inside the window)."""
        assert self.thr is not None
        return self.thr[step - self.start : end - self.start]


class _SkipLog:
    """Skipped stretches ``(start, end, level)`` of a run, in time order: the start and end steps as lists and
    the ledger levels ``(G, P)`` in one growing array (a busy year at 15-s steps skips ~10^5 times; one small
    array per skip would cost ~0.2 kB of Python objects each)."""

    def __init__(self, level_shape: tuple[int, ...]) -> None:
        self.start: list[int] = []
        self.end: list[int] = []
        self._level = np.empty((64, *level_shape))

    def __len__(self) -> int:
        return len(self.start)

    def append(self, start: int, end: int, level: np.ndarray) -> None:
        """Record that the decided steps ``start..end`` were kept after a load change to ``level``."""
        n = len(self.start)
        if n == self._level.shape[0]:
            grown = np.empty((2 * n, *self._level.shape[1:]))
            grown[:n] = self._level
            self._level = grown
        self._level[n] = level
        self.start.append(start)
        self.end.append(end)

    def close(self, step: int) -> None:
        """End the last stretch at ``step`` if it reaches beyond it."""
        if self.end and self.end[-1] > step:
            self.end[-1] = step

    @property
    def levels(self) -> np.ndarray:
        """The recorded levels, array ``(n, G, P)`` (a view)."""
        return self._level[: len(self.start)]


#: Steps per block of :meth:`FacilityController.finalize` and :meth:`FacilityController.unsound_skips` (an
#: engineering choice: a few MB of temporaries per block for a few halls, large enough that the per-block
#: Python overhead is negligible; any size gives the same numbers, the model being elementwise in time).
FINALIZE_CHUNK_STEPS = 1 << 15

#: Flows that :meth:`FacilityController.finalize` keeps for the whole horizon (what the result's time series,
#: the supply stage and the workloads read); the facility model's other outputs are dropped block by block, and
#: ``site_facility_power_kw`` (the supply stage's input alone) once the supply stage has dispatched.
FINAL_FLOWS = (
    "it_power_kw",
    "cooling_power_kw",
    "electrical_loss_kw",
    "other_power_kw",
    "facility_power_kw",
    "server_fan_power_kw",
    "water_l",
    "thermal_overload_kw",
    "coolant_supply_c",
    "inlet_c",
    "cooling_capacity_kw",
    "accel_power_kw",
    "host_power_kw",
    "site_facility_power_kw",
    "dry_bulb_c_site",
    "wet_bulb_c_site",
)

#: A site's residual shortfall after every capping action counts as a blackout above this fraction of its
#: facility demand (numerical tolerance of the capping bisection, which returns 0 where it fits).
BLACKOUT_TOL_FRAC = 1e-9

#: Per-step state of the run's look-ahead that :meth:`FacilityController.finalize` no longer reads once the facility
#: blocks are evaluated (dropped there with ``release=True``: a year at 15-s steps holds 17 MB per series).
_LOOKAHEAD_STATE = (
    "throughput_hall",
    "thermal_throughput_hall",
    "running_frac_hall",
    "training_paused_default",
    "training_paused",
    "ambient",
    "thermal_may_bind",
    "_bind_steps",
    "dry_bulb_site_c",
    "wet_bulb_site_c",
    "_skips",
    "_gpu_frac_hall",
    "_fan_frac_hall",
    "hall_present",
)

#: Flow keys that are not zeroed in a dark hall (capacities, temperatures, ratios handled separately).
_KEEP_IN_DARK = ("cooling_capacity_kw",)


def _site_columns(arrays: list[np.ndarray]) -> np.ndarray:
    """Per-site series (T,) as one array (T, S): a view of the only one, else stacked."""
    if len(arrays) == 1:
        return np.asarray(arrays[0], dtype=float)[:, None]
    return np.stack(arrays, axis=1)


def hall_blackout_order(site_hall_names: list[str], blackout_order: list[str]) -> list[int]:
    """Positions (in declaration order) of a site's halls in the order they lose power.

    Halls named in ``blackout_order`` go dark first, in that order; the others follow in reverse
    declaration order (the first-declared hall is the last to go dark).
    """
    named = [site_hall_names.index(n) for n in blackout_order]
    rest = [j for j in reversed(range(len(site_hall_names))) if j not in named]
    return named + rest


def black_out(flows: dict[str, np.ndarray], dark_hall: np.ndarray, group_hall: np.ndarray) -> None:
    """Zero the power, heat and water flows of dark halls in place (a dark hall draws nothing).

    ``dark_hall`` (T, H) bool. Per-hall ratios (``pue``, partial PUEs) become NaN there; capacities and
    temperatures are left as they are; per-group ``accel_power_kw`` and ``host_power_kw`` are zeroed for the
    groups of dark halls.
    """
    lit = ~dark_hall
    for key, arr in flows.items():
        if np.shape(arr) != dark_hall.shape or key in _KEEP_IN_DARK:
            continue
        if key.endswith(("_kw", "_kg_per_s")) or key == "water_l":
            flows[key] = arr * lit
        elif key in ("pue", "cooling_ppue", "electrical_ppue"):
            flows[key] = np.where(lit, arr, np.nan)
    lit_g = lit[:, group_hall]
    for key in ("accel_power_kw", "host_power_kw"):
        if key in flows:
            flows[key] = flows[key] * lit_g


class FacilityController:
    """Owns the facility physics of one simulation run.

    Parameters
    ----------
    ctx : SimContext
    block_steps : int
        Control steps per feedback block.
    force_redecide : collection of int
        Block start steps at which a load change is always re-decided exactly (set by :func:`gigawatt.simulate`
        for the blocks whose skip :meth:`unsound_skips` found unsound in a previous run of the same scenario).
    """

    #: Skip re-deciding after a load change that provably leaves the decisions as they are (off: every
    #: change re-decides; the answer is the same, only slower — the property the tests check).
    skip_harmless_changes: bool = True

    #: Sleep through decided, unconstrained feedback blocks while the one event-driven writer of the ledger
    #: visits their boundaries (off: wake at every block; the answer is the same, only slower — the property
    #: the tests check). Only with exactly one such writer and no workload running simpy processes of its own.
    sleep_between_changes: bool = True

    def __init__(self, ctx: SimContext, block_steps: int = 12, force_redecide: Collection[int] = ()) -> None:
        self.ctx = ctx
        fleet, clock, sc = ctx.fleet, ctx.clock, ctx.scenario
        self.block_steps = max(1, int(block_steps))
        self.plant_inputs = build_plant(fleet)
        self.plant = self.plant_inputs.plant
        self.installed_group: np.ndarray | None = None
        """Installed share of each rack group per step (T, G), or None when nothing has dates (all 1)."""
        self.hall_present: np.ndarray | None = None
        """Whether each hall is in service per step (T, H), or None when nothing has dates (all True)."""
        self._gpu_frac_hall: np.ndarray | None = None
        self._fan_frac_hall: np.ndarray | None = None
        if fleet.dated:
            self.installed_group = fleet.installed_frac(clock.step_start_s, clock.step_s)
            self.hall_present = fleet.hall_present(clock.step_start_s, clock.step_s)
            g2h = fleet.group_to_hall_matrix()
            gpus_hall = fleet.n_gpus.astype(float) @ g2h
            self._gpu_frac_hall = np.divide(
                (self.installed_group * fleet.n_gpus) @ g2h,
                gpus_hall,
                out=np.zeros((clock.n_steps, fleet.n_halls)),
                where=gpus_hall > 0,
            )
            fan_g = fleet.n_servers * self.plant_inputs.fan_max_w_group
            fan_hall = fan_g @ g2h
            self._fan_frac_hall = np.divide(
                (self.installed_group * fan_g) @ g2h,
                fan_hall,
                out=np.zeros((clock.n_steps, fleet.n_halls)),
                where=fan_hall > 0,
            )
        self.phase_w = power.phase_power_w(fleet.idle_w, fleet.tdp_w, fleet.training_power_frac)
        self.g2h = fleet.group_to_hall_matrix()
        self._site_halls = [np.flatnonzero(fleet.hall_site == s) for s in range(fleet.n_sites)]
        self.h2s = fleet.hall_to_site_matrix()
        # each site's weather builds only the columns read (the dry and wet bulb here, what the supply stage
        # reads below); it is not kept: the controller holds the two columns it reads per step
        weather = [site_weather(s, clock, sc.resolve_path) for s in sc.sites]
        # (T, S) per site; one site's columns are views of its weather (no whole-horizon copy)
        self.dry_bulb_site_c = _site_columns([w["dry_bulb_c"] for w in weather])
        self.wet_bulb_site_c = _site_columns([w["wet_bulb_c"] for w in weather])
        db_all, wb_all = self.hall_weather(slice(None))
        self.ambient = facility.ambient_limits(self.plant, db_all, wb_all)
        """Cooling capacity and the IT power it admits per step and hall (they depend on the weather only)."""
        self.thermal_may_bind: np.ndarray = np.asarray(
            facility.thermal_may_bind(self.plant, db_all, wb_all, limits=self.ambient).any(axis=1)
        )
        """Steps where a thermal limit could bind at some load up to design (elsewhere throughput is 1)."""
        del db_all, wb_all  # per-hall copies of the site weather: not kept
        self._bind_steps = np.flatnonzero(self.thermal_may_bind)
        """The steps where :attr:`thermal_may_bind` is True, in order (the first one after a step is found by
        bisection, not by scanning the look-ahead window block after block)."""
        self._bind_cache = (1, 0)
        """``(step, next)``: the last answer of :meth:`_next_bind_step` and the step it was found for."""
        self.throughput_hall = np.ones((clock.n_steps, fleet.n_halls))
        """Throughput (clock) factor in force per step and hall (decided block by block)."""
        self.thermal_throughput_hall = np.ones((clock.n_steps, fleet.n_halls))
        """Throughput factor the facility alone allows (thermal limits), per step and hall."""
        self.running_frac_hall = np.ones((clock.n_steps, fleet.n_halls))
        """Fraction of each hall's dynamic load running (not paused or shed by the supply stage)."""
        self.training_paused_default = np.zeros((clock.n_steps, fleet.n_halls))
        """Paused fraction of training per step and hall (carbon-/price-aware pausing and power capping) for
        priority levels without their own entry in :attr:`training_paused`."""
        self.training_paused: dict[int, np.ndarray] = {}
        """Per training priority level: paused fraction per step and hall (lowest priorities first)."""
        self.dark_hall = np.zeros((clock.n_steps, fleet.n_halls), dtype=bool)
        """Halls without power per step (blackout: the supply cannot cover what power capping leaves)."""
        self._dark_order: list[np.ndarray] = []
        """Per site: hall indices in the order they lose power (``power_capping.blackout_order``)."""
        for si, site in enumerate(sc.sites):
            halls = np.flatnonzero(fleet.hall_site == si)
            pos = hall_blackout_order([h.name for h in site.halls], list(site.power_capping.blackout_order))
            self._dark_order.append(halls[np.asarray(pos, dtype=np.int64)])
        self._dark_announced = np.zeros(fleet.n_halls, dtype=bool)
        self._any_dark_announced = False
        self._progress_plain = self._training_plain = True
        """Whether the last progress (training) publication was plain (all ones, nothing paused: the board's
        initial state), so that publishing a plain block again can be skipped."""
        self._synced_step = 0
        """Steps before this one have had their supply state re-dispatched with the power actually drawn."""
        self._dark_training_kw = np.zeros(fleet.n_halls)
        """Per hall: training dynamic power [kW] running when it last went dark (its jobs restart on relight)."""
        self._dark_base_kw = np.zeros(fleet.n_halls)
        """Per hall: IT power no capping action removes [kW] when it last went dark (hosts of running jobs)."""
        """Dark state per hall as last announced on the board (start of the next block)."""
        self.supply = SupplyStage(
            sc.sites,
            clock,
            weather,
            lambda name: ctx.rng("energy", name),
            sc.resolve_path,
            sc.wall_clock,
            rng_for_region=lambda region: ctx.rng("grid", region, "curtailment"),
            region_windows={r.name: r.curtailment_windows for r in sc.grid_regions},
        )
        del weather  # the columns the supply stage read are not kept (it holds what it derived from them)
        self._energy: tuple[dict[str, np.ndarray], dict[str, float], Any] | None = None
        self._headroom_kw: np.ndarray | None = None
        self._headroom_unbounded = False
        self._upper_kw_per_gpu = (
            self.phase_w.max(axis=1) + fleet.host_w_per_server / np.maximum(fleet.gpus_per_server, 1)
        ) / 1e3
        """Per group: bound on IT power one active GPU adds in any phase, with its host share [kW]."""
        self._upper_kw_per_gpu_0 = float(self._upper_kw_per_gpu[0]) if fleet.n_groups else 0.0
        self._one_group_hall_site = bool(
            fleet.n_groups == 1
            and fleet.n_halls == 1
            and fleet.n_sites == 1
            and self.g2h[0, 0] == 1.0
            and self.h2s[0, 0] == 1.0
        )
        """Whether the fleet is one rack group in one hall on one site (:meth:`fits_headroom` on scalars)."""
        self.force_redecide = frozenset(int(k) for k in force_redecide)
        self._slope_hall: np.ndarray | None = None
        """Per hall: sampled marginal facility power per kW of IT × margin (lazy, see :meth:`slope_hall`)."""
        self._skips = _SkipLog(ctx.ledger.level.shape)
        """Skipped stretches ``(start, end, level)``: steps whose decisions were kept after a load change to
        ``level`` (verified exactly after the run by :meth:`unsound_skips`)."""
        self._forced = sorted(self.force_redecide)
        self.can_sleep = False
        """Whether :meth:`process` may sleep through decided blocks (set by the run: exactly one event-driven
        writer visits the ledger's boundary watch and no workload runs simpy processes of its own)."""
        self._win: _Window | None = None
        self._sleep = (0.0, 0, 0, 0)
        """While asleep: ``(t0_s, step0, next_step, wake_step)``: the time and step it fell asleep at, the
        next boundary step to visit and the step it wakes at."""
        self._proc: simpy.Process | None = None

    # ---------------------------------------------------------------------------------------- stages
    def it_power(self, occupancy: np.ndarray, t: slice | np.ndarray) -> dict[str, np.ndarray]:
        """Stage 1: per-hall IT load split into a fixed part and the throughput-scaled accelerator part [kW].

        ``fixed = n·P_idle + host (without fans) + network + storage``; ``dynamic`` = above-idle accelerator
        power at full throughput. Server fans (inlet-dependent) and the DVFS scaling of ``dynamic`` are
        applied by the facility stage. ``t``: the steps of the rows of ``occupancy`` (a fleet that changes over
        time counts only its installed racks, and network and storage per installed GPU).
        """
        f = self.ctx.fleet
        pi = self.plant_inputs
        inst = None if self.installed_group is None else self.installed_group[t]
        static_kw, host_kw = power.group_it_power_kw(
            occupancy, f.n_gpus, f.idle_w, self.phase_w, f.host_w_per_server, f.n_servers, np.zeros(1), inst
        )
        full_kw, _ = power.group_it_power_kw(
            occupancy, f.n_gpus, f.idle_w, self.phase_w, f.host_w_per_server, f.n_servers, None, inst
        )
        host_kw = host_kw * (1.0 - pi.fan_share_group)
        net_kw = pi.network_kw_hall + pi.storage_kw_hall
        if self._gpu_frac_hall is not None:
            net_kw = net_kw * self._gpu_frac_hall[t]
        return {
            "accel_static_kw": static_kw,
            "accel_dynamic_kw": full_kw - static_kw,
            "host_power_kw": host_kw,
            "fixed_it_kw": (static_kw + host_kw) @ self.g2h + net_kw,
            "dynamic_it_kw": (full_kw - static_kw) @ self.g2h,
        }

    def fan_frac(self, t: slice | np.ndarray) -> np.ndarray | None:
        """Installed share of each hall's server fans at steps ``t`` (None: all installed)."""
        return None if self._fan_frac_hall is None else self._fan_frac_hall[t]

    def absent(self, dark_hall: np.ndarray | None, t: slice | np.ndarray) -> np.ndarray | None:
        """``dark_hall`` combined with the halls not in service at steps ``t`` (both draw nothing)."""
        if self.hall_present is None:
            return dark_hall
        gone = ~self.hall_present[t]
        return gone if dark_hall is None else dark_hall | gone

    def hall_weather(self, step_idx: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Dry- and wet-bulb temperature at each hall's site for the given steps, arrays (m, H) [°C]."""
        hs = self.ctx.fleet.hall_site
        return self.dry_bulb_site_c[step_idx][:, hs], self.wet_bulb_site_c[step_idx][:, hs]

    def site_facility_kw(
        self, it_hall_kw: np.ndarray, step_idx: np.ndarray, site: int, lit: np.ndarray | None = None
    ) -> np.ndarray:
        """Facility power [kW] of one site's halls at given IT power (the energy model's facility curve).

        ``it_hall_kw`` (m, H_s) for the site's halls in fleet order, ``step_idx`` (m,) the steps (weather),
        ``lit`` (H,) bool: halls with power (default all; a dark hall draws nothing).
        Pure evaluation of :func:`gigawatt.physics.facility.evaluate_it_power` (monotone in IT power).
        """
        halls = self._site_halls[site]
        db, wb = self.hall_weather(np.asarray(step_idx))
        it = np.zeros((len(step_idx), self.ctx.fleet.n_halls))
        it[:, halls] = it_hall_kw
        fac = facility.facility_power_kw(self.plant, it, db, wb)
        if lit is not None:
            fac = fac * lit
        if self.hall_present is not None:
            fac = fac * self.hall_present[np.asarray(step_idx)]
        return np.asarray(fac[:, halls].sum(axis=1), dtype=float)

    def evaluate(
        self,
        occupancy: np.ndarray,
        throughput_hall: np.ndarray | None,
        step0: int,
        running_hall: np.ndarray | None = None,
        dark_hall: np.ndarray | None = None,
        step_idx: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Stages 1-3 for steps ``step0 .. step0 + len(occupancy)``.

        With ``throughput_hall`` None the facility stage decides the thermal throughput (look-ahead); otherwise
        the given factors are in force and any heat beyond the cooling capacity shows as thermal overload.
        ``running_hall`` (default: the fractions in force) scales each hall's dynamic load for work paused or
        shed by the supply stage. ``dark_hall`` (T, H) bool, optional: halls without power, whose flows are
        zeroed (:func:`black_out`). ``step_idx`` (T,), optional: the steps of the rows (weather) when they are
        not the contiguous ``step0 ..``.
        """
        t: slice | np.ndarray = slice(step0, step0 + occupancy.shape[0]) if step_idx is None else step_idx
        it = self.it_power(occupancy, t)
        running = self.running_frac_hall[t] if running_hall is None else running_hall
        dry_hall, wet_hall = self.hall_weather(t)
        flows = facility.facility_flows(
            self.plant,
            it["fixed_it_kw"],
            it["dynamic_it_kw"] * running,
            dry_hall,
            wet_hall,
            throughput_frac=throughput_hall,
            step_s=self.ctx.clock.step_s,
            server_fan_frac=self.fan_frac(t),
            limits=self.ambient.rows(t),
        )
        f = self.ctx.fleet
        gone = self.absent(dark_hall, t)
        if gone is not None and gone.any():
            black_out(flows, gone, f.group_hall)
        thr_group = flows["throughput_frac"][:, f.group_hall]
        flows["accel_power_kw"] = it["accel_static_kw"] + it["accel_dynamic_kw"] * running[
            :, f.group_hall
        ] * power.dvfs_power_frac(thr_group)
        flows["host_power_kw"] = it["host_power_kw"]
        if dark_hall is not None and dark_hall.any():
            lit_g = ~dark_hall[:, f.group_hall]
            flows["accel_power_kw"] = flows["accel_power_kw"] * lit_g
            flows["host_power_kw"] = flows["host_power_kw"] * lit_g
        flows["dry_bulb_c_hall"] = dry_hall
        flows["wet_bulb_c_hall"] = wet_hall
        flows["site_facility_power_kw"] = flows["facility_power_kw"] @ self.h2s
        flows["dry_bulb_c_site"] = self.dry_bulb_site_c[t]
        flows["wet_bulb_c_site"] = self.wet_bulb_site_c[t]
        return flows

    def evaluate_power(
        self,
        occupancy: np.ndarray,
        throughput_hall: np.ndarray,
        step0: int,
        running_hall: np.ndarray,
        dark_hall: np.ndarray | None = None,
        step_idx: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """``it_power_kw``, ``facility_power_kw`` (T, H) and ``site_facility_power_kw`` (T, S) of :meth:`evaluate`
        at the given throughput, alone: what the supply stage's look-ahead reads, from the compiled facility
        power (:func:`gigawatt.physics.facility.facility_power_given_throughput_kw`; the same equations)."""
        t: slice | np.ndarray = slice(step0, step0 + occupancy.shape[0]) if step_idx is None else step_idx
        it = self.it_power(occupancy, t)
        dry_hall, wet_hall = self.hall_weather(t)
        fan_frac = self.fan_frac(t)
        plant = self.plant
        fan_max_kw = plant.server_fan_max_kw if fan_frac is None else plant.server_fan_max_kw * fan_frac
        dyn = it["dynamic_it_kw"] * running_hall
        dyn_at_x = dyn * it_power.dvfs_dynamic_power_frac(throughput_hall, plant.dvfs_exponent)
        it_kw, _, fac = facility_power_given_throughput_compiled(
            plant.power_params, it["fixed_it_kw"], dyn_at_x, fan_max_kw, dry_hall, wet_hall
        )
        flows = {"it_power_kw": it_kw, "facility_power_kw": fac}
        gone = self.absent(dark_hall, t)
        if gone is not None and gone.any():
            black_out(flows, gone, self.ctx.fleet.group_hall)
        flows["site_facility_power_kw"] = flows["facility_power_kw"] @ self.h2s
        return flows

    # ------------------------------------------------------------------------------------- feedback
    @property
    def needs_feedback(self) -> bool:
        """Whether any stage can reduce throughput (otherwise no look-ahead is needed)."""
        return bool(self.plant.can_throttle) or self.supply.needs_feedback

    def decide_block(self, step0: int, step1: int) -> np.ndarray:
        """Throughput per hall for steps ``step0..step1``: thermal limits, then the supply stage (power caps).

        Also sets the running fractions of the steps (load paused or shed by the supply stage).
        """
        thr = self._thermal_block(step0, step1)
        self.thermal_throughput_hall[step0:step1] = thr
        self.dark_hall[step0:step1] = False
        if not self.supply.needs_feedback:
            self._supply_headroom_kw = np.full(self.ctx.fleet.n_sites, np.inf)
            return thr
        occ = self.ctx.ledger.predict(step0, step1)
        ones = np.ones_like(thr)
        s0 = self._synced_step if self.supply.has_state else step0
        if s0 >= step0:
            flows = self.evaluate_power(occ, thr, step0, running_hall=ones)
        else:  # one evaluation: the steps since the last decision as drawn and at full throughput (for the
            # gas commitment, as in finalize), then the block as predicted
            n0 = step0 - s0
            past = self.ctx.ledger.occupancy_range(s0, step0)
            if self._ran_unconstrained(s0, step0):  # drawn = at full throughput: the past evaluated once
                flows = self.evaluate_power(
                    np.concatenate([past, occ]),
                    np.concatenate([self.throughput_hall[s0:step0], thr]),
                    s0,
                    running_hall=np.ones((n0 + thr.shape[0], thr.shape[1])),
                )
                site = flows["site_facility_power_kw"]
                drawn, full, n_past = site[:n0], site[:n0], n0
            else:
                no_dark = np.zeros((n0, thr.shape[1]), dtype=bool)
                flows = self.evaluate_power(
                    np.concatenate([past, past, occ]),
                    np.concatenate(
                        [self.throughput_hall[s0:step0], self.thermal_throughput_hall[s0:step0], thr]
                    ),
                    s0,
                    running_hall=np.concatenate(
                        [self.running_frac_hall[s0:step0], np.ones((n0, thr.shape[1])), ones]
                    ),
                    dark_hall=np.concatenate(
                        [self.dark_hall[s0:step0], no_dark, np.zeros_like(thr, dtype=bool)]
                    ),
                    step_idx=np.concatenate(
                        [np.arange(s0, step0), np.arange(s0, step0), np.arange(step0, step1)]
                    ),
                )
                site = flows["site_facility_power_kw"]
                drawn, full, n_past = site[:n0], site[n0 : 2 * n0], 2 * n0
            self.supply.sync_state(drawn, full, s0)
            self._synced_step = step0
            flows = {k: v[n_past:] for k, v in flows.items()}
        return self._supply_feedback(occ, flows, thr, step0, step1)

    def _ran_unconstrained(self, step0: int, step1: int) -> bool:
        """Whether steps ``step0..step1`` ran as the facility alone allows: nothing capped, paused or dark
        (then the power drawn there is the power at full throughput)."""
        t = slice(step0, step1)
        return bool(
            np.array_equal(self.throughput_hall[t], self.thermal_throughput_hall[t])
            and np.all(self.running_frac_hall[t] == 1.0)
            and not self.dark_hall[t].any()
        )

    def _thermal_block(self, step0: int, step1: int) -> np.ndarray:
        """Thermal-limit throughput per hall for steps ``step0..step1`` from the predicted load."""
        if not self.thermal_may_bind[step0:step1].any():  # no load up to design can be throttled here
            return np.ones((step1 - step0, self.ctx.fleet.n_halls))
        occ = self.ctx.ledger.predict(step0, step1)
        t = slice(step0, step1)
        it = self.it_power(occ, t)
        db, wb = self.hall_weather(t)
        thr = facility.thermal_limit_throughput_frac(
            self.plant,
            it["fixed_it_kw"],
            it["dynamic_it_kw"],
            db,
            wb,
            self.fan_frac(t),
            limits=self.ambient.rows(t),
        )
        return np.clip(thr, 0.0, 1.0)

    def _it_split(
        self, occ: np.ndarray, flows: dict[str, np.ndarray], thr: np.ndarray, step0: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """IT power no capping action removes (fixed + fans) (T, H) and dynamic accelerator power at the
        thermal throughput split by workload kind (other, training, inference) (T, H, 3) [kW]."""
        f = self.ctx.fleet
        it = self.it_power(occ, slice(step0, step0 + occ.shape[0]))
        dyn = it["dynamic_it_kw"] * it_power.dvfs_dynamic_power_frac(thr, self.plant.dvfs_exponent)
        base = flows["it_power_kw"] - dyn
        per_phase = occ * np.maximum(self.phase_w - f.idle_w[:, None], 0.0)[None]  # (T, G, P)
        kind_hall = np.stack(
            [
                per_phase[:, :, [p for p, kd in enumerate(PHASE_KIND) if kd == kind]].sum(axis=2) @ self.g2h
                for kind in ("other", "training", "inference")
            ],
            axis=2,
        )
        total = kind_hall.sum(axis=2, keepdims=True)
        share = np.divide(kind_hall, total, out=np.zeros_like(kind_hall), where=total > 0)
        return base, share * dyn[:, :, None]

    def _training_priority_share(self) -> list[dict[int, float]]:
        """Per hall: share of its training dynamic load by job priority, from the running GPUs of every
        training pool now, weighted by their compute-phase dynamic power per GPU (an estimate: it assumes
        every level has the same mix of compute and stall phases)."""
        f = self.ctx.fleet
        dyn_w = np.maximum(self.phase_w[:, int(Phase.TRAIN_COMPUTE)] - f.idle_w, 0.0)
        weight: list[dict[int, float]] = [{} for _ in range(f.n_halls)]
        for hall, group, by_prio in self.ctx.throughput.training_gpus_by_priority():
            for prio, gpus in by_prio.items():
                weight[hall][prio] = weight[hall].get(prio, 0.0) + gpus * float(dyn_w[group])
        shares = []
        for w in weight:
            tot = sum(w.values())
            shares.append({p: v / tot for p, v in w.items()} if tot > 0 else {})
        return shares

    def _set_training_pause(
        self,
        step0: int,
        step1: int,
        flex: np.ndarray | None,
        paused: dict[int, np.ndarray] | None = None,
        paused_default: np.ndarray | None = None,
    ) -> None:
        """Record training's paused fractions for steps ``step0..step1``: carbon-/price-aware pausing ``flex``
        (every level) combined with the power-capping pause per priority level (of the load still running)."""
        t = slice(step0, step1)
        kept_flex = 1.0 if flex is None else 1.0 - flex
        dflt = np.zeros((step1 - step0, self.ctx.fleet.n_halls)) if paused_default is None else paused_default
        self.training_paused_default[t] = 1.0 - kept_flex * (1.0 - dflt)
        for prio, arr in self.training_paused.items():
            if paused is None or prio not in paused:
                arr[t] = self.training_paused_default[t]
        for prio, p in (paused or {}).items():
            if prio not in self.training_paused:  # a new level: elsewhere it had the default pause
                self.training_paused[prio] = self.training_paused_default.copy()
            self.training_paused[prio][t] = 1.0 - kept_flex * (1.0 - p)

    def _supply_feedback(
        self, occ: np.ndarray, flows: dict[str, np.ndarray], thr: np.ndarray, step0: int, step1: int
    ) -> np.ndarray:
        """Stage 3 look-ahead: dispatch the block's supply and cap power where it falls short.

        Sets the running fractions of the block and returns the throughput (clock) factors: thermal × DVFS
        from power capping. The IT load is split into a part no action removes (fixed + fans) and dynamic
        accelerator power by workload kind (other, training, inference) at the thermal throughput.
        """
        f, sc = self.ctx.fleet, self.ctx.scenario
        idx = np.arange(step0, step1)
        flex = self.supply.flex_pause_frac(f.hall_site, step0, step1)
        running_flex = np.ones_like(thr)
        dyn_kind = base = None
        # a hall dark at the previous step is judged with the training load it stopped (its jobs restart
        # when it relights), so it is not relit into a supply that its restarting jobs would trip again
        restore = (self.dark_hall[step0 - 1] if step0 > 0 else np.zeros(f.n_halls, dtype=bool)) & (
            self._dark_training_kw > 0
        )
        if flex is None and not restore.any():
            demand = flows["site_facility_power_kw"]  # at the thermal throughput, nothing paused
        else:  # carbon-/price-aware training: pause a share of training on flagged steps
            base, dyn_kind = self._it_split(occ, flows, thr, step0)
            if flex is not None:
                dyn = dyn_kind.sum(axis=2)
                dyn_kind[:, :, 1] *= 1.0 - flex
                running_flex = np.divide(dyn_kind.sum(axis=2), dyn, out=np.ones_like(dyn), where=dyn > 0)
            if restore.any():
                dyn_kind[:, restore, 1] = np.maximum(dyn_kind[:, restore, 1], self._dark_training_kw[restore])
                base[:, restore] = np.maximum(base[:, restore], self._dark_base_kw[restore])
            it_now = base + dyn_kind.sum(axis=2)
            demand = np.stack(
                [self.site_facility_kw(it_now[:, f.hall_site == s], idx, s) for s in range(len(sc.sites))],
                axis=1,
            )
        available = self.supply.available_kw(demand, step0)
        self._supply_headroom_kw = (
            np.min(self.supply.firm_capacity_kw(step0, step1) - demand, axis=0)
            if flex is None and not restore.any()
            else None
        )
        if np.all(available >= demand * (1.0 - 1e-12)):
            self.running_frac_hall[step0:step1] = running_flex
            self._set_training_pause(step0, step1, flex)
            return thr
        self._supply_headroom_kw = None
        if dyn_kind is None or base is None:
            base, dyn_kind = self._it_split(occ, flows, thr, step0)
        share = self._training_priority_share()
        decision = self._cap(base, dyn_kind, available, step0, np.arange(step1 - step0), None, share)
        short = decision.unserved_kw > BLACKOUT_TOL_FRAC * np.maximum(demand, 1.0)
        if short.any():
            self._plan_blackout(base, dyn_kind, available, step0, decision, short, share)
        self.running_frac_hall[step0:step1] = running_flex * decision.running_frac
        self._set_training_pause(
            step0, step1, flex, decision.training_paused_frac, decision.training_paused_default_frac
        )
        return thr * decision.dvfs_throughput_frac

    @property
    def slope_hall(self) -> np.ndarray:
        """Per hall: bound used for dP_facility/dP_IT [kW/kW], :func:`marginal_facility_per_it_kw` of this
        plant over this run's weather and loads up to the hall's largest IT load, times
        :data:`SLOPE_ESTIMATE_MARGIN` (computed on first use)."""
        if self._slope_hall is None:
            f, pi = self.ctx.fleet, self.plant_inputs
            max_it = (
                (f.n_gpus * self._upper_kw_per_gpu) @ self.g2h
                + pi.network_kw_hall
                + pi.storage_kw_hall
                + self.plant.server_fan_max_kw
            )
            db, wb = self.hall_weather(slice(None))
            slope = marginal_facility_per_it_kw(
                self.plant, db, wb, np.maximum(max_it, self.plant.design_it_kw)
            )
            self._slope_hall = SLOPE_ESTIMATE_MARGIN * slope
        return self._slope_hall

    def _cap(
        self,
        base: np.ndarray,
        dyn_kind: np.ndarray,
        available: np.ndarray,
        step0: int,
        rows: np.ndarray,
        lit: np.ndarray | None,
        share: list[dict[int, float]],
    ) -> CapDecision:
        """Power-capping decision for rows ``rows`` of a block starting at ``step0`` with the halls ``lit``
        (default all) powered; the inputs are already restricted to those rows."""
        sc = self.ctx.scenario
        k, x_min = self.plant.dvfs_exponent, self.plant.min_throughput_frac
        return plan_power_cap(
            base,
            dyn_kind,
            available,
            self.ctx.fleet.hall_site,
            lambda it_kw, i, s: self.site_facility_kw(it_kw, rows[i] + step0, s, lit),
            [list(s.power_capping.order) for s in sc.sites],
            x_min**k,
            lambda p: it_power.dvfs_throughput_frac(p, k, x_min),
            share,
        )

    def _plan_blackout(
        self,
        base: np.ndarray,
        dyn_kind: np.ndarray,
        available: np.ndarray,
        step0: int,
        decision: CapDecision,
        short: np.ndarray,
        share: list[dict[int, float]],
    ) -> None:
        """Darken whole halls where every capping action leaves a site above its supply (``short`` (T, S)).

        Per site and short step, the halls go dark in the site's blackout order (:func:`hall_blackout_order`)
        until the capping policy fits the lit halls under the supply: with the first ``k`` halls dark, the
        capping is re-solved on the lit halls (so darkening a hall may also lift caps elsewhere), and the
        least ``k`` that leaves no shortfall is kept (with every hall dark a site draws nothing, which always
        fits). ``decision`` is updated in place for the site's halls; :attr:`dark_hall` records the dark halls.
        A dark hall's running fraction and progress are 0 (its work stops: training jobs are interrupted,
        inference serves nothing); its clock factor and training pause are left at their unconstrained
        values (the stop is a power interruption, not a pause).
        """
        f = self.ctx.fleet
        n = decision.progress_frac.shape[0]
        for si in range(f.n_sites):
            need = short[:, si].copy()
            order = self._dark_order[si]
            cols = np.flatnonzero(f.hall_site == si)
            for k in range(1, order.size + 1):
                rows = np.flatnonzero(need)
                if rows.size == 0:
                    break
                off = order[:k]
                lit = np.ones(f.n_halls, dtype=bool)
                lit[off] = False
                b = base[rows] * lit
                d = dyn_kind[rows] * lit[None, :, None]
                sub = self._cap(b, d, available[rows], step0, rows, lit, share)
                tol = BLACKOUT_TOL_FRAC * np.maximum(available[rows, si], 1.0)
                ok = (sub.unserved_kw[:, si] <= tol) | (k == order.size)
                r, j = rows[ok], np.flatnonzero(ok)
                rc, jc = np.ix_(r, cols), np.ix_(j, cols)
                decision.progress_frac[rc] = sub.progress_frac[jc]
                decision.dyn_power_scale[rc] = sub.dyn_power_scale[jc]
                decision.dvfs_throughput_frac[rc] = sub.dvfs_throughput_frac[jc]
                decision.running_frac[rc] = sub.running_frac[jc]
                decision.capped[rc] = sub.capped[jc]
                decision.unserved_kw[r, si] = sub.unserved_kw[j, si]
                dflt = decision.training_paused_default_frac
                if dflt is not None and sub.training_paused_default_frac is not None:
                    dflt[rc] = sub.training_paused_default_frac[jc]
                for prio, arr in sub.training_paused_frac.items():
                    decision.training_paused_frac.setdefault(prio, np.zeros((n, f.n_halls)))[rc] = arr[jc]
                for prio, arr in decision.training_paused_frac.items():
                    if prio not in sub.training_paused_frac:
                        arr[rc] = 0.0
                rd = np.ix_(r, off)
                decision.progress_frac[rd] = 0.0
                decision.running_frac[rd] = 0.0
                decision.dvfs_throughput_frac[rd] = 1.0
                decision.dyn_power_scale[rd] = 0.0
                if dflt is not None:
                    dflt[rd] = 0.0
                for arr in decision.training_paused_frac.values():
                    arr[rd] = 0.0
                self.dark_hall[step0 + r[:, None], off[None, :]] = True
                need[r] = False
        # remember the training load each hall stopped when it went dark in this block
        dark = self.dark_hall[step0 : step0 + n]
        before = np.vstack(
            [self.dark_hall[step0 - 1 : step0] if step0 > 0 else np.zeros((1, f.n_halls), bool), dark[:-1]]
        )
        for k, h in zip(*np.nonzero(dark & ~before), strict=True):
            self._dark_training_kw[h] = dyn_kind[k, h, 1]
            self._dark_base_kw[h] = base[k, h]

    def harmless_until(self, level_at_decision: np.ndarray, step0: int, step1: int) -> int:
        """Up to which step the event-driven load change since the last decision leaves the decided steps
        ``step0..step1`` (the rest of the look-ahead window) as they are; ``step0`` when it may not.

        A decided step stands when no thermal limit can bind there (:attr:`thermal_may_bind` is False:
        throughput 1 at any load up to design) and, per site, the largest possible facility increase of the
        change, ``Σ_h s_h · Σ_{g∈h} |ΔN_g| · P_gpu,max,g`` (``s_h`` = :attr:`slope_hall`), fits the firm
        supply headroom measured at the decision. The window is cut before the first step where a thermal
        limit may bind. Every skip is verified exactly after the run (:meth:`unsound_skips`).
        """
        until = min(self._next_bind_step(step0), step1)
        if until == step0 or not self.fits_headroom(level_at_decision):
            return step0
        return until

    def _next_bind_step(self, step: int) -> int:
        """The first step at or after ``step`` where a thermal limit may bind (:attr:`thermal_may_bind`), or one
        past the horizon when there is none. The run asks for non-decreasing steps: the last answer holds for
        every step from the one it was found for up to itself (no such step lies between), so the bisection
        of :attr:`_bind_steps` runs only when the run has passed it."""
        lo, nxt = self._bind_cache
        if lo <= step <= nxt:
            return nxt
        bind = self._bind_steps
        i = int(bind.searchsorted(step))
        nxt = int(bind[i]) if i < bind.size else self.ctx.clock.n_steps + 1
        self._bind_cache = (step, nxt)
        return nxt

    @property
    def _supply_headroom_kw(self) -> np.ndarray | None:
        """Per site: least supply headroom (available − demand) [kW] over the last decided window; None when
        that decision capped or paused load (then any load change is re-decided)."""
        return self._headroom_kw

    @_supply_headroom_kw.setter
    def _supply_headroom_kw(self, value: np.ndarray | None) -> None:
        self._headroom_kw = value
        self._headroom_unbounded = value is not None and bool(np.all(np.isinf(value)))

    def fits_headroom(self, level_at_decision: np.ndarray) -> bool:
        """Whether the largest possible facility increase of the event-driven load change since the last
        decision fits every site's firm supply headroom measured at that decision (see :meth:`harmless_until`)."""
        headroom = self._headroom_kw
        if headroom is None:
            return False
        if self._headroom_unbounded:
            return True
        slope = self._slope_hall if self._slope_hall is not None else self.slope_hall
        if self._one_group_hall_site:
            # one rack group in one hall on one site (called once per feedback block of a busy run): the same
            # operations on Python floats — |ΔN| summed over the phases in order (as numpy's reduction of so
            # few elements), times the per-GPU bound and the slope (the 1×1 matrices multiply by 1 exactly)
            now, then = self.ctx.ledger.level[0].tolist(), level_at_decision[0].tolist()
            delta = sum([abs(a - b) for a, b in zip(now, then, strict=True)])
            return bool(delta * self._upper_kw_per_gpu_0 * float(slope[0]) <= float(headroom[0]))
        # (ufunc methods, not the numpy wrappers; same sums)
        delta_gpus = np.add.reduce(np.abs(self.ctx.ledger.level - level_at_decision), axis=1)  # (G,)
        delta_site_kw = ((delta_gpus * self._upper_kw_per_gpu) @ self.g2h * slope) @ self.h2s
        return bool((delta_site_kw <= headroom).all())

    def process(self) -> Generator[simpy.Event, Any, None]:
        """simpy process: wake at every feedback block, decide and publish throughput."""
        env, clock = self.ctx.env, self.ctx.clock
        if not self.needs_feedback:
            return
        ledger = self.ctx.ledger
        step = 0
        # Look-ahead window: decisions for many blocks come from one vectorised evaluation while the ledger
        # has no event-driven change (profiles are known ahead); a change that may move a decision restarts
        # with one block and the window doubles again (up to a week) while the load stays unchanged.
        win = _Window(self.block_steps)
        self._win = win
        self._proc = env.active_process
        watch = ledger.watch
        watch.visit = self._visit
        # (whole-second steps: every boundary time is an integer, so the times of a sleep, computed from where it
        # began, are the ones block-by-block timeouts reach; other steps wake at every block)
        sleepy = (
            self.can_sleep
            and self.skip_harmless_changes
            and self.sleep_between_changes
            and float(clock.step_s).is_integer()
        )
        max_window = max(self.block_steps, int(7 * 86400 // clock.step_s))
        while step < clock.n_steps:
            end = min(step + self.block_steps, clock.n_steps)
            changed = win.thr is not None and ledger.n_changes != win.n_changes
            if changed and self.skip_harmless_changes and step not in self.force_redecide:
                assert win.level is not None
                if win.end <= step:  # nothing decided ahead: a small change keeps the window growing
                    changed = not self.fits_headroom(win.level)
                elif (until := self.harmless_until(win.level, step, win.end)) >= end:
                    # the decided steps up to ``until`` stand
                    changed = False
                    win.n_changes = ledger.n_changes
                    win.end = until
                    self._close_skip(step)
                    self._skips.append(step, until, ledger.level)
            if not win.covers(end) or changed:
                win.size = self.block_steps if changed else min(2 * win.size, max_window)
                start, stop = step, min(step + max(win.size, end - step), clock.n_steps)
                self._close_skip(step)
                win.set(self.decide_block(start, stop), start, ledger.n_changes, ledger.level.copy())
                win.plain = self._plain(start, stop, win.thr)
                win.dark = bool(self.dark_hall[start:stop].any())
            thr = win.block(step, end)
            self.throughput_hall[step:end] = thr
            board = self.ctx.throughput
            # a plain block publishes exactly what a plain block published before (a no-op on the board)
            if not (win.plain and self._progress_plain):
                progress = thr * self.running_frac_hall[step:end]
                board.publish(env.now, progress.mean(axis=0))
                self._progress_plain = win.plain
            if board.has_training_listeners and not (win.plain and self._training_plain):
                self._publish_training(thr, step, end)
                self._training_plain = win.plain
            # (win.dark: some hall is dark somewhere in the window, a superset of this block; announcing a
            # block without a change publishes nothing)
            if self._any_dark_announced or win.dark:
                self._announce_power(step, end)
            wake = end
            if (
                sleepy
                and win.plain
                and self._progress_plain
                and self._training_plain
                and not (self._any_dark_announced or win.dark)
            ):
                wake = self._sleep_until(win, end)
            if wake == end:
                yield env.timeout((end - step) * clock.step_s)
                step = end
                continue
            # asleep: the decided blocks up to ``wake`` stand unless a visited boundary finds otherwise
            self.throughput_hall[end:wake] = win.block(end, wake)
            self._sleep = (env.now, step, end, wake)
            watch.t_s = env.now + (end - step) * clock.step_s
            try:
                yield env.timeout((wake - step) * clock.step_s)
                step = wake
            except simpy.Interrupt as irq:  # a visited boundary needs a decision
                assert isinstance(irq.cause, int)
                step = irq.cause
            watch.t_s = math.inf

    def _sleep_until(self, win: _Window, end: int) -> int:
        """The block boundary step to sleep until after the block ending at ``end`` (``end``: do not sleep).

        The first block the window does not cover, the block holding the next step where a thermal limit may
        bind and the next block whose change is always re-decided (``force_redecide``) end the sleep, so that
        every boundary visited before it decides as the loop would: keep the window (no change, or a harmless
        one) or wake.
        """
        n, b = self.ctx.clock.n_steps, self.block_steps
        if end >= n:
            return end
        wake = n if win.end >= n else (win.end // b) * b
        wake = min(wake, (self._next_bind_step(end) // b) * b)
        i = bisect.bisect_left(self._forced, end)
        if i < len(self._forced):
            wake = min(wake, (self._forced[i] // b) * b)
        return max(wake, end)

    def _visit(self, t_next_s: float) -> bool:
        """Visit the block boundary a sleeping :meth:`process` would have woken at (the ledger's watch): with
        a load change since the decision, keep the decided steps as the loop does when the change is harmless
        (:meth:`harmless_until`), or wake the process at the boundary (True). Then point the watch at the
        first boundary after ``t_next_s`` (the writer's next entry [s]): none before it can see a change."""
        watch = self.ctx.ledger.watch
        win = self._win
        assert win is not None and win.level is not None
        t0, step0, b_step, wake = self._sleep
        clock, ledger = self.ctx.clock, self.ctx.ledger
        step_s, b = clock.step_s, self.block_steps
        t_b = t0 + (b_step - step0) * step_s
        n_changes = ledger.n_changes
        if n_changes != win.n_changes:
            until = self.harmless_until(win.level, b_step, win.end)
            if until < min(b_step + b, clock.n_steps):  # the change may move a decision: wake there
                watch.t_s = math.inf
                env = self.ctx.env
                if t_b < env.now:  # pragma: no cover - the writer visits every boundary before passing it
                    raise RuntimeError("controller: a feedback boundary was passed unvisited")
                ev = env.event()
                ev._ok = True  # (a triggered event, as simpy's Timeout)
                ev._value = None

                def at_boundary(_ev: simpy.Event, step: int = b_step) -> None:
                    self._wake(step)

                ev.callbacks.append(at_boundary)
                env.schedule(ev, simpy.core.URGENT, t_b - env.now)
                return True
            win.n_changes = n_changes
            win.end = until
            self._close_skip(b_step)
            self._skips.append(b_step, until, ledger.level)
        # the next boundary after the writer's next entry (none between can see a change)
        if t_next_s >= t0 + (wake - step0) * step_s:
            watch.t_s = math.inf
            return False
        k = b_step + b * max(1, int((t_next_s - t_b) // (b * step_s)))
        while t0 + (k - step0) * step_s <= t_next_s:
            k += b
        while k - b > b_step and t0 + (k - b - step0) * step_s > t_next_s:
            k -= b
        if k >= wake:
            watch.t_s = math.inf
        else:
            self._sleep = (t0, step0, k, wake)
            watch.t_s = t0 + (k - step0) * step_s
        return False

    def _wake(self, step: int) -> None:
        """Wake the sleeping :meth:`process` to decide at ``step`` (now)."""
        assert self._proc is not None
        self._proc.interrupt(step)

    def _plain(self, step0: int, step1: int, thr: np.ndarray | None) -> bool:
        """Whether the decided steps ``step0..step1`` run unconstrained: throughput and running fractions
        exactly 1, nothing paused, no hall dark (then every block of them publishes ones and no pause)."""
        t = slice(step0, step1)
        return bool(
            thr is not None
            and np.all(thr == 1.0)
            and np.all(self.running_frac_hall[t] == 1.0)
            and not self.training_paused_default[t].any()
            and not any(arr[t].any() for arr in self.training_paused.values())
            and not self.dark_hall[t].any()
        )

    def _close_skip(self, step: int) -> None:
        """End the open skipped stretch (if any) at ``step``: later steps follow a newer decision or skip."""
        self._skips.close(step)

    def unsound_skips(self) -> set[int]:
        """Start steps of skipped stretches whose kept decisions differ from an exact re-decision (call after
        the run, before any workload changes the ledger's profiles).

        For every skipped step, the load the controller would have predicted there (the event-driven level
        after the change + the profiles) is evaluated exactly: the thermal throughput must be 1 (as kept)
        and, when the supply stage needed feedback, the site demand must fit the firm supply, so that an
        exact re-decision would neither throttle nor cap. Vectorised over all skipped steps (one facility
        evaluation); empty in the common case.
        """
        log = self._skips
        starts = np.array(log.start, dtype=np.int64)
        lengths = np.array(log.end, dtype=np.int64) - starts
        kept = lengths > 0
        if not kept.any():
            return set()
        starts, lengths = starts[kept], lengths[kept]
        span_levels = log.levels[kept]  # (n_spans, G, P)
        # skipped step i belongs to span owner[i] (spans are in time order and do not overlap)
        owner = np.repeat(np.arange(starts.size), lengths)
        steps = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(
            owner.size
        )
        firm = self.supply.firm_capacity_kw(0, self.ctx.clock.n_steps) if self.supply.needs_feedback else None
        bad = np.zeros(owner.size, dtype=bool)
        # one facility evaluation per block of skipped steps (elementwise: the same numbers as one evaluation
        # of them all, without whole-horizon temporaries)
        for i0 in range(0, owner.size, FINALIZE_CHUNK_STEPS):
            sl = slice(i0, i0 + FINALIZE_CHUNK_STEPS)
            st = steps[sl]
            occ = span_levels[owner[sl]] + self.ctx.ledger.profiles_at(st)
            it = self.it_power(occ, st)
            db, wb = self.hall_weather(st)
            flows = facility.facility_flows(
                self.plant,
                it["fixed_it_kw"],
                it["dynamic_it_kw"],
                db,
                wb,
                step_s=self.ctx.clock.step_s,
                server_fan_frac=self.fan_frac(st),
                limits=self.ambient.rows(st),
            )
            b = (flows["thermal_throughput_frac"] < 1.0).any(axis=1)
            b |= (self.throughput_hall[st] < 1.0).any(axis=1)
            if firm is not None:
                fac = flows["facility_power_kw"]
                if self.hall_present is not None:
                    fac = fac * self.hall_present[st]
                b |= (fac @ self.h2s > firm[st]).any(axis=1)
            bad[sl] = b
        return {int(starts[i]) for i in np.unique(owner[bad])}

    def _announce_power(self, step: int, end: int) -> None:
        """Announce on the board, at the exact step boundaries, each hall losing or regaining power in steps
        ``step..end`` (a decided block: its dark schedule no longer changes)."""
        env, clock, board = self.ctx.env, self.ctx.clock, self.ctx.throughput
        dark = self.dark_hall[step:end]
        prev = np.vstack([self._dark_announced[None, :], dark[:-1]])
        for k, h in zip(*np.nonzero(dark != prev), strict=True):
            powered = not bool(dark[k, h])
            t_s = float(clock.step_start_s[step + k])
            if t_s <= env.now:
                board.publish_power(env.now, int(h), powered)
            else:
                ev = env.timeout(t_s - env.now)
                ev.callbacks.append(
                    lambda _e, h=int(h), p=powered, t=t_s: board.publish_power(t, h, p)  # type: ignore[misc]
                )
        self._dark_announced = dark[-1].copy()
        self._any_dark_announced = bool(self._dark_announced.any())

    def _publish_training(self, thr: np.ndarray, step: int, end: int) -> None:
        """Publish the block's clock factor ``c̄`` and paused fractions per training priority so that a job
        progresses at the block mean of ``c·(1 − q_p)``: ``q̄_p = 1 − mean(c·(1 − q_p)) / c̄``. Steps where a
        hall is dark are left out of its means (nothing runs there; the jobs restart when power returns)."""
        board, now = self.ctx.throughput, self.ctx.env.now
        t = slice(step, end)
        dark = self.dark_hall[t]
        if dark.any():  # means over each hall's lit steps (all steps when it is dark throughout)
            w = (~dark).astype(float)
            w[:, ~w.any(axis=0)] = 1.0
            w /= w.sum(axis=0)

            def mean(a: np.ndarray) -> np.ndarray:
                return np.asarray((a * w).sum(axis=0), dtype=float)
        else:

            def mean(a: np.ndarray) -> np.ndarray:
                return np.asarray(a.mean(axis=0), dtype=float)

        clock = mean(thr)
        if not self.training_paused_default[t].any() and not any(
            arr[t].any() for arr in self.training_paused.values()
        ):  # nothing paused in this block (the common case): one vectorised publication
            board.publish_training(now, clock, [{}] * clock.size, np.zeros(clock.size))
            return

        def block_paused(arr: np.ndarray) -> np.ndarray:
            run = mean(thr * (1.0 - arr[step:end]))
            q = 1.0 - np.divide(run, clock, out=np.ones_like(clock), where=clock > 0)
            return np.asarray(np.clip(q, 0.0, 1.0), dtype=float)

        dflt = block_paused(self.training_paused_default)
        per_prio = {prio: block_paused(arr) for prio, arr in self.training_paused.items()}
        paused = [{prio: float(q[h]) for prio, q in per_prio.items()} for h in range(clock.size)]
        board.publish_training(now, clock, paused, dflt)

    def finalize(self, chunk_steps: int | None = None, *, release: bool = False) -> dict[str, np.ndarray]:
        """Evaluate every stage over the whole horizon with the exact occupancy.

        The facility stages run over blocks of ``chunk_steps`` steps (default :data:`FINALIZE_CHUNK_STEPS`;
        the model is elementwise in time, so the numbers do not depend on the block size): only the flows
        listed in :data:`FINAL_FLOWS` are kept for the whole horizon, never the facility model's temporaries
        or the ``(T, G, P)`` occupancy. The supply stage then dispatches the whole horizon at once (its
        battery and generator state carries from step to step).

        Returns
        -------
        dict of arrays
            :data:`FINAL_FLOWS` (those the plant produces, but ``site_facility_power_kw``) per step and hall,
            rack group or site, plus ``throughput_frac`` (T, H) in force, ``dark_hall`` (T, H) bool, ``active_gpus`` (T, G) active
            GPU-equivalents per rack group, and the supply stage's ``site_*`` flows (T, S).

        With ``release=True`` the look-ahead's per-step state (:data:`_LOOKAHEAD_STATE`: decided factors,
        weather, ambient limits, skipped stretches) is dropped once the facility blocks are evaluated, before
        the supply stage's whole-horizon dispatch (call :meth:`release` after :meth:`energy_output` for the
        rest); the controller then answers only :meth:`energy_output`.
        """
        clock, f = self.ctx.clock, self.ctx.fleet
        n, dark = clock.n_steps, self.dark_hall
        feedback = self.supply.needs_feedback
        flows: dict[str, np.ndarray] = {}
        # flows that are whole-horizon arrays the controller already holds (the same numbers as the blocks'):
        # handed over, not copied block by block
        held = self._held_flows()
        active = np.zeros((n, f.n_groups))
        # demand at the throughput the facility alone allows: the power drawn until some block differs
        # (allocated then; np.zeros leaves untouched pages unallocated, so dark_site costs nothing unless used)
        site_demand: np.ndarray | None = None
        dark_site = np.zeros((n, f.n_sites))
        block = FINALIZE_CHUNK_STEPS if chunk_steps is None else chunk_steps
        for s0, s1, occ in self.ctx.ledger.occupancy_blocks(block):
            t = slice(s0, s1)
            part = self.evaluate(occ, self.throughput_hall[t], s0, dark_hall=dark[t])
            for key in FINAL_FLOWS:
                if key in part:
                    if key not in flows:
                        flows[key] = (
                            held[key]
                            if key in held
                            else np.empty((n, *part[key].shape[1:]), dtype=part[key].dtype)
                        )
                    if key not in held:
                        flows[key][t] = part[key]
            del part
            active[t] = occ.sum(axis=2)
            if feedback and not self._ran_unconstrained(s0, s1):
                # capped, paused or dark here: evaluated again at full throughput
                if site_demand is None:
                    site_demand = np.empty((n, f.n_sites))
                    site_demand[:s0] = flows["site_facility_power_kw"][:s0]
                ones = np.ones((s1 - s0, f.n_halls))
                full = self.evaluate(occ, self.thermal_throughput_hall[t], s0, running_hall=ones)
                site_demand[t] = full["site_facility_power_kw"]
                if dark[t].any():  # what the dark halls would have drawn
                    dark_site[t] = (full["facility_power_kw"] * dark[t]) @ self.h2s
                del full
            elif site_demand is not None:  # nothing capped, paused or dark: the same evaluation as above
                site_demand[t] = flows["site_facility_power_kw"][t]
            del occ
        if "site_facility_power_kw" not in flows:  # an empty horizon
            flows["site_facility_power_kw"] = np.zeros((n, f.n_sites))
        # the clock factors in force × the running fractions (handed over as they are when nothing ran less
        # than fully: x · 1 = x)
        throughput = (
            self.throughput_hall
            if np.all(self.running_frac_hall == 1.0)
            else self.throughput_hall * self.running_frac_hall
        )
        if release:  # the look-ahead's per-step state is not read from here on: freed before the dispatch
            for name in _LOOKAHEAD_STATE:
                self.__dict__.pop(name, None)
        site_power = flows["site_facility_power_kw"]
        supply_flows_, columns, kpis, events = self.supply.finalize(
            site_power, site_power if site_demand is None else site_demand, dark_site
        )
        # the site facility power is the supply stage's input alone (the result and the workloads read the
        # per-hall flows): not returned
        del site_demand, dark_site, site_power, flows["site_facility_power_kw"]
        flows.update(supply_flows_)
        columns["dark_halls"] = dark.sum(axis=1).astype(float)
        if f.n_sites > 1:
            for si, name in enumerate(f.site_names):
                columns[f"{name}:dark_halls"] = dark[:, f.hall_site == si].sum(axis=1).astype(float)
        kpis["blackout_hall_hours_h"] = float(dark.sum() * clock.step_h)
        self._installed_columns(columns, kpis, active)
        events = self._blackout_events(events)
        self._energy = (columns, kpis, events)
        flows["throughput_frac"] = throughput
        flows["active_gpus"] = active
        flows["dark_hall"] = dark
        return flows

    def _held_flows(self) -> dict[str, np.ndarray]:
        """Flows of :meth:`evaluate` that are rows of whole-horizon arrays the controller holds, by key: the
        site weather (``dry_bulb_c_site``, ``wet_bulb_c_site``) and the cooling capacity (the ambient limits'
        ``cooling_capacity_kw``: the facility model passes it through, and a dark hall keeps it, see
        ``_KEEP_IN_DARK``). :meth:`finalize` hands these over instead of copying them block by block."""
        return {
            "dry_bulb_c_site": self.dry_bulb_site_c,
            "wet_bulb_c_site": self.wet_bulb_site_c,
            "cooling_capacity_kw": self.ambient.cooling_capacity_kw,
        }

    def _installed_columns(
        self, columns: dict[str, np.ndarray], kpis: dict[str, float], active: np.ndarray
    ) -> None:
        """Installed accelerators, installed IT capacity (rack nameplate of the installed racks) and the
        utilisation of the installed accelerators (active GPU-equivalents / installed GPUs, 0 when none) per
        step, campus-wide and per hall when there are several; KPIs ``installed_gpu_hours_h``,
        ``peak_installed_gpus``, ``mean_installed_gpus``, ``peak_installed_it_capacity_mw``,
        ``mean_installed_gpu_utilization_frac`` (GPU-hours used / installed GPU-hours)."""
        f, clock = self.ctx.fleet, self.ctx.clock
        inst = (
            self.installed_group if self.installed_group is not None else np.ones((clock.n_steps, f.n_groups))
        )
        rack_kw = np.array([rg.rack_power_kw() for h in f.halls for rg in h.racks], dtype=float)
        gpus_hall = (inst * f.n_gpus) @ self.g2h  # (T, H)
        cap_hall = (inst * (f.n_racks * rack_kw)) @ self.g2h / 1e3
        active_hall = active @ self.g2h  # active (T, G): GPU-equivalents per rack group

        def util(active: np.ndarray, gpus: np.ndarray) -> np.ndarray:
            return np.asarray(
                np.divide(active, gpus, out=np.zeros_like(active), where=gpus > 0).clip(0.0, 1.0), dtype=float
            )

        columns["installed_gpus"] = gpus_hall.sum(axis=1)
        columns["installed_it_capacity_mw"] = cap_hall.sum(axis=1)
        columns["installed_gpu_utilization_frac"] = util(active_hall.sum(axis=1), columns["installed_gpus"])
        if f.n_halls > 1:
            for h, key in enumerate(f.hall_keys):
                columns[f"{key}:installed_gpus"] = gpus_hall[:, h]
                columns[f"{key}:installed_it_capacity_mw"] = cap_hall[:, h]
                columns[f"{key}:installed_gpu_utilization_frac"] = util(active_hall[:, h], gpus_hall[:, h])
        used_h = float(active_hall.sum() * clock.step_h)
        total = columns["installed_gpus"]
        kpis["installed_gpu_hours_h"] = float(total.sum() * clock.step_h)
        kpis["mean_installed_gpu_utilization_frac"] = (
            used_h / kpis["installed_gpu_hours_h"] if kpis["installed_gpu_hours_h"] > 0 else 0.0
        )
        kpis["mean_installed_gpus"] = float(total.mean()) if total.size else 0.0
        kpis["peak_installed_gpus"] = float(total.max()) if total.size else 0.0
        kpis["peak_installed_it_capacity_mw"] = (
            float(columns["installed_it_capacity_mw"].max()) if total.size else 0.0
        )

    def _blackout_events(self, events: Any) -> Any:
        """Append one ``blackout`` event per hall and dark stretch (time, site, hall, duration) to the grid
        events."""
        if not self.dark_hall.any():
            return events
        clock, f = self.ctx.clock, self.ctx.fleet
        rows = []
        for h in np.flatnonzero(self.dark_hall.any(axis=0)):
            d = np.concatenate([[0], self.dark_hall[:, h].astype(np.int8), [0]])
            starts = np.flatnonzero(np.diff(d) == 1)
            ends = np.flatnonzero(np.diff(d) == -1)
            site = f.site_names[int(f.hall_site[h])]
            hall = f.hall_keys[h][len(site) + 1 :]
            for a, b in zip(starts, ends, strict=True):
                rows.append(
                    {
                        "time": clock.times[int(a)],
                        "site": site,
                        "hall": hall,
                        "kind": "blackout",
                        "cause": "supply below what power capping leaves",
                        "duration_s": float((b - a) * clock.step_s),
                    }
                )
        out = pd.DataFrame(rows)
        if events is not None and len(events):
            out = pd.concat([events, out], ignore_index=True)
        return out.sort_values("time", kind="stable", ignore_index=True)

    def release(self) -> None:
        """Drop the run's per-step state (weather, ambient limits, decisions, supply inputs, skipped stretches)
        once :meth:`finalize` has run: the controller then only answers :meth:`energy_output`. (A year at 15-s
        steps holds about 17 MB per array; the workloads' outputs are built after this.)"""
        if self._energy is None:
            raise RuntimeError("release() needs finalize() first")
        for name in list(vars(self)):
            if name not in ("ctx", "_energy"):
                del self.__dict__[name]

    def energy_output(self) -> WorkloadOutput:
        """Energy-supply columns, KPIs and grid events for the Result (after :meth:`finalize`)."""
        if self._energy is None:
            raise RuntimeError("energy_output() needs finalize() first")
        columns, kpis, events = self._energy
        return WorkloadOutput(columns=columns, kpis=kpis, events=events if len(events) else None)
