"""Facility model: hall IT load + weather → cooling, electrical losses, other load, water, PUE, throttling.

Pure, vectorised functions over arrays shaped ``(n, n_halls)`` (``n`` = any subset of steps). The entry
points are :func:`facility_flows` (IT load split into a fixed and a throughput-scaled part; solves thermal
throttling unless the throughput is given) and :func:`evaluate_it_power` (IT power fixed; what the energy
model calls to find the facility power of a scaled IT load, see also :func:`max_it_power_under_limit_kw`).

Per step and hall::

    P_it    = P_fixed + P_fans(T_inlet) + P_dyn · x^k                      (IT power at throughput x)
    L_pdu, L_ups = chain losses on the IT path (electrical.py)
    Q       = P_it + f_room (L_pdu + L_ups)                                 (heat released in the cooled space)
    P_cool  = cooling_performance(Q, T_db, T_wb)                            (cooling.py)
    P_other = f_other · P_it,design                                        (lighting, offices, security)
    L_tx    = transformer loss on (P_it + L_pdu + L_ups + P_cool + P_other)
    P_fac   = P_it + P_cool + (L_pdu + L_ups + L_tx) + P_other              (exact by construction)
    PUE     = P_fac / P_it;  pPUE_cool = (P_it + P_cool)/P_it;  pPUE_elec = (P_it + L)/P_it
    water   = tower make-up (evaporation + blowdown + drift) + evaporative-cooler make-up   (water.py)
    x       = min(thermal throttle when Q at x = 1 exceeds the cooling capacity (thermal.py),
                  chip derate 1 − k·max(T_coolant − T_design, 0) when the coolant floats above design)

References
----------
.. [1] The Green Grid, "PUE: a comprehensive examination of the metric", White Paper #49, 2012 (PUE and
   partial PUE definitions).
.. [2] See the references of :mod:`~gigawatt.physics.cooling`, :mod:`~gigawatt.physics.electrical`,
   :mod:`~gigawatt.physics.water`, :mod:`~gigawatt.physics.thermal`, :mod:`~gigawatt.physics.it_power`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from gigawatt.physics import cooling as cool
from gigawatt.physics import electrical as elec
from gigawatt.physics import it_power, thermal, water
from gigawatt.physics.facility_kernel import (
    facility_power_given_throughput_compiled,
    facility_power_kw_compiled,
    facility_power_params,
)

__all__ = [
    "COOLING_CAPACITY_FRAC",
    "OTHER_POWER_FRAC_OF_DESIGN_IT",
    "AmbientLimits",
    "FacilityPlant",
    "ambient_limits",
    "build_facility_plant",
    "evaluate_it_power",
    "facility_flows",
    "facility_power_given_throughput_kw",
    "facility_power_kw",
    "facility_power_kw_numpy",
    "max_it_power_under_limit_kw",
    "thermal_limit_throughput_frac",
    "thermal_may_bind",
]

FloatArray = npt.NDArray[np.float64]

#: Lighting, offices, security and other house load as a fraction of design IT power (estimate ≈ 1 % for
#: large halls; LBNL 2016 data-center report lists lighting and other at 1-3 % of IT for typical sites).
OTHER_POWER_FRAC_OF_DESIGN_IT = 0.01
#: Installed cooling capacity per kW of design heat: N+1 redundancy with 4+1 units, all running and sharing the
#: load (the usual operation; Uptime Institute Tier III requires N+1 cooling components).
COOLING_CAPACITY_FRAC = 1.25
#: Transformer capacity per kW of design IT load before redundancy (covers mechanical and house load; estimate).
TRANSFORMER_SIZING_FRAC = 1.3


@dataclass(frozen=True)
class FacilityPlant:
    """Per-hall facility parameters as arrays ``(n_halls,)`` (build with :func:`build_facility_plant`).

    Attributes
    ----------
    cooling : CoolingPlant
    design_it_kw : design IT load [kW].
    pdu_installed_kw, ups_installed_kw, transformer_installed_kw : installed capacity incl. redundancy [kW].
    pdu_coeffs, ups_coeffs, transformer_coeffs : (no-load, proportional, quadratic) loss fractions, each (H,).
    loss_heat_in_room_frac : share of PDU + UPS losses released in the cooled space.
    other_kw : constant lighting/office/other load [kW].
    server_fan_max_kw : server fans of the hall at full speed [kW] (part of IT power).
    tower_latent_frac, cycles_of_concentration, drift_frac : cooling tower water parameters.
    chip_derate_per_c : throughput lost per K of accelerator coolant above its design set point.
    dvfs_exponent, min_throughput_frac : DVFS curve for throttling.
    """

    cooling: cool.CoolingPlant
    design_it_kw: FloatArray
    pdu_installed_kw: FloatArray
    pdu_coeffs: tuple[FloatArray, FloatArray, FloatArray]
    ups_installed_kw: FloatArray
    ups_coeffs: tuple[FloatArray, FloatArray, FloatArray]
    transformer_installed_kw: FloatArray
    transformer_coeffs: tuple[FloatArray, FloatArray, FloatArray]
    loss_heat_in_room_frac: FloatArray
    other_kw: FloatArray
    server_fan_max_kw: FloatArray
    tower_latent_frac: FloatArray
    cycles_of_concentration: FloatArray
    drift_frac: FloatArray
    chip_derate_per_c: FloatArray
    dvfs_exponent: float = it_power.DVFS_POWER_EXPONENT
    min_throughput_frac: float = it_power.MIN_THROUGHPUT_FRAC

    @property
    def n_halls(self) -> int:
        return int(self.design_it_kw.shape[0])

    @property
    def can_throttle(self) -> bool:
        """The physics can reduce throughput (thermal limits), so the controller must look ahead."""
        return True

    @cached_property
    def power_params(self) -> FloatArray:
        """Parameter table of the compiled facility power (:mod:`~gigawatt.physics.facility_kernel`)."""
        return facility_power_params(
            self.cooling,
            (self.pdu_installed_kw, self.pdu_coeffs),
            (self.ups_installed_kw, self.ups_coeffs),
            (self.transformer_installed_kw, self.transformer_coeffs),
            self.loss_heat_in_room_frac,
            self.other_kw,
        )

    def in_room_loss_kw(self, it_kw: FloatArray) -> FloatArray:
        """PDU + UPS losses released in the cooled space [kW] at IT power ``it_kw``."""
        pdu, ups = elec.it_path_losses_kw(
            it_kw, self.pdu_installed_kw, self.pdu_coeffs, self.ups_installed_kw, self.ups_coeffs
        )
        return self.loss_heat_in_room_frac * (pdu + ups)


@dataclass(frozen=True)
class AmbientLimits:
    """What the ambient alone fixes for a plant, per step and hall (arrays ``(n, n_halls)``): the cooling
    capacity [kW] (:func:`~gigawatt.physics.cooling.cooling_capacity_kw`) and the largest IT power [kW] whose
    heat fits in it (:func:`~gigawatt.physics.thermal.max_it_power_for_capacity_kw`). Computed once per run by
    :func:`ambient_limits` and sliced per block (:meth:`rows`): the same numbers as computing them per call."""

    cooling_capacity_kw: FloatArray
    max_it_kw: FloatArray

    def rows(self, t: slice | npt.NDArray[np.int64]) -> AmbientLimits:
        """The limits of rows ``t``."""
        return AmbientLimits(self.cooling_capacity_kw[t], self.max_it_kw[t])


def ambient_limits(
    plant: FacilityPlant, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> AmbientLimits:
    """:class:`AmbientLimits` of ``plant`` at the ambient temperatures [°C], arrays ``(n, n_halls)``."""
    capacity = cool.cooling_capacity_kw(plant.cooling, dry_bulb_c, wet_bulb_c)
    return AmbientLimits(capacity, thermal.max_it_power_for_capacity_kw(capacity, plant.in_room_loss_kw))


def _coeffs(kinds: list[str]) -> tuple[FloatArray, FloatArray, FloatArray]:
    rows = []
    for k in kinds:
        if k not in elec.LOSS_PRESETS:
            raise KeyError(
                f"unknown electrical stage kind {k!r}; known: {', '.join(sorted(elec.LOSS_PRESETS))}"
            )
        p = elec.LOSS_PRESETS[k]
        rows.append((p.no_load_frac, p.proportional_frac, p.quadratic_frac))
    arr = np.array(rows, dtype=float).reshape(len(kinds), 3)
    return arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()


def build_facility_plant(
    *,
    cooling_presets: list[str],
    design_it_kw: npt.ArrayLike,
    redundancy: list[str] | None = None,
    ups_kind: list[str] | None = None,
    pdu_kind: list[str] | None = None,
    transformer_kind: list[str] | None = None,
    other_frac: npt.ArrayLike = OTHER_POWER_FRAC_OF_DESIGN_IT,
    server_fan_max_kw: npt.ArrayLike = 0.0,
    cooling_overrides: list[dict] | None = None,
    cooling_capacity_frac: npt.ArrayLike = COOLING_CAPACITY_FRAC,
    loss_heat_in_room_frac: npt.ArrayLike = 1.0,
    cycles_of_concentration: npt.ArrayLike = water.CYCLES_OF_CONCENTRATION,
    chip_derate_per_c: npt.ArrayLike = it_power.CHIP_DERATE_PER_C,
    dvfs_exponent: float = it_power.DVFS_POWER_EXPONENT,
    min_throughput_frac: float = it_power.MIN_THROUGHPUT_FRAC,
) -> FacilityPlant:
    """Facility plant of ``n_halls`` halls from presets and design loads.

    Parameters
    ----------
    cooling_presets : list of str
        :func:`gigawatt.physics.cooling_designs.cooling_designs` names, one per hall.
    design_it_kw : array_like (H,)
        Design IT load [kW]; cooling is sized for its heat (incl. in-room losses) × ``cooling_capacity_frac``.
    redundancy : list of str
        ``N``, ``N+1`` or ``2N`` per hall for UPS/PDU/transformers (default ``2N``).
    ups_kind, pdu_kind, transformer_kind : list of str
        :data:`gigawatt.physics.electrical.LOSS_PRESETS` names (defaults ``ups_modern``, ``pdu``, ``transformer``).
    other_frac : array_like
        House load as a fraction of design IT.
    server_fan_max_kw : array_like
        Server fans of each hall at full speed [kW].
    cooling_overrides : list of dict
        Per-hall overrides of the cooling preset (see :func:`~gigawatt.physics.cooling.build_cooling_plant`).
    cooling_capacity_frac : array_like
        Installed cooling capacity / design heat (default 1.25: N+1 with all units sharing the load; below 1 =
        an under-sized plant, e.g. failed chillers).
    """
    h = len(cooling_presets)
    d = np.broadcast_to(np.asarray(design_it_kw, dtype=float), (h,)).copy()
    redundancy = redundancy or ["2N"] * h
    r = np.array([elec.redundancy_capacity_factor(x) for x in redundancy], dtype=float)
    pdu_c = _coeffs(pdu_kind or ["pdu"] * h)
    ups_c = _coeffs(ups_kind or ["ups_modern"] * h)
    tx_c = _coeffs(transformer_kind or ["transformer"] * h)
    pdu_inst, ups_inst = d * r, d * r
    pdu_d, ups_d = elec.it_path_losses_kw(d, pdu_inst, pdu_c, ups_inst, ups_c)
    room = np.broadcast_to(np.asarray(loss_heat_in_room_frac, dtype=float), (h,)).copy()
    design_heat = (d + room * (pdu_d + ups_d)) * np.asarray(cooling_capacity_frac, dtype=float)
    plant = cool.build_cooling_plant(list(cooling_presets), design_heat, cooling_overrides)
    return FacilityPlant(
        cooling=plant,
        design_it_kw=d,
        pdu_installed_kw=pdu_inst,
        pdu_coeffs=pdu_c,
        ups_installed_kw=ups_inst,
        ups_coeffs=ups_c,
        transformer_installed_kw=d * TRANSFORMER_SIZING_FRAC * r,
        transformer_coeffs=tx_c,
        loss_heat_in_room_frac=room,
        other_kw=d * np.broadcast_to(np.asarray(other_frac, dtype=float), (h,)),
        server_fan_max_kw=np.broadcast_to(np.asarray(server_fan_max_kw, dtype=float), (h,)).copy(),
        tower_latent_frac=np.full(h, water.TOWER_LATENT_FRAC),
        cycles_of_concentration=np.broadcast_to(
            np.asarray(cycles_of_concentration, dtype=float), (h,)
        ).copy(),
        drift_frac=np.full(h, water.DRIFT_FRAC),
        chip_derate_per_c=np.broadcast_to(np.asarray(chip_derate_per_c, dtype=float), (h,)).copy(),
        dvfs_exponent=float(dvfs_exponent),
        min_throughput_frac=float(min_throughput_frac),
    )


def evaluate_it_power(
    plant: FacilityPlant,
    it_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    step_s: float = 300.0,
    *,
    cooling_capacity_kw: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Facility flows for a given IT power (no throttling), arrays ``(n, n_halls)``.

    ``cooling_capacity_kw`` (optional): :func:`~gigawatt.physics.cooling.cooling_capacity_kw` at this ambient
    when the caller already has it (it depends on the ambient only).

    Returns
    -------
    dict of arrays (n, n_halls)
        ``it_power_kw, cooling_power_kw, electrical_loss_kw, other_power_kw, facility_power_kw, pue,
        cooling_ppue, electrical_ppue, heat_load_kw, cooling_capacity_kw, thermal_overload_kw,
        chiller_power_kw, rejection_fan_power_kw, pump_power_kw, air_fan_power_kw, pdu_loss_kw, ups_loss_kw,
        transformer_loss_kw, heat_to_tower_kw, free_cooling_frac, water_kg_per_s, water_l, coolant_supply_c,
        inlet_c``; ``water_l`` is the water used over one step of ``step_s`` seconds.
    """
    it = np.maximum(np.asarray(it_kw, dtype=float), 0.0)
    db = np.broadcast_to(np.asarray(dry_bulb_c, dtype=float), it.shape)
    wb = np.broadcast_to(np.asarray(wet_bulb_c, dtype=float), it.shape)
    pdu, ups = elec.it_path_losses_kw(
        it, plant.pdu_installed_kw, plant.pdu_coeffs, plant.ups_installed_kw, plant.ups_coeffs
    )
    heat = it + plant.loss_heat_in_room_frac * (pdu + ups)
    c = cool.cooling_performance(plant.cooling, heat, db, wb, capacity_kw=cooling_capacity_kw)
    cooling_kw = c["cooling_power_kw"]
    other = np.broadcast_to(plant.other_kw, it.shape).astype(float)
    tx = elec.transformer_loss_kw(
        it + pdu + ups + cooling_kw + other, plant.transformer_installed_kw, plant.transformer_coeffs
    )
    loss = pdu + ups + tx
    facility = it + cooling_kw + loss + other
    tw = water.tower_water_kg_per_s(
        c["heat_to_tower_kw"],
        latent_frac=plant.tower_latent_frac,
        cycles_of_concentration=plant.cycles_of_concentration,
        drift_frac=plant.drift_frac,
    )
    evap_air = water.evaporative_cooler_water_kg_per_s(c["evaporative_air_kg_per_s"])
    water_rate = tw["total_kg_per_s"] + evap_air
    safe_it = np.where(it > 0, it, 1.0)
    return {
        "it_power_kw": it,
        "cooling_power_kw": cooling_kw,
        "electrical_loss_kw": loss,
        "other_power_kw": other,
        "facility_power_kw": facility,
        "pue": np.where(it > 0, facility / safe_it, np.nan),
        "cooling_ppue": np.where(it > 0, (it + cooling_kw) / safe_it, np.nan),
        "electrical_ppue": np.where(it > 0, (it + loss) / safe_it, np.nan),
        "heat_load_kw": heat,
        "cooling_capacity_kw": c["capacity_kw"],
        "thermal_overload_kw": np.maximum(heat - c["capacity_kw"], 0.0),
        "chiller_power_kw": c["chiller_kw"],
        "rejection_fan_power_kw": c["rejection_fan_kw"],
        "pump_power_kw": c["pump_kw"],
        "air_fan_power_kw": c["air_fan_kw"],
        "pdu_loss_kw": pdu,
        "ups_loss_kw": ups,
        "transformer_loss_kw": tx,
        "heat_to_tower_kw": c["heat_to_tower_kw"],
        "free_cooling_frac": c["free_cooling_frac"],
        "water_kg_per_s": water_rate,
        "water_l": water_rate * step_s,  # 1 kg of water ≈ 1 L
        "coolant_supply_c": c["coolant_supply_c"],
        "inlet_c": c["inlet_c"],
    }


