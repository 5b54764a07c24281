"""Tests for gigawatt.engine.workloads.training.scheduling (FIFO, EASY backfill, priority, preemption)."""

from __future__ import annotations

import heapq
import math

import numpy as np
import simpy
from numpy.testing import assert_allclose
from tests.engine.workloads.training.helpers import POOL, FakeLedger, fail_config, run

from gigawatt.engine.workloads.training import PoolSpec, SchedulerConfig, TrainingEngine, TrainingJobSpec
from gigawatt.physics.phases import Phase


def test_fifo_blocks_and_easy_backfill_fills_without_delaying_head():
    jobs = [
        TrainingJobSpec("big1", "p", 40, 1000.0, submit_s=0.0),  # 5 of 8 nodes
        TrainingJobSpec("big2", "p", 64, 1000.0, submit_s=1.0),  # needs all 8: waits for big1
        TrainingJobSpec("small_short", "p", 8, 500.0, submit_s=2.0),  # fits now, ends before big1
        TrainingJobSpec("small_long", "p", 8, 5000.0, submit_s=3.0),  # fits now but would delay big2
    ]
    _, _, fifo, _ = run([POOL], jobs, SchedulerConfig(policy="fifo"))
    _, _, easy, ev = run([POOL], jobs, SchedulerConfig(policy="easy_backfill"))
    f = fifo.set_index("job")
    e = easy.set_index("job")
    assert f.loc["small_short", "start_s"] == 2000.0  # behind big2 (FIFO)
    assert e.loc["small_short", "start_s"] == 2.0  # backfilled
    assert e.loc["big2", "start_s"] == f.loc["big2", "start_s"] == 1000.0  # head not delayed
    assert e.loc["small_long", "start_s"] >= 1000.0
    assert "backfill" in set(ev.kind)


def test_priority_order_and_preemption():
    jobs = [
        TrainingJobSpec(
            "low",
            "p",
            64,
            1000.0,
            submit_s=0.0,
            priority=0,
            preemptible=True,
            checkpoint_interval_s=300.0,
            checkpoint_write_s=0.0,
        ),
        TrainingJobSpec("mid", "p", 64, 100.0, submit_s=10.0, priority=1),
        TrainingJobSpec("high", "p", 64, 100.0, submit_s=20.0, priority=5),
    ]
    _, _, jt, _ = run([POOL], jobs, SchedulerConfig(policy="priority"))
    t = jt.set_index("job")
    assert t.loc["high", "start_s"] == 1000.0 and t.loc["mid", "start_s"] == 1100.0  # priority, not FIFO
    _, _, jt, ev = run([POOL], jobs, SchedulerConfig(policy="priority", preemption=True))
    t = jt.set_index("job")
    assert t.loc["mid", "start_s"] == 10.0  # preempted "low" at t=10 (progress 10 s, last checkpoint 0)
    assert t.loc["low", "n_preemptions"] == 1
    assert_allclose(t.loc["low", "lost_work_gpu_hours"], 64 * 10 / 3600)
    assert t.loc["high", "start_s"] == 110.0  # mid is not preemptible
    assert_allclose(t.loc["low", "end_s"], 210 + 1000)
    assert (ev.kind == "preemption").sum() == 1


def test_preemption_inside_a_checkpoint_loses_the_segment():
    # preempted at 130 s, inside the first write (100-150 s): the checkpoint never completed, so 100 s of
    # work are lost and the job restarts from zero; nothing else runs, so it restarts at once
    job = TrainingJobSpec(
        "a", "p", 8, 300.0, checkpoint_interval_s=100.0, checkpoint_write_s=50.0, preemptible=True
    )

    def setup(env, eng):
        def ctl():
            yield env.timeout(130)
            eng.preempt(0, cause="test")

        env.process(ctl())

    _, led, jt, ev = run([POOL], [job], setup=setup)
    r = jt.iloc[0]
    assert_allclose(r.lost_work_gpu_hours, 8 * 100 / 3600)
    assert r.n_preemptions == 1 and r.state == "finished"
    assert_allclose(r.end_s, 130 + 300 + 2 * 50)
    assert_allclose(r.checkpoint_gpu_hours, 8 * (30 + 100) / 3600)
    assert list(ev.loc[ev.kind == "checkpoint", "time_s"]) == [280.0, 430.0]
    assert led.total(Phase.TRAIN_STALL) == 0 and led.total(Phase.TRAIN_COMPUTE) == 0


