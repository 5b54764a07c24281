"""Compiled facility power: :func:`gigawatt.physics.facility.facility_power_kw` in one pass over the elements.

The power-capping root finding and the controller's slope sampling ask for the facility power of a given IT
power many times over small arrays; in numpy each call costs a few hundred array operations, mostly call
overhead. This numba kernel evaluates the same equations, in the same order of operations, per element:
electrical chain (:mod:`~gigawatt.physics.electrical`), server-airflow factor and air handlers
(:func:`~gigawatt.physics.cooling.cooling_power_kw`), both cooling loops (chiller, rejection fans, pumps) and
the transformer. The numpy functions remain the reference (they also give capacity, temperatures and water);
``tests/physics/test_facility_kernel.py`` holds the two equal over every cooling design, random loads and
weather, to 1e-12 relative (cubes are multiplied out where numpy calls ``pow``: an ulp or two).

The helpers are separate numba functions (LLVM still inlines them), not inlined by numba itself
(``inline="always"``): the same machine arithmetic, bit for bit, and about half the compile time (5.4 → 2.5 s
on the 2-core machine), which a fresh machine pays on its first run. The inputs are always passed as
read-only C arrays, so a run compiles one signature of each kernel.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from gigawatt.physics import it_power
from gigawatt.physics.cooling import SINK_DRY_BULB, SINK_OUTSIDE_AIR, SINK_WET_BULB, CoolingPlant, LoopPlant

FloatArray = npt.NDArray[np.float64]

__all__ = ["facility_power_kw_compiled", "facility_power_params"]

# row layout of the per-hall parameter table
_E = 0  # electrical: pdu (inst, a0, a1, a2), ups (4), transformer (4), room frac, other kw
_C = 14  # cooling: capture, air fan kw/kw, air fan min, supply air, coil approach, door fan kw/kw, air-loop sink
_AL = 21  # air loop block
_LL = _AL + 20  # liquid loop block
N_PARAMS = _LL + 20
# loop block offsets
_D, _TS, _DT, _SINK, _A, _ECON, _EPS, _CH, _CARNOT, _COPMAX = range(10)
_CWET, _CA, _CRISE, _EVAP, _FAN, _FANMIN, _PUMP, _PUMPMIN, _PUMPEXP, _TRET = range(10, 20)


def _loop_rows(loop: LoopPlant) -> list[FloatArray]:
    return [
        loop.design_kw,
        loop.supply_c,
        loop.delta_t_c,
        loop.sink,
        loop.approach_c,
        loop.economizer,
        loop.evaporative_effectiveness_frac,
        loop.has_chiller,
        loop.chiller_carnot_frac,
        loop.chiller_cop_max,
        (loop.condenser_sink == SINK_WET_BULB).astype(float),
        loop.condenser_approach_c,
        loop.condenser_rise_c,
        loop.derived.evaporating_c,
        loop.fan_kw_per_kw,
        loop.fan_min_speed_frac,
        loop.pump_kw_per_kw,
        loop.pump_min_flow_frac,
        loop.pump_exponent,
        loop.derived.return_c,
    ]


def facility_power_params(
    cooling: CoolingPlant,
    pdu: tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray]],
    ups: tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray]],
    transformer: tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray]],
    loss_heat_in_room_frac: FloatArray,
    other_kw: FloatArray,
) -> FloatArray:
    """Per-hall parameter table ``(N_PARAMS, n_halls)`` of the kernel (built once per plant)."""
    rows: list[FloatArray] = []
    for installed, coeffs in (pdu, ups, transformer):
        rows += [installed, *coeffs]
    rows += [loss_heat_in_room_frac, other_kw]
    air = cooling.air
    rows += [
        cooling.liquid_capture_frac,
        air.fan_kw_per_kw,
        air.fan_min_speed_frac,
        air.supply_air_c,
        air.coil_approach_c,
        air.door_fan_kw_per_kw,
        cooling.air_loop.sink,
    ]
    rows += _loop_rows(cooling.air_loop) + _loop_rows(cooling.liquid_loop)
    h = cooling.n_halls
    table = np.stack([np.broadcast_to(np.asarray(r, dtype=float), (h,)) for r in rows])
    assert table.shape[0] == N_PARAMS
    return np.ascontiguousarray(table)


@numba.njit(cache=True)
def _max(a: float, b: float) -> float:  # np.maximum: NaN propagates
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


@numba.njit(cache=True)
def _min(a: float, b: float) -> float:  # np.minimum: NaN propagates
    if a != a or b != b:
        return math.nan
    return a if a <= b else b


@numba.njit(cache=True)
def _clip(x: float, lo: float, hi: float) -> float:
    return _min(_max(x, lo), hi)


@numba.njit(cache=True)
def _cube(x: float) -> float:  # numpy's x**3 is pow(x, 3): equal to within an ulp or two
    return x * x * x


@numba.njit(cache=True)
def _power(x: float, n: float) -> float:  # exact for the exponents of the shipped designs (0, 1, 2)
    if n == 2.0:
        return x * x
    if n == 1.0:
        return x
    if n == 0.0:
        return 1.0
    return x**n


@numba.njit(cache=True)
def _stage_loss(p: float, s: float, a0: float, a1: float, a2: float) -> float:
    safe = s if s > 0 else 1.0
    x = p / safe
    loss = safe * (a0 + a1 * x + a2 * (x * x))
    return loss if s > 0 else 0.0


@numba.njit(cache=True)
def _sink(code: float, db: float, wb: float, eps: float, target: float) -> float:
    depth = _clip(db - target, 0.0, eps * (db - wb))
    if code == SINK_WET_BULB:
        return wb
    if code == SINK_DRY_BULB:
        return db
    return db - depth


@numba.njit(cache=True)
def _fan_cubed(fan_kw_per_kw: float, design_kw: float, load_kw: float, min_speed: float) -> float:
    safe = design_kw if design_kw > 0 else 1.0
    s = _max(load_kw / safe, min_speed)
    return fan_kw_per_kw * safe * _cube(_min(s, 1.5)) if design_kw > 0 else 0.0


@numba.njit(cache=True)
def _fan_speed_frac(t: float, start: float, full: float, base: float) -> float:
    return base + (1 - base) * _clip((t - start) / (full - start), 0.0, 1.0)


@numba.njit(cache=True)
def _loop_power(
    p: FloatArray, o: int, h: int, q_in: float, db: float, wb: float
) -> tuple[float, float, float]:
    q = _max(q_in, 0.0)
    design = p[o + _D, h]
    present = design > 0
    d = design if present else 1.0
    qf = q / d
    ts, dt, a = p[o + _TS, h], p[o + _DT, h], p[o + _A, h]
    sink = _sink(p[o + _SINK, h], db, wb, p[o + _EPS, h], ts - a * qf)
    t_ach = sink + a * qf
    chiller = p[o + _CH, h] > 0
    free = _clip((p[o + _TRET, h] - t_ach) / dt, 0.0, 1.0) if p[o + _ECON, h] > 0 else 0.0
    if not chiller:
        free = 1.0
    q_mech = (1.0 - free) * q
    cond_sink = wb if p[o + _CWET, h] > 0 else db
    t_cond = cond_sink + p[o + _CA, h] * qf + p[o + _CRISE, h]
    te = p[o + _EVAP, h]
    lift = _max(t_cond - te, 5.0)
    cop = _min(p[o + _COPMAX, h], p[o + _CARNOT, h] * (te + 273.15) / lift)
    chiller_kw = q_mech / cop if chiller else 0.0
    margin = _max(ts - sink, 1e-6)
    fan_min = p[o + _FANMIN, h]
    s_free = _clip(a * qf / margin, fan_min, 1.0)
    s_mech = _clip(_min(1.0, 2.0 * qf), fan_min, 1.0)
    if free >= 1.0:
        speed = s_free
    elif free > 0.0:
        speed = _max(s_free, s_mech)
    else:
        speed = s_mech
    if not chiller:
        speed = s_free if t_ach <= ts else 1.0
    fan_kw = p[o + _FAN, h] * d * _cube(speed)
    flow = _max(qf, p[o + _PUMPMIN, h])
    pump_kw = p[o + _PUMP, h] * d * _power(flow, p[o + _PUMPEXP, h])
    if not present:
        return 0.0, 0.0, 0.0
    return chiller_kw, fan_kw, pump_kw


@numba.njit(cache=True)
def _inlet0(p: FloatArray, h: int, q: float, db: float, wb: float) -> float:
    """Server inlet at design airflow per kW (``cooling.inlet_temperature_c``), ``q`` clipped at 0."""
    c = p[_C, h]
    d_air = p[_AL + _D, h]
    ts_air, a_air = p[_AL + _TS, h], p[_AL + _A, h]
    supply_air, air_sink = p[_C + 3, h], p[_C + 6, h]
    q_air = (1.0 - c) * q
    q_air_loop = q_air + _fan_cubed(p[_C + 1, h], d_air, q_air, p[_C + 2, h])
    ql = _max(q_air_loop, 0.0)
    dsafe = d_air if d_air > 0 else 1.0
    sink = _sink(air_sink, db, wb, p[_AL + _EPS, h], ts_air - a_air * ql / dsafe)
    if p[_AL + _CH, h] > 0:
        supply = ts_air
    else:
        supply = _max(ts_air, sink + a_air * ql / dsafe)
    if not d_air > 0:
        supply = math.nan
    if air_sink == SINK_OUTSIDE_AIR:
        inlet = _max(supply, supply_air)
    else:
        inlet = _max(supply_air, supply + p[_C + 4, h])
    return inlet if 1.0 - c > 1e-9 else supply_air + 0.0 * q


@numba.njit(cache=True)
def _path_losses(p: FloatArray, h: int, it: float) -> tuple[float, float]:
    pdu = _stage_loss(it, p[_E, h], p[_E + 1, h], p[_E + 2, h], p[_E + 3, h])
    ups = _stage_loss(it + pdu, p[_E + 4, h], p[_E + 5, h], p[_E + 6, h], p[_E + 7, h])
    return pdu, ups


@numba.njit(cache=True)
def _facility_at(p: FloatArray, h: int, it_in: float, db: float, wb: float, fan: FloatArray) -> float:
    """Facility power [kW] of hall ``h`` at IT power ``it_in`` (``facility.facility_power_kw``)."""
    it = _max(it_in, 0.0)
    pdu, ups = _path_losses(p, h, it)
    heat = it + p[_E + 12, h] * (pdu + ups)
    # cooling power (cooling.cooling_power_kw)
    c = p[_C, h]
    q = _max(heat, 0.0)
    q_liq = c * q
    q_air = (1.0 - c) * q
    fan_ref = _fan_speed_frac(p[_C + 3, h], fan[0], fan[1], fan[2])
    factor = _fan_speed_frac(_inlet0(p, h, q, db, wb), fan[0], fan[1], fan[2]) / fan_ref
    air_fan = _fan_cubed(p[_C + 1, h], p[_AL + _D, h], q_air * factor, p[_C + 2, h])
    door_fan = _fan_cubed(p[_C + 5, h], p[_LL + _D, h], q_liq * factor, p[_C + 2, h])
    l_ch, l_fan, l_pump = _loop_power(p, _LL, h, q_liq + door_fan, db, wb)
    a_ch, a_fan, a_pump = _loop_power(p, _AL, h, q_air + air_fan, db, wb)
    cooling = (l_ch + a_ch) + (l_fan + a_fan) + (l_pump + a_pump) + air_fan + door_fan
    other = p[_E + 13, h]
    tx = _stage_loss(
        it + pdu + ups + cooling + other, p[_E + 8, h], p[_E + 9, h], p[_E + 10, h], p[_E + 11, h]
    )
    loss = pdu + ups + tx
    return it + cooling + loss + other


@numba.njit(cache=True)
def _facility_power_kernel(
    it_kw: FloatArray, db_c: FloatArray, wb_c: FloatArray, p: FloatArray, fan: FloatArray, out: FloatArray
) -> None:
    n, n_h = it_kw.shape
    for i in range(n):
        for h in range(n_h):
            out[i, h] = _facility_at(p, h, it_kw[i, h], db_c[i, h], wb_c[i, h], fan)


@numba.njit(cache=True)
def _given_throughput_kernel(
    fixed_kw: FloatArray,
    dyn_at_x_kw: FloatArray,
    fan_max_kw: FloatArray,
    db_c: FloatArray,
    wb_c: FloatArray,
    p: FloatArray,
    fan: FloatArray,
    fan_base_cubed: float,
    it_out: FloatArray,
    fans_out: FloatArray,
    out: FloatArray,
) -> None:
    n, n_h = fixed_kw.shape
    for i in range(n):
        for h in range(n_h):
            db, wb = db_c[i, h], wb_c[i, h]
            fan_max = fan_max_kw[i, h]
            # server fans at the nominal load with fans at base speed (facility._nominal_heat_kw)
            it_nominal = fixed_kw[i, h] + fan_max * fan_base_cubed + dyn_at_x_kw[i, h]
            pdu, ups = _path_losses(p, h, it_nominal)
            heat = it_nominal + p[_E + 12, h] * (pdu + ups)
            s = _fan_speed_frac(_inlet0(p, h, _max(heat, 0.0), db, wb), fan[0], fan[1], fan[2])
            fans = 1.0 * fan_max * _cube(s)
            it = fixed_kw[i, h] + fans + dyn_at_x_kw[i, h]
            it_out[i, h] = it
            fans_out[i, h] = fans
            out[i, h] = _facility_at(p, h, it, db, wb, fan)


def _fan_constants() -> FloatArray:
    return np.array([it_power.FAN_RAMP_START_C, it_power.FAN_RAMP_FULL_C, it_power.FAN_BASE_SPEED_FRAC])


def _as2d(x: npt.ArrayLike, shape: tuple[int, ...], shape2: tuple[int, int]) -> FloatArray:
    """``x`` as a C-contiguous float array ``shape2``, always read-only (numba types read-only and writable
    arrays apart: one compiled signature, not one per mix of inputs that were or were not broadcast)."""
    out = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=float), shape).reshape(shape2))
    if out.flags.writeable:
        out = out.view()
        out.flags.writeable = False
    return out


def facility_power_given_throughput_compiled(
    params: FloatArray,
    fixed_kw: FloatArray,
    dyn_at_x_kw: FloatArray,
    fan_max_kw: npt.ArrayLike,
    dry_bulb_c: npt.ArrayLike,
    wet_bulb_c: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """IT power, server-fan power and facility power [kW] at a given throughput, arrays ``(n, n_halls)``:
    ``dyn_at_x_kw`` is the dynamic IT power already scaled by the DVFS power fraction of the throughput,
    ``fan_max_kw`` the installed server fans at full speed (``facility.facility_power_given_throughput_kw``)."""
    shape = np.broadcast_shapes(np.shape(fixed_kw), np.shape(dyn_at_x_kw), np.shape(dry_bulb_c))
    if len(shape) != 2:
        raise ValueError("facility_power_given_throughput_compiled: arrays must be (n, n_halls)")
    shape2 = (shape[0], shape[1])
    it, fans, out = np.empty(shape2), np.empty(shape2), np.empty(shape2)
    _given_throughput_kernel(
        _as2d(fixed_kw, shape, shape2),
        _as2d(dyn_at_x_kw, shape, shape2),
        _as2d(fan_max_kw, shape, shape2),
        _as2d(dry_bulb_c, shape, shape2),
        _as2d(wet_bulb_c, shape, shape2),
        params,
        _fan_constants(),
        it_power.FAN_BASE_SPEED_FRAC**3,
        it,
        fans,
        out,
    )
    return it, fans, out


def facility_power_kw_compiled(
    params: FloatArray, it_kw: npt.ArrayLike, dry_bulb_c: npt.ArrayLike, wet_bulb_c: npt.ArrayLike
) -> FloatArray:
    """Facility power [kW] per element of ``it_kw`` ``(n, n_halls)`` (see module docstring)."""
    shape = np.broadcast_shapes(
        np.shape(it_kw), np.shape(dry_bulb_c), np.shape(wet_bulb_c), (params.shape[1],)
    )
    if len(shape) > 2:
        raise ValueError("facility_power_kw_compiled: arrays must be (n, n_halls) or (n_halls,)")
    shape2 = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0])
    out = np.empty(shape2)
    _facility_power_kernel(
        _as2d(it_kw, shape, shape2),
        _as2d(dry_bulb_c, shape, shape2),
        _as2d(wet_bulb_c, shape, shape2),
        params,
        _fan_constants(),
        out,
    )
    return out.reshape(shape)
