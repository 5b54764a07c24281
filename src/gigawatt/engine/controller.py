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
        self.plant = facility.HallPlant.from_halls(fleet.halls)
        self.phase_w = power.phase_power_w(fleet.idle_w, fleet.tdp_w, fleet.training_power_frac)
        self.g2h = fleet.group_to_hall_matrix()
        self.h2s = fleet.hall_to_site_matrix()
        self.weather = [site_weather(s, clock) for s in sc.sites]
        self.dry_bulb_site_c = np.stack([w["dry_bulb_c"] for w in self.weather], axis=1)  # (T, S)
        self.throughput_hall = np.ones((clock.n_steps, fleet.n_halls))
        """Throughput factor in force per step and hall (decided block by block)."""

    # ---------------------------------------------------------------------------------------- stages
    def it_power(self, occupancy: np.ndarray, throughput_hall: np.ndarray) -> dict[str, np.ndarray]:
        """Stage 1: per-group accelerator and host power [kW] and per-hall IT power [kW]."""
        f = self.ctx.fleet
        accel_kw, host_kw = power.group_it_power_kw(
            occupancy,
            f.n_gpus,
            f.idle_w,
            self.phase_w,
            f.host_w_per_server,
            f.n_servers,
            throughput_hall[:, f.group_hall],
        )
        return {
            "accel_power_kw": accel_kw,
            "host_power_kw": host_kw,
            "it_power_kw": (accel_kw + host_kw) @ self.g2h,
        }

    def evaluate(
        self, occupancy: np.ndarray, throughput_hall: np.ndarray, step0: int
    ) -> dict[str, np.ndarray]:
        """Stages 1-3 for steps ``step0 .. step0 + len(occupancy)`` with the given throughput factors."""
        t = slice(step0, step0 + occupancy.shape[0])
        it = self.it_power(occupancy, throughput_hall)
        dry_hall = self.dry_bulb_site_c[t][:, self.ctx.fleet.hall_site]
        flows = facility.facility_flows(self.plant, it["it_power_kw"], dry_hall)
        flows["accel_power_kw"] = it["accel_power_kw"]
        flows["host_power_kw"] = it["host_power_kw"]
        flows["dry_bulb_c_hall"] = dry_hall
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
        return flows

    # ------------------------------------------------------------------------------------- feedback
    @property
    def needs_feedback(self) -> bool:
        """Whether any stage can reduce throughput (otherwise no look-ahead is needed)."""
        return bool(self.plant.can_throttle)

    def decide_block(self, step0: int, step1: int) -> np.ndarray:
        """Throughput per hall for steps ``step0..step1`` from the predicted load at full throughput."""
        occ = self.ctx.ledger.predict(step0, step1)
        flows = self.evaluate(occ, np.ones((step1 - step0, self.ctx.fleet.n_halls)), step0)
        return np.clip(flows["throughput_frac"], 0.0, 1.0)

    def process(self) -> Generator[simpy.Event, Any, None]:
        """simpy process: wake at every feedback block, decide and publish throughput."""
        env, clock = self.ctx.env, self.ctx.clock
        if not self.needs_feedback:
            return
        step = 0
        while step < clock.n_steps:
            end = min(step + self.block_steps, clock.n_steps)
            thr = self.decide_block(step, end)
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