def _check_maintained_structures(eng) -> None:
    """The structures kept for backfill and failure candidates match what they summarise, recomputed."""
    for pool in eng.pools:
        armed = sorted((j.seg_t_fin, j.n_nodes, j.idx) for j in pool.running.values() if j.seg_active)
        assert pool.seg_ends == armed
        assert set(pool.unarmed) == {i for i, j in pool.running.items() if not j.seg_active}
        queued = [eng.jobs[idx] for _key, idx in pool.queue]
        assert pool.q_nodes == [j.n_nodes for j in queued]
        assert pool.q_prio == [j.spec.priority for j in queued]
        assert all(r >= 0.0 for r in pool.q_rem_s) and len(pool.q_rem_s) == len(pool.q_ckpt_s) == len(queued)
        # running jobs' GPUs end to end in ``running`` order: every GPU slot maps to the job a scan finds
        acc = 0
        for job in pool.running.values():
            for u in (acc, acc + job.spec.n_gpus - 0.5):
                hit, before = pool.job_at_gpu(float(u))
                assert hit is job and before == acc
            acc += job.spec.n_gpus
        assert acc == pool.alloc_gpus


def test_backfill_and_failure_structures_stay_consistent_through_a_busy_run():
    """A busy EASY-backfill pool with failures, restarts and repairs: checked every simulated 20 minutes."""
    rng = np.random.default_rng(3)
    pool = PoolSpec(
        "p", hall_idx=0, group_idx=(0, 1), nodes_per_group=(24, 24), gpus_per_node=8, spare_nodes=2
    )
    jobs = [
        TrainingJobSpec(
            f"j{i}",
            "p",
            int(rng.choice([8, 16, 64, 128, 256])),
            float(rng.uniform(600.0, 20_000.0)),
            submit_s=float(rng.uniform(0.0, 4 * 86400.0)),
            priority=int(rng.integers(0, 2)),
            checkpoint_write_s=30.0,
        )
        for i in range(300)
    ]
    checks = [0]

    def setup(env, eng):
        def watch():
            while True:
                yield env.timeout(1200.0)
                eng._sync()
                _check_maintained_structures(eng)
                checks[0] += 1

        env.process(watch())

    cfg = fail_config(x=200.0, policy="easy_backfill")
    _, _, table, ev = run([pool], jobs, cfg, until=5 * 86400.0, setup=setup)
    assert checks[0] > 300
    assert {"backfill", "failure", "node_repaired"} <= set(ev.kind)  # the structures were exercised
    assert (table.state == "finished").sum() > 100


class _ReferenceBackfillEngine(TrainingEngine):
    """The engine with the earlier, array-based EASY backfill pass (kept here as the reference it must match)."""

    def _backfill(self, pool, head):
        free = pool.n_free
        stop = 1 + self.config.backfill_depth
        nodes = pool.q_nodes[1:stop]
        if free <= 0 or not nodes or min(nodes) > free:
            return False
        ends = pool.seg_ends
        if pool.unarmed:
            moving = sorted(
                (self._expected_end_s(j, self._rate(j)), j.n_nodes, j.idx) for j in pool.unarmed.values()
            )
            ends = heapq.merge(pool.seg_ends, moving)
        avail, shadow_s = free, math.inf
        for row in ends:
            avail += row[1]
            if avail >= head.n_nodes:
                shadow_s = row[0]
                break
        extra = avail - head.n_nodes if math.isfinite(shadow_s) else 0
        window = pool.queue[1:stop]
        prio = np.array(pool.q_prio[1:stop])
        rate = np.empty(prio.size)
        for p, k in zip(*np.unique(prio, return_index=True), strict=True):
            rate[prio == p] = max(self._rate(self.jobs[window[int(k)][1]]), 1e-3)
        end = self._now + np.array(pool.q_rem_s[1:stop]) / rate + np.array(pool.q_ckpt_s[1:stop])
        end_ok = end + self._startup_s <= shadow_s
        n = np.array(nodes)
        started, lo = False, 0
        while free > 0 and lo < n.size:
            ok = (n[lo:] <= free) & (end_ok[lo:] | (n[lo:] <= extra))
            k = int(ok.argmax())
            if not ok[k]:
                break
            k += lo
            job = self.jobs[window[k][1]]
            if not end_ok[k]:
                extra -= job.n_nodes
            free -= job.n_nodes
            self._start(pool, job)
            self._event("backfill", job, 0, -1)
            started, lo = True, k + 1
        return started


