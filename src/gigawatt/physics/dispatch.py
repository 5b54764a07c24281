"""Sequential supply dispatch for one site: grid + must-run generation + gas + battery, with grid events.

The merit order applied at every step (a numba kernel; the battery and the gas units' start-up make the
problem sequential):

1. *must-run* sources (solar, wind, baseload) serve the demand first; their surplus is kept aside;
2. *economic* gas units (marginal cost below the grid price this step, already running) serve the remainder;
3. the battery discharges *before* the grid when the policy says so: above the peak-shaving target
   (``peak_shaving``), or at the whole remaining demand on a discharge signal (``price_arbitrage``,
   ``carbon_aware``), using only energy above its reserve SoC;
4. the grid imports up to its cap (zero before energisation and during a disconnection event);
5. the remaining shortfall is met by running gas units (merit order), then by the battery down to its minimum
   SoC; gas units that are off are started (they deliver after their start time, the battery bridging);
6. what is left is *unserved* (the power-capping policy then removes it from the load);
7. surplus (must-run surplus and gas minimum-load excess) first reduces battery discharge, then charges the
   battery, then is exported up to the export cap, then is curtailed;
8. the battery charges from the grid (when it did not discharge): ``backup_only`` and ``peak_shaving`` refill
   whenever there is headroom below ``min(cap, target)``; the signal policies charge only on a charge signal.

Exact energy balance every step, by construction and checked in the tests:

.. math:: P_{grid} + \\sum_s P_{gen,s} + P_{dis} = P_{served} + P_{ch} + P_{exp} + P_{curt}

Policies
--------
``backup_only``
    keep the battery full; discharge only for supply shortfalls.
``peak_shaving``
    hold grid import at or below a target (default: the import cap) using the battery above its reserve.
``price_arbitrage`` / ``carbon_aware``
    charge on the cheapest / cleanest steps of each day and discharge on the dearest / dirtiest, with
    perfect day-ahead foresight of the signal (:func:`daily_signal_masks`): the number of charge and discharge
    hours per day defaults to the battery's duration. This is a documented heuristic, not an optimisation;
    with day-ahead prices it approximates the LP optimum for a single daily cycle.

Grid events
-----------
Scheduled windows and stochastic (Poisson) events reduce the import cap to a fraction of itself for their
duration. This models, for example, the Texas SB 6 (2025) rule that large loads (≥ 75 MW) interconnected
after 2025 must be able to be remotely disconnected by ERCOT during firm load shed, and may be directed to
switch to on-site backup generation during an emergency [TXSB6].

References
----------
.. [TXSB6] Texas Legislature, Senate Bill 6, 89th Legislature, Regular Session (2025), relating to large-load
   interconnection and curtailment (amending the Public Utility Regulatory Act; signed 20 June 2025).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gigawatt.physics.generation import GasUnit
from gigawatt.physics.storage import Battery

FloatArray = NDArray[np.float64]
#: Step times: a DatetimeIndex (or anything pandas turns into one).
TimesLike = pd.DatetimeIndex | pd.Series | NDArray[np.datetime64] | list[pd.Timestamp]
BoolArray = NDArray[np.bool_]

__all__ = [
    "POLICIES",
    "CurtailmentEvent",
    "DispatchInputs",
    "DispatchResult",
    "DispatchState",
    "PreparedDispatch",
    "curtailment_cap_frac",
    "daily_signal_masks",
    "dispatch",
    "grid_import_cap_mw",
    "islanded_ride_through_h",
    "poisson_curtailment_events",
    "prepare_dispatch",
]

POLICIES = ("backup_only", "peak_shaving", "price_arbitrage", "carbon_aware")


# ------------------------------------------------------------------------------------------ grid limits


def grid_import_cap_mw(
    times: TimesLike, import_capacity_mw: float, energisation_time: pd.Timestamp | str | None = None
) -> FloatArray:
    """Grid import cap per step [MW]: zero before the energisation date, the capacity after.

    A step that straddles energisation gets the time-weighted mean cap. ``times`` are step starts at a
    uniform step.
    """
    idx = pd.DatetimeIndex(times)
    if import_capacity_mw < 0:
        raise ValueError("import_capacity_mw: must be >= 0")
    cap = np.full(idx.size, float(import_capacity_mw))
    if energisation_time is None:
        return cap
    t_e = pd.Timestamp(energisation_time)
    if idx.tz is not None and t_e.tz is None:
        t_e = t_e.tz_localize(idx.tz)
    frac = _window_overlap_frac(
        idx, pd.Timestamp.min.tz_localize(idx.tz) if idx.tz else pd.Timestamp.min, t_e
    )
    return np.asarray(cap * (1.0 - frac), dtype=float)


def _step_ns(idx: pd.DatetimeIndex) -> int:
    if idx.size < 2:
        raise ValueError("times: need at least two steps to infer the step length")
    d = np.diff(idx.as_unit("ns").asi8)
    if np.any(d != d[0]) or d[0] <= 0:
        raise ValueError("times: must be increasing at a uniform step")
    return int(d[0])


def _window_overlap_frac(idx: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> FloatArray:
    """Fraction of each step [t, t+Δ) covered by the window [start, end)."""
    step = _step_ns(idx)
    t0 = idx.as_unit("ns").asi8.astype(np.float64)
    s = float(max(start.value, np.iinfo(np.int64).min + 1))
    e = float(end.value)
    overlap = np.clip(np.minimum(t0 + step, e) - np.maximum(t0, s), 0.0, None)
    return np.asarray(overlap / step, dtype=float)


@dataclass(frozen=True)
class CurtailmentEvent:
    """A grid curtailment / disconnection event: import cap × ``cap_frac`` during [start, end)."""

    start: pd.Timestamp
    end: pd.Timestamp
    cap_frac: float = 0.0
    reason: str = "curtailment"

    def __post_init__(self) -> None:
        if not pd.Timestamp(self.end) > pd.Timestamp(self.start):
            raise ValueError("CurtailmentEvent: end must be after start")
        if not 0.0 <= self.cap_frac <= 1.0:
            raise ValueError("CurtailmentEvent.cap_frac: must be within 0–1")


def curtailment_cap_frac(times: TimesLike, events: Sequence[CurtailmentEvent]) -> FloatArray:
    """Multiplier on the import cap per step from curtailment events (time-weighted within a step).

    Overlapping events take the most restrictive ``cap_frac`` where they overlap (approximately, per step:
    the step multiplier is the minimum over events of ``1 − overlap·(1 − cap_frac)``).
    """
    idx = pd.DatetimeIndex(times)
    mult = np.ones(idx.size)
    for ev in events:
        start, end = pd.Timestamp(ev.start), pd.Timestamp(ev.end)
        if idx.tz is not None and start.tz is None:
            start, end = start.tz_localize(idx.tz), end.tz_localize(idx.tz)
        f = _window_overlap_frac(idx, start, end)
        mult = np.minimum(mult, 1.0 - f * (1.0 - ev.cap_frac))
    return mult


def poisson_curtailment_events(
    times: TimesLike,
    rate_per_year: float,
    mean_duration_h: float,
    rng: np.random.Generator,
    cap_frac: float = 0.0,
    fixed_duration: bool = False,
    reason: str = "grid emergency",
) -> list[CurtailmentEvent]:
    """Stochastic grid events: Poisson arrivals, exponential (or fixed) durations.

    Parameters
    ----------
    times : DatetimeIndex-like
        Step start times (the horizon is [first, last + step)).
    rate_per_year : float
        Mean number of events per year (8760 h).
    mean_duration_h : float
        Mean event duration [h].
    rng : numpy.random.Generator
        Randomness (spawned from the scenario seed by the engine).
    cap_frac : float
        Import cap during the event as a fraction of normal (0 = disconnection).
    fixed_duration : bool
        Every event lasts exactly ``mean_duration_h``.

    Returns
    -------
    list of CurtailmentEvent
    """
    if rate_per_year < 0 or mean_duration_h <= 0:
        raise ValueError("rate_per_year must be >= 0 and mean_duration_h > 0")
    idx = pd.DatetimeIndex(times)
    step = _step_ns(idx)
    horizon_h = (idx[-1].value + step - idx[0].value) / 3.6e12
    n = int(rng.poisson(rate_per_year * horizon_h / 8760.0))
    starts_h = np.sort(rng.uniform(0.0, horizon_h, size=n))
    durs_h = np.full(n, mean_duration_h) if fixed_duration else rng.exponential(mean_duration_h, size=n)
    return [
        CurtailmentEvent(
            idx[0] + pd.Timedelta(hours=float(s)),
            idx[0] + pd.Timedelta(hours=float(s + d)),
            cap_frac,
            reason,
        )
        for s, d in zip(starts_h, durs_h, strict=True)
    ]


def daily_signal_masks(
    signal: ArrayLike, steps_per_day: int, charge_steps: int, discharge_steps: int
) -> tuple[BoolArray, BoolArray]:
    """Charge/discharge masks from a daily look-ahead ranking of a price or carbon signal.

    In each day (consecutive blocks of ``steps_per_day``; a final partial day is ranked on its own), the
    ``charge_steps`` lowest-signal steps are charge steps and the ``discharge_steps`` highest are discharge
    steps (never both). Perfect day-ahead foresight, as with day-ahead market prices or carbon forecasts.

    Returns
    -------
    charge_mask, discharge_mask : ndarray of bool, shape (n,)
    """
    s = np.asarray(signal, dtype=float)
    n = s.size
    if steps_per_day < 1 or charge_steps < 0 or discharge_steps < 0:
        raise ValueError("steps_per_day must be >= 1; charge_steps, discharge_steps >= 0")
    n_days = -(-n // steps_per_day)
    padded = np.full(n_days * steps_per_day, np.nan)
    padded[:n] = s
    days = padded.reshape(n_days, steps_per_day)
    # rank within the day; NaN padding sorts last in ascending order
    order = np.argsort(days, axis=1, kind="stable")
    rank_asc = np.empty_like(order)
    np.put_along_axis(rank_asc, order, np.arange(steps_per_day)[None, :].repeat(n_days, 0), axis=1)
    valid = np.isfinite(days)
    n_valid = valid.sum(axis=1, keepdims=True)
    k_dis = np.minimum(discharge_steps, n_valid)
    k_ch = np.minimum(charge_steps, n_valid - k_dis)
    charge = (rank_asc < k_ch) & valid
    discharge = (rank_asc >= n_valid - k_dis) & valid
    return charge.reshape(-1)[:n], discharge.reshape(-1)[:n]


# ----------------------------------------------------------------------------------------------- kernel


@numba.njit(cache=True)
def _dispatch_kernel(
    demand,
    grid_cap,
    export_cap,
    must_run,
    gas_cap,
    gas_min,
    gas_start_steps,
    gas_economic,
    has_battery,
    e_mwh,
    p_ch_max,
    p_dis_max,
    eta_c,
    eta_d,
    soc_min,
    soc_max,
    soc_reserve,
    soc0,
    target,
    charge_signal,
    discharge_signal,
    refill_from_grid,
    step_h,
    online0,
    countdown0,
    commit_demand,
):
    n = demand.shape[0]
    n_mr = must_run.shape[0]
    n_gas = gas_cap.shape[0]
    grid_import = np.zeros(n)
    grid_export = np.zeros(n)
    gas_out = np.zeros((n_gas, n))
    charge = np.zeros(n)
    discharge = np.zeros(n)
    soc_out = np.zeros(n)
    unserved = np.zeros(n)
    curtailed = np.zeros(n)
    online = online0.copy()
    countdown = countdown0.copy()
    online_path = np.zeros((n_gas, n), dtype=np.bool_)
    countdown_path = np.zeros((n_gas, n), dtype=np.int64)
    used = np.zeros(n_gas, dtype=np.bool_)
    soc = soc0
    for t in range(n):
        # units finishing their start sequence come online
        for u in range(n_gas):
            used[u] = False
            if countdown[u] > 0:
                countdown[u] -= 1
                if countdown[u] == 0:
                    online[u] = True
        need = demand[t]
        # "commit" need: the same merit order on the commit demand (>= demand), which alone decides gas
        # starts and stops, so that removing unserved load (power capping) does not change commitment
        needc = max(commit_demand[t], need)
        mr = 0.0
        for k in range(n_mr):
            mr += must_run[k, t]
        mr_used = min(mr, need)
        need -= mr_used
        needc -= min(mr, needc)
        surplus = mr - mr_used
        # economic gas (marginal cost below the grid price) runs before the grid; start it if off
        for u in range(n_gas):
            if not gas_economic[u, t]:
                continue
            if not online[u] and countdown[u] == 0:
                if gas_start_steps[u] == 0:
                    online[u] = True
                else:
                    countdown[u] = gas_start_steps[u]
            if online[u] and need > 0.0:
                out = max(min(gas_cap[u, t], need), gas_min[u, t])
                served = min(out, need)
                need -= served
                surplus += out - served
                gas_out[u, t] = out
                used[u] = True
            if online[u]:
                needc -= min(max(min(gas_cap[u, t], needc), gas_min[u, t]), needc)
        # battery energy limits this step
        if has_battery:
            dis_res = max(0.0, min(p_dis_max[t], (soc - soc_reserve) * e_mwh * eta_d / step_h))
            dis_all = max(0.0, min(p_dis_max[t], (soc - soc_min) * e_mwh * eta_d / step_h))
            ch_lim = max(0.0, min(p_ch_max[t], (soc_max - soc) * e_mwh / (eta_c * step_h)))
        else:
            dis_res = 0.0
            dis_all = 0.0
            ch_lim = 0.0
        # policy discharge before the grid
        if discharge_signal[t]:
            dis = min(dis_res, need)
            needc -= min(dis_res, needc)
        else:
            dis = min(dis_res, max(need - target[t], 0.0))
            needc -= min(dis_res, max(needc - target[t], 0.0))
        need -= dis
        grid = min(need, grid_cap[t])
        need -= grid
        needc -= min(needc, grid_cap[t])
        # shortfall: gas in merit order (start units that are off), then battery
        pending = 0.0  # capacity of units already starting
        for u in range(n_gas):
            if used[u]:
                continue
            if online[u]:
                if need > 0.0:
                    out = max(min(gas_cap[u, t], need), gas_min[u, t])
                    served = min(out, need)
                    need -= served
                    surplus += out - served
                    gas_out[u, t] = out
                    used[u] = True
                if needc > 0.0:
                    needc -= min(max(min(gas_cap[u, t], needc), gas_min[u, t]), needc)
                elif not used[u] and not gas_economic[u, t]:
                    online[u] = False
            elif countdown[u] > 0:
                if needc - pending > 0.0:
                    pending += gas_cap[u, t]
                elif not gas_economic[u, t]:
                    countdown[u] = 0  # start aborted: no longer needed
            elif needc - pending > 0.0 or gas_economic[u, t]:
                if gas_start_steps[u] == 0:
                    online[u] = True
                    if need > 0.0:
                        out = max(min(gas_cap[u, t], need), gas_min[u, t])
                        served = min(out, need)
                        need -= served
                        surplus += out - served
                        gas_out[u, t] = out
                        used[u] = True
                    needc -= min(max(min(gas_cap[u, t], needc), gas_min[u, t]), needc)
                else:
                    countdown[u] = gas_start_steps[u]
                    if needc - pending > 0.0:
                        pending += gas_cap[u, t]
        more = min(max(dis_all - dis, 0.0), need)
        dis += more
        need -= more
        # surplus: cancel discharge, charge, export, curtail
        if dis > 0.0 and surplus > 0.0:
            r = min(dis, surplus)
            dis -= r
            surplus -= r
        ch = 0.0
        if has_battery and dis <= 0.0:
            ch = min(ch_lim, surplus)
            surplus -= ch
            if refill_from_grid or charge_signal[t]:
                lim = grid_cap[t]
                if refill_from_grid:
                    lim = min(lim, target[t])
                head = max(lim - grid, 0.0)
                extra = min(ch_lim - ch, head)
                if extra > 0.0:
                    grid += extra
                    ch += extra
        exp = min(surplus, export_cap[t])
        surplus -= exp
        if has_battery:
            soc = soc + (ch * eta_c - dis / eta_d) * step_h / e_mwh
        grid_import[t] = grid
        grid_export[t] = exp
        charge[t] = ch
        discharge[t] = dis
        soc_out[t] = soc
        unserved[t] = need
        curtailed[t] = surplus
        for u in range(n_gas):
            online_path[u, t] = online[u]
            countdown_path[u, t] = countdown[u]
    return (
        grid_import,
        grid_export,
        gas_out,
        charge,
        discharge,
        soc_out,
        unserved,
        curtailed,
        soc,
        online,
        countdown,
        online_path,
        countdown_path,
    )


# ----------------------------------------------------------------------------------------------- facade


@dataclass(frozen=True)
class DispatchState:
    """Carry-over state between consecutive dispatch calls (battery SoC, gas unit commitment).

    ``gas_online`` and ``gas_countdown_steps`` follow the order of the gas units *as passed* to
    :func:`dispatch`.
    """

    soc_frac: float
    gas_online: tuple[bool, ...] = ()
    gas_countdown_steps: tuple[int, ...] = ()


@dataclass
class DispatchResult:
    """Per-step dispatch of one site. Powers are step means [MW]; ``battery_soc_frac`` is end-of-step SoC.

    ``generation_mw`` maps each source name to its output: available output for must-run sources (any part
    not used shows up in ``curtailed_generation_mw``), actual output for gas units.
    """

    demand_mw: FloatArray
    grid_import_mw: FloatArray
    grid_export_mw: FloatArray
    generation_mw: dict[str, FloatArray]
    battery_charge_mw: FloatArray
    battery_discharge_mw: FloatArray
    battery_soc_frac: FloatArray
    unserved_mw: FloatArray
    curtailed_generation_mw: FloatArray
    step_h: float
    gas_units: tuple[GasUnit, ...] = field(default_factory=tuple)
    final_state: DispatchState | None = None

    @property
    def served_mw(self) -> FloatArray:
        """Demand actually supplied [MW]."""
        return np.asarray(self.demand_mw - self.unserved_mw, dtype=float)

    @property
    def generation_total_mw(self) -> FloatArray:
        """Sum of all generation columns [MW]."""
        total = np.zeros_like(self.demand_mw)
        for g in self.generation_mw.values():
            total = total + g
        return total

    def balance_residual_mw(self) -> FloatArray:
        """supply − uses per step; zero to rounding."""
        supply = self.grid_import_mw + self.generation_total_mw + self.battery_discharge_mw
        uses = self.served_mw + self.battery_charge_mw + self.grid_export_mw + self.curtailed_generation_mw
        return np.asarray(supply - uses, dtype=float)

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """Columns named as in the Result time series."""
        cols: dict[str, FloatArray] = {
            "grid_import_mw": self.grid_import_mw,
            "grid_export_mw": self.grid_export_mw,
        }
        for name, g in self.generation_mw.items():
            cols[f"generation_{name}_mw"] = g
        cols |= {
            "battery_charge_mw": self.battery_charge_mw,
            "battery_discharge_mw": self.battery_discharge_mw,
            "battery_soc_frac": self.battery_soc_frac,
            "unserved_mw": self.unserved_mw,
            "curtailed_mw": self.curtailed_generation_mw,
        }
        return pd.DataFrame(cols, index=index)


def _as_series(x: ArrayLike | float, n: int, name: str) -> FloatArray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name}: expected a scalar or an array of shape ({n},), got {a.shape}")
    if np.any(np.isnan(a)) or np.any(a == -np.inf):
        raise ValueError(f"{name}: contains NaN or -inf")
    return a


@dataclass(frozen=True)
class DispatchInputs:
    """Supply side of one site's dispatch: everything :func:`dispatch` needs besides the demand.

    Attributes
    ----------
    step_h : float
        Step length [h].
    grid_cap_mw : float or array_like, shape (n,)
        Import cap per step [MW] (already including energisation and curtailment events, see
        :func:`grid_import_cap_mw`, :func:`curtailment_cap_frac`).
    export_cap_mw : float or array_like
        Export cap per step [MW] (0: no export).
    must_run_mw : mapping of name → array_like, shape (n,)
        Available output of must-run sources (solar, wind, baseload) [MW].
    gas_units : sequence of GasUnit
        Dispatchable units; run in order of marginal cost. A unit with ``economic=True`` is *economic* at a
        step when its marginal cost is below ``price_usd_per_mwh`` (it then runs before the grid); otherwise
        it is backup.
    battery : Battery, optional
    policy : {"backup_only", "peak_shaving", "price_arbitrage", "carbon_aware"}
    price_usd_per_mwh : array_like, optional
        Grid price per step [USD/MWh] (needed for ``price_arbitrage``; used for economic gas).
    carbon_gco2_per_kwh : array_like, optional
        Grid carbon intensity per step [gCO2/kWh] (needed for ``carbon_aware``).
    peak_shaving_target_mw : float or array_like, optional
        Grid import target for ``peak_shaving`` [MW] (default: the import cap).
    steps_per_day : int, optional
        Steps per day for the daily ranking (default ``round(24/step_h)``).
    arbitrage_hours_per_day : float, optional
        Charge and discharge hours per day for the signal policies [h] (default: battery duration).
    charge_mask, discharge_mask : array_like of bool, optional
        Precomputed signal masks for ``price_arbitrage``/``carbon_aware`` (e.g. the slice of masks ranked over
        the whole horizon when dispatching block by block).
    gas_available_frac : array_like, shape (n_gas, n), optional
        Installed share of each gas unit (in the order of ``gas_units``) per step, 0 before its commissioning
        and after its decommissioning (fractional on the step of a date); scales its capacity and minimum load.
    battery_available_frac : array_like, shape (n,), optional
        Likewise for the battery's charge and discharge power (its state of charge is held while it is not
        installed).
    """

    step_h: float
    grid_cap_mw: ArrayLike | float
    export_cap_mw: ArrayLike | float = 0.0
    must_run_mw: Mapping[str, ArrayLike] | None = None
    gas_units: Sequence[GasUnit] = ()
    battery: Battery | None = None
    policy: str = "backup_only"
    price_usd_per_mwh: ArrayLike | None = None
    carbon_gco2_per_kwh: ArrayLike | None = None
    peak_shaving_target_mw: ArrayLike | float | None = None
    steps_per_day: int | None = None
    arbitrage_hours_per_day: float | None = None
    charge_mask: ArrayLike | None = None
    discharge_mask: ArrayLike | None = None
    gas_available_frac: ArrayLike | None = None
    battery_available_frac: ArrayLike | None = None


def dispatch(
    demand_mw: ArrayLike,
    supply: DispatchInputs,
    *,
    initial_state: DispatchState | None = None,
    commit_demand_mw: ArrayLike | None = None,
) -> DispatchResult:
    """Dispatch one site's supply against its demand, step by step.

    Parameters
    ----------
    demand_mw : array_like, shape (n,)
        Facility demand at full throughput [MW] (>= 0).
    supply : DispatchInputs
        Grid caps, on-site sources, battery, policy and signals (see there).
    initial_state : DispatchState, optional
        State at the first step (default: the battery's initial SoC, every gas unit off); pass the previous
        call's ``final_state`` to dispatch a horizon block by block.
    commit_demand_mw : array_like, optional
        Demand that decides gas unit commitment (starts, aborted starts, stops), default ``demand_mw``. The
        engine passes the demand at full throughput when it re-dispatches the power actually drawn after
        power capping, so that removing unserved load does not change which units were started.

    Returns
    -------
    DispatchResult
    """
    d = np.asarray(demand_mw, dtype=float)
    if d.ndim != 1:
        raise ValueError("demand_mw: must be 1-D (one value per step)")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand_mw: must be finite and >= 0")
    return prepare_dispatch(d.size, supply).run(d, 0, initial_state, commit_demand_mw)


def prepare_dispatch(n_steps: int, supply: DispatchInputs) -> PreparedDispatch:
    """Validate and precompute the inputs of :func:`dispatch` for ``n_steps`` steps."""
    step_h, policy, battery = supply.step_h, supply.policy, supply.battery
    gas_units = supply.gas_units
    peak_shaving_target_mw = supply.peak_shaving_target_mw
    charge_mask, discharge_mask = supply.charge_mask, supply.discharge_mask
    gas_available_frac, battery_available_frac = supply.gas_available_frac, supply.battery_available_frac
    if step_h <= 0:
        raise ValueError("step_h: must be > 0")
    if policy not in POLICIES:
        raise ValueError(f"policy: {policy!r} is not one of {', '.join(POLICIES)}")
    n = int(n_steps)
    cap = _as_series(supply.grid_cap_mw, n, "grid_cap_mw")
    xcap = _as_series(supply.export_cap_mw, n, "export_cap_mw")
    if np.any(cap < 0) or np.any(xcap < 0):
        raise ValueError("grid_cap_mw/export_cap_mw: must be >= 0")
    mr_map = dict(supply.must_run_mw or {})
    names = list(mr_map)
    mr = np.zeros((len(names), n))
    for i, name in enumerate(names):
        mr[i] = _as_series(mr_map[name], n, f"must_run_mw[{name!r}]")
        if np.any(mr[i] < 0):
            raise ValueError(f"must_run_mw[{name!r}]: must be >= 0")
    units = sorted(gas_units, key=lambda u: u.marginal_cost_usd_per_mwh)
    gas_names = [u.name for u in units]
    if len(set(names + gas_names)) != len(names) + len(gas_names):
        raise ValueError("generation source names must be unique across must-run sources and gas units")
    price = (
        None
        if supply.price_usd_per_mwh is None
        else _as_series(supply.price_usd_per_mwh, n, "price_usd_per_mwh")
    )
    econ = np.zeros((len(units), n), dtype=np.bool_)
    if price is not None:
        for i, u in enumerate(units):
            econ[i] = u.economic and u.marginal_cost_usd_per_mwh < price
    step_s = step_h * 3600.0
    start_steps = np.array([int(np.ceil(u.start_time_s / step_s - 1e-9)) for u in units], dtype=np.int64)
    order = sorted(range(len(gas_units)), key=lambda i: gas_units[i].marginal_cost_usd_per_mwh)
    avail = (
        np.ones((len(units), n))
        if gas_available_frac is None
        else np.asarray(gas_available_frac, dtype=float).reshape(len(units), n)[order]
    )
    gas_cap = np.ascontiguousarray(np.array([u.capacity_mw for u in units], dtype=float)[:, None] * avail)
    gas_min = np.ascontiguousarray(
        np.array([u.capacity_mw * u.min_load_frac for u in units], dtype=float)[:, None] * avail
    )

    target = np.full(n, np.inf)
    charge_sig = np.zeros(n, dtype=np.bool_)
    dis_sig = np.zeros(n, dtype=np.bool_)
    refill = policy in ("backup_only", "peak_shaving")
    if policy == "peak_shaving":
        target = (
            cap.copy()
            if peak_shaving_target_mw is None
            else _as_series(peak_shaving_target_mw, n, "peak_shaving_target_mw")
        )
    elif policy in ("price_arbitrage", "carbon_aware"):
        sig = price if policy == "price_arbitrage" else supply.carbon_gco2_per_kwh
        if sig is None:
            need = "price_usd_per_mwh" if policy == "price_arbitrage" else "carbon_gco2_per_kwh"
            raise ValueError(f"policy {policy!r} needs {need}")
        sig = _as_series(sig, n, "signal")
        if charge_mask is not None and discharge_mask is not None:
            charge_sig = np.asarray(charge_mask, dtype=np.bool_).reshape(n)
            dis_sig = np.asarray(discharge_mask, dtype=np.bool_).reshape(n)
        elif battery is not None:
            spd = supply.steps_per_day or round(24.0 / step_h)
            hours = (
                battery.duration_h
                if supply.arbitrage_hours_per_day is None
                else supply.arbitrage_hours_per_day
            )
            k = max(1, round(hours / step_h))
            charge_sig, dis_sig = daily_signal_masks(sig, spd, k, k)

    b_power = (
        np.zeros(n)
        if battery is None
        else battery.power_mw
        * (
            np.ones(n)
            if battery_available_frac is None
            else np.asarray(battery_available_frac, dtype=float).reshape(n)
        )
    )
    prepared = PreparedDispatch(
        step_h=float(step_h),
        grid_cap_mw=cap,
        export_cap_mw=xcap,
        must_run_names=tuple(names),
        must_run_mw=mr,
        gas_units=tuple(units),
        gas_order=np.asarray(
            sorted(range(len(gas_units)), key=lambda i: gas_units[i].marginal_cost_usd_per_mwh),
            dtype=np.int64,
        ),
        gas_cap=gas_cap,
        gas_min=gas_min,
        gas_start_steps=start_steps,
        gas_economic=econ,
        battery=battery,
        battery_power_mw=np.ascontiguousarray(b_power, dtype=float),
        target=target,
        charge_signal=charge_sig,
        discharge_signal=dis_sig,
        refill_from_grid=refill,
    )
    return prepared


@dataclass
class PreparedDispatch:
    """Validated whole-horizon dispatch inputs; :meth:`run` dispatches any block of steps from a state.

    Built by :func:`prepare_dispatch` from :class:`DispatchInputs`. Used by the
    engine to dispatch feedback blocks with little per-call overhead.
    """

    step_h: float
    grid_cap_mw: FloatArray
    export_cap_mw: FloatArray
    must_run_names: tuple[str, ...]
    must_run_mw: FloatArray  # (k, n)
    gas_units: tuple[GasUnit, ...]  # sorted by marginal cost
    gas_order: NDArray[np.int64]  # positions of the sorted units in the caller's order
    gas_cap: FloatArray  # (u, n) per step (installed share × capacity)
    gas_min: FloatArray  # (u, n)
    gas_start_steps: NDArray[np.int64]
    gas_economic: BoolArray  # (u, n)
    battery: Battery | None
    battery_power_mw: FloatArray  # (n,) charge/discharge power limit per step (installed share × rating)
    target: FloatArray
    charge_signal: BoolArray
    discharge_signal: BoolArray
    refill_from_grid: bool

    def _initial(self, state: DispatchState | None) -> tuple[float, BoolArray, NDArray[np.int64]]:
        b = self.battery
        n_gas = len(self.gas_units)
        online0 = np.zeros(n_gas, dtype=np.bool_)
        countdown0 = np.zeros(n_gas, dtype=np.int64)
        soc0 = b.initial_soc_frac if b else 0.0
        if state is not None:
            if b is not None:
                soc0 = float(state.soc_frac)
            if state.gas_online:
                online0[:] = np.asarray(state.gas_online, dtype=np.bool_)[self.gas_order]
                countdown0[:] = np.asarray(state.gas_countdown_steps, dtype=np.int64)[self.gas_order]
        return soc0, online0, countdown0

    def run_raw(
        self,
        demand_mw: FloatArray,
        start: int,
        soc0: float,
        online0: BoolArray,
        countdown0: NDArray[np.int64],
        commit_demand_mw: FloatArray | None = None,
    ) -> tuple:
        """Kernel outputs for steps ``start .. start + len(demand_mw)`` (gas arrays in merit order).

        ``commit_demand_mw`` (default: the demand) drives gas starts and stops only (see :func:`dispatch`).
        """
        t = slice(start, start + demand_mw.shape[0])
        b = self.battery
        return _dispatch_kernel(
            demand_mw,
            self.grid_cap_mw[t],
            self.export_cap_mw[t],
            np.ascontiguousarray(self.must_run_mw[:, t]),
            np.ascontiguousarray(self.gas_cap[:, t]),
            np.ascontiguousarray(self.gas_min[:, t]),
            self.gas_start_steps,
            np.ascontiguousarray(self.gas_economic[:, t]),
            b is not None,
            b.energy_mwh if b else 1.0,
            self.battery_power_mw[t],
            self.battery_power_mw[t],
            b.eta_charge if b else 1.0,
            b.eta_discharge if b else 1.0,
            b.soc_min_frac if b else 0.0,
            b.soc_max_frac if b else 0.0,
            b.reserve_soc_frac if b else 0.0,
            soc0,
            self.target[t],
            self.charge_signal[t],
            self.discharge_signal[t],
            self.refill_from_grid,
            self.step_h,
            online0,
            countdown0,
            demand_mw if commit_demand_mw is None else np.ascontiguousarray(commit_demand_mw, dtype=float),
        )

    def run(
        self,
        demand_mw: ArrayLike,
        start: int = 0,
        state: DispatchState | None = None,
        commit_demand_mw: ArrayLike | None = None,
    ) -> DispatchResult:
        """Dispatch ``demand_mw`` over steps ``start ..`` from ``state`` (default: initial state)."""
        d = np.ascontiguousarray(demand_mw, dtype=float)
        n = d.size
        if start < 0 or start + n > self.grid_cap_mw.size:
            raise ValueError("start/demand_mw: block outside the prepared horizon")
        c = None
        if commit_demand_mw is not None:
            c = np.ascontiguousarray(commit_demand_mw, dtype=float)
            if c.shape != d.shape:
                raise ValueError("commit_demand_mw: must have one value per step of demand_mw")
        soc0, online0, countdown0 = self._initial(state)
        out = self.run_raw(d, start, soc0, online0, countdown0, c)
        grid_import, grid_export, gas_out, ch, dis, soc, unserved, curtailed, soc_end, online1, countdown1 = (
            out[:11]
        )
        inverse = np.argsort(self.gas_order) if self.gas_order.size else np.zeros(0, dtype=np.int64)
        final_state = DispatchState(
            float(soc_end),
            tuple(bool(x) for x in online1[inverse]),
            tuple(int(x) for x in countdown1[inverse]),
        )
        t = slice(start, start + n)
        generation = {name: self.must_run_mw[i, t] for i, name in enumerate(self.must_run_names)}
        for i, u in enumerate(self.gas_units):
            generation[u.name] = gas_out[i]
        if self.battery is None:
            soc = np.full(n, np.nan)
        return DispatchResult(
            demand_mw=d,
            grid_import_mw=grid_import,
            grid_export_mw=grid_export,
            generation_mw=generation,
            battery_charge_mw=ch,
            battery_discharge_mw=dis,
            battery_soc_frac=soc,
            unserved_mw=unserved,
            curtailed_generation_mw=curtailed,
            step_h=self.step_h,
            gas_units=self.gas_units,
            final_state=final_state,
        )


def islanded_ride_through_h(
    load_mw: ArrayLike | float,
    step_h: float,
    must_run_mw: Mapping[str, ArrayLike] | None = None,
    gas_units: Sequence[GasUnit] = (),
    battery: Battery | None = None,
    horizon_h: float = 168.0,
) -> float:
    """How long the site serves its load with no grid at all, starting now [h].

    Runs the dispatch with a zero import cap for ``horizon_h`` (the battery starting at its initial SoC,
    gas units off and needing their start time) and returns the time until the first step with unserved
    load (partial steps counted by the served fraction); ``inf`` if nothing is unserved within the horizon.

    Parameters
    ----------
    load_mw : float or array_like
        Load to serve [MW] (constant, or per step for ``horizon_h/step_h`` steps).
    step_h : float
        Step length [h].
    must_run_mw, gas_units, battery
        On-site supply (as in :func:`dispatch`).
    horizon_h : float
        Look-ahead [h].
    """
    n = max(1, round(horizon_h / step_h))
    load = _as_series(load_mw, n, "load_mw")
    res = dispatch(load, DispatchInputs(step_h, 0.0, 0.0, must_run_mw, gas_units, battery, "backup_only"))
    short = np.flatnonzero(res.unserved_mw > 1e-9 * max(1.0, float(load.max())))
    if short.size == 0:
        return float("inf")
    i = int(short[0])
    served_frac = 1.0 - res.unserved_mw[i] / load[i] if load[i] > 0 else 0.0
    return float((i + served_frac) * step_h)
