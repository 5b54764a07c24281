"""Facility controller: turns GPU occupancy and weather into facility physics, and feeds back throughput.

Stages (each a pure function of arrays, see ``docs/architecture.md``):

1. **IT power** (:mod:`gigawatt.physics.power`): occupancy by phase → accelerator and host power per group.
2. **Facility** (:mod:`gigawatt.physics.facility`): hall IT power + weather → cooling, electrical losses,
   other load, throughput factor (thermal limits).
3. **Supply** (:func:`supply_flows`): site facility power → grid import, energy cost, emissions.

During the run the controller wakes once per *feedback block* (``block_steps`` control steps), predicts the
block's load from the current state (:meth:`LoadLedger.predict`), decides each hall's throughput factor for
the block and publishes it on the :class:`ThroughputBoard`. When no stage can reduce throughput, it does
not look ahead at all. After the run, :meth:`finalize` evaluates every stage once over the whole horizon with
the exact, time-weighted occupancy and the throughput factors that were in force, so energy is exact and
cost does not grow with the number of steps in Python.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from gigawatt.engine.context import SimContext
from gigawatt.engine.plant import build_plant
from gigawatt.engine.weather import site_weather
from gigawatt.physics import facility, power

__all__ = ["FacilityController", "supply_flows"]


def supply_flows(
    facility_power_kw: np.ndarray,
    import_capacity_kw: np.ndarray,
    price_usd_per_mwh: np.ndarray,
    carbon_gco2_per_kwh: np.ndarray,
    step_h: float,
) -> dict[str, np.ndarray]:
    """Grid supply per site and step (simple constants; the energy model refines this stage).

    Parameters
    ----------
    facility_power_kw : array (T, S)
        Facility demand per site [kW].
    import_capacity_kw : array (S,)
        Grid import limit [kW] (``inf`` when unconstrained).
    price_usd_per_mwh, carbon_gco2_per_kwh : array (S,)
        Flat energy price [USD/MWh] and grid carbon intensity [gCO2/kWh].
    step_h : float
        Step length [h].

    Returns
    -------
    dict of arrays (T, S)
        ``grid_import_kw = min(demand, cap)``; ``unserved_kw = demand − import`` (no capping policy in this
        stage); ``energy_cost_usd = import · Δt · price / 1000``; ``emissions_kgco2 = import · Δt · CI / 1000``.
    """
    grid = np.minimum(facility_power_kw, import_capacity_kw)
    energy_mwh = grid * step_h / 1e3
    return {
        "grid_import_kw": grid,
        "unserved_kw": facility_power_kw - grid,
        "energy_cost_usd": energy_mwh * price_usd_per_mwh,
        "emissions_kgco2": energy_mwh * carbon_gco2_per_kwh,  # MWh · g/kWh = kg
    }


class FacilityController:
    """Owns the facility physics of one simulation run."""

    def __init__(self, ctx: SimContext, block_steps: int = 12) -> None:
        self.ctx = ctx
        fleet, clock, sc = ctx.fleet, ctx.clock, ctx.scenario
        self.block_steps = max(1, int(block_steps))
        self.plant_inputs = build_plant(fleet)
        self.plant = self.plant_inputs.plant
        self.phase_w = power.phase_power_w(fleet.idle_w, fleet.tdp_w, fleet.training_power_frac)
        self.g2h = fleet.group_to_hall_matrix()
        self.h2s = fleet.hall_to_site_matrix()
        self.weather = [site_weather(s, clock) for s in sc.sites]
        self.dry_bulb_site_c = np.stack([w["dry_bulb_c"] for w in self.weather], axis=1)  # (T, S)
        self.wet_bulb_site_c = np.stack([w["wet_bulb_c"] for w in self.weather], axis=1)  # (T, S)
        db_all, wb_all = self.hall_weather(slice(None))
        self.thermal_may_bind: np.ndarray = np.asarray(
            facility.thermal_may_bind(self.plant, db_all, wb_all).any(axis=1)
        )
        """Steps where a thermal limit could bind at some load up to design (elsewhere throughput is 1)."""
        self.throughput_hall = np.ones((clock.n_steps, fleet.n_halls))
        """Throughput factor in force per step and hall (decided block by block)."""

    # ---------------------------------------------------------------------------------------- stages
    def it_power(self, occupancy: np.ndarray) -> dict[str, np.ndarray]:
        """Stage 1: per-hall IT load split into a fixed part and the throughput-scaled accelerator part [kW].

        ``fixed = n·P_idle + host (without fans) + network + storage``; ``dynamic`` = above-idle accelerator
        power at full throughput. Server fans (inlet-dependent) and the DVFS scaling of ``dynamic`` are
        applied by the facility stage.
        """
        f = self.ctx.fleet
        pi = self.plant_inputs
        static_kw, host_kw = power.group_it_power_kw(
            occupancy, f.n_gpus, f.idle_w, self.phase_w, f.host_w_per_server, f.n_servers, np.zeros(1)
        )
        full_kw, _ = power.group_it_power_kw(
            occupancy, f.n_gpus, f.idle_w, self.phase_w, f.host_w_per_server, f.n_servers
        )
        host_kw = host_kw * (1.0 - pi.fan_share_group)
        return {
            "accel_static_kw": static_kw,
            "accel_dynamic_kw": full_kw - static_kw,
            "host_power_kw": host_kw,
            "fixed_it_kw": (static_kw + host_kw) @ self.g2h + pi.network_kw_hall + pi.storage_kw_hall,
            "dynamic_it_kw": (full_kw - static_kw) @ self.g2h,
        }

    def hall_weather(self, step_idx: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Dry- and wet-bulb temperature at each hall's site for the given steps, arrays (m, H) [°C]."""
        hs = self.ctx.fleet.hall_site
        return self.dry_bulb_site_c[step_idx][:, hs], self.wet_bulb_site_c[step_idx][:, hs]

    def site_facility_kw(self, it_hall_kw: np.ndarray, step_idx: np.ndarray, site: int) -> np.ndarray:
        """Facility power [kW] of one site's halls at given IT power (the energy model's facility curve).

        ``it_hall_kw`` (m, H_s) for the site's halls in fleet order, ``step_idx`` (m,) the steps (weather).
        Pure evaluation of :func:`gigawatt.physics.facility.evaluate_it_power` (monotone in IT power).
        """
        halls = np.flatnonzero(self.ctx.fleet.hall_site == site)
        db, wb = self.hall_weather(np.asarray(step_idx))
        it = np.zeros((len(step_idx), self.ctx.fleet.n_halls))
        it[:, halls] = it_hall_kw
        fac = facility.facility_power_kw(self.plant, it, db, wb)
        return np.asarray(fac[:, halls].sum(axis=1), dtype=float)

    def evaluate(
        self, occupancy: np.ndarray, throughput_hall: np.ndarray | None, step0: int
    ) -> dict[str, np.ndarray]:
        """Stages 1-3 for steps ``step0 .. step0 + len(occupancy)``.

        With ``throughput_hall`` None the facility stage decides the thermal throughput (look-ahead); otherwise
        the given factors are in force and any heat beyond the cooling capacity shows as thermal overload.
        """
        t = slice(step0, step0 + occupancy.shape[0])
        it = self.it_power(occupancy)
        dry_hall, wet_hall = self.hall_weather(t)
        flows = facility.facility_flows(
            self.plant,
            it["fixed_it_kw"],
            it["dynamic_it_kw"],
            dry_hall,
            wet_hall,
            throughput_frac=throughput_hall,
            step_s=self.ctx.clock.step_s,
        )
        f = self.ctx.fleet
        thr_group = flows["throughput_frac"][:, f.group_hall]
        flows["accel_power_kw"] = it["accel_static_kw"] + it["accel_dynamic_kw"] * power.dvfs_power_frac(
            thr_group
        )
        flows["host_power_kw"] = it["host_power_kw"]
        flows["dry_bulb_c_hall"] = dry_hall
        flows["wet_bulb_c_hall"] = wet_hall
        sc = self.ctx.scenario
        site_fac = flows["facility_power_kw"] @ self.h2s
        cap = np.array(
            [s.grid.import_capacity_mw * 1e3 if s.grid.import_capacity_mw else np.inf for s in sc.sites]
        )
        supply = supply_flows(
            site_fac,
            cap,
            np.array([s.grid.energy_price_usd_per_mwh for s in sc.sites]),
            np.array([s.grid.carbon_intensity_gco2_per_kwh for s in sc.sites]),
            self.ctx.clock.step_h,
        )
        flows.update({f"site_{k}": v for k, v in supply.items()})
        flows["site_facility_power_kw"] = site_fac
        flows["dry_bulb_c_site"] = self.dry_bulb_site_c[t]
        flows["wet_bulb_c_site"] = self.wet_bulb_site_c[t]
        return flows

    # ------------------------------------------------------------------------------------- feedback
    @property
    def needs_feedback(self) -> bool:
        """Whether any stage can reduce throughput (otherwise no look-ahead is needed)."""
        return bool(self.plant.can_throttle)

    def decide_block(self, step0: int, step1: int) -> np.ndarray:
        """Throughput per hall for steps ``step0..step1`` from the predicted load at full throughput."""
        if not self.thermal_may_bind[step0:step1].any():  # no load up to design can be throttled here
            return np.ones((step1 - step0, self.ctx.fleet.n_halls))
        occ = self.ctx.ledger.predict(step0, step1)
        it = self.it_power(occ)
        db, wb = self.hall_weather(slice(step0, step1))
        thr = facility.thermal_limit_throughput_frac(
            self.plant, it["fixed_it_kw"], it["dynamic_it_kw"], db, wb
        )
        return np.clip(thr, 0.0, 1.0)

    def process(self) -> Generator[simpy.Event, Any, None]:
        """simpy process: wake at every feedback block, decide and publish throughput."""
        env, clock = self.ctx.env, self.ctx.clock
        if not self.needs_feedback:
            return
        ledger = self.ctx.ledger
        step = 0
        # Look-ahead window: decisions for many blocks come from one vectorised evaluation while the ledger
        # has no event-driven change (profiles are known ahead); any change restarts with one block and the
        # window doubles again (up to a week) while the load stays unchanged.
        window = self.block_steps
        max_window = max(self.block_steps, int(7 * 86400 // clock.step_s))
        cache: np.ndarray | None = None
        cache_start = cache_end = 0
        cache_changes = -1
        while step < clock.n_steps:
            end = min(step + self.block_steps, clock.n_steps)
            if cache is None or end > cache_end or ledger.n_changes != cache_changes:
                changed = cache is not None and ledger.n_changes != cache_changes
                window = self.block_steps if changed else min(2 * window, max_window)
                cache_start, cache_end = step, min(step + max(window, end - step), clock.n_steps)
                cache = self.decide_block(cache_start, cache_end)
                cache_changes = ledger.n_changes
            thr = cache[step - cache_start : end - cache_start]
            self.throughput_hall[step:end] = thr
            self.ctx.throughput.publish(env.now, thr.mean(axis=0))
            yield env.timeout((end - step) * clock.step_s)
            step = end

    def finalize(self) -> dict[str, np.ndarray]:
        """Evaluate every stage over the whole horizon with the exact occupancy."""
        occ = self.ctx.ledger.occupancy()
        flows = self.evaluate(occ, self.throughput_hall, 0)
        flows["throughput_frac"] = self.throughput_hall
        flows["occupancy_gpus"] = occ
        return flows
