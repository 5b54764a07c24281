"""Cooling plant physics per hall: air (CRAH + chillers + economizers), rear-door HX, direct-to-chip liquid,
immersion. Pure, vectorised functions of arrays broadcast over ``(n_steps, n_halls)``.

A hall's IT heat ``Q`` splits into a **liquid loop** (fraction ``c`` = liquid capture: cold plates, rear doors,
immersion tanks) and an **air loop** (``1 − c``: CRAH/AHU fans moving room air). Each loop is one instance of
the generic :func:`loop_performance` model:

* **Heat-rejection device** (cooling tower on wet bulb, dry cooler on dry bulb, or outside air for an air-side
  economizer) with an approach that scales with load at full fan speed:
  ``T_ach = T_sink + a · Q/Q_d`` (effectiveness model with fixed UA and flow; ``a`` design approach at design
  load ``Q_d``, including intermediate plate heat exchangers).
* **Economizer** in series with the chiller: return fluid at ``T_r = T_s + ΔT`` is pre-cooled to ``T_ach``;
  the free-cooling fraction is ``φ = clip((T_r − T_ach)/(T_r − T_s), 0, 1)``.
* **Evaporative (adiabatic) outside air** has an approach to the wet bulb: the direct evaporative cooler of
  effectiveness ``ε`` leaves the air at ``T_db − ε (T_db − T_wb) = T_wb + (1 − ε)(T_db − T_wb)`` (evaporation
  modulated to reach only the set point), so ``T_ach = T_wb + (1 − ε)(T_db − T_wb) + a · Q/Q_d`` at best.
  Once ``T_ach`` exceeds the supply set point ``T_s`` (hot humid hours) the remainder ``(1 − φ) Q`` is met by a
  **trim DX/chiller** at its COP (``air_evaporative``), or, in a design with no mechanical cooling at all
  (``air_chillerless``, ``dlc_chillerless``), the supply floats up to ``T_s,max`` and capacity derates:
  the hall throttles when ``Q`` exceeds ``Q_cap`` below.
* **Chiller** for the rest, ``Q_mech = (1 − φ) Q`` with a Carnot-fraction COP (Gordon & Ng 2000)::

      COP = min(COP_max, η · T_evap / (T_cond − T_evap)),  T_evap = T_s − Δ_evap,
      T_cond = T_sink,cond + a_c · Q/Q_d + ΔT_cond

* **Fans and pumps** by the affinity laws: fan speed in free cooling is what holds the approach,
  ``s = clip(a Q/Q_d / (T_s − T_sink), s_min, 1)``; with the chiller running, full speed above half load
  (lowest condensing temperature), ``2 Q/Q_d`` below. Fan power ``P = p_fan Q_d s³``; pumps ``P = p_pump Q_d max(Q/Q_d, f_min)^n``.
* **Capacity** (heat the loop can remove at the current ambient): without a chiller, the load at which the
  achievable supply reaches the maximum allowed supply ``T_s,max``: ``Q_cap = Q_d (T_s,max − T_sink)/a``; with a
  chiller, the load whose mechanical part equals the chiller's available capacity (closed form, quadratic in
  ``Q`` in the partial-economizer region), limited by the rejection device at the chiller's maximum condensing
  temperature. Pumps/CDUs cap every loop at ``flow_limit_frac · Q_d``.

References
----------
.. [1] J. M. Gordon and K. C. Ng, *Cool Thermodynamics*, Cambridge Int. Science Publishing, 2000 (chiller COP as a
   fraction of the Carnot COP at the evaporator/condenser temperatures).
.. [2] ASHRAE, *HVAC Systems and Equipment* handbook, 2020, ch. 40 "Cooling towers" (approach 3-6 K typical,
   design approach 7 °F ≈ 3.9 K) and ch. 45 "Pumps", ch. 21 "Fans" (affinity laws).
.. [3] ASHRAE TC 9.9, "Thermal guidelines for data processing environments", 5th ed., 2021 (air classes
   A1-A4: recommended inlet 18-27 °C, A1 allowable ≤ 32 °C) and "Liquid cooling guidelines for datacom equipment
   centers", 2nd ed. 2014 / 2021 white paper (facility water classes W17-W45 / W+).
.. [4] J. Gao, "Machine learning applications for data center optimization", Google, 2014.
.. [5] A. Shehabi et al., "United States data center energy usage report", LBNL-1005775, 2016 (cooling
   system types, chiller and fan power shares).
.. [6] J. Park, "Designing a very efficient data center", Facebook/Meta engineering blog, 2011, and Open
   Compute Project "Data center mechanical specification" (Prineville: 100 % outside-air economizer with
   direct evaporative cooling, no chillers).
.. [7] ASHRAE Standard 90.1-2019, Table 6.8.1-1: minimum efficiency of air-cooled unitary air conditioners
   ≥ 240,000 Btu/h, EER 9.5-10.0 (COP ≈ 2.8-2.9) at AHRI 340/360 rating conditions (35 °C outdoor);
   current equipment reaches EER 11-12 (COP 3.2-3.5).
.. [8] ASHRAE Handbook - HVAC Applications 2019, ch. 53 "Evaporative cooling" (direct evaporative saturation
   effectiveness 70-95 %; staged evaporative with DX trim in humid climates).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from gigawatt.physics.cooling_designs import cooling_design, cooling_designs, default_loop
from gigawatt.physics.it_power import server_fan_speed_frac

FloatArray = npt.NDArray[np.float64]

#: Heat-rejection sink codes of a loop.
SINK_WET_BULB = 0  # cooling tower (evaporative): sink = ambient wet bulb
SINK_DRY_BULB = 1  # dry cooler / air-cooled condenser: sink = ambient dry bulb
SINK_OUTSIDE_AIR = 2  # air-side economizer: sink = outside air (after optional direct evaporative cooling)

#: Evaporator approach: refrigerant evaporating temperature below the chilled supply [K] (estimate, typical 1-2 K
#: for water chillers; a DX air coil runs ≈ 8-12 K below its leaving air, set per loop by ``evaporator_approach_c``).
EVAPORATOR_APPROACH_K = 1.5
#: Lowest lift used in the COP formula [K] (avoids unbounded Carnot COP; chillers have a minimum lift).
MIN_LIFT_K = 5.0


@dataclass(frozen=True)
class LoopPlant:
    """Parameters of one cooling loop per hall (all arrays of shape ``(n_halls,)``; see module docstring).

    Attributes
    ----------
    design_kw : design heat load of the loop [kW] (0 = no loop).
    supply_c, supply_max_c : supply set point and maximum allowed supply [°C].
    delta_t_c : design return − supply temperature difference [K].
    sink : heat-rejection sink code (``SINK_*``).
    approach_c : rejection approach at design load, incl. intermediate heat exchangers [K].
    economizer : 1 if the loop can free-cool through the rejection device, else 0.
    evaporative_effectiveness_frac : direct evaporative cooler effectiveness (``SINK_OUTSIDE_AIR`` only).
    has_chiller : 1 if a chiller (or DX) can cool mechanically, else 0.
    chiller_capacity_frac : installed chiller capacity / design load.
    chiller_carnot_frac : chiller COP as a fraction of the Carnot COP.
    chiller_cop_max : COP ceiling.
    condenser_sink : sink code of the chiller condenser (``SINK_WET_BULB`` tower or ``SINK_DRY_BULB`` air-cooled).
    condenser_approach_c : condenser-side approach at design load [K].
    condenser_rise_c : condensing temperature above the condenser-water/air leaving the rejection device [K].
    chiller_max_condensing_c : highest condensing temperature the chiller can run at [°C].
    chiller_derate_per_c : fractional capacity loss per K of condensing temperature above its rating.
    chiller_rated_condensing_c : condensing temperature at rated capacity [°C].
    evaporator_approach_c : refrigerant evaporating temperature below the supply set point [K].
    fan_kw_per_kw : rejection (tower/dry-cooler/AHU) fan power at design speed per kW of design load.
    fan_min_speed_frac : lowest fan speed.
    pump_kw_per_kw : loop pump power at design flow per kW of design load.
    pump_min_flow_frac : minimum flow fraction.
    pump_exponent : pump power ∝ flow^n (3 ideal affinity, ≈ 2 with static head/pressure reset, 0 constant speed).
    flow_limit_frac : pumps/CDUs cap the loop at this multiple of the design load.
    """

    design_kw: FloatArray
    supply_c: FloatArray
    supply_max_c: FloatArray
    delta_t_c: FloatArray
    sink: FloatArray
    approach_c: FloatArray
    economizer: FloatArray
    evaporative_effectiveness_frac: FloatArray
    has_chiller: FloatArray
    chiller_capacity_frac: FloatArray
    chiller_carnot_frac: FloatArray
    chiller_cop_max: FloatArray
    condenser_sink: FloatArray
    condenser_approach_c: FloatArray
    condenser_rise_c: FloatArray
    chiller_max_condensing_c: FloatArray
    chiller_derate_per_c: FloatArray
    chiller_rated_condensing_c: FloatArray
    evaporator_approach_c: FloatArray
    fan_kw_per_kw: FloatArray
    fan_min_speed_frac: FloatArray
    pump_kw_per_kw: FloatArray
    pump_min_flow_frac: FloatArray
    pump_exponent: FloatArray
    flow_limit_frac: FloatArray

    @classmethod
    def stack(cls, params: list[dict[str, float]]) -> LoopPlant:
        """Build from one dict per hall (keys = field names)."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if any(n not in p for p in params)]
        if missing:
            raise KeyError(f"LoopPlant.stack: missing parameters {missing}")
        return cls(**{n: np.array([float(p[n]) for p in params], dtype=float) for n in names})


