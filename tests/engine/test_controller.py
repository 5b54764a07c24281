"""Facility controller: the bound behind skipping re-decisions, and that skipping keeps the guarantees."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import small_scenario_dict

import gigawatt as gw
import gigawatt.engine.controller as controller_mod
import gigawatt.engine.core as core_mod
from gigawatt.checks.load import load_scenario
from gigawatt.engine.clock import Clock
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import LoadLedger
from gigawatt.physics import facility, weather
from gigawatt.physics.cooling_designs import cooling_designs
from gigawatt.scenario.hardware import COOLING_DESIGNS


def test_marginal_slope_is_derived_per_plant_and_run() -> None:
    """The slope bound comes from the plant and the run's weather: dry-cooled plants at a large
    ``capacity_frac`` in a hot climate exceed the former fixed bound of 3, evaporative air stays low."""
    w, _ = weather.load_climate("phoenix")
    db = w["dry_bulb_c"].to_numpy()[:, None]
    wb = w["wet_bulb_c"].to_numpy()[:, None]

    def slope(design: str, cap: float) -> float:
        plant = facility.build_facility_plant(
            cooling_presets=[design], design_it_kw=[10_000.0], cooling_capacity_frac=cap
        )
        return float(controller_mod.marginal_facility_per_it_kw(plant, db, wb, np.array([11_000.0]))[0])

    assert slope("dlc_dry", 3.0) > 3.0
    assert slope("immersion", 3.0) > 3.0
    assert 1.0 <= slope("air_evaporative", 1.25) < 2.0
    # a cold run of the same plant needs a smaller bound than a hot one
    s_cold = controller_mod.marginal_facility_per_it_kw(
        facility.build_facility_plant(
            cooling_presets=["dlc_dry"], design_it_kw=[10_000.0], cooling_capacity_frac=3.0
        ),
        db - 30.0,
        wb - 30.0,
        np.array([11_000.0]),
    )
    assert float(s_cold[0]) < slope("dlc_dry", 3.0)


def _hall_throughput(res: gw.Result) -> np.ndarray:
    cols = [c for c in res.timeseries.columns if c.endswith("throughput_frac")]
    return res.timeseries[cols].to_numpy()


def _with_and_without_skip(d: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[gw.Result, gw.Result]:
    with_skip = gw.simulate(d)
    with monkeypatch.context() as m:
        m.setattr(controller_mod.FacilityController, "skip_harmless_changes", False)
        without_skip = gw.simulate(d)
    return with_skip, without_skip


def _assert_same_decisions(a: gw.Result, b: gw.Result) -> None:
    # the same decisions, computed the same way: equal to rounding
    np.testing.assert_allclose(_hall_throughput(a), _hall_throughput(b), rtol=1e-12, atol=1e-12)


def _one_hall_training(
    design: str,
    capacity_frac: float,
    climate: str,
    jobs: list[dict],
    horizon_h: int = 192,
    start: str = "2026-07-01T00:00:00",
    grid_mw: float | None = None,
) -> dict:
    """One hall alone with the given cooling plant and climate, running ``jobs``: the GB200 hall (288 GPUs)
    for liquid designs, the H100 hall (320 GPUs) for air and rear-door designs."""
    d = small_scenario_dict(horizon_h=horizon_h, start=start)
    site = d["sites"][0]
    site["climate"] = {"kind": "named", "name": climate}
    if grid_mw is not None:
        site["grid"]["import_capacity_mw"] = grid_mw
    tech = next(t for t, designs in COOLING_DESIGNS.items() if design in designs)
    hall = site["halls"][0 if tech in ("dlc", "immersion") else 1]
    hall["cooling"] = {"technology": tech, "design": design, "capacity_frac": capacity_frac}
    site["halls"] = [hall]
    d["workloads"] = [
        {
            "kind": "training",
            "name": "t",
            "target": {"hall": hall["name"]},
            "jobs": jobs,
            "reliability": {"failures": "none"},
        }
    ]
    return d


def test_night_start_on_a_marginal_dry_cooled_hall(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a Greensboro ``dlc_dry`` hall at ``capacity_frac`` 0.95 whose job starts at night (after
    quiet days, so the look-ahead window spans the next afternoon) is throttled in the afternoon exactly as
    when every change is re-decided (the skip once kept the window's unthrottled afternoon)."""
    jobs = [{"name": "night", "gpus": 288, "duration_h": 60.0, "submit_h": 106.0}]
    a, b = _with_and_without_skip(_one_hall_training("dlc_dry", 0.95, "greensboro", jobs), monkeypatch)
    assert _hall_throughput(b).min() < 0.999  # the afternoon binds
    _assert_same_decisions(a, b)


