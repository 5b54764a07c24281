import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import dispatch as dp
from gigawatt.physics.generation import GasUnit
from gigawatt.physics.storage import Battery

DT = 5 / 60


def _day_profile(n, base=100.0, amp=20.0):
    t = np.arange(n) * DT
    return base + amp * np.sin(2 * np.pi * (t - 9) / 24), t


def _check_invariants(r, battery):
    scale = max(1.0, float(r.demand_mw.max()))
    assert np.abs(r.balance_residual_mw()).max() <= 1e-9 * scale
    if battery is not None:
        delta = (
            r.battery_charge_mw * battery.eta_charge - r.battery_discharge_mw / battery.eta_discharge
        ) * DT
        soc = battery.initial_soc_frac + np.cumsum(delta) / battery.energy_mwh
        assert_allclose(r.battery_soc_frac, soc, atol=1e-12)
        assert r.battery_soc_frac.min() >= battery.soc_min_frac - 1e-12
        assert r.battery_soc_frac.max() <= battery.soc_max_frac + 1e-12
        assert r.battery_charge_mw.max() <= battery.power_mw + 1e-12
        assert r.battery_discharge_mw.max() <= battery.power_mw + 1e-12
        assert not np.any((r.battery_charge_mw > 0) & (r.battery_discharge_mw > 0))
    for arr in (r.grid_import_mw, r.grid_export_mw, r.unserved_mw, r.curtailed_generation_mw):
        assert arr.min() >= 0.0


@pytest.mark.parametrize("policy", dp.POLICIES)
def test_balance_and_soc_exact_every_policy(policy):
    n = 12 * 24 * 14
    d, t = _day_profile(n)
    rng = np.random.default_rng(3)
    price = 60 + 40 * np.sin(2 * np.pi * (t - 12) / 24) + rng.normal(0, 5, n)
    carbon = 400 - 150 * np.clip(np.sin(2 * np.pi * (t - 6) / 24), 0, None)
    solar = 60 * np.clip(np.sin(2 * np.pi * (t - 6) / 24), 0, None)
    cap = np.full(n, 105.0)
    cap[2000:2072] = 0.0
    b = Battery(300.0, 80.0, reserve_soc_frac=0.3)
    gas = [
        GasUnit("gas_a", 40.0, 0.3, 600.0, fuel_price_usd_per_mmbtu=9.0),
        GasUnit("gas_b", 30.0, 0.5, 0.0, fuel_price_usd_per_mmbtu=12.0),
    ]
    r = dp.dispatch(
        d,
        dp.DispatchInputs(
            DT,
            cap,
            10.0,
            {"solar": solar, "smr": np.full(n, 15.0)},
            gas,
            b,
            policy,
            price_usd_per_mwh=price,
            carbon_gco2_per_kwh=carbon,
        ),
    )
    _check_invariants(r, b)
    assert np.all(r.grid_import_mw <= cap + 1e-12)
    assert np.all(r.grid_import_mw[2000:2072] == 0.0)
    assert set(r.generation_mw) == {"solar", "smr", "gas_a", "gas_b"}
    df = r.to_frame()
    assert {
        "grid_import_mw",
        "generation_gas_a_mw",
        "battery_soc_frac",
        "unserved_mw",
        "curtailed_mw",
    } <= set(df)


def test_backup_only_keeps_battery_full_and_rides_outage():
    n = 12 * 24
    d = np.full(n, 50.0)
    cap = np.full(n, 100.0)
    cap[100:124] = 0.0  # 2 h outage
    b = Battery(200.0, 60.0, initial_soc_frac=0.95)
    r = dp.dispatch(d, dp.DispatchInputs(DT, cap, battery=b, policy="backup_only"))
    _check_invariants(r, b)
    assert np.all(r.battery_soc_frac[:100] == 0.95)
    assert r.unserved_mw.sum() == 0.0
    assert_allclose(r.battery_discharge_mw[100:124], 50.0)
    # refill afterwards at full charge power while headroom allows
    assert_allclose(r.battery_charge_mw[124], 50.0)  # headroom 100 - 50
    assert_allclose(r.battery_soc_frac[-1], 0.95)


def test_peak_shaving_holds_target_until_reserve():
    n = 12 * 24
    d, _ = _day_profile(n, 100.0, 20.0)
    b = Battery(100.0, 30.0, reserve_soc_frac=0.2, initial_soc_frac=0.95)
    r = dp.dispatch(
        d, dp.DispatchInputs(DT, 200.0, battery=b, policy="peak_shaving", peak_shaving_target_mw=110.0)
    )
    _check_invariants(r, b)
    shaved = r.battery_discharge_mw > 0
    assert shaved.any()
    assert np.all(r.grid_import_mw[shaved] <= 110.0 + 1e-9)
    # energy above the target that the battery could cover
    above = np.clip(d - 110.0, 0, None).sum() * DT
    assert above < 0.75 * 100 * b.eta_discharge  # fits in the battery -> never above target
    assert r.grid_import_mw.max() <= 110.0 + 1e-9
    assert r.battery_soc_frac.min() >= 0.2 - 1e-12