@dataclass(frozen=True)
class AirSide:
    """Air-handling parameters per hall (arrays ``(n_halls,)``).

    Attributes
    ----------
    fan_kw_per_kw : CRAH/AHU/RDHx fan power at design airflow per kW of design air-side heat.
    fan_min_speed_frac : lowest fan speed (VFD/EC fans); 1 for constant-speed legacy fans.
    supply_air_c : server inlet (supply air) set point [°C].
    coil_approach_c : supply air above the chilled-water supply for water-coil air handlers [K].
    door_fan_kw_per_kw : fans of active rear doors at design airflow per kW of design door (liquid-loop) heat;
        0 without doors or for passive doors.
    """

    fan_kw_per_kw: FloatArray
    fan_min_speed_frac: FloatArray
    supply_air_c: FloatArray
    coil_approach_c: FloatArray
    door_fan_kw_per_kw: FloatArray


@dataclass(frozen=True)
class CoolingPlant:
    """Cooling plant of every hall: liquid capture, air handling, and the two loops."""

    liquid_capture_frac: FloatArray
    air: AirSide
    air_loop: LoopPlant
    liquid_loop: LoopPlant
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_halls(self) -> int:
        return int(self.liquid_capture_frac.shape[0])


def chiller_cop(
    evaporating_c: npt.ArrayLike,
    condensing_c: npt.ArrayLike,
    carnot_frac: npt.ArrayLike,
    cop_max: npt.ArrayLike,
) -> FloatArray:
    """Chiller COP: ``min(COP_max, η (T_evap + 273.15) / max(T_cond − T_evap, 5 K))`` (Gordon & Ng 2000)."""
    te = np.asarray(evaporating_c, dtype=float)
    lift = np.maximum(np.asarray(condensing_c, dtype=float) - te, MIN_LIFT_K)
    return np.minimum(
        np.asarray(cop_max, dtype=float), np.asarray(carnot_frac, dtype=float) * (te + 273.15) / lift
    )


