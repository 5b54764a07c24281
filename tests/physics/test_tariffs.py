import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import tariffs as tf


def _times(periods=24 * 12, freq="5min", start="2025-07-07 00:00"):  # a Monday
    return pd.date_range(start, periods=periods, freq=freq)


def test_flat_price_and_energy_cost():
    t = _times()
    price = tf.flat_price_usd_per_mwh(t, 80.0)
    assert price.shape == (t.size,) and np.all(price == 80.0)
    cost = tf.energy_cost_usd(np.full(t.size, 120.0), price, 5 / 60)
    assert_allclose(cost.sum(), 120.0 * 24 * 80.0, rtol=1e-12)  # 120 MW for 24 h at 80 USD/MWh


def test_time_of_use_rules_override_and_wrap():
    t = pd.date_range(
        "2025-07-05", periods=48 * 2, freq="30min"
    )  # Saturday + Sunday... and check weekday below
    rules = [
        tf.TouRule(150.0, 12, 18, weekdays=(0, 1, 2, 3, 4), months=(6, 7, 8, 9)),
        tf.TouRule(30.0, 22, 6),  # off-peak wraps midnight every day
    ]
    p = tf.time_of_use_price_usd_per_mwh(t, 60.0, rules)
    s = pd.Series(p, index=t)
    assert s["2025-07-05 13:00"] == 60.0  # Saturday: no weekday peak
    assert s["2025-07-05 23:00"] == 30.0 and s["2025-07-06 03:00"] == 30.0
    w = pd.date_range("2025-07-07", periods=48, freq="30min")  # Monday
    pw = pd.Series(tf.time_of_use_price_usd_per_mwh(w, 60.0, rules), index=w)
    assert pw["2025-07-07 12:00"] == 150.0 and pw["2025-07-07 17:30"] == 150.0
    assert pw["2025-07-07 18:00"] == 60.0
    jan = pd.date_range("2025-01-06 12:00", periods=2, freq="h")
    assert np.all(tf.time_of_use_price_usd_per_mwh(jan, 60.0, rules) == 60.0)  # outside summer months


def test_tou_rule_validation():
    with pytest.raises(ValueError, match="weekdays"):
        tf.TouRule(1.0, weekdays=(7,))
    with pytest.raises(ValueError, match="start_hour"):
        tf.TouRule(1.0, start_hour=25)


def test_series_price_holds_values_and_rejects_gaps():
    t = _times(periods=36, freq="5min", start="2025-01-01 00:00")
    st = pd.date_range("2025-01-01", periods=4, freq="h")
    p = tf.series_price_usd_per_mwh(t, st, [10.0, 20.0, -5.0, 40.0])
    assert_allclose(p, np.repeat([10.0, 20.0, -5.0], 12))
    with pytest.raises(ValueError, match="extend the series"):
        tf.series_price_usd_per_mwh(pd.date_range("2024-12-31 23:00", periods=2, freq="h"), st, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="ends at"):
        tf.series_price_usd_per_mwh(pd.date_range("2025-01-01", periods=6, freq="h"), st, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="one price per"):
        tf.series_price_usd_per_mwh(t, st, [1.0, 2.0])


def test_demand_charges_monthly_peaks():
    t = pd.date_range("2025-01-01", "2025-03-31 23:00", freq="h")
    rng = np.random.default_rng(1)
    p = rng.uniform(50, 100, t.size)
    by_month, per_step = tf.demand_charges_usd(t, p, 15.0)
    s = pd.Series(p, index=t)
    expected = s.groupby(s.index.month).max().to_numpy()
    assert_allclose(by_month["peak_import_mw"], expected)
    assert_allclose(by_month["demand_charge_usd"], expected * 1000 * 15.0)
    assert_allclose(per_step.sum(), by_month["demand_charge_usd"].sum())
    assert np.count_nonzero(per_step) == 3
    assert_allclose(p[per_step > 0], expected)


def test_ppa_settlement_is_contract_for_difference():
    t = _times(periods=24, freq="h")
    price = np.linspace(20, 120, t.size)
    q = tf.ppa_baseload_mw(t, 50.0)
    imp = np.full(t.size, 80.0)
    cost = tf.energy_cost_usd(imp, price, 1.0) + tf.ppa_settlement_usd(q, 60.0, price, 1.0)
    # physical view: 50 MW at strike, 30 MW at market
    assert_allclose(cost, 50 * 60.0 + 30 * price)
    solar = np.clip(np.sin(np.pi * (np.arange(24) - 6) / 12), 0, None) * 100
    qp = tf.ppa_pay_as_produced_mw(solar, 0.5)
    assert_allclose(qp, solar / 2)
    with pytest.raises(ValueError, match="share_frac"):
        tf.ppa_pay_as_produced_mw(solar, 1.5)
    block = tf.ppa_baseload_mw(t, 10.0, 8, 20, weekdays=(0, 1, 2, 3, 4))
    assert block.sum() == 10.0 * 12


def _calendar_code(idx: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(idx.month * 100 + idx.day, dtype=float)


def test_yearly_series_from_a_leap_year_keeps_the_calendar():
    # A 2024 (leap) hourly price file whose price encodes its date (month·100 + day), replayed in 2026:
    # every step must read the price of its own calendar day. Before the shared hour-of-year helper, a
    # day-of-year match read the previous day's price from March on (March 1 got Feb 29's price).
    st = pd.date_range("2024-01-01", "2024-12-31 23:00", freq="h")
    t = pd.date_range("2026-01-01", "2026-12-31 23:55", freq="15min")
    p = tf.yearly_series_price_usd_per_mwh(t, st, _calendar_code(st))
    assert_allclose(p, _calendar_code(t), rtol=0, atol=1e-9)
    # a leap simulated year reads Feb 28 on Feb 29 and its own date from March 1 on (common-year file)
    st25 = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="h")
    t28 = pd.date_range("2028-02-28", "2028-03-02", freq="h", inclusive="left")
    p28 = tf.yearly_series_price_usd_per_mwh(t28, st25, _calendar_code(st25))
    expected = np.where((t28.month == 2) & (t28.day == 29), 228.0, _calendar_code(t28))
    assert_allclose(p28, expected, rtol=0, atol=1e-9)


def test_yearly_series_holds_missing_hours_and_validates():
    st = pd.DatetimeIndex(["2025-01-01 00:00", "2025-06-01 12:00"])
    t = pd.DatetimeIndex(["2026-01-01 00:30", "2026-03-01 00:00", "2026-06-01 12:10", "2026-12-31 23:00"])
    p = tf.yearly_series_price_usd_per_mwh(t, st, [10.0, 50.0])
    assert_allclose(p, [10.0, 10.0, 50.0, 50.0], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="one price per"):
        tf.yearly_series_price_usd_per_mwh(t, st, [1.0])
    with pytest.raises(ValueError, match="NaN"):
        tf.yearly_series_price_usd_per_mwh(t, st, [1.0, np.nan])


def test_weather_and_price_replay_share_the_hour_of_year():
    from gigawatt.physics.timebase import hour_of_year_h

    leap = pd.DatetimeIndex(["2024-02-28 05:00", "2024-02-29 05:00", "2024-03-01 05:00", "2024-12-31 23:00"])
    common = pd.DatetimeIndex(
        ["2025-02-28 05:00", "2025-02-28 05:00", "2025-03-01 05:00", "2025-12-31 23:00"]
    )
    assert_allclose(hour_of_year_h(leap), hour_of_year_h(common), rtol=0, atol=1e-12)
    assert_allclose(hour_of_year_h(common)[-1], 8759.0, rtol=0, atol=1e-12)