def test_price_arbitrage_lowers_cost_and_follows_signal():
    n = 12 * 24 * 7
    d = np.full(n, 80.0)
    t = np.arange(n) * DT
    price = np.where((t % 24 >= 17) & (t % 24 < 21), 200.0, 40.0)
    b = Battery(200.0, 50.0, round_trip_efficiency_frac=0.85, initial_soc_frac=0.5, reserve_soc_frac=0.1)
    arb = dp.dispatch(
        d, dp.DispatchInputs(DT, 150.0, battery=b, policy="price_arbitrage", price_usd_per_mwh=price)
    )
    base = dp.dispatch(d, dp.DispatchInputs(DT, 150.0, policy="backup_only"))
    _check_invariants(arb, b)
    assert np.all(arb.battery_discharge_mw[price < 100] == 0.0)
    assert arb.battery_discharge_mw[price > 100].sum() > 0
    cost = lambda r: (r.grid_import_mw * price).sum() * DT  # noqa: E731
    assert cost(arb) < cost(base)


def test_carbon_aware_needs_signal():
    with pytest.raises(ValueError, match="carbon_gco2_per_kwh"):
        dp.dispatch(np.ones(10), dp.DispatchInputs(DT, 5.0, battery=Battery(1.0, 1.0), policy="carbon_aware"))
    with pytest.raises(ValueError, match="policy"):
        dp.dispatch(np.ones(10), dp.DispatchInputs(DT, 5.0, policy="cheapest"))
    with pytest.raises(ValueError, match="demand_mw"):
        dp.dispatch(-np.ones(10), dp.DispatchInputs(DT, 5.0))


def test_gas_start_delay_and_min_load():
    n = 48
    d = np.full(n, 30.0)
    cap = np.full(n, 100.0)
    cap[10:] = 0.0
    g = GasUnit("eng", 50.0, min_load_frac=0.8, start_time_s=900.0, fuel_price_usd_per_mmbtu=20.0)
    r = dp.dispatch(d, dp.DispatchInputs(DT, cap, gas_units=[g]))
    _check_invariants(r, None)
    # 15 min start = 3 steps of 5 min: unserved for 3 steps, then min load 40 MW > 30 MW demand
    assert_allclose(r.unserved_mw[10:13], 30.0)
    assert np.all(r.generation_mw["eng"][:13] == 0.0)
    assert_allclose(r.generation_mw["eng"][13:], 40.0)
    assert_allclose(r.curtailed_generation_mw[13:], 10.0)
    assert r.unserved_mw[13:].sum() == 0.0


def test_economic_gas_runs_before_grid():
    n = 24
    d = np.full(n, 30.0)
    g = GasUnit("cheap", 20.0, 0.0, 0.0, heat_rate_btu_per_kwh=8000, fuel_price_usd_per_mmbtu=2.0)
    price = np.where(np.arange(n) < 12, 20.0, 100.0)  # gas marginal cost 21 USD/MWh
    r = dp.dispatch(d, dp.DispatchInputs(DT, 100.0, gas_units=[g], price_usd_per_mwh=price))
    assert_allclose(r.generation_mw["cheap"][:12], 0.0, atol=1e-9)
    assert_allclose(r.generation_mw["cheap"][12:], 20.0)
    assert_allclose(r.grid_import_mw[12:], 10.0)


def test_surplus_goes_to_battery_then_export_then_curtailment():
    n = 6
    d = np.full(n, 10.0)
    b = Battery(10.0, 5.0, round_trip_efficiency_frac=1.0, initial_soc_frac=0.05, soc_max_frac=1.0)
    r = dp.dispatch(
        d, dp.DispatchInputs(DT, 0.0, 3.0, {"wind": np.full(n, 30.0)}, battery=b, policy="backup_only")
    )
    _check_invariants(r, b)
    assert_allclose(r.battery_charge_mw, 5.0)
    assert_allclose(r.grid_export_mw, 3.0)
    assert_allclose(r.curtailed_generation_mw, 12.0)


def test_grid_cap_energisation_and_events():
    t = pd.date_range("2026-01-01", periods=12 * 24, freq="5min")
    cap = dp.grid_import_cap_mw(t, 100.0, "2026-01-01 06:02:30")
    assert np.all(cap[:72] == 0.0)
    assert_allclose(cap[72], 50.0)  # half the step energised
    assert np.all(cap[73:] == 100.0)
    ev = [dp.CurtailmentEvent(pd.Timestamp("2026-01-01 12:00"), pd.Timestamp("2026-01-01 14:00"), 0.25)]
    f = dp.curtailment_cap_frac(t, ev)
    assert_allclose(f[144:168], 0.25)
    assert np.all(f[:144] == 1.0) and np.all(f[168:] == 1.0)


