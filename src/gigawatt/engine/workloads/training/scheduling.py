"""Scheduling policies: FIFO, priority, EASY backfilling [2]_, and preemption of lower-priority jobs.

References
----------
.. [2] Lifka, D. (1995). The ANL/IBM SP scheduling system (EASY backfilling). JSSPP '95, LNCS 949.
"""

from __future__ import annotations

import math

from gigawatt.engine.workloads.training.state import EngineState, Job, JobState, Pool

__all__ = ["Scheduling"]


class Scheduling(EngineState):
    """Queue policies of the engine (gang scheduling: all of a job's nodes or none)."""

    def _expected_end_s(self, job: Job, rate: float) -> float:
        if job.seg_active:
            return job.seg_t_fin
        remaining = max(job.spec.work_s - job.progress_s, 0.0)
        n_ckpt = 0.0 if math.isinf(job.interval_s) else remaining / job.interval_s
        return self._now + remaining / max(rate, 1e-3) + n_ckpt * job.spec.checkpoint_write_s

    def _schedule(self, pool: Pool) -> None:
        """Start queued jobs by policy (gang: all nodes or none)."""
        if pool.dark:
            return
        started = False
        while pool.queue:
            head = self.jobs[pool.queue[0][1]]
            if head.n_nodes <= pool.n_free:
                self._start(pool, head)
                started = True
                continue
            if self.config.preemption and self._preempt_for(pool, head):
                continue
            if self.config.policy == "easy_backfill":
                started |= self._backfill(pool, head)
            break
        if started:
            self._schedule_hook(pool)

    def _schedule_hook(self, pool: Pool) -> None:
        """Extension point called after a scheduling pass started jobs (no-op)."""

    def _backfill(self, pool: Pool, head: Job) -> bool:
        free = pool.n_free
        window = pool.queue[1 : 1 + self.config.backfill_depth]
        if free <= 0 or all(self.jobs[idx].n_nodes > free for _key, idx in window):
            return False  # nothing in the window fits the free nodes: skip the shadow-time pass (O(R log R))
        ends = sorted((self._expected_end_s(j, self._rate(j)), j.n_nodes) for j in pool.running.values())
        avail, shadow_s = free, math.inf
        for t_end, n in ends:
            avail += n
            if avail >= head.n_nodes:
                shadow_s = t_end
                break
        extra = avail - head.n_nodes if math.isfinite(shadow_s) else 0
        restart = self._startup_s
        started = False
        for _key, idx in list(pool.queue[1 : 1 + self.config.backfill_depth]):
            if free <= 0:
                break
            job = self.jobs[idx]
            if job.n_nodes > free:
                continue
            end = self._expected_end_s(job, self._rate(job)) + restart
            if end <= shadow_s:
                pass
            elif job.n_nodes <= extra:
                extra -= job.n_nodes
            else:
                continue
            free -= job.n_nodes
            self._start(pool, job)
            self._event("backfill", job, self._pool_index[pool.spec.name], -1)
            started = True
        return started

    def _preemptable(self, pool: Pool, below_priority: float) -> list[Job]:
        cands = [j for j in pool.running.values() if j.spec.preemptible and j.spec.priority < below_priority]
        cands.sort(key=lambda j: (j.spec.priority, -j.start_s, -j.idx))  # lowest priority, youngest first
        return cands

    def _preempt_for(self, pool: Pool, head: Job) -> bool:
        cands = self._preemptable(pool, head.spec.priority)
        if pool.n_free + sum(j.n_nodes for j in cands) < head.n_nodes:
            return False
        for j in cands:
            if pool.n_free >= head.n_nodes:
                break
            self._preempt(j, cause=f"priority {head.spec.priority} job {head.spec.name}")
        return True

    def preempt(self, job_idx: int, cause: str = "") -> None:
        """Preempt a running job: work since its last checkpoint is lost, it is requeued, and the pool is
        rescheduled (the job may restart at once if nothing else claims its nodes).

        Parameters
        ----------
        job_idx : int
            Job index (row of the jobs table).
        cause : str
            Recorded in the events table.
        """
        self._sync()
        job = self.jobs[job_idx]
        if job.state not in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
            raise ValueError(f"job {job.spec.name!r} is not running")
        self._preempt(job, cause)
        self._schedule(self.pools[job.pool])
        self._flush()

    def _preempt(self, job: Job, cause: str) -> None:
        lost = self._lose_work(job)
        job.n_preemptions += 1
        self._event("preemption", job, job.pool, -1, cause, lost * job.spec.n_gpus / 3600.0)
        self._requeue(job, "requeue", "preemption")
