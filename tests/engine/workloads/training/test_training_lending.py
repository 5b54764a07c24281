"""Tests for gigawatt.engine.workloads.training.lending (nodes lent to other workloads)."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, run

from gigawatt.engine.workloads.training import TrainingJobSpec


def test_acquire_nodes_hook_preempts_training():
    jobs = [
        TrainingJobSpec(
            "t", "p", 64, 1000.0, preemptible=True, checkpoint_interval_s=100.0, checkpoint_write_s=0.0
        )
    ]
    got = {}

    def setup(env, eng):
        def inference():
            yield env.timeout(250)
            got.update(eng.acquire_nodes(0, 2, preempt=True))
            yield env.timeout(100)
            eng.release_nodes(0, got)

        env.process(inference())

    eng, _, jt, _ = run([POOL], jobs, setup=setup)
    assert sum(got.values()) == 2
    r = jt.iloc[0]
    assert r.n_preemptions == 1 and r.state == "finished"
    assert_allclose(r.lost_work_gpu_hours, 64 * 50 / 3600)  # work since the checkpoint at 200 s
    assert_allclose(r.end_s, 350 + 1000 - 200)
    with pytest.raises(ValueError):
        eng.release_nodes(0, {0: 1})