def test_poisson_events_match_rate_over_seeds():
    t = pd.date_range("2026-01-01", periods=8760, freq="h")
    counts = [len(dp.poisson_curtailment_events(t, 4.0, 3.0, np.random.default_rng(s))) for s in range(400)]
    # Poisson(4): mean 4, variance 4 -> standard error of the mean 0.1
    assert_allclose(np.mean(counts), 4.0, atol=0.4)
    assert_allclose(np.var(counts), 4.0, rtol=0.25)
    evs = dp.poisson_curtailment_events(t, 50.0, 2.0, np.random.default_rng(1), fixed_duration=True)
    assert all(e.end - e.start == pd.Timedelta(hours=2) for e in evs)
    a = dp.poisson_curtailment_events(t, 5.0, 2.0, np.random.default_rng(9))
    b = dp.poisson_curtailment_events(t, 5.0, 2.0, np.random.default_rng(9))
    assert a == b


def test_daily_signal_masks():
    sig = np.tile(np.arange(24.0), 3)
    ch, dis = dp.daily_signal_masks(sig, 24, 4, 3)
    assert np.array_equal(np.flatnonzero(ch[:24]), [0, 1, 2, 3])
    assert np.array_equal(np.flatnonzero(dis[:24]), [21, 22, 23])
    assert ch.sum() == 12 and dis.sum() == 9
    ch2, dis2 = dp.daily_signal_masks(np.arange(30.0), 24, 2, 2)  # partial last day ranked on its own
    assert np.array_equal(np.flatnonzero(ch2), [0, 1, 24, 25])
    assert np.array_equal(np.flatnonzero(dis2), [22, 23, 28, 29])


def test_islanded_ride_through():
    b = Battery(200.0, 100.0, round_trip_efficiency_frac=0.81)
    h = dp.islanded_ride_through_h(50.0, DT, battery=b)
    assert_allclose(h, 200 * 0.9 * 0.9 / 50.0, rtol=1e-9)  # usable 180 MWh x eta_d 0.9 / 50 MW
    g = GasUnit("g", 60.0, start_time_s=600.0)
    assert dp.islanded_ride_through_h(50.0, DT, gas_units=[g], battery=b) == float("inf")
    # gas alone cannot bridge its own start
    assert dp.islanded_ride_through_h(50.0, DT, gas_units=[g]) == 0.0


def test_block_by_block_dispatch_equals_one_pass():
    n = 12 * 24 * 3
    d, t = _day_profile(n)
    cap = np.full(n, 100.0)
    cap[300:400] = 0.0
    price = 50 + 30 * np.sin(2 * np.pi * t / 24)
    b = Battery(150.0, 60.0, reserve_soc_frac=0.3)
    gas = [
        GasUnit("b", 30.0, 0.3, 900.0, fuel_price_usd_per_mmbtu=12.0),
        GasUnit("a", 30.0, 0.3, 600.0, fuel_price_usd_per_mmbtu=9.0),
    ]
    kw = dict(must_run_mw=None, gas_units=gas, battery=b, policy="price_arbitrage", price_usd_per_mwh=price)
    whole = dp.dispatch(d, dp.DispatchInputs(DT, cap, **kw))
    ch, dis = dp.daily_signal_masks(price, 288, 30, 30)
    whole = dp.dispatch(d, dp.DispatchInputs(DT, cap, charge_mask=ch, discharge_mask=dis, **kw))
    state = None
    parts = []
    for s0 in range(0, n, 12):
        s1 = min(s0 + 12, n)
        kwb = dict(kw, price_usd_per_mwh=price[s0:s1])
        r = dp.dispatch(
            d[s0:s1],
            dp.DispatchInputs(DT, cap[s0:s1], charge_mask=ch[s0:s1], discharge_mask=dis[s0:s1], **kwb),
            initial_state=state,
        )
        state = r.final_state
        parts.append(r)
    for name in ("grid_import_mw", "battery_soc_frac", "unserved_mw", "battery_discharge_mw"):
        assert_allclose(np.concatenate([getattr(p, name) for p in parts]), getattr(whole, name), atol=1e-12)
    for g in ("a", "b"):
        assert_allclose(np.concatenate([p.generation_mw[g] for p in parts]), whole.generation_mw[g])
    assert whole.generation_mw["a"].sum() > 0 and whole.final_state == state


def test_commit_demand_keeps_gas_commitment_when_unserved_load_is_removed():
    n = 288
    d, _ = _day_profile(n, 100.0, 15.0)
    cap = np.full(n, 95.0)
    cap[100:160] = 0.0
    gas = [GasUnit("g", 40.0, 0.3, 900.0)]
    b = Battery(20.0, 30.0, reserve_soc_frac=0.05)
    full = dp.dispatch(d, dp.DispatchInputs(DT, cap, gas_units=gas, battery=b, policy="peak_shaving"))
    assert full.unserved_mw.sum() > 0
    served = d - full.unserved_mw  # what power capping leaves
    again = dp.dispatch(
        served,
        dp.DispatchInputs(DT, cap, gas_units=gas, battery=b, policy="peak_shaving"),
        commit_demand_mw=d,
    )
    assert_allclose(again.generation_mw["g"], full.generation_mw["g"], atol=1e-9)
    assert_allclose(again.battery_soc_frac, full.battery_soc_frac, atol=1e-9)
    assert_allclose(again.unserved_mw, 0.0, atol=1e-9)
