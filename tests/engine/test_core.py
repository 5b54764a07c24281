"""simulate(): energy accounting, determinism, utilisation workloads, power formula."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt import catalog
from gigawatt.engine import core
from gigawatt.engine.workloads import HANDLERS
from gigawatt.physics import power
from gigawatt.result import POWER_COLUMNS
from gigawatt.scenario.workloads import Workload


@pytest.fixture(scope="module")
def small_result() -> gw.Result:
    return gw.simulate(small_scenario_dict())


def test_energy_balance_exact(small_result: gw.Result) -> None:
    ts = small_result.timeseries
    total = ts[POWER_COLUMNS].sum(axis=1)
    assert_allclose(ts["facility_power_mw"], total, rtol=1e-12)
    s = small_result.summary()
    parts = (
        s["it_energy_mwh"] + s["cooling_energy_mwh"] + s["electrical_loss_energy_mwh"] + s["other_energy_mwh"]
    )
    assert s["facility_energy_mwh"] == pytest.approx(parts, rel=1e-9)
    assert s["facility_energy_mwh"] == pytest.approx(
        ts["facility_power_mw"].sum() * small_result.step_h, rel=1e-9
    )
    for hall in ("site-a/liquid", "site-a/air"):
        h = small_result.scope(hall)
        assert_allclose(h["facility_power_mw"], h[POWER_COLUMNS].sum(axis=1), rtol=1e-12)
    # halls add up to the campus
    assert_allclose(
        ts["site-a/liquid:it_power_mw"] + ts["site-a/air:it_power_mw"], ts["it_power_mw"], rtol=1e-12
    )


def test_index_and_required_columns(small_result: gw.Result) -> None:
    ts = small_result.timeseries
    assert isinstance(ts.index, pd.DatetimeIndex)
    assert len(ts) == 48 * 12 and ts.index[1] - ts.index[0] == pd.Timedelta(minutes=5)
    for c in [*POWER_COLUMNS, "facility_power_mw", "pue", "gpu_utilization_frac"]:
        assert c in ts.columns
    for k in [
        "it_energy_mwh",
        "cooling_energy_mwh",
        "electrical_loss_energy_mwh",
        "other_energy_mwh",
        "facility_energy_mwh",
        "peak_facility_power_mw",
        "pue",
        "mean_gpu_utilization_frac",
    ]:
        assert k in small_result.summary().index


def test_it_power_matches_hand_calculation(small_result: gw.Result) -> None:
    """Constant 0.8 utilisation of the liquid hall:
    P = n(idle + 0.8(TDP-idle)) + host·(1-f)(h0 + (1-h0)·0.8) + fans + network + storage."""
    from gigawatt.engine.plant import FAN_SHARE_OF_HOST_LIQUID as f
    from gigawatt.physics import it_power

    gb = catalog.accelerator("GB200")
    n_gpu, n_srv = 4 * 18 * 4, 4 * 18
    accel_kw = n_gpu * (gb.idle_w + 0.8 * (gb.tdp_w - gb.idle_w)) / 1e3
    host_kw = n_srv * 2200 * (1 - f) * (power.HOST_IDLE_FRAC + (1 - power.HOST_IDLE_FRAC) * 0.8) / 1e3
    # server fans at base speed (inlet at its 25 °C set point in a liquid hall)
    fans_kw = n_srv * 2200 * f * it_power.FAN_BASE_SPEED_FRAC**3 / 1e3
    net_kw = n_gpu * (it_power.NETWORK_POWER_W_PER_GPU["infiniband"] + it_power.STORAGE_POWER_W_PER_GPU) / 1e3
    it = small_result.timeseries["site-a/liquid:it_power_mw"]
    assert_allclose(it, (accel_kw + host_kw + fans_kw + net_kw) / 1e3, rtol=1e-12)
    ts = small_result.timeseries
    assert_allclose(ts["site-a/liquid:pue"], ts["site-a/liquid:facility_power_mw"] / it, rtol=1e-12)
    assert ts["site-a/liquid:pue"].between(1.03, 1.4).all()  # weather-driven physics, not a constant


def test_daily_profile_shape(small_result: gw.Result) -> None:
    util = small_result.timeseries["site-a/air:gpu_utilization_frac"] * 320 / 160
    # knots at 0, 6, 12, 18 h local standard time (site at -77.5°: UTC-5): 0.2, 0.5, 0.9, 0.5; value at the
    # 12:00-12:05 local step middle (17:00 UTC on the time-series index) ≈ 0.9 - tiny
    noon = util[util.index.hour == 17].iloc[0]
    assert noon == pytest.approx(0.9 - 0.4 * (2.5 / 360), rel=1e-9)
    assert util.max() <= 0.9 + 1e-12 and util.min() >= 0.2 - 1e-12
    # periodic: day 1 equals day 2
    assert_allclose(util.iloc[:288].to_numpy(), util.iloc[288:].to_numpy())


def test_determinism_same_seed_identical() -> None:
    a = gw.simulate(small_scenario_dict())
    b = gw.simulate(small_scenario_dict())
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_series_equal(a.summary(), b.summary())


def test_trace_profile(tmp_path: Path) -> None:
    times = pd.date_range("2026-07-01", periods=24, freq="1h")
    u = np.linspace(0.1, 0.9, 24)
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "utilization_frac": u}).to_csv(
        tmp_path / "telemetry.csv", index=False
    )
    d = small_scenario_dict()
    d["workloads"] = [
        {
            "kind": "utilization",
            "name": "measured",
            "target": {"hall": "air"},
            "profile": {"kind": "trace", "path": "telemetry.csv", "repeat": True},
        }
    ]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    res = gw.simulate(tmp_path / "s.yaml")
    util = res.timeseries["site-a/air:gpu_utilization_frac"]
    t_mid_h = (np.arange(len(util)) * 300 + 150) / 3600.0
    period_h = 24.0
    expected = np.interp(t_mid_h % period_h, np.arange(24.0), u, period=period_h)
    assert_allclose(util.to_numpy(), expected, rtol=1e-12)


def test_every_workload_kind_has_a_handler() -> None:
    from typing import get_args

    union = get_args(Workload)[0]
    members = get_args(union) or (union,)
    kinds = {m.model_fields["kind"].default for m in members}
    assert kinds <= set(HANDLERS)


def test_seed_override_and_rng_streams_independent() -> None:
    from gigawatt.engine.context import SimContext

    sc = gw.load_scenario(small_scenario_dict())
    res = gw.simulate(sc, seed=123)
    assert res.seed == 123
    ctx = SimContext.__new__(SimContext)
    ctx.seed = 5
    a1 = ctx.rng("workload", "x").random(3)
    ctx.rng("other").random(10)
    a2 = ctx.rng("workload", "x").random(3)
    assert_allclose(a1, a2)
    assert not np.allclose(a1, ctx.rng("workload", "y").random(3))


def test_cyclic_gc_paused_during_the_run_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """simulate() runs with the cyclic collector off (the run's cycles collected once at its end) and gives the
    collector back as it found it: on after a run, still off for a caller who turned it off, on after a raise."""
    seen: list[bool] = []
    real_run = core._run

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "_run", spy)
    assert gc.isenabled()
    gw.simulate(small_scenario_dict())
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        gw.simulate(small_scenario_dict())
        assert not gc.isenabled()
    finally:
        gc.enable()

    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(core, "_run", boom)
    with pytest.raises(RuntimeError, match="boom"):
        gw.simulate(small_scenario_dict())
    assert gc.isenabled()