def _thermal_solve(
    plant: FacilityPlant,
    fixed: FloatArray,
    dyn: FloatArray,
    db: FloatArray,
    wb: FloatArray,
    d0: FloatArray,
    server_fan_frac: npt.ArrayLike | None = None,
    limits: AmbientLimits | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Thermal throughput limit, server-fan power [kW] and cooling capacity [kW] at the nominal load
    ``fixed + dyn·d0`` (``limits``: the :class:`AmbientLimits` of these rows, if known)."""
    # temperatures and capacity at the nominal load (capacity depends on the ambient only)
    fan_max_kw, heat_nominal = _nominal_heat_kw(plant, fixed, dyn, d0, server_fan_frac)
    temps = cool.cooling_temperatures(plant.cooling, heat_nominal, db, wb)
    fans = it_power.server_fan_power_w(1.0, fan_max_kw, temps["inlet_c"])
    if limits is None:
        limits = ambient_limits(plant, db, wb)
    capacity = np.broadcast_to(limits.cooling_capacity_kw, db.shape)
    p_max = np.broadcast_to(limits.max_it_kw, db.shape)
    x_thermal = thermal.thermal_throughput_frac(
        p_max, fixed + fans, dyn, plant.dvfs_exponent, plant.min_throughput_frac
    )
    # accelerators on liquid see the coolant supply, air-cooled ones the inlet air
    cp = plant.cooling
    liquid_acc = cp.liquid_capture_frac >= 0.5
    coolant = np.where(liquid_acc, temps["coolant_supply_c"], temps["inlet_c"])
    design_coolant = np.where(liquid_acc, cp.liquid_loop.supply_c, cp.air.supply_air_c)
    x_chip = it_power.chip_temperature_throughput_frac(coolant, design_coolant, plant.chip_derate_per_c)
    return np.minimum(x_thermal, x_chip), fans, capacity


def _nominal_heat_kw(
    plant: FacilityPlant,
    fixed: FloatArray,
    dyn: FloatArray,
    d0: FloatArray,
    server_fan_frac: npt.ArrayLike | None,
) -> tuple[FloatArray, FloatArray]:
    """Server fans at full speed [kW] and the heat [kW] at the nominal load with fans at base speed."""
    fan_max_kw = (
        plant.server_fan_max_kw
        if server_fan_frac is None
        else plant.server_fan_max_kw * np.asarray(server_fan_frac, dtype=float)
    )
    fan_base = fan_max_kw * it_power.FAN_BASE_SPEED_FRAC**3
    it_nominal = fixed + fan_base + dyn * d0
    return fan_max_kw, it_nominal + plant.in_room_loss_kw(it_nominal)


def _broadcast_inputs(
    fixed_it_kw: npt.ArrayLike,
    dynamic_it_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Fixed and dynamic IT power [kW] and ambient dry/wet bulb [°C] as float arrays of the IT powers' common
    shape (read-only broadcast views)."""
    fixed = np.asarray(fixed_it_kw, dtype=float)
    dyn = np.asarray(dynamic_it_kw, dtype=float)
    shape = np.broadcast_shapes(fixed.shape, dyn.shape)
    return (
        np.broadcast_to(fixed, shape),
        np.broadcast_to(dyn, shape),
        np.broadcast_to(np.asarray(dry_bulb_c, dtype=float), shape),
        np.broadcast_to(np.asarray(wet_bulb_c, dtype=float), shape),
    )


def facility_power_given_throughput_kw(
    plant: FacilityPlant,
    fixed_it_kw: npt.ArrayLike,
    dynamic_it_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    throughput_frac: npt.ArrayLike,
    server_fan_frac: npt.ArrayLike | None = None,
) -> FloatArray:
    """``facility_power_kw`` of :func:`facility_flows` with ``throughput_frac`` given, alone: the same
    arithmetic without the thermal limit, capacity, temperatures and water (for sampling the facility curve)."""
    fixed, dyn, db, wb = _broadcast_inputs(fixed_it_kw, dynamic_it_kw, dry_bulb_c, wet_bulb_c)
    shape = fixed.shape
    x = np.broadcast_to(np.asarray(throughput_frac, dtype=float), shape)
    fan_max_kw = (
        plant.server_fan_max_kw
        if server_fan_frac is None
        else plant.server_fan_max_kw * np.asarray(server_fan_frac, dtype=float)
    )
    dyn_at_x = dyn * it_power.dvfs_dynamic_power_frac(x, plant.dvfs_exponent)
    _, _, fac = facility_power_given_throughput_compiled(
        plant.power_params, fixed, dyn_at_x, fan_max_kw, db, wb
    )
    return fac


def thermal_limit_throughput_frac(
    plant: FacilityPlant,
    fixed_it_kw: npt.ArrayLike,
    dynamic_it_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    server_fan_frac: npt.ArrayLike | None = None,
    *,
    limits: AmbientLimits | None = None,
) -> FloatArray:
    """Throughput fraction the thermal limits allow (the ``throughput_frac`` of :func:`facility_flows` without
    a given throughput), without evaluating the rest of the facility: the controller's fast look-ahead.
    ``server_fan_frac`` and ``limits`` as in :func:`facility_flows`."""
    fixed = np.asarray(fixed_it_kw, dtype=float)
    dyn = np.asarray(dynamic_it_kw, dtype=float)
    shape = np.broadcast_shapes(fixed.shape, dyn.shape)
    db = np.broadcast_to(np.asarray(dry_bulb_c, dtype=float), shape)
    wb = np.broadcast_to(np.asarray(wet_bulb_c, dtype=float), shape)
    x, _, _ = _thermal_solve(
        plant,
        np.broadcast_to(fixed, shape),
        np.broadcast_to(dyn, shape),
        db,
        wb,
        np.ones(shape),
        server_fan_frac,
        limits,
    )
    return x


def facility_flows(
    plant: FacilityPlant,
    fixed_it_kw: npt.ArrayLike,
    dynamic_it_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    *,
    throughput_frac: npt.ArrayLike | None = None,
    step_s: float = 300.0,
    server_fan_frac: npt.ArrayLike | None = None,
    limits: AmbientLimits | None = None,
) -> dict[str, FloatArray]:
    """Facility flows per step and hall from an IT load split into fixed and throughput-scaled parts.

    ``P_it(x) = P_fixed + P_fans(T_inlet) + P_dyn · x^k``. When ``throughput_frac`` is None the thermal
    limit decides ``x`` (largest throughput whose heat fits the cooling capacity at this ambient); otherwise
    the given ``x`` is used and any excess heat shows as ``thermal_overload_kw``.

    Parameters
    ----------
    plant : FacilityPlant
    fixed_it_kw : array_like (n, n_halls)
        IT power that does not scale with throughput (idle accelerators, hosts, network, storage) [kW].
    dynamic_it_kw : array_like (n, n_halls)
        Above-idle accelerator power at full throughput [kW].
    dry_bulb_c, wet_bulb_c : array_like (n, n_halls)
        Ambient temperatures at each hall's site [°C].
    throughput_frac : array_like (n, n_halls), optional
        Throughput in force (skip the thermal solve).
    step_s : float
        Step length [s] (for ``water_l``).
    server_fan_frac : array_like (n, n_halls), optional
        Share of the hall's server fans installed (a partly built or partly retired hall,
        ``docs/models/fleet_time.md``); default 1. The plant itself stays sized for the full design.
    limits : AmbientLimits, optional
        :func:`ambient_limits` of these rows when the caller computed them for the whole run (they depend on
        the ambient only); computed here otherwise. The numbers are the same either way.

    Returns
    -------
    dict of arrays (n, n_halls)
        :func:`evaluate_it_power` outputs plus ``throughput_frac``, ``thermal_throughput_frac`` (what the
        thermal limit alone allows), ``server_fan_power_kw``, ``ambient_dry_bulb_c``, ``ambient_wet_bulb_c``.
    """
    fixed, dyn, db, wb = _broadcast_inputs(fixed_it_kw, dynamic_it_kw, dry_bulb_c, wet_bulb_c)
    shape = fixed.shape
    x_given = (
        None if throughput_frac is None else np.broadcast_to(np.asarray(throughput_frac, dtype=float), shape)
    )
    x0 = np.ones(shape) if x_given is None else x_given
    d0 = it_power.dvfs_dynamic_power_frac(x0, plant.dvfs_exponent)
    x_thermal, fans, capacity = _thermal_solve(plant, fixed, dyn, db, wb, d0, server_fan_frac, limits)
    x = x_thermal if x_given is None else x_given
    it = fixed + fans + dyn * it_power.dvfs_dynamic_power_frac(x, plant.dvfs_exponent)
    out = evaluate_it_power(plant, it, db, wb, step_s, cooling_capacity_kw=capacity)
    out["throughput_frac"] = np.asarray(x, dtype=float)
    out["thermal_throughput_frac"] = x_thermal
    out["server_fan_power_kw"] = fans
    out["ambient_dry_bulb_c"] = np.asarray(db, dtype=float)
    out["ambient_wet_bulb_c"] = np.asarray(wb, dtype=float)
    return out


def thermal_may_bind(
    plant: FacilityPlant,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    *,
    limits: AmbientLimits | None = None,
) -> FloatArray:
    """Steps and halls where thermal limits *could* reduce throughput at some load ≤ design IT (bool array).

    Conservative screen: the heat of the design IT load exceeds the cooling capacity at this ambient, or the
    accelerator coolant at design load floats above its set point (both grow with load, so design load is the
    worst case). Where it is False the thermal throughput is exactly 1 for every load up to design.
    """
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    it = np.broadcast_to(plant.design_it_kw, np.broadcast_shapes(db.shape, plant.design_it_kw.shape))
    heat = it + plant.in_room_loss_kw(it)
    capacity = (
        cool.cooling_capacity_kw(plant.cooling, db, wb) if limits is None else limits.cooling_capacity_kw
    )
    temps = cool.cooling_temperatures(plant.cooling, heat, db, wb)
    cp = plant.cooling
    liquid_acc = cp.liquid_capture_frac >= 0.5
    coolant = np.where(liquid_acc, temps["coolant_supply_c"], temps["inlet_c"])
    design_coolant = np.where(liquid_acc, cp.liquid_loop.supply_c, cp.air.supply_air_c)
    return np.asarray((heat > capacity) | (np.nan_to_num(coolant) > design_coolant + 1e-9))


def facility_power_kw(
    plant: FacilityPlant, it_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> FloatArray:
    """Facility power [kW] of a given IT power (monotone increasing in ``it_kw``): ``facility_power_kw`` of
    :func:`evaluate_it_power` alone, compiled (:mod:`~gigawatt.physics.facility_kernel`: the same equations
    in one pass over the elements; :func:`facility_power_kw_numpy` is the numpy form)."""
    return facility_power_kw_compiled(plant.power_params, it_kw, dry_bulb_c, wet_bulb_c)


def facility_power_kw_numpy(
    plant: FacilityPlant, it_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> FloatArray:
    """:func:`facility_power_kw` in numpy (the reference of the compiled kernel; same arithmetic as
    :func:`evaluate_it_power` without capacity, temperatures and water)."""
    it = np.maximum(np.asarray(it_kw, dtype=float), 0.0)
    db = np.broadcast_to(np.asarray(dry_bulb_c, dtype=float), it.shape)
    wb = np.broadcast_to(np.asarray(wet_bulb_c, dtype=float), it.shape)
    pdu, ups = elec.it_path_losses_kw(
        it, plant.pdu_installed_kw, plant.pdu_coeffs, plant.ups_installed_kw, plant.ups_coeffs
    )
    heat = it + plant.loss_heat_in_room_frac * (pdu + ups)
    cooling_kw = cool.cooling_power_kw(plant.cooling, heat, db, wb)
    other = np.broadcast_to(plant.other_kw, it.shape).astype(float)
    tx = elec.transformer_loss_kw(
        it + pdu + ups + cooling_kw + other, plant.transformer_installed_kw, plant.transformer_coeffs
    )
    loss = pdu + ups + tx
    return np.asarray(it + cooling_kw + loss + other, dtype=float)


def max_it_power_under_limit_kw(
    plant: FacilityPlant,
    facility_limit_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
    *,
    upper_it_kw: npt.ArrayLike | None = None,
    n_iterations: int = 40,
) -> FloatArray:
    """Largest IT power [kW] whose facility power stays ≤ ``facility_limit_kw`` (vectorised bisection).

    Facility power is monotone in IT power, so bisection on ``[0, upper]`` (default 2 × design IT) converges
    to ``upper · 2^-n``. Returns 0 where even zero IT exceeds the limit (fixed loads alone are too large).
    """
    lim = np.asarray(facility_limit_kw, dtype=float)
    shape = np.broadcast_shapes(lim.shape, np.shape(dry_bulb_c))
    hi = np.broadcast_to(
        np.asarray(2.0 * plant.design_it_kw if upper_it_kw is None else upper_it_kw, dtype=float), shape
    ).copy()
    lo = np.zeros(shape)
    lim = np.broadcast_to(lim, shape)
    for _ in range(n_iterations):
        mid = 0.5 * (lo + hi)
        ok = facility_power_kw(plant, mid, dry_bulb_c, wet_bulb_c) <= lim
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return lo
