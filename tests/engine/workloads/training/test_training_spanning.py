"""Jobs across halls and sites: packing placement, communication factor, accounting, power loss of one site."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import run

from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingJobSpec
from gigawatt.engine.workloads.training.spanning import pack_nodes, span_factor
from gigawatt.engine.workloads.training.specs import SpanLink, SpanSpec
from gigawatt.perf import crosssite as cs
from gigawatt.physics.phases import Phase

# groups 0, 1: hall 0 (site 0); group 2: hall 1 (site 0); group 3: hall 2 (site 1); 4 nodes of 8 GPUs each
GROUP_HALL = (0, 0, 1, 2)
GROUP_SITE = (0, 0, 0, 1)
CAMPUS = SpanLink(bandwidth_gbit_per_s_per_gpu=50.0, latency_s=1e-5)
WAN = SpanLink(bandwidth_gbit_per_s=100.0, latency_s=0.01, pair_latency_s=(((0, 1), 0.01),))
SPAN = SpanSpec(group_site=GROUP_SITE, campus=CAMPUS, wan=WAN)


def _pool(span: SpanSpec | None = SPAN) -> PoolSpec:
    return PoolSpec(
        "p",
        hall_idx=0,
        group_idx=(0, 1, 2, 3),
        nodes_per_group=(4, 4, 4, 4),
        gpus_per_node=8,
        group_hall=GROUP_HALL,
        span=span,
    )


def _job(name: str, nodes: int, work_s: float = 10_000.0, **kw) -> TrainingJobSpec:
    return TrainingJobSpec(
        name, "p", n_gpus=8 * nodes, work_s=work_s, model_params=1e9, step_s=1.0, checkpoint_write_s=0.0, **kw
    )


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        (3, {2: 3}),  # fits every hall: best fit is hall 1 (4 free; hall 2 ties later in pool order)
        (6, {0: 4, 1: 2}),  # only hall 0 (8 free) holds it
        (10, {0: 4, 1: 4, 2: 2}),  # no hall; site 0 (12 free), fullest hall first
        (14, {0: 4, 1: 4, 2: 4, 3: 2}),  # no site: the fullest site, then the other
    ],
)
def test_pack_nodes_prefers_one_hall_then_one_site(need: int, expected: dict[int, int]) -> None:
    free = {0: 4, 1: 4, 2: 4, 3: 4}
    assert pack_nodes(free, (0, 1, 2, 3), GROUP_HALL, GROUP_SITE, need) == expected


def test_pack_nodes_uses_only_free_nodes() -> None:
    free = {0: 1, 1: 0, 2: 4, 3: 4}  # hall 0 has 1 free node, hall 1 four, hall 2 four
    assert pack_nodes(free, (0, 1, 2, 3), GROUP_HALL, GROUP_SITE, 5) == {2: 4, 0: 1}
    with pytest.raises(RuntimeError, match="without enough free nodes"):
        pack_nodes(free, (0, 1, 2, 3), GROUP_HALL, GROUP_SITE, 10)


def test_span_factor_by_hand() -> None:
    pool = _pool()
    # one hall: no boundary
    assert span_factor(SPAN, pool, {0: 32, 1: 32}, 1e9, 1.0) == (1.0, 1, 1)
    # two halls of site 0, 32 GPUs each: campus ring of 2 GB (1e9 params x 2 B) at 50 x 32 Gbit/s
    f, nh, ns = span_factor(SPAN, pool, {0: 32, 2: 32}, 1e9, 1.0)
    campus = 2 * 0.5 * 8 * 2e9 / (1e9 * 1600) + 2 * 1e-5
    assert (nh, ns) == (2, 1)
    assert f == pytest.approx(1.0 / (1.0 + campus), rel=1e-12)
    # hall 1 (site 0) and hall 2 (site 1): no campus ring (one hall per site), WAN ring at 100 Gbit/s
    f, nh, ns = span_factor(SPAN, pool, {2: 32, 3: 16}, 1e9, 1.0)
    wan = 2 * 0.5 * 8 * 2e9 / 100e9 + 2 * 0.01
    assert (nh, ns) == (2, 2)
    assert f == pytest.approx(1.0 / (1.0 + wan), rel=1e-12)
    # unknown model size: no penalty, but the span is still reported
    assert span_factor(SPAN, pool, {2: 32, 3: 16}, None, None) == (1.0, 2, 2)


def test_job_across_sites_progresses_at_its_comm_factor_and_accounts_for_it() -> None:
    big = _job("big", 14)  # must span both sites
    _eng, led, jt, _ev = run([_pool()], [big])
    row = jt.set_index("job").loc["big"]
    # placement {0: 4, 1: 4, 2: 4, 3: 2}: campus ring over halls 0 (64 GPUs) and 1 (32 GPUs) of site 0,
    # WAN ring between site 0 (96 GPUs) and site 1 (16 GPUs)
    campus = float(cs.ring_allreduce_s(2e9, 2, 50.0 * 32, 1e-5))
    wan = float(cs.ring_allreduce_s(2e9, 2, 100.0, 0.01))
    f = float(cs.span_throughput_factor(1.0, campus, wan))
    assert row.spanned == "sites" and row.span_halls == 3 and row.span_sites == 2
    assert row.spanned_halls == (0, 1, 2)  # hall indices (named by the workload's output)
    assert_allclose(row.end_s, 10_000.0 / f, rtol=1e-12)
    assert_allclose(row.comm_factor, f, rtol=1e-12)
    assert_allclose(row.comm_gpu_hours, 112 / 3600 * 10_000.0 * (1 / f - 1), rtol=1e-9)
    kinds = ("useful", "lost_work", "checkpoint", "restart", "throttled", "paused", "comm")
    assert_allclose(sum(row[f"{k}_gpu_hours"] for k in kinds), row.gpu_hours, rtol=1e-12)
    assert row.throttled_gpu_hours == pytest.approx(0.0, abs=1e-9)
    # the GPUs draw compute power for the whole (longer) run: lockstep, communication included
    assert_allclose(led.integral(Phase.TRAIN_COMPUTE), 112 * 10_000.0 / f, rtol=1e-12)


def test_jobs_that_never_span_reproduce_the_pool_without_links() -> None:
    jobs = [_job("a", 4), _job("b", 8, work_s=5_000.0, submit_s=100.0), _job("c", 2, submit_s=200.0)]
    cols = ["start_s", "end_s", "gpu_hours", "useful_gpu_hours", "queue_wait_s", "goodput_frac"]
    _, _, with_links, _ = run([_pool()], jobs)
    _, _, without, _ = run([_pool(None)], jobs)
    assert (with_links["comm_gpu_hours"] == 0.0).all() and (with_links["spanned"] == "").all()
    assert_allclose(with_links[cols].to_numpy(float), without[cols].to_numpy(float), rtol=0, atol=0)


def test_backfill_and_failures_keep_the_identity_with_spanning_jobs() -> None:
    from gigawatt.perf.reliability import llama3_failure_model

    cfg = SchedulerConfig(policy="easy_backfill", failures=llama3_failure_model(60.0, 120.0).scaled(2000.0))
    jobs = [_job(f"j{i}", n, work_s=20_000.0, submit_s=500.0 * i) for i, n in enumerate([14, 3, 6, 10, 2])]
    _eng, _led, jt, _ev = run([_pool()], jobs, cfg, until=400_000.0, seed=3)
    kinds = ("useful", "lost_work", "checkpoint", "restart", "throttled", "paused", "comm")
    total = sum(jt[f"{k}_gpu_hours"] for k in kinds)
    assert_allclose(total, jt["gpu_hours"], rtol=1e-9, atol=1e-9)
    assert jt["n_interruptions"].sum() > 0
    assert (jt["comm_gpu_hours"] >= -1e-9).all() and (jt["comm_factor"] <= 1.0).all()
    assert jt.set_index("job").loc["j0", "spanned"] == "sites"


def test_dark_site_stops_only_the_jobs_touching_it() -> None:
    a = _job("a", 4, work_s=10_000.0)  # best fit: hall 1 (site 0) ... see placement below
    b = _job("b", 8, work_s=10_000.0)  # hall 0
    c = _job("c", 4, work_s=10_000.0)  # the last free hall: hall 2 (site 1)

    def setup(env, eng):
        for t_s, powered in ((3_000.0, False), (8_000.0, True)):
            ev = env.timeout(t_s)
            ev.callbacks.append(lambda _e, p=powered: eng.set_power(2, p))

    eng, _led, jt, ev = run([_pool()], [a, b, c], setup=setup)
    rows = jt.set_index("job")
    # a (4 nodes) took hall 1 (best fit), b hall 0, c hall 2: only c is on the dark site
    assert rows.loc["a", "n_interruptions_power"] == 0 and rows.loc["b", "n_interruptions_power"] == 0
    assert_allclose(rows.loc[["a", "b"], "end_s"], [10_000.0, 10_000.0])
    assert rows.loc["c", "n_interruptions_power"] == 1
    assert_allclose(rows.loc["c", "lost_work_gpu_hours"], 3_000.0 * 32 / 3600)  # no checkpoint yet
    # c waits for power (no other hall is free) and restarts when it returns
    starts = ev[(ev["kind"] == "start") & (ev["job"] == "c")]["time_s"].to_numpy()
    assert_allclose(starts, [0.0, 8_000.0])
    assert_allclose(rows.loc["c", "end_s"], 18_000.0)
    lost = ev[ev["kind"] == "power_lost"]
    assert list(lost["group_idx"]) == [3]
    assert eng.pool_nodes(0)["free"] == 16


def test_requeued_job_restarts_in_a_lit_hall_while_its_site_is_dark() -> None:
    c = _job("c", 4, work_s=10_000.0)  # alone: best fit puts it in hall 1 (site 0) ... move it to hall 2

    def setup(env, eng):
        ev = env.timeout(1_000.0)
        ev.callbacks.append(lambda _e: eng.set_power(1, False))  # hall 1 goes dark for good

    _eng, _led, jt, ev = run([_pool()], [c], setup=setup, until=50_000.0)
    row = jt.set_index("job").loc["c"]
    starts = ev[(ev["kind"] == "start") & (ev["job"] == "c")]["time_s"].to_numpy()
    assert_allclose(starts, [0.0, 1_000.0])  # restarted at once on a lit hall
    assert row.state == "finished" and row.span_halls == 1
    assert_allclose(row.end_s, 11_000.0)
    assert np.isfinite(row.comm_factor)


def _site(name: str, lat: float, lon: float, outage: bool = False) -> dict:
    grid: dict = {"energy_price_usd_per_mwh": 50.0}
    if outage:  # disconnected from 04:00 to 08:00 (no backup): its hall goes dark
        grid["curtailment_windows"] = [{"start": "2026-03-01T04:00:00", "end": "2026-03-01T08:00:00"}]
    return {
        "name": name,
        "location": {"latitude_deg": lat, "longitude_deg": lon, "country_code": "US"},
        "climate": {"kind": "constant", "dry_bulb_c": 15.0, "relative_humidity_frac": 0.5},
        "grid": grid,
        "halls": [
            {
                "name": f"{name}-h",
                "cooling": {"technology": "air"},
                "racks": [
                    {"name": "r", "count": 1, "servers_per_rack": 4, "server": {"accelerator": "H100-SXM"}}
                ],
            }
        ],
    }


def test_site_outage_in_simulate_stops_the_spanning_job_not_the_other_site() -> None:
    import gigawatt as gw

    sc = gw.load_scenario(
        {
            "name": "two-sites",
            "start": "2026-03-01T00:00:00",
            "horizon_h": 24,
            "step_s": 300,
            "seed": 1,
            "sites": [_site("wi", 42.7, -87.9), _site("atl", 33.75, -84.39, outage=True)],
            "workloads": [
                {
                    "kind": "training",
                    "name": "pool",
                    "target": {"sites": ["wi", "atl"]},
                    "cross_site": {"bandwidth_gbit_per_s": 400, "method": "diloco", "compression": 4},
                    "reliability": {"failures": "none"},
                    "jobs": [
                        {"name": "local", "gpus": 8, "model_params": 7e9, "duration_h": 8},
                        {"name": "wide", "gpus": 48, "model_params": 70e9, "duration_h": 8},
                    ],
                }
            ],
        }
    )
    res = gw.simulate(sc)
    jobs = res.jobs.set_index("job")
    assert jobs.loc["wide", "spanned"] == "sites" and 0 < jobs.loc["wide", "comm_factor"] < 1
    assert (
        jobs.loc["wide", "spanned_halls"] == "wi/wi-h;atl/atl-h" and jobs.loc["local", "spanned_halls"] == ""
    )
    assert jobs.loc["wide", "n_interruptions_power"] == 1
    # "local" starts first, in the first of two equally free halls (Wisconsin, which keeps its power);
    # "wide" then needs both sites
    assert jobs.loc["local", "spanned"] == "" and jobs.loc["local", "n_interruptions_power"] == 0
    assert jobs.loc["local", "end_s"] == pytest.approx(8 * 3600 + 300, rel=1e-9)  # + start-up (restart_s)
    ev = res.events
    assert set(ev.loc[ev["kind"] == "power_lost", "rack_group"]) == {"atl/atl-h/r"}
    kpis = res.summary()
    assert kpis["pool:comm_gpu_hours"] == pytest.approx(jobs["comm_gpu_hours"].sum(), rel=1e-12)
    assert kpis["pool:jobs_spanning_sites"] == pytest.approx(1.0)


def test_replacement_node_comes_from_nearby() -> None:
    eng, _, _, _ = run([_pool()], [])
    pool = eng.pools[0]
    pool.free.update({0: 2, 1: 0, 2: 4, 3: 0})
    assert eng._take_replacement_near(pool, 1) == 0  # same hall (group 0), before site or elsewhere
    pool.free[0] = 0
    assert eng._take_replacement_near(pool, 1) == 2  # same site (hall 1)
    assert eng._take_replacement_near(pool, 3) == 2  # nothing in site 1: anywhere
    pool.spare[2] = 1
    assert eng._take_replacement_near(pool, 2) == 2 and pool.spare[2] == 0  # a spare first
    pool.free.update({0: 0, 1: 0, 2: 0, 3: 0})
    assert eng._take_replacement_near(pool, 0) is None


def test_crosssite_example_scenario() -> None:
    from pathlib import Path

    import gigawatt as gw

    path = Path(__file__).resolve().parents[4] / "examples" / "scenarios" / "crosssite_training.yaml"
    res = gw.simulate(gw.load_scenario(path))
    jobs = res.jobs.set_index("job")
    run = jobs.loc["pretrain-70b"]
    assert run.state == "finished" and run.spanned == "sites" and run.n_interruptions_power == 1
    assert 0.99 < run.comm_factor < 1.0  # DiLoCo, H = 100, int8 at 800 Gbit/s
    mix = jobs.drop(index="pretrain-70b")
    assert (mix["span_sites"] <= 1).all()  # small jobs are packed into one site
    lost = res.events[res.events["kind"] == "power_lost"]
    assert list(lost["rack_group"]) == ["atlanta/fw-2/dgx"]
    assert res.summary()["fairwater:jobs_spanning_sites"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(4))
def test_random_runs_with_failures_and_dark_halls_conserve_nodes_and_gpu_hours(seed: int) -> None:
    from gigawatt.perf.reliability import llama3_failure_model

    rng = np.random.default_rng(seed)
    pool = PoolSpec("p", 0, (0, 1, 2, 3), (4, 4, 4, 4), 8, spare_nodes=1, group_hall=GROUP_HALL, span=SPAN)
    jobs = [
        _job(f"j{i}", int(rng.integers(1, 15)), work_s=float(rng.uniform(2e3, 4e4)), submit_s=float(t))
        for i, t in enumerate(np.sort(rng.uniform(0, 2e5, 40)))
    ]
    cfg = SchedulerConfig(
        policy=("fifo", "priority", "easy_backfill")[seed % 3],
        failures=llama3_failure_model(60.0, 120.0).scaled(30.0),  # ~ one failure per 13 h on 128 GPUs
    )
    bad: list[str] = []

    def setup(env, eng):
        for t in np.sort(rng.uniform(0, 2.5e5, 30)):
            hall, powered = int(rng.integers(0, 3)), bool(rng.integers(0, 2))
            ev = env.timeout(float(t))
            ev.callbacks.append(lambda _e, h=hall, p=powered: eng.set_power(h, p))

        def probe():
            while True:
                yield env.timeout(613.0)
                n = eng.pool_nodes(0)
                parts = ("allocated", "free", "spare", "repair", "replacing", "external", "unpowered")
                if sum(n[k] for k in parts) != n["total"] or min(n.values()) < 0:
                    bad.append(f"{env.now}: {n}")

        env.process(probe())

    until = 4e5
    eng, _led, jt, _ev = run([pool], jobs, cfg, until=until, seed=seed, setup=setup)
    assert not bad, bad[:3]
    kinds = ("useful", "lost_work", "checkpoint", "restart", "throttled", "paused", "comm")
    assert_allclose(sum(jt[f"{k}_gpu_hours"] for k in kinds), jt["gpu_hours"], rtol=1e-9, atol=1e-9)
    assert jt["n_interruptions_power"].sum() > 0 and (jt["spanned"] != "").any()
    c = eng.counts()
    assert c["submitted"] == c["finished"] + c["running"] + c["queued"] + c["failed"] == 40


def test_nodes_commissioned_in_a_dark_hall_wait_for_its_power() -> None:
    inf = float("inf")
    pool = PoolSpec(
        "p",
        0,
        (0, 1, 2, 3),
        (4, 4, 4, 4),
        8,
        group_hall=GROUP_HALL,
        span=SPAN,
        group_online_s=((-inf, inf), (-inf, inf), (-inf, inf), (2_000.0, inf)),  # hall 2 joins at 2,000 s
    )
    a = _job("a", 12)  # fills site 0
    b = _job("b", 4, submit_s=2_500.0)  # only hall 2 could hold it

    def setup(env, eng):
        for t_s, powered in ((1_000.0, False), (5_000.0, True)):
            ev = env.timeout(t_s)
            ev.callbacks.append(lambda _e, p=powered: eng.set_power(2, p))

    _eng, _, jt, ev = run([pool], [a, b], setup=setup)
    assert_allclose(jt.set_index("job").loc["b", "start_s"], 5_000.0)
    assert "nodes_commissioned" in set(ev["kind"])
