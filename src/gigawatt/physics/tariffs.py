"""Electricity tariffs: energy prices per step, energy cost, demand charges and PPA settlement.

All functions are pure and vectorised over steps. Prices are in USD per MWh, powers in MW, energies in MWh,
money in USD. A *step* is one control interval of ``step_h`` hours; the power in a step is its mean power, so
the energy of a step is ``power_mw * step_h``.

Tariff kinds
------------
- flat: one price for every step;
- time of use (TOU): a base price overridden by rules that select hours of the day, weekdays and months
  (later rules win where they overlap), as in utility TOU schedules (e.g. PG&E E-19/B-19, summer on-peak
  noon–6 pm on weekdays);
- hourly series: a price series (e.g. day-ahead market prices) held constant within its interval and sampled
  at the simulation steps.

Demand charges bill the highest power drawn in each calendar month [USD/kW-month] (FERC/utility tariff
practice: the billing demand is usually the highest 15- or 30-minute average; here it is the highest step
mean, which equals it when the step is 15 or 30 min and is slightly higher for shorter steps).

Power purchase agreements (PPAs) are settled as a contract for difference against the price the site would
otherwise pay: for contracted power ``p_ppa`` at strike price ``s`` and market/tariff price ``c``,

.. math:: C = P_{imp}\\,c\\,\\Delta t + p_{ppa}\\,(s - c)\\,\\Delta t

which is exact both for a physical PPA whose surplus is resold at ``c`` and for a virtual (financial) PPA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gigawatt.physics.timebase import HOURS_PER_YEAR, hour_of_year_h

FloatArray = NDArray[np.float64]
#: Step times: a DatetimeIndex (or anything pandas turns into one).
TimesLike = pd.DatetimeIndex | pd.Series | NDArray[np.datetime64] | list[pd.Timestamp]

__all__ = [
    "TouRule",
    "demand_charges_usd",
    "energy_cost_usd",
    "flat_price_usd_per_mwh",
    "ppa_baseload_mw",
    "ppa_pay_as_produced_mw",
    "ppa_settlement_usd",
    "series_price_usd_per_mwh",
    "time_of_use_price_usd_per_mwh",
    "yearly_series_price_usd_per_mwh",
]


def _times(times: TimesLike) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(times)
    if idx.size == 0:
        raise ValueError("times: must contain at least one timestamp")
    return idx


def flat_price_usd_per_mwh(times: TimesLike, price_usd_per_mwh: float) -> FloatArray:
    """Flat tariff: the same energy price at every step.

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times.
    price_usd_per_mwh : float
        Energy price [USD/MWh]; may be negative (e.g. negative wholesale prices).

    Returns
    -------
    ndarray, shape (n,)
        Price per step [USD/MWh].
    """
    idx = _times(times)
    if not np.isfinite(price_usd_per_mwh):
        raise ValueError("price_usd_per_mwh: must be finite")
    return np.full(idx.size, float(price_usd_per_mwh))


@dataclass(frozen=True)
class TouRule:
    """One time-of-use period.

    Attributes
    ----------
    price_usd_per_mwh : float
        Energy price in this period [USD/MWh].
    start_hour, end_hour : float
        Local clock hours [h] in 0–24; the period covers ``start_hour <= hour < end_hour``. If
        ``end_hour < start_hour`` the period wraps past midnight (e.g. 22 → 6).
    weekdays : tuple of int
        Days of the week it applies to (Monday = 0 … Sunday = 6).
    months : tuple of int
        Calendar months it applies to (1–12).
    """

    price_usd_per_mwh: float
    start_hour: float = 0.0
    end_hour: float = 24.0
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    months: tuple[int, ...] = field(default=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))

    def __post_init__(self) -> None:
        if not (0.0 <= self.start_hour <= 24.0 and 0.0 <= self.end_hour <= 24.0):
            raise ValueError("TouRule.start_hour/end_hour: must be within 0–24 h")
        if not set(self.weekdays) <= set(range(7)):
            raise ValueError("TouRule.weekdays: use 0 (Monday) … 6 (Sunday)")
        if not set(self.months) <= set(range(1, 13)):
            raise ValueError("TouRule.months: use 1 … 12")
        if not np.isfinite(self.price_usd_per_mwh):
            raise ValueError("TouRule.price_usd_per_mwh: must be finite")

    def mask(self, idx: pd.DatetimeIndex) -> NDArray[np.bool_]:
        """Boolean mask of the steps this rule covers."""
        hour = np.asarray(idx.hour + idx.minute / 60.0 + idx.second / 3600.0, dtype=float)
        if self.end_hour >= self.start_hour:
            in_hours = (hour >= self.start_hour) & (hour < self.end_hour)
        else:
            in_hours = (hour >= self.start_hour) | (hour < self.end_hour)
        in_days = np.isin(np.asarray(idx.day_of_week), self.weekdays)
        in_months = np.isin(np.asarray(idx.month), self.months)
        return np.asarray(in_hours & in_days & in_months, dtype=bool)


def time_of_use_price_usd_per_mwh(
    times: TimesLike, base_price_usd_per_mwh: float, rules: Sequence[TouRule]
) -> FloatArray:
    """Time-of-use tariff: a base price overridden by rules (later rules win).

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times in the site's local clock.
    base_price_usd_per_mwh : float
        Price outside every rule [USD/MWh].
    rules : sequence of TouRule
        Periods with their prices.

    Returns
    -------
    ndarray, shape (n,)
        Price per step [USD/MWh].
    """
    idx = _times(times)
    price = flat_price_usd_per_mwh(idx, base_price_usd_per_mwh)
    for rule in rules:
        price[rule.mask(idx)] = rule.price_usd_per_mwh
    return price


def series_price_usd_per_mwh(
    times: TimesLike, series_times: TimesLike, series_price_usd_per_mwh: ArrayLike
) -> FloatArray:
    """Sample a price series (e.g. hourly day-ahead prices) at the steps, holding each value until the next.

    Steps before the first series timestamp, or beyond the last one plus the series' last interval, raise an
    error (no silent extrapolation); a series shorter than the horizon can be tiled by the caller.

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times.
    series_times : DatetimeIndex-like, shape (m,)
        Increasing timestamps of the price series.
    series_price_usd_per_mwh : array_like, shape (m,)
        Prices [USD/MWh].

    Returns
    -------
    ndarray, shape (n,)
        Price per step [USD/MWh] (the latest series value at or before each step).
    """
    idx = _times(times)
    s_idx = _times(series_times)
    prices = np.asarray(series_price_usd_per_mwh, dtype=float)
    if prices.shape != (s_idx.size,):
        raise ValueError("series_price_usd_per_mwh: must have one price per series timestamp")
    if not np.all(np.isfinite(prices)):
        raise ValueError("series_price_usd_per_mwh: contains NaN or inf")
    s_ns = s_idx.as_unit("ns").asi8
    if np.any(np.diff(s_ns) <= 0):
        raise ValueError("series_times: must be strictly increasing")
    t_ns = idx.as_unit("ns").asi8
    pos = np.searchsorted(s_ns, t_ns, side="right") - 1
    if np.any(pos < 0):
        raise ValueError(
            f"series_times: the price series starts at {s_idx[0]}, after the first step {idx[0]}; "
            "extend the series to cover the horizon"
        )
    last_interval = s_ns[-1] - s_ns[-2] if s_ns.size > 1 else 0
    if t_ns[-1] >= s_ns[-1] + last_interval and t_ns[-1] > s_ns[-1]:
        raise ValueError(
            f"series_times: the price series ends at {s_idx[-1]}, before the last step {idx[-1]}; "
            "extend the series to cover the horizon (or repeat it yearly)"
        )
    return prices[pos]


def yearly_series_price_usd_per_mwh(
    times: TimesLike, series_times: TimesLike, series_price_usd_per_mwh: ArrayLike
) -> FloatArray:
    """Replay a one-year price series in every simulated year, matched by hour of the year.

    Both the series and the steps are placed on the 365-day hour-of-year axis of
    :func:`gigawatt.physics.timebase.hour_of_year_h` (the same helper that replays typical-year weather):
    Feb 29 folds onto Feb 28, so a leap-year file keeps its calendar (March 1 prices on March 1) in
    common years, and a leap simulated year reads Feb 28 prices on Feb 29; a leap-year series' own Feb 29
    has no day in the 365-day year and is skipped. Series values are averaged per hour of the year; hours the series lacks hold the previous hour's price (periodically, across New Year).
    Both time axes must be in the same clock (UTC in the engine).

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times.
    series_times : DatetimeIndex-like, shape (m,)
        Timestamps of the one-year series (any year, leap or not).
    series_price_usd_per_mwh : array_like, shape (m,)
        Prices [USD/MWh].

    Returns
    -------
    ndarray, shape (n,)
        Price per step [USD/MWh].
    """
    idx = _times(times)
    s_idx = _times(series_times)
    prices = np.asarray(series_price_usd_per_mwh, dtype=float)
    if prices.shape != (s_idx.size,):
        raise ValueError("series_price_usd_per_mwh: must have one price per series timestamp")
    if not np.all(np.isfinite(prices)):
        raise ValueError("series_price_usd_per_mwh: contains NaN or inf")
    n_h = int(HOURS_PER_YEAR)
    # Feb 29 of a leap-year series has no day in the 365-day year: skip it (Feb 28 keeps its own prices)
    keep = ~((np.asarray(s_idx.month) == 2) & (np.asarray(s_idx.day) == 29))
    if not keep.any():
        raise ValueError("series_times: a yearly series needs prices outside Feb 29")
    s_idx, prices = s_idx[keep], prices[keep]
    src = np.floor(hour_of_year_h(s_idx)).astype(np.int64) % n_h
    total = np.bincount(src, weights=prices, minlength=n_h)
    count = np.bincount(src, minlength=n_h)
    have = count > 0
    # hold the previous available hour, periodically: index of the last filled hour at or before each hour
    last = np.where(have, np.arange(n_h), -1)
    last = np.maximum.accumulate(last)
    wrap = int(np.flatnonzero(have)[-1])
    last = np.where(last < 0, wrap, last)
    by_hour = total[last] / count[last]
    tgt = np.floor(hour_of_year_h(idx)).astype(np.int64) % n_h
    return np.asarray(by_hour[tgt], dtype=float)


def energy_cost_usd(import_mw: ArrayLike, price_usd_per_mwh: ArrayLike, step_h: float) -> FloatArray:
    """Energy cost per step, ``C = P · c · Δt``.

    Parameters
    ----------
    import_mw : array_like, shape (n,)
        Mean power bought in each step [MW] (negative for sales, e.g. export at the same price).
    price_usd_per_mwh : array_like, shape (n,)
        Price per step [USD/MWh].
    step_h : float
        Step length [h].

    Returns
    -------
    ndarray, shape (n,)
        Cost per step [USD].
    """
    if step_h <= 0:
        raise ValueError("step_h: must be > 0")
    p = np.asarray(import_mw, dtype=float)
    c = np.asarray(price_usd_per_mwh, dtype=float)
    return np.asarray(p * c * step_h, dtype=float)


def demand_charges_usd(
    times: TimesLike, import_mw: ArrayLike, rate_usd_per_kw_month: float
) -> tuple[pd.DataFrame, FloatArray]:
    """Monthly demand charges: the highest step-mean import of each month × the rate.

    .. math:: D_m = \\max_{t \\in m} P_{imp}(t) \\cdot 1000 \\cdot r

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times.
    import_mw : array_like, shape (n,)
        Grid import per step [MW].
    rate_usd_per_kw_month : float
        Demand charge [USD per kW of monthly peak].

    Returns
    -------
    by_month : DataFrame
        One row per calendar month present: ``month`` (period start), ``peak_import_mw``, ``peak_time``,
        ``demand_charge_usd``.
    per_step_usd : ndarray, shape (n,)
        The charge attributed to the step where each month's peak occurs (zero elsewhere), so that
        ``per_step_usd.sum() == by_month.demand_charge_usd.sum()``.
    """
    idx = _times(times)
    p = np.asarray(import_mw, dtype=float)
    if p.shape != (idx.size,):
        raise ValueError("import_mw: must have one value per step")
    if rate_usd_per_kw_month < 0:
        raise ValueError("rate_usd_per_kw_month: must be >= 0")
    if np.any(np.diff(idx.as_unit("ns").asi8) <= 0):
        raise ValueError("times: must be strictly increasing")
    month_key = np.asarray(idx.year * 12 + (idx.month - 1))
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(month_key)) + 1))
    peak_mw = np.maximum.reduceat(p, bounds)
    seg_len = np.diff(np.append(bounds, p.size))
    positions = np.arange(p.size)
    candidates = np.where(p == np.repeat(peak_mw, seg_len), positions, p.size)
    peak_pos = np.minimum.reduceat(candidates, bounds)
    start = bounds
    charge = np.maximum(peak_mw, 0.0) * 1000.0 * rate_usd_per_kw_month
    per_step = np.zeros(idx.size)
    per_step[peak_pos] = charge
    by_month = pd.DataFrame(
        {
            "month": idx[start].to_period("M").to_timestamp(),
            "peak_import_mw": peak_mw,
            "peak_time": idx[peak_pos],
            "demand_charge_usd": charge,
        }
    )
    return by_month, per_step


def ppa_pay_as_produced_mw(generation_profile_mw: ArrayLike, share_frac: float = 1.0) -> FloatArray:
    """Contracted power of a pay-as-produced PPA: a share of a (remote) plant's output per step.

    Parameters
    ----------
    generation_profile_mw : array_like, shape (n,)
        The plant's output per step [MW] (e.g. from :func:`gigawatt.physics.generation.pv_power_mw`).
    share_frac : float
        Contracted share of the output, 0–1.

    Returns
    -------
    ndarray, shape (n,)
        Contracted power per step [MW].
    """
    if not 0.0 <= share_frac <= 1.0:
        raise ValueError("share_frac: must be within 0–1")
    g = np.asarray(generation_profile_mw, dtype=float)
    if np.any(g < 0):
        raise ValueError("generation_profile_mw: must be >= 0")
    return np.asarray(g * share_frac, dtype=float)


def ppa_baseload_mw(
    times: TimesLike,
    block_mw: float,
    start_hour: float = 0.0,
    end_hour: float = 24.0,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6),
) -> FloatArray:
    """Contracted power of a block PPA: ``block_mw`` in the given hours (24/7 baseload by default).

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step start times.
    block_mw : float
        Contracted block [MW].
    start_hour, end_hour : float
        Hours of the day covered (see :class:`TouRule`).
    weekdays : tuple of int
        Days covered (Monday = 0).

    Returns
    -------
    ndarray, shape (n,)
        Contracted power per step [MW].
    """
    if block_mw < 0:
        raise ValueError("block_mw: must be >= 0")
    idx = _times(times)
    rule = TouRule(0.0, start_hour, end_hour, weekdays)
    return np.where(rule.mask(idx), float(block_mw), 0.0)


def ppa_settlement_usd(
    contracted_mw: ArrayLike,
    strike_usd_per_mwh: float,
    price_usd_per_mwh: ArrayLike,
    step_h: float,
) -> FloatArray:
    """PPA settlement per step (contract for difference), added to the grid energy cost.

    .. math:: S = p_{ppa}\\,(s - c)\\,\\Delta t

    Positive values are a cost to the site (strike above the market/tariff price).

    Parameters
    ----------
    contracted_mw : array_like, shape (n,)
        Contracted power per step [MW].
    strike_usd_per_mwh : float
        PPA price [USD/MWh].
    price_usd_per_mwh : array_like, shape (n,)
        Price the site would otherwise pay (tariff or market) [USD/MWh].
    step_h : float
        Step length [h].

    Returns
    -------
    ndarray, shape (n,)
        Settlement per step [USD].
    """
    if step_h <= 0:
        raise ValueError("step_h: must be > 0")
    q = np.asarray(contracted_mw, dtype=float)
    c = np.asarray(price_usd_per_mwh, dtype=float)
    return np.asarray(q * (strike_usd_per_mwh - c) * step_h, dtype=float)