def sink_temperature_c(
    sink: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    evaporative_effectiveness_frac: npt.ArrayLike,
    supply_c: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Sink temperature [°C] per sink code, and the evaporative cooling depth used [K] (outside air only).

    Outside air with direct evaporative cooling: ``T = T_db − ε (T_db − T_wb)``, but only as deep as needed to
    reach the target (evaporation is modulated): depth ``= clip(T_db − T_target, 0, ε (T_db − T_wb))``. The
    target is the supply set point less the approach at the current load, ``T_s − a Q/Q_d``, so that the
    supply just reaches ``T_s``; ``−inf`` gives the full depth (capacity).
    """
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    eps = np.asarray(evaporative_effectiveness_frac, dtype=float)
    code = np.asarray(sink)
    depth = np.clip(db - np.asarray(supply_c, dtype=float), 0.0, eps * (db - wb))
    t = np.where(code == SINK_WET_BULB, wb, np.where(code == SINK_DRY_BULB, db, db - depth))
    return t, np.where(code == SINK_OUTSIDE_AIR, depth, 0.0)


def loop_supply_c(
    loop: LoopPlant, q_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> FloatArray:
    """Achieved supply temperature of a loop [°C]: the set point with a chiller, else ``max(T_s, T_sink + a Q/Q_d)``."""
    q = np.maximum(np.asarray(q_kw, dtype=float), 0.0)
    present = loop.design_kw > 0
    d = np.where(present, loop.design_kw, 1.0)
    sink, _ = sink_temperature_c(
        loop.sink,
        dry_bulb_c,
        wet_bulb_c,
        loop.evaporative_effectiveness_frac,
        loop.supply_c - loop.approach_c * q / d,
    )
    supply = np.where(
        loop.has_chiller > 0, loop.supply_c, np.maximum(loop.supply_c, sink + loop.approach_c * q / d)
    )
    return np.where(present, supply, np.nan)


def loop_capacity_kw(loop: LoopPlant, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike) -> FloatArray:
    """Heat a loop can remove at this ambient [kW] (depends on the ambient only; see module docstring)."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    present = loop.design_kw > 0
    d = np.where(present, loop.design_kw, 1.0)
    ts, dt, a = loop.supply_c, loop.delta_t_c, loop.approach_c
    t_ret = ts + dt
    econ = loop.economizer > 0
    chiller = loop.has_chiller > 0
    # full evaporation at capacity
    sink, _ = sink_temperature_c(loop.sink, db, wb, loop.evaporative_effectiveness_frac, -np.inf)
    cond_sink, _ = sink_temperature_c(loop.condenser_sink, db, wb, 0.0, ts)
    cap_free_only = d * np.maximum(loop.supply_max_c - sink, 0.0) / np.maximum(a, 1e-6)
    t_cond_design = cond_sink + loop.condenser_approach_c + loop.condenser_rise_c
    derate = np.clip(
        1.0 - loop.chiller_derate_per_c * np.maximum(t_cond_design - loop.chiller_rated_condensing_c, 0.0),
        0.0,
        1.0,
    )
    c_ch = loop.chiller_capacity_frac * d * derate
    # mechanical load q(1 − φ(q)) = C_ch: in the partial-economizer region this is quadratic in q
    big_a = a / (d * dt)
    b = (sink - ts) / dt
    q_partial = (-b + np.sqrt(b * b + 4.0 * big_a * c_ch)) / (2.0 * big_a)
    in_mech = (sink + a * q_partial / d) >= t_ret
    q_ch = np.where(econ, np.where(in_mech, c_ch, q_partial), c_ch)
    # (if the economizer alone could do more than the chiller path, e.g. cold weather, take that)
    q_ch = np.maximum(q_ch, np.where(econ, d * np.maximum(ts - sink, 0.0) / np.maximum(a, 1e-6), 0.0))
    rej_limit = (
        d
        * np.maximum(loop.chiller_max_condensing_c - loop.condenser_rise_c - cond_sink, 0.0)
        / np.maximum(loop.condenser_approach_c, 1e-6)
    )
    cap_chiller = np.minimum(q_ch, rej_limit)
    capacity = np.where(chiller, np.maximum(cap_chiller, np.where(econ, cap_free_only, 0.0)), cap_free_only)
    capacity = np.minimum(capacity, loop.flow_limit_frac * d)
    return np.where(present, capacity, 0.0)


def loop_performance(
    loop: LoopPlant,
    q_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    *,
    with_capacity: bool = True,
) -> dict[str, FloatArray]:
    """Performance of a cooling loop removing ``q_kw`` at the given ambient (see module docstring).

    Parameters
    ----------
    loop : LoopPlant
        Loop parameters, arrays ``(n_halls,)``.
    q_kw : array_like, shape (n, n_halls)
        Heat to remove [kW].
    dry_bulb_c, wet_bulb_c : array_like, shape (n, n_halls)
        Ambient temperatures at the hall's site [°C].

    Returns
    -------
    dict of arrays (n, n_halls)
        ``free_frac`` (economizer share), ``chiller_kw``, ``fan_kw``, ``pump_kw``, ``cop``,
        ``heat_to_tower_kw`` (heat leaving through evaporative towers), ``evaporative_depth_c``,
        ``supply_c`` (achieved supply temperature), ``capacity_kw`` (heat removable at this ambient,
        :func:`loop_capacity_kw`; zeros when ``with_capacity`` is False).
    """
    q = np.maximum(np.asarray(q_kw, dtype=float), 0.0)
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    present = loop.design_kw > 0
    d = np.where(present, loop.design_kw, 1.0)
    qf = q / d
    ts, dt, a = loop.supply_c, loop.delta_t_c, loop.approach_c
    t_ret = ts + dt
    sink, evap_depth = sink_temperature_c(loop.sink, db, wb, loop.evaporative_effectiveness_frac, ts - a * qf)
    t_ach = sink + a * qf
    econ = loop.economizer > 0
    chiller = loop.has_chiller > 0
    free = np.where(econ, np.clip((t_ret - t_ach) / dt, 0.0, 1.0), 0.0)
    free = np.where(chiller, free, 1.0)  # no chiller: everything goes through the rejection device
    q_mech = (1.0 - free) * q
    cond_sink, _ = sink_temperature_c(loop.condenser_sink, db, wb, 0.0, ts)
    t_cond = cond_sink + loop.condenser_approach_c * qf + loop.condenser_rise_c
    cop = chiller_cop(ts - loop.evaporator_approach_c, t_cond, loop.chiller_carnot_frac, loop.chiller_cop_max)
    chiller_kw = np.where(chiller, q_mech / cop, 0.0)
    # fan speed: hold the approach in free cooling, full speed in partial economizer, follow load otherwise
    margin = np.maximum(ts - sink, 1e-6)
    s_free = np.clip(a * qf / margin, loop.fan_min_speed_frac, 1.0)
    # with the chiller running, towers/condensers run flat out (lowest condensing temperature saves more
    # compressor power than the fans cost, the usual control); scaled down only at part load below s_min
    s_mech = np.clip(np.minimum(1.0, 2.0 * qf), loop.fan_min_speed_frac, 1.0)
    speed = np.where(free >= 1.0, s_free, np.where(free > 0.0, np.maximum(s_free, s_mech), s_mech))
    speed = np.where(chiller, speed, np.where(t_ach <= ts, s_free, 1.0))
    fan_kw = loop.fan_kw_per_kw * d * speed**3
    flow = np.maximum(qf, loop.pump_min_flow_frac)
    pump_kw = loop.pump_kw_per_kw * d * flow**loop.pump_exponent
    supply = np.where(chiller, ts, np.maximum(ts, t_ach))
    # heat to evaporative towers: economizer share through a wet-bulb device, chiller heat through a wet condenser
    tower_free = np.where(loop.sink == SINK_WET_BULB, free * q, 0.0)
    tower_cond = np.where(loop.condenser_sink == SINK_WET_BULB, (q_mech + chiller_kw) * chiller, 0.0)
    capacity = loop_capacity_kw(loop, db, wb) if with_capacity else np.zeros_like(q)
    zero = np.zeros_like(q)
    return {
        "free_frac": np.where(present, free, zero),
        "chiller_kw": np.where(present, chiller_kw, zero),
        "fan_kw": np.where(present, fan_kw, zero),
        "pump_kw": np.where(present, pump_kw, zero),
        "cop": np.where(present & chiller, cop, np.inf + zero),
        "heat_to_tower_kw": np.where(present, tower_free + tower_cond, zero),
        "evaporative_depth_c": np.where(present & (free > 0), evap_depth, zero),
        "supply_c": np.where(present, supply, np.nan + zero),
        "capacity_kw": np.where(present, capacity, zero),
    }


def air_handler_fan_kw(air: AirSide, q_air_kw: npt.ArrayLike, design_air_kw: npt.ArrayLike) -> FloatArray:
    """CRAH/AHU fan power [kW] by the affinity law: ``p Q_d max(Q/Q_d, s_min)³`` (airflow ∝ heat at fixed ΔT)."""
    d = np.asarray(design_air_kw, dtype=float)
    safe = np.where(d > 0, d, 1.0)
    s = np.maximum(np.asarray(q_air_kw, dtype=float) / safe, air.fan_min_speed_frac)
    return np.where(d > 0, air.fan_kw_per_kw * safe * np.minimum(s, 1.5) ** 3, 0.0)


def rear_door_fan_kw(plant: CoolingPlant, q_door_airflow_kw: npt.ArrayLike) -> FloatArray:
    """Fans of active rear-door heat exchangers [kW]: ``p_door Q_d,liq max(Q/Q_d,liq, s_min)³``.

    ``Q`` is the door heat scaled by the server airflow factor (the doors run at zero differential pressure,
    moving whatever air the servers push). ``p_door`` (``AirSide.door_fan_kw_per_kw``) is 0 for halls
    without doors and for passive doors (there the server fans push the air through the coil).
    """
    d = plant.liquid_loop.design_kw
    safe = np.where(d > 0, d, 1.0)
    s = np.maximum(np.asarray(q_door_airflow_kw, dtype=float) / safe, plant.air.fan_min_speed_frac)
    return np.where(d > 0, plant.air.door_fan_kw_per_kw * safe * np.minimum(s, 1.5) ** 3, 0.0)


def _inlet_c(plant: CoolingPlant, air_loop_supply_c: FloatArray) -> FloatArray:
    """Server inlet air [°C]: outside-air supply, or coil supply = max(set point, chilled supply + approach)."""
    return np.where(
        plant.air_loop.sink == SINK_OUTSIDE_AIR,
        np.maximum(air_loop_supply_c, plant.air.supply_air_c),
        np.maximum(plant.air.supply_air_c, air_loop_supply_c + plant.air.coil_approach_c),
    )


def cooling_capacity_kw(
    plant: CoolingPlant, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> FloatArray:
    """Heat [kW] a hall's plant can remove at this ambient: each loop limits its share of the heat.

    ``C = min((C_air − P_fan,design)/(1 − c), C_liq/c)`` (the air loop also removes its fans' heat).
    """
    c = plant.liquid_capture_frac
    design_fan = plant.air.fan_kw_per_kw * plant.air_loop.design_kw
    cap_air = loop_capacity_kw(plant.air_loop, dry_bulb_c, wet_bulb_c)
    cap_liq = loop_capacity_kw(plant.liquid_loop, dry_bulb_c, wet_bulb_c)
    cap_air_it = np.where(
        1.0 - c > 1e-9, np.maximum(cap_air - design_fan, 0.0) / np.maximum(1.0 - c, 1e-9), np.inf
    )
    cap_liq_it = np.where(c > 1e-9, cap_liq / np.maximum(c, 1e-9), np.inf)
    return np.minimum(cap_air_it, cap_liq_it)


def cooling_temperatures(
    plant: CoolingPlant, heat_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> dict[str, FloatArray]:
    """Server inlet air and liquid coolant supply temperatures [°C] at a heat load (cheap closed form).

    Air-handler fan heat is taken at design airflow per kW; ``coolant_supply_c`` is NaN without a liquid loop.
    """
    q = np.maximum(np.asarray(heat_kw, dtype=float), 0.0)
    c = plant.liquid_capture_frac
    q_air = (1.0 - c) * q
    q_air_loop = q_air + air_handler_fan_kw(plant.air, q_air, plant.air_loop.design_kw)
    inlet = _inlet_c(plant, loop_supply_c(plant.air_loop, q_air_loop, dry_bulb_c, wet_bulb_c))
    return {
        "inlet_c": np.where(1.0 - c > 1e-9, inlet, plant.air.supply_air_c + 0.0 * q),
        "coolant_supply_c": loop_supply_c(plant.liquid_loop, c * q, dry_bulb_c, wet_bulb_c),
    }


def cooling_performance(
    plant: CoolingPlant, heat_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> dict[str, FloatArray]:
    """Cooling power by component, capacity and temperatures of every hall.

    ``Q_liq = c Q``; ``Q_air = (1 − c) Q``; the air loop also removes the heat of its own fans.

    Parameters
    ----------
    plant : CoolingPlant
    heat_kw : array_like, shape (n, n_halls)
        Heat released in the halls (IT + in-room electrical losses) [kW].
    dry_bulb_c, wet_bulb_c : array_like, shape (n, n_halls)
        Ambient temperatures [°C].

    Returns
    -------
    dict of arrays (n, n_halls)
        ``cooling_power_kw`` (total) and components ``chiller_kw``, ``rejection_fan_kw``, ``pump_kw``,
        ``air_fan_kw`` (air handlers and active rear-door fans); ``heat_to_tower_kw``; ``evaporative_air_kg_per_s`` outside-air evaporation rate;
        ``capacity_kw`` (IT heat the plant can remove at this ambient); ``free_cooling_frac`` (heat-weighted
        economizer share); ``coolant_supply_c`` (liquid loop, NaN without one) and ``inlet_c`` (server inlet air).
    """
    q = np.maximum(np.asarray(heat_kw, dtype=float), 0.0)
    c = plant.liquid_capture_frac
    q_liq = c * q
    q_air = (1.0 - c) * q
    # supply air at design airflow per kW → server airflow factor (servers speed up when the inlet warms,
    # so the air handlers must move more air) → air-handler fans → air loop
    inlet0 = cooling_temperatures(plant, q, dry_bulb_c, wet_bulb_c)["inlet_c"]
    airflow_factor = server_fan_speed_frac(inlet0) / server_fan_speed_frac(plant.air.supply_air_c)
    air_fan = air_handler_fan_kw(plant.air, q_air * airflow_factor, plant.air_loop.design_kw)
    # active rear doors: door fans track the server airflow through the coil; their heat goes to the door coil
    door_fan = rear_door_fan_kw(plant, q_liq * airflow_factor)
    liq = loop_performance(plant.liquid_loop, q_liq + door_fan, dry_bulb_c, wet_bulb_c, with_capacity=False)
    air = loop_performance(plant.air_loop, q_air + air_fan, dry_bulb_c, wet_bulb_c, with_capacity=False)
    # outside-air evaporation: airflow m = Q_air / (cp ΔT_air), water = m cp depth / h_fg
    cp_air = 1.006  # kJ/(kg K)
    airflow_kg_per_s = (q_air + air_fan) / (cp_air * np.maximum(plant.air_loop.delta_t_c, 1e-6))
    evap_kg_per_s = airflow_kg_per_s * cp_air * air["evaporative_depth_c"] / 2430.0
    capacity = cooling_capacity_kw(plant, dry_bulb_c, wet_bulb_c)
    inlet = _inlet_c(plant, air["supply_c"])
    chiller = liq["chiller_kw"] + air["chiller_kw"]
    rej_fan = liq["fan_kw"] + air["fan_kw"]
    pump = liq["pump_kw"] + air["pump_kw"]
    total = chiller + rej_fan + pump + air_fan + door_fan
    free = np.where(
        q > 0, (liq["free_frac"] * q_liq + air["free_frac"] * q_air) / np.where(q > 0, q, 1.0), 0.0
    )
    return {
        "cooling_power_kw": total,
        "chiller_kw": chiller,
        "rejection_fan_kw": rej_fan,
        "pump_kw": pump,
        "air_fan_kw": air_fan + door_fan,
        "heat_to_tower_kw": liq["heat_to_tower_kw"] + air["heat_to_tower_kw"],
        "evaporative_air_kg_per_s": evap_kg_per_s,
        "capacity_kw": capacity,
        "free_cooling_frac": free,
        "coolant_supply_c": liq["supply_c"],
        "inlet_c": np.where(1.0 - c > 1e-9, inlet, plant.air.supply_air_c + 0.0 * q),
        "chilled_supply_c": air["supply_c"],
    }


# ------------------------------------------------------------------------------------------ plant from designs


def preset_names() -> list[str]:
    """Names of the cooling designs (:func:`gigawatt.physics.cooling_designs.cooling_designs`), sorted."""
    return sorted(cooling_designs())


def build_cooling_plant(
    presets: list[str], design_heat_kw: npt.ArrayLike, overrides: list[dict[str, Any]] | None = None
) -> CoolingPlant:
    """Cooling plant for halls from preset names, each hall's design heat [kW] and optional overrides.

    ``overrides[h]`` may hold ``liquid_capture_frac`` and nested dicts ``air``, ``air_loop``, ``liquid_loop``.
    Loop design loads follow the capture split: ``Q_d,liq = c Q_d``, ``Q_d,air = (1 − c) Q_d``.
    """
    design = np.asarray(design_heat_kw, dtype=float)
    overrides = overrides or [{} for _ in presets]
    if len(overrides) != len(presets) or design.shape != (len(presets),):
        raise ValueError("build_cooling_plant: presets, design_heat_kw and overrides need one entry per hall")
    caps, airs, air_loops, liq_loops = [], [], [], []
    for name, qd, ov in zip(presets, design, overrides, strict=True):
        p = cooling_design(name)
        c = float(ov.get("liquid_capture_frac", p.liquid_capture_frac))
        caps.append(c)
        airs.append({**p.air.plant_params(), **ov.get("air", {})})
        al = {**p.air_loop.plant_params(), **ov.get("air_loop", {})}
        al["design_kw"] = (1.0 - c) * qd if (1.0 - c) > 1e-9 else 0.0
        air_loops.append(al)
        # no liquid loop in the design: the data file's loop defaults (a loop the overrides may add)
        ll = {**(p.liquid_loop or default_loop()).plant_params(), **ov.get("liquid_loop", {})}
        ll["design_kw"] = c * qd if (p.liquid_loop is not None or ov.get("liquid_loop")) and c > 0 else 0.0
        liq_loops.append(ll)
    if any(c > 0 and ll["design_kw"] == 0 for c, ll in zip(caps, liq_loops, strict=True)):
        raise ValueError("build_cooling_plant: liquid_capture_frac > 0 needs a liquid loop")
    return CoolingPlant(
        liquid_capture_frac=np.array(caps, dtype=float),
        air=AirSide(
            **{k.name: np.array([a[k.name] for a in airs], dtype=float) for k in fields(AirSide)},
        ),
        air_loop=LoopPlant.stack(air_loops),
        liquid_loop=LoopPlant.stack(liq_loops),
    )


def with_design(plant: CoolingPlant, design_heat_kw: npt.ArrayLike) -> CoolingPlant:
    """The same plant resized to new design heat loads [kW] (loop design loads follow the capture split)."""
    d = np.asarray(design_heat_kw, dtype=float)
    c = plant.liquid_capture_frac
    return replace(
        plant,
        air_loop=replace(plant.air_loop, design_kw=np.where(plant.air_loop.design_kw > 0, (1 - c) * d, 0.0)),
        liquid_loop=replace(
            plant.liquid_loop, design_kw=np.where(plant.liquid_loop.design_kw > 0, c * d, 0.0)
        ),
    )