def test_backfill_pass_takes_the_same_decisions_as_the_reference_pass():
    """A busy two-priority EASY-backfill pool with failures, repairs and throttling (rates differ by priority):
    the engine's backfill pass starts the same jobs at the same times as the earlier array-based pass."""
    rng = np.random.default_rng(11)
    pool = PoolSpec(
        "p", hall_idx=0, group_idx=(0, 1), nodes_per_group=(32, 32), gpus_per_node=8, spare_nodes=1
    )
    jobs = [
        TrainingJobSpec(
            f"j{i}",
            "p",
            int(rng.choice([8, 16, 32, 64, 128, 384])),
            float(rng.uniform(600.0, 30_000.0)),
            submit_s=float(rng.uniform(0.0, 4 * 86400.0)),
            priority=int(rng.integers(0, 2)),
            checkpoint_write_s=30.0,
        )
        for i in range(500)
    ]
    cfg = fail_config(x=100.0, policy="easy_backfill", backfill_depth=20)

    def throttle(env, eng):
        def ctl():
            for k in range(40):
                yield env.timeout(9000.0)
                eng.set_throughput(0, 0.7 if k % 2 else 1.0, {0: 0.5} if k % 3 else {})

        env.process(ctl())

    tables = []
    for cls in (TrainingEngine, _ReferenceBackfillEngine):
        env = simpy.Environment()
        eng = cls(env, [pool], jobs, FakeLedger(), np.random.default_rng(5), cfg, horizon_s=5 * 86400.0)
        throttle(env, eng)
        env.run(until=5 * 86400.0)
        eng.finalize()
        tables.append((eng.jobs_table(), eng.events_table()))
    (jt, ev), (jt_ref, ev_ref) = tables
    assert (ev.kind == "backfill").sum() > 20 and (ev.kind == "failure").sum() > 20  # both paths exercised
    for col in ("state", "n_nodes", "n_checkpoints", "n_interruptions", "n_preemptions"):
        assert list(jt[col]) == list(jt_ref[col]), col
    for col in ("start_s", "end_s", "queue_wait_s", "gpu_hours"):
        # the same decisions give the same times (a different start would move them by seconds at least)
        assert_allclose(jt[col].to_numpy(), jt_ref[col].to_numpy(), rtol=1e-12, atol=1e-9, equal_nan=True)
    assert list(ev.kind) == list(ev_ref.kind) and list(ev.job) == list(ev_ref.job)


def test_busy_pool_takes_the_recorded_decisions():
    """A busy three-priority EASY-backfill pool with failures, repairs, idle-node failures and requeues, whose
    submissions tie (a 10-minute grid), come out of job order and partly fall before the start (clamped to it):
    the events and job table match the numbers recorded with the engine before the per-event speed work
    (December 2026: all submissions in the heap from the start, the GPU-slot lookup by a cumulative sum per
    candidate, the backfill window re-read per pass). Orders are compared through integer fingerprints
    (sum of position × (job index + 2) over the events of a kind), times through sums."""
    rng = np.random.default_rng(2026)
    pool = PoolSpec(
        "p", hall_idx=0, group_idx=(0, 1, 2), nodes_per_group=(16, 16, 16), gpus_per_node=8, spare_nodes=2
    )
    jobs = [
        TrainingJobSpec(
            f"j{i}",
            "p",
            int(rng.choice([8, 16, 48, 64, 128, 200])),
            float(rng.uniform(600.0, 8_000.0)),
            submit_s=float(600.0 * rng.integers(0, 480)),
            priority=int(rng.integers(0, 3)),
            checkpoint_write_s=30.0,
        )
        for i in range(300)
    ]
    cfg = fail_config(x=150.0, policy="easy_backfill", backfill_depth=30)
    t0, until = 1800.0, 1800.0 + 6 * 86400.0  # the engine starts at 30 min: three submissions are clamped
    env = simpy.Environment(initial_time=t0)
    eng = TrainingEngine(env, [pool], jobs, FakeLedger(), np.random.default_rng(7), cfg, horizon_s=until)
    env.run(until=until)
    eng.finalize()
    jt, ev = eng.jobs_table(), eng.events_table()
    counts = {str(k): int(v) for k, v in ev.kind.value_counts().items()}
    assert counts == {
        "backfill": 162,
        "checkpoint": 1069,
        "failure": 67,
        "finish": 288,
        "idle_node_down": 15,
        "maintenance": 11,
        "node_repaired": 68,
        "requeue": 2,
        "restart": 76,
        "start": 291,
        "submit": 300,
    }
    ji = ev.job_idx.to_numpy()
    fingerprints = {}
    for kind in ("submit", "start", "backfill", "failure", "node_repaired"):
        m = (ev.kind == kind).to_numpy()
        fingerprints[kind] = int((np.arange(1, m.sum() + 1) * (ji[m] + 2)).sum())
    assert fingerprints == {
        "submit": 6860745,
        "start": 6484309,
        "backfill": 1910566,
        "failure": 374088,
        "node_repaired": 2346,
    }
    sums = {c: float(np.nansum(jt[c].to_numpy(dtype=float))) for c in ("start_s", "end_s", "queue_wait_s")}
    sums |= {c: float(jt[c].sum()) for c in ("gpu_hours", "lost_work_gpu_hours", "n_interruptions")}
    expected = {
        "start_s": 58545213.42319974,
        "end_s": 59433111.62154047,
        "queue_wait_s": 21487281.613852806,
        "gpu_hours": 31088.821595587775,
        "lost_work_gpu_hours": 910.5887984937225,
        "n_interruptions": 67.0,
    }
    for c, v in expected.items():
        assert_allclose(sums[c], v, rtol=1e-9, err_msg=c)
