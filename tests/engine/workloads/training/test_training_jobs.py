"""Tests for gigawatt.engine.workloads.training.jobs (job life cycle, accounting, job specs)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import simpy
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, FakeLedger, fail_config, run

from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingEngine, TrainingJobSpec
from gigawatt.engine.workloads.training.specs import job_specs
from gigawatt.perf.cluster_traces import JobMix, generate_job_mix
from gigawatt.physics.phases import Phase


def test_single_job_no_failures_exact_timing():
    job = TrainingJobSpec(
        "a", "p", n_gpus=24, work_s=10_000.0, checkpoint_interval_s=3000.0, checkpoint_write_s=50.0
    )
    _eng, led, jt, ev = run([POOL], [job])
    r = jt.iloc[0]
    # 3 checkpoints (at 3000, 6000, 9000 s of work), none after the last segment; no start-up cost without
    # a failure model
    assert r.n_checkpoints == 3
    assert_allclose(r.end_s, 10_000 + 3 * 50)
    assert r.state == "finished" and r.goodput_frac == pytest.approx(10_000 / 10_150)
    assert r.n_nodes == 3
    assert led.total(Phase.TRAIN_COMPUTE) == 0 and led.total(Phase.TRAIN_STALL) == 0
    # ledger time-integral equals the job's GPU-seconds by phase
    comp = led.integral(Phase.TRAIN_COMPUTE)
    stall = led.integral(Phase.TRAIN_STALL)
    assert_allclose(comp, 24 * 10_000)
    assert_allclose(stall, 24 * 150)
    assert list(ev.kind) == ["submit", "start", "checkpoint", "checkpoint", "checkpoint", "finish"]


def test_node_boundaries_and_groups():
    # 36 GPUs need 5 whole 8-GPU nodes: 4 from group 0 and 1 from group 1 (4 GPUs used there)
    job = TrainingJobSpec("a", "p", n_gpus=36, work_s=100.0)
    seen = {}

    def setup(env, eng):
        def probe():
            yield env.timeout(50)
            seen.update(eng.pool_nodes(0))
            seen["gpus"] = dict(eng.jobs[0].gpus_by_group)

        env.process(probe())

    run([POOL], [job], setup=setup)
    assert seen["allocated"] == 5 and seen["free"] == 3
    assert seen["gpus"] == {0: 32, 1: 4}


def test_rejected_job_counts_as_failed():
    _eng, _, jt, ev = run([POOL], [TrainingJobSpec("huge", "p", 1000, 10.0)])
    assert jt.iloc[0].state == "failed" and "rejected" in set(ev.kind)


def test_job_conservation_every_step_and_determinism():
    pool = PoolSpec("p", 0, (0, 1), (40, 40), 8, spare_nodes=4)
    mix = JobMix(jobs_per_day=60.0, priority_levels=(0, 1, 2))
    gen = generate_job_mix(mix, 10 * 86400, np.random.default_rng(11), max_gpus=512)
    jobs = [
        TrainingJobSpec(f"j{i}", "p", int(n), float(w), submit_s=float(s), priority=int(pr), preemptible=True)
        for i, (s, n, w, pr) in enumerate(
            zip(gen["submit_s"], gen["n_gpus"], gen["work_s"], gen["priority"], strict=True)
        )
    ]
    out = []
    for _ in range(2):
        eng, _led, jt, ev = run(
            [pool],
            jobs,
            fail_config(x=20.0, policy="easy_backfill", preemption=True),
            until=12 * 86400.0,
            step_s=300.0,
            seed=5,
        )
        s = eng.samples
        assert s["submitted"][-1] == len(jobs)
        np.testing.assert_array_equal(
            s["submitted"], s["finished"] + s["running"] + s["queued"] + s["failed"]
        )
        assert s["allocated_gpus"].max() <= 80 * 8
        assert (jt.state == "finished").sum() == s["finished"][-1]
        out.append((jt, ev))
    import pandas as pd

    pd.testing.assert_frame_equal(out[0][0], out[1][0])
    pd.testing.assert_frame_equal(out[0][1], out[1][1])


def test_bad_specs():
    with pytest.raises(ValueError, match="n_gpus"):
        TrainingJobSpec("a", "p", 0, 1.0)
    with pytest.raises(ValueError, match="work_s"):
        TrainingJobSpec("a", "p", 1, math.inf)
    with pytest.raises(ValueError, match="spare_nodes"):
        PoolSpec("p", 0, (0,), (2,), spare_nodes=3)
    with pytest.raises(ValueError, match="policy"):
        SchedulerConfig(policy="sjf")  # type: ignore[arg-type]
    env = simpy.Environment()
    with pytest.raises(ValueError, match="unknown pool"):
        TrainingEngine(
            env, [POOL], [TrainingJobSpec("a", "zz", 1, 1.0)], FakeLedger(), np.random.default_rng()
        )
    with pytest.raises(ValueError, match="twice"):
        TrainingEngine(
            env, [POOL], [TrainingJobSpec("a", "p", 1, 1.0)] * 2, FakeLedger(), np.random.default_rng()
        )


def test_job_specs_of_a_mix_equal_specs_built_one_at_a_time():
    """``job_specs`` gives the specs the dataclass builds (every field, equality and hash), frozen as they are;
    a bad column raises the error of its first bad job."""
    names, gpus, work, submit, prio = (
        ["a", "b", "c"],
        [8, 16, 1024],
        [10.0, 2.5e5, 3.0],
        [0.0, 5.0, 9.5],
        [0, 2, 1],
    )
    fast = job_specs("p", names, gpus, work, submit, prio, 45.0, True)
    slow = [
        TrainingJobSpec(n, "p", g, w, s, pr, checkpoint_write_s=45.0, preemptible=True)
        for n, g, w, s, pr in zip(names, gpus, work, submit, prio, strict=True)
    ]
    assert fast == slow and [hash(s) for s in fast] == [hash(s) for s in slow]
    assert [repr(s) for s in fast] == [repr(s) for s in slow]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast[0].n_gpus = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="'b': work_s"):
        job_specs("p", names, gpus, [1.0, math.nan, 2.0], submit, prio, 45.0, True)
    with pytest.raises(ValueError, match="'c': n_gpus"):
        job_specs("p", names, [8, 8, 0], work, submit, prio, 45.0, True)
    with pytest.raises(ValueError, match="same length"):
        job_specs("p", names, gpus[:2], work, submit, prio, 45.0, True)
    assert job_specs("p", [], [], [], [], [], 45.0, True) == []