def test_unsound_skip_is_found_and_redecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a slope bound of zero every change looks harmless; the verification after the run finds the
    skips a binding grid cap makes wrong, and the repeated run decides exactly as without the skip."""

    d = _capped_training_scenario()
    free = gw.simulate(d)
    d["sites"][0]["grid"]["import_capacity_mw"] = 0.93 * float(free.timeseries["facility_power_mw"].max())
    runs: list[int] = []
    orig_run = core_mod._run

    def counting_run(*args, **kwargs):
        runs.append(1)
        return orig_run(*args, **kwargs)

    monkeypatch.setattr(core_mod, "_run", counting_run)
    monkeypatch.setattr(
        controller_mod.FacilityController, "slope_hall", property(lambda self: np.zeros(self.g2h.shape[1]))
    )
    blind, exact = _with_and_without_skip(d, monkeypatch)
    assert len(runs) > 2  # the blind run was repeated at least once; the exact run once
    assert blind.summary()["hours_capped_h"] > 0
    _assert_same_decisions(blind, exact)


def _capped_training_scenario() -> dict:
    d = small_scenario_dict(horizon_h=96)
    d["start"] = "2026-07-10T00:00:00"
    d["workloads"] = [
        {
            "kind": "training",
            "name": "mix",
            "target": {"hall": "liquid"},
            "jobs": [
                {"name": f"j{i}", "gpus": 64, "duration_h": 5.0, "submit_h": 3.0 * i} for i in range(30)
            ],
        },
        d["workloads"][1],
    ]
    return d


def test_skipping_harmless_changes_keeps_cap_and_energy_balance(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a grid cap that binds, results with and without the skip both respect the cap and balance."""
    d = _capped_training_scenario()
    free = gw.simulate(d)
    cap_mw = 0.93 * float(free.timeseries["facility_power_mw"].max())
    d["sites"][0]["grid"]["import_capacity_mw"] = cap_mw
    with_skip = gw.simulate(d)
    monkeypatch.setattr(controller_mod.FacilityController, "skip_harmless_changes", False)
    without_skip = gw.simulate(d)
    for res in (with_skip, without_skip):
        ts = res.timeseries
        assert (ts["grid_import_mw"] <= cap_mw * (1 + 1e-9)).all()
        parts = ts[["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]].sum(axis=1)
        np.testing.assert_allclose(ts["facility_power_mw"], parts, rtol=1e-12)
    # the decisions that matter (capped steps) are made exactly in both runs: same capped energy within 1 %
    a, b = with_skip.summary(), without_skip.summary()
    assert a["facility_energy_mwh"] == pytest.approx(b["facility_energy_mwh"], rel=1e-2)
    assert a["hours_capped_h"] == pytest.approx(b["hours_capped_h"], rel=0.05, abs=0.5)


def test_decisions_grow_with_relevant_events_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Far from the grid cap and thermal limits, busy job churn does not force hourly re-decisions."""
    d = _capped_training_scenario()
    d["sites"][0]["grid"]["import_capacity_mw"] = 1000.0
    calls: list[int] = []
    orig = controller_mod.FacilityController.decide_block

    def counting(self, step0: int, step1: int):
        calls.append(step1 - step0)
        return orig(self, step0, step1)

    monkeypatch.setattr(controller_mod.FacilityController, "decide_block", counting)
    res = gw.simulate(d)
    assert res.jobs is not None and len(res.jobs) == 30
    n_blocks = d["horizon_h"]  # hourly blocks
    assert len(calls) < n_blocks / 4, len(calls)


_CLIMATES = ["greensboro", "miami", "sand_point", "phoenix", "singapore", "dublin", "frankfurt", "stockholm"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    design=st.sampled_from(sorted(cooling_designs())),
    climate=st.sampled_from(_CLIMATES),
    # the schema's range (0, 3], weighted towards plants that bind on some hours only
    capacity_frac=st.one_of(st.floats(0.05, 3.0), st.floats(0.8, 1.2), st.floats(0.8, 1.2)),
    month=st.integers(1, 12),
    jobs=st.lists(
        st.tuples(
            st.sampled_from([4, 8, 72, 144, 288]),  # from near-zero load to the whole hall
            st.floats(0.0, 95.0),  # submit [h]
            st.floats(0.5, 60.0),  # duration [h]
        ),
        min_size=1,
        max_size=3,
    ),
    grid_cap_frac=st.one_of(st.none(), st.floats(0.8, 1.3)),
)
def test_property_skip_keeps_every_decision(
    design: str,
    climate: str,
    capacity_frac: float,
    month: int,
    jobs: list[tuple[int, float, float]],
    grid_cap_frac: float | None,
) -> None:
    """Random plants (every cooling design, climates, ``capacity_frac`` over the schema's range, loads from near
    zero to the whole hall, with and without a grid cap near the peak): the throughput decisions with the skip
    equal those made when every load change is re-decided."""
    specs = [
        {"name": f"j{i}", "gpus": g, "duration_h": dur, "submit_h": sub}
        for i, (g, sub, dur) in enumerate(jobs)
    ]
    d = _one_hall_training(
        design, capacity_frac, climate, specs, horizon_h=96, start=f"2026-{month:02d}-01T00:00:00"
    )
    if grid_cap_frac is not None:
        peak_mw = float(gw.simulate(d).timeseries["facility_power_mw"].max())
        d["sites"][0]["grid"]["import_capacity_mw"] = grid_cap_frac * peak_mw
    cls = controller_mod.FacilityController
    with_skip = gw.simulate(d)
    cls.skip_harmless_changes = False
    try:
        without_skip = gw.simulate(d)
    finally:
        cls.skip_harmless_changes = True
    _assert_same_decisions(with_skip, without_skip)


def _capped_result(monkeypatch: pytest.MonkeyPatch, **patch: object) -> gw.Result:
    d = _capped_training_scenario()
    d["sites"][0]["grid"]["import_capacity_mw"] = 0.93 * float(
        gw.simulate(_capped_training_scenario()).timeseries["facility_power_mw"].max()
    )
    with monkeypatch.context() as m:
        for name, value in patch.items():
            m.setattr(controller_mod, name, value)
        return gw.simulate(d)


def test_finalize_in_blocks_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-horizon evaluation in blocks of 7 steps (and the skip verification with it) gives the
    numbers of one block over the horizon: the facility model is elementwise in time, and the ledger's
    blocks carry its running sum (equal to rounding; in practice bit for bit)."""
    sizes: list[int] = []
    blocks = LoadLedger.occupancy_blocks

    def spy(self: LoadLedger, block_steps: int):  # type: ignore[no-untyped-def]
        sizes.append(block_steps)
        return blocks(self, block_steps)

    monkeypatch.setattr(LoadLedger, "occupancy_blocks", spy)
    small = _capped_result(monkeypatch, FINALIZE_CHUNK_STEPS=7)
    assert sizes and sizes[-1] == 7
    whole = _capped_result(monkeypatch, FINALIZE_CHUNK_STEPS=10**9)
    assert sizes[-1] == 10**9
    assert small.summary()["hours_capped_h"] > 0  # the decisions capped power: not a trivial run
    assert list(small.timeseries.columns) == list(whole.timeseries.columns)
    np.testing.assert_allclose(
        small.timeseries.to_numpy(dtype=float), whole.timeseries.to_numpy(dtype=float), rtol=1e-15, atol=0
    )
    s, w = small.summary(), whole.summary()
    np.testing.assert_allclose(s.to_numpy(), w[s.index].to_numpy(), rtol=1e-15, atol=0)


def test_plain_blocks_publish_nothing_new(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the publication of unconstrained blocks (all ones after all ones) changes nothing: the same
    run with every block published gives the same time series, jobs and KPIs."""
    skipped = _capped_result(monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(controller_mod.FacilityController, "_plain", lambda self, a, b, thr: False)
        published = _capped_result(monkeypatch)
    np.testing.assert_allclose(
        skipped.timeseries.to_numpy(dtype=float),
        published.timeseries.to_numpy(dtype=float),
        rtol=1e-15,
        atol=0,
    )
    assert skipped.jobs is not None and published.jobs is not None
    np.testing.assert_allclose(
        skipped.jobs[["end_s", "gpu_hours", "throttled_gpu_hours"]].to_numpy(dtype=float),
        published.jobs[["end_s", "gpu_hours", "throttled_gpu_hours"]].to_numpy(dtype=float),
        rtol=1e-15,
    )


def test_release_keeps_only_the_energy_output() -> None:
    """After finalize, release() drops the per-step arrays; energy_output() still answers."""
    sc = load_scenario(small_scenario_dict(horizon_h=24))
    clock = Clock(pd.Timestamp(sc.start), sc.step_s, sc.n_steps)
    _handlers, ctrl = core_mod._run(sc, sc.seed, clock, Fleet.from_scenario(sc), 12, set())
    with pytest.raises(RuntimeError, match="finalize"):
        ctrl.release()
    flows = ctrl.finalize()
    assert set(controller_mod.FINAL_FLOWS) - {"site_facility_power_kw"} <= set(flows) | {
        "server_fan_power_kw",
        "accel_power_kw",
    }
    assert "site_facility_power_kw" not in flows
    assert flows["active_gpus"].shape == (sc.n_steps, ctrl.ctx.fleet.n_groups)
    before = ctrl.energy_output()
    ctrl.release()
    assert not hasattr(ctrl, "throughput_hall") and not hasattr(ctrl, "weather")
    assert ctrl.energy_output().kpis == before.kpis


def test_finalize_with_release_gives_the_same_flows() -> None:
    """finalize(release=True) drops the look-ahead's per-step state before the supply dispatch: the flows and the
    energy output are those of a plain finalize, and the dropped arrays are gone."""
    sc = load_scenario(small_scenario_dict(horizon_h=24))
    clock = Clock(pd.Timestamp(sc.start), sc.step_s, sc.n_steps)
    outs = []
    for release in (False, True):
        _handlers, ctrl = core_mod._run(sc, sc.seed, clock, Fleet.from_scenario(sc), 12, set())
        flows = ctrl.finalize(release=release)
        outs.append((flows, ctrl.energy_output()))
        assert hasattr(ctrl, "thermal_throughput_hall") is not release
        assert hasattr(ctrl, "dark_hall")
    (plain, e_plain), (released, e_released) = outs
    assert set(plain) == set(released)
    for key, arr in plain.items():
        np.testing.assert_array_equal(arr, released[key], err_msg=key)
    assert e_plain.kpis == e_released.kpis
    assert set(e_plain.columns) == set(e_released.columns)


def test_skip_log_grows_and_closes() -> None:
    """The skipped stretches keep their start, end and level in order as the log grows past its first size;
    closing cuts only the last stretch and only when it reaches beyond the step."""
    log = controller_mod._SkipLog((2, 3))
    levels = [np.full((2, 3), float(k)) for k in range(200)]
    for k, lvl in enumerate(levels):
        log.append(10 * k, 10 * k + 8, lvl)
    assert len(log) == 200 and log.levels.shape == (200, 2, 3)
    np.testing.assert_allclose(log.levels, np.stack(levels), rtol=0, atol=0)
    log.close(1995)
    assert log.end[-1] == 1995 and log.end[-2] == 1988
    log.close(1999)  # already ends before: unchanged
    assert log.end[-1] == 1995 and log.start[-1] == 1990


def _one_hall_controller() -> controller_mod.FacilityController:
    sc = load_scenario(small_scenario_dict(horizon_h=24))
    d = sc.model_dump(mode="json", exclude_none=True)
    site = d["sites"][0]
    site["halls"] = [site["halls"][0]]
    site["halls"][0]["racks"] = site["halls"][0]["racks"][:1]
    d["sites"] = [site]
    d["workloads"] = []
    sc = load_scenario(d)
    clock = Clock(pd.Timestamp(sc.start), sc.step_s, sc.n_steps)
    _handlers, ctrl = core_mod._run(sc, sc.seed, clock, Fleet.from_scenario(sc), 12, set())
    return ctrl


def test_fits_headroom_on_floats_is_the_array_sum() -> None:
    """For one rack group in one hall on one site, the check on Python floats answers as the array expression
    (the same operations in the same order) for loads around the headroom's edge."""
    ctrl = _one_hall_controller()
    assert ctrl._one_group_hall_site
    rng = np.random.default_rng(7)
    level = ctrl.ctx.ledger.level
    shape = level.shape
    per_gpu = float(ctrl._upper_kw_per_gpu[0] * ctrl.slope_hall[0])
    answers = set()
    for _ in range(400):
        before = level.copy()
        level[...] = rng.uniform(0, 50, shape)
        ref = rng.uniform(0, 50, shape)
        delta = float(np.add.reduce(np.abs(level - ref), axis=1)[0])
        # headrooms just below, at and just above the bound, and far off
        for headroom in (delta * per_gpu * (1 + e) for e in (-1e-15, 0.0, 1e-15, -0.5, 0.5)):
            ctrl._supply_headroom_kw = np.array([headroom])
            fast = ctrl.fits_headroom(ref)
            ctrl._one_group_hall_site = False
            exact = ctrl.fits_headroom(ref)
            ctrl._one_group_hall_site = True
            assert fast == exact
            answers.add(fast)
        level[...] = before
    assert answers == {True, False}


def test_next_bind_step_is_the_bisection() -> None:
    """The cached next step where a thermal limit may bind is the bisection's answer for steps that move
    forward (as in a run) and for steps that jump back."""
    ctrl = _one_hall_controller()
    n = ctrl.ctx.clock.n_steps
    rng = np.random.default_rng(3)
    for bind in (
        np.array([], dtype=np.int64),
        np.array([0, n - 1]),
        np.sort(rng.choice(n, 40, replace=False)),
    ):
        ctrl._bind_steps, ctrl._bind_cache = bind, (1, 0)
        steps = list(np.sort(rng.integers(0, n, 300))) + list(rng.integers(0, n, 300))
        for step in steps:
            i = int(bind.searchsorted(step))
            expect = int(bind[i]) if i < bind.size else n + 1
            assert ctrl._next_bind_step(int(step)) == expect


def test_finalize_hands_over_the_arrays_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flows finalize hands over instead of copying block by block (site weather, cooling capacity, the
    throughput factors) are those of the block-by-block copies, in a run with power capping."""
    d = _capped_training_scenario()
    d["sites"][0]["grid"]["import_capacity_mw"] = 0.93 * float(
        gw.simulate(_capped_training_scenario()).timeseries["facility_power_mw"].max()
    )
    sc = load_scenario(d)
    clock = Clock(pd.Timestamp(sc.start), sc.step_s, sc.n_steps)
    outs = []
    for handed in (True, False):
        _handlers, ctrl = core_mod._run(sc, sc.seed, clock, Fleet.from_scenario(sc), 12, set())
        if not handed:
            monkeypatch.setattr(controller_mod.FacilityController, "_held_flows", lambda self: {})
        flows = ctrl.finalize()
        outs.append((flows, ctrl.energy_output()))
        if handed:
            assert flows["cooling_capacity_kw"] is ctrl.ambient.cooling_capacity_kw
    (a, ea), (b, eb) = outs
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-15, atol=0, err_msg=key)
    assert ea.kpis == pytest.approx(eb.kpis, rel=1e-15)


# ---------------------------------------------------------------------------------------------- sleeping
def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """Count calls of ``FacilityController.<name>`` (the original still runs)."""
    calls: list[object] = []
    orig = getattr(controller_mod.FacilityController, name)

    def counted(self, *args, **kwargs):
        out = orig(self, *args, **kwargs)
        calls.append(out)
        return out

    monkeypatch.setattr(controller_mod.FacilityController, name, counted)
    return calls


def _awake(d: dict) -> gw.Result:
    cls = controller_mod.FacilityController
    cls.sleep_between_changes = False
    try:
        return gw.simulate(d)
    finally:
        cls.sleep_between_changes = True


def _assert_same_run(a: gw.Result, b: gw.Result) -> None:
    """The same run: every column, job, event and summary number (to rounding; in practice bit for bit)."""
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, rtol=1e-12, atol=1e-12)
    for name in ("jobs", "events"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert (ta is None) == (tb is None)
        if ta is not None:
            pd.testing.assert_frame_equal(ta, tb, rtol=1e-12, atol=1e-12)
    pd.testing.assert_series_equal(a.summary(), b.summary(), rtol=1e-12, atol=1e-12)


def _busy_training(step_s: int = 15, horizon_h: int = 72, cap_frac: float | None = None) -> dict:
    """A busy H100 pool (job mix, EASY backfill, Llama 3 failures) at short steps, optionally under a grid cap
    at ``cap_frac`` of the free run's peak."""
    d = small_scenario_dict(horizon_h=horizon_h, step_s=step_s)
    site = d["sites"][0]
    site["halls"] = [site["halls"][1]]
    site["halls"][0]["racks"][0]["count"] = 40  # 160 servers, 1,280 GPUs
    d["workloads"] = [
        {
            "kind": "training",
            "name": "fleet",
            "target": {"hall": "air"},
            "scheduler": {"policy": "easy_backfill"},
            "reliability": {"failures": "llama3"},
            "mix": {
                "jobs_per_day": 400.0,
                "gpu_counts": [8, 16, 64, 256, 512],
                "gpu_count_probs": [0.4, 0.3, 0.2, 0.07, 0.03],
            },
        }
    ]
    if cap_frac is not None:
        peak_mw = float(gw.simulate(d).timeseries["facility_power_mw"].max())
        site["grid"]["import_capacity_mw"] = cap_frac * peak_mw
    return d


@pytest.mark.parametrize("cap_frac", [None, 0.97, 0.9])
def test_sleeping_controller_runs_as_the_waking_one(
    monkeypatch: pytest.MonkeyPatch, cap_frac: float | None
) -> None:
    """A busy pool at 15-s steps, free and under grid caps that bind now and then or often: sleeping through
    decided blocks (the engine visiting their boundaries) gives the run of a controller that wakes at every
    block; it did sleep, and under a binding cap a visited boundary woke it."""
    d = _busy_training(cap_frac=cap_frac)
    visits = _counting(monkeypatch, "_visit")
    wakes = _counting(monkeypatch, "_wake")
    asleep = gw.simulate(d)
    assert len(visits) > 20
    if cap_frac == 0.9:
        assert asleep.summary()["hours_capped_h"] > 0
        assert len(wakes) > 0
    n_visits = len(visits)
    awake = _awake(d)
    assert len(visits) == n_visits  # (the waking controller never asks for a visit)
    _assert_same_run(asleep, awake)


def test_sleeping_controller_under_thermal_limits_and_unsound_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thermal case (a marginal dry-cooled hall throttled in the afternoons) and the re-run of unsound
    skips (slope bound zero under a binding cap: re-decided blocks forced) run as with a waking controller."""
    jobs = [{"name": "night", "gpus": 288, "duration_h": 60.0, "submit_h": 106.0}]
    d = _one_hall_training("dlc_dry", 0.95, "greensboro", jobs)
    visits = _counting(monkeypatch, "_visit")
    a = gw.simulate(d)
    assert _hall_throughput(a).min() < 0.999
    _assert_same_run(a, _awake(d))
    d = _capped_training_scenario()
    d["sites"][0]["grid"]["import_capacity_mw"] = 0.93 * float(
        gw.simulate(_capped_training_scenario()).timeseries["facility_power_mw"].max()
    )
    monkeypatch.setattr(
        controller_mod.FacilityController, "slope_hall", property(lambda self: np.zeros(self.g2h.shape[1]))
    )
    forced: list[int] = []
    orig_run = core_mod._run

    def recording_run(*args, **kwargs):
        forced.append(len(args[5]))
        return orig_run(*args, **kwargs)

    monkeypatch.setattr(core_mod, "_run", recording_run)
    b = gw.simulate(d)
    assert max(forced) > 0  # a run with forced re-decisions
    _assert_same_run(b, _awake(d))
    assert len(visits) > 0


def test_controller_sleeps_only_with_one_visiting_writer() -> None:
    """Sleeping needs exactly one event-driven writer visiting the boundaries and no workload running simpy
    processes: one training pool (with profile-only workloads) may, two pools or a service borrowing training
    nodes may not."""

    def can_sleep(d: dict) -> bool:
        sc = load_scenario(d)
        seen: list[bool] = []
        orig = controller_mod.FacilityController.process

        def spy(self):
            seen.append(self.can_sleep)
            return orig(self)

        controller_mod.FacilityController.process = spy  # type: ignore[method-assign]
        try:
            gw.simulate(sc)
        finally:
            controller_mod.FacilityController.process = orig  # type: ignore[method-assign]
        return seen[0]

    d = _capped_training_scenario()  # training + a utilization profile
    assert can_sleep(d)
    two = _capped_training_scenario()
    second = copy.deepcopy(two["workloads"][0])
    second["name"] = "mix2"
    second["target"] = {"hall": "air", "gpus": 160}
    second["jobs"] = second["jobs"][:3]
    two["workloads"].append(second)
    assert not can_sleep(two)
    assert not can_sleep(small_scenario_dict())  # no event-driven writer at all


def test_past_evaluated_once_when_it_ran_unconstrained(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before a decision on a site with a battery and gas, the steps since the last one are re-dispatched with
    the power drawn and at full throughput; where nothing was capped, paused or dark those are the same
    evaluation, made once: the run equals the one evaluating them twice (under a cap that binds, so both
    paths run)."""
    d = _busy_training(step_s=60, horizon_h=48)
    peak = float(gw.simulate(d).timeseries["facility_power_mw"].max())
    d["sites"][0]["grid"]["import_capacity_mw"] = round(0.9 * peak, 4)
    d["sites"][0]["energy"] = {
        "battery": {"energy_mwh": 0.1 * peak, "power_mw": 0.05 * peak},
        "generation": [{"kind": "gas", "name": "gt", "capacity_mw": 0.05 * peak, "min_load_frac": 0.0}],
    }
    answers = _counting(monkeypatch, "_ran_unconstrained")
    once = gw.simulate(d)
    assert True in answers and False in answers  # both paths taken
    assert once.summary()["hours_capped_h"] > 0 and once.timeseries["battery_discharge_mw"].sum() > 0
    monkeypatch.setattr(controller_mod.FacilityController, "_ran_unconstrained", lambda self, a, b: False)
    _assert_same_run(once, gw.simulate(d))


def test_sleeping_controller_with_progress_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """With progress, the run advances in chunks (``env.run(until=t)``, whose stop events fall between the
    visited boundaries): the same run as in one piece, with the controller asleep and woken as there."""
    d = _busy_training(cap_frac=0.9, horizon_h=48)
    wakes = _counting(monkeypatch, "_wake")
    one = gw.simulate(d)
    n_wakes = len(wakes)
    calls: list[float] = []
    chunked = gw.simulate(d, progress=lambda s, h: calls.append(s))
    assert len(calls) > 10 and n_wakes > 0 and len(wakes) == 2 * n_wakes
    _assert_same_run(one, chunked)


def test_controller_stays_awake_at_fractional_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """At steps that are not whole seconds the times a sleep would compute from where it began may differ in
    the last bit from block-by-block timeouts: the controller wakes at every block there."""
    visits = _counting(monkeypatch, "_visit")
    gw.simulate(_busy_training(step_s=15, horizon_h=12))
    assert visits
    visits.clear()
    d = _busy_training(step_s=15, horizon_h=12)
    d["step_s"] = 12.5
    gw.simulate(d)
    assert not visits


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    step_s=st.sampled_from([5, 15, 60, 300]),
    block_steps=st.sampled_from([1, 4, 12]),
    jobs_per_day=st.floats(50.0, 800.0),
    seed=st.integers(0, 1000),
    climate=st.sampled_from(["phoenix", "dublin", "singapore"]),
    cap_frac=st.one_of(st.none(), st.floats(0.85, 1.05)),
)
def test_property_sleeping_controller_runs_as_the_waking_one(
    step_s: int, block_steps: int, jobs_per_day: float, seed: int, climate: str, cap_frac: float | None
) -> None:
    """Random busy pools (job rates, seeds, climates, step lengths, feedback blocks, with and without a grid cap
    near the peak): the whole run with the controller sleeping through decided blocks equals the run with a
    controller that wakes at every block."""
    d = _busy_training(step_s=step_s, horizon_h=24)
    d["seed"] = seed
    d["sites"][0]["climate"] = {"kind": "named", "name": climate}
    d["workloads"][0]["mix"]["jobs_per_day"] = jobs_per_day
    if cap_frac is not None:
        peak_mw = float(gw.simulate(d).timeseries["facility_power_mw"].max())
        d["sites"][0]["grid"]["import_capacity_mw"] = cap_frac * peak_mw
    asleep = gw.simulate(d, feedback_block_steps=block_steps)
    cls = controller_mod.FacilityController
    cls.sleep_between_changes = False
    try:
        awake = gw.simulate(d, feedback_block_steps=block_steps)
    finally:
        cls.sleep_between_changes = True
    _assert_same_run(asleep, awake)
