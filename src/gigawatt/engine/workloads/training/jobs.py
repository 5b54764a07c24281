"""Job life cycle and GPU-hour accounting: submit, queue, allocate, start, state transitions, release, finish.

Each state transition closes the time bucket of the state left (compute, checkpoint or stall wall time, the
terms of the accounting identity in :mod:`gigawatt.engine.workloads.training`) and moves the job's GPUs
between ledger phases.
"""

from __future__ import annotations

import bisect
import math

from gigawatt.engine.workloads.training.specs import TrainingJobSpec
from gigawatt.engine.workloads.training.state import NO_GROUPS, EngineState, Job, JobState, Pool
from gigawatt.physics.phases import Phase

__all__ = ["JobLifecycle"]


class JobLifecycle(EngineState):
    """The job state machine of the engine."""

    def _interval(self, spec: TrainingJobSpec) -> float:
        if spec.checkpoint_interval_s is not None:
            return spec.checkpoint_interval_s
        fm = self.config.failures
        lam = 0.0 if fm is None else fm.lossy_rate_per_gpu_h(spec.checkpoint_write_s)
        if lam <= 0:
            return math.inf
        mtbf = 3600.0 / (spec.n_gpus * lam)  # job_mtbf_s, scalar (failures and lossy spot reclaims)
        d = spec.checkpoint_write_s
        if self.config.checkpoint_method == "young":
            return max(math.sqrt(2.0 * d * mtbf), 1.0)
        # daly_interval_s, scalar (this runs once per job)
        if d >= 2.0 * mtbf:
            return mtbf
        x = d / (2.0 * mtbf)
        return max(math.sqrt(2.0 * d * mtbf) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - d, 1.0)

    def _transition(self, job: Job, state: int, phase: int | None) -> None:
        """Close the time bucket of the current state, move the GPUs between ledger phases, set ``state``."""
        now = self._now
        dt = now - job.phase_since
        old = job.phase
        if old is not None:
            if job.state == JobState.COMPUTE:
                job.compute_wall_s += dt
            elif job.state == JobState.CHECKPOINT:
                job.ckpt_wall_s += dt
            else:
                job.stall_wall_s += dt
        job.phase_since = now
        job.state = state
        if old != phase:
            n_gpus = job.spec.n_gpus
            if old is not None and phase is not None:  # (one extend per log: the same two rows in order)
                self._plt.extend((now, now))
                self._plp.extend((old, phase))
                self._pld.extend((-n_gpus, n_gpus))
            elif old is not None:
                self._plt.append(now)
                self._plp.append(old)
                self._pld.append(-n_gpus)
            elif phase is not None:
                self._plt.append(now)
                self._plp.append(phase)
                self._pld.append(n_gpus)
            if self._bulk:
                lt, lg, lp, ld = self._lt, self._lg, self._lp, self._ld
                level = self._level  # (updated here when the ledger takes its records later; see events.py)
                if old is not None and phase is not None:  # (a group's two changes: one extend per list)
                    for g, n in job.gpus_by_group.items():
                        lt.extend((now, now))
                        lg.extend((g, g))
                        lp.extend((old, phase))
                        ld.extend((-n, n))
                        if level is not None:
                            v = level[g, old] + -n
                            level[g, old] = v
                            level[g, phase] += n
                            if v < -1e-6:
                                self._low = True
                    job.phase = phase
                    return
                for g, n in job.gpus_by_group.items():
                    if old is not None:
                        lt.append(now)
                        lg.append(g)
                        lp.append(old)
                        ld.append(-n)
                        if level is not None:
                            v = level[g, old] + -n
                            level[g, old] = v
                            if v < -1e-6:
                                self._low = True
                    if phase is not None:
                        lt.append(now)
                        lg.append(g)
                        lp.append(phase)
                        ld.append(n)
                        if level is not None:
                            level[g, phase] += n
            else:
                for g, n in job.gpus_by_group.items():
                    if old is not None:
                        self.ledger.change(now, g, old, -n)
                    if phase is not None:
                        self.ledger.change(now, g, phase, n)
            job.phase = phase

    def _queue_key(self, job: Job) -> tuple[float, ...]:
        if self.config.policy == "fifo":
            return (job.spec.submit_s, job.idx)
        return (-job.spec.priority, job.spec.submit_s, job.idx)

    def _enqueue(self, job: Job) -> None:
        pool = self.pools[job.pool]
        job.state = JobState.QUEUED
        job.queued_since = self._now
        if not job.key:  # fixed for the run (policy, priority, submit time, index): made on the first enqueue
            job.key = self._queue_key(job)
        item = (job.key, job.idx)
        i = bisect.bisect_right(pool.queue, item)
        pool.queue.insert(i, item)
        spec = job.spec
        remaining = max(spec.work_s - job.progress_s, 0.0)  # as in Scheduling._expected_end_s
        n_ckpt = 0.0 if math.isinf(job.interval_s) else remaining / job.interval_s
        pool.q_nodes.insert(i, job.n_nodes)
        pool.q_rem_s.insert(i, remaining)
        pool.q_ckpt_s.insert(i, n_ckpt * spec.checkpoint_write_s)
        pool.q_prio.insert(i, spec.priority)
        if i <= self.config.backfill_depth:  # inside the backfill window
            pool.q_version += 1
        self.n_queued += 1
        self._log_counts()

    def _submit(self, job: Job) -> None:
        self.n_submitted += 1
        pool = self.pools[job.pool]
        usable = pool.usable_nodes
        if job.n_nodes > usable:
            job.state = JobState.FAILED
            job.end_s = self._now
            self.n_failed += 1
            self._log_counts()
            self._event("rejected", job, job.pool, -1, f"needs {job.n_nodes} nodes, pool has {usable}")
            return
        self._event("submit", job, job.pool, -1)
        self._enqueue(job)
        self._schedule(pool)

    def _allocate(self, pool: Pool, job: Job) -> None:
        if pool.spec.span is not None:  # pools with priced links: pack into one hall, then one site
            self._allocate_packed(pool, job)
            return
        need = job.n_nodes
        gpn = pool.spec.gpus_per_node
        left_gpus = job.spec.n_gpus
        job.nodes_by_group = {}
        job.gpus_by_group = {}
        for g in pool.spec.group_idx:
            if need == 0:
                break
            take = min(need, pool.free[g])
            if take:
                pool.free[g] -= take
                need -= take
                job.nodes_by_group[g] = take
                gpus = min(take * gpn, left_gpus)
                job.gpus_by_group[g] = gpus
                left_gpus -= gpus
        if need:
            raise RuntimeError("internal: allocation without enough free nodes")
        # halls and sites the job is in (a pool without priced links lies in one site)
        spec = pool.spec
        job.span_sites = 1
        if spec.group_hall is None:
            job.span_halls = max(job.span_halls, 1)
            return
        halls = {spec.hall_map[g] for g in job.gpus_by_group}
        if len(halls) > job.span_halls:
            job.span_halls = len(halls)
            if len(halls) > 1:
                job.span_where = tuple(sorted(halls))

    def _start(self, pool: Pool, job: Job, at: int = -1) -> None:
        """Start queued ``job`` (at position ``at`` of the queue if known, else found by bisection)."""
        item = (job.key, job.idx)
        queue = pool.queue
        i = at if 0 <= at < len(queue) and queue[at][1] == job.idx else bisect.bisect_left(queue, item)
        if pool.queue[i] != item:
            raise RuntimeError(f"internal: job {job.spec.name!r} is not queued")
        del pool.queue[i], pool.q_nodes[i], pool.q_rem_s[i], pool.q_ckpt_s[i], pool.q_prio[i]
        if i <= self.config.backfill_depth:  # inside the backfill window
            pool.q_version += 1
        self.n_queued -= 1
        self.n_running += 1
        pool.alloc_gpus += job.spec.n_gpus
        self._alloc_gpus += job.spec.n_gpus
        self._log_counts()
        now = self._now
        job.queue_wait_s += now - job.queued_since
        if math.isnan(job.start_s):
            job.start_s = now
        self._allocate(pool, job)
        prio = job.spec.priority
        pool.prio_gpus[prio] = pool.prio_gpus.get(prio, 0) + job.spec.n_gpus
        pool.running[job.idx] = job
        pool.unarmed[job.idx] = job
        pool.add_running(job)
        self._event("start", job, job.pool, -1)
        job.phase = None
        job.phase_since = now
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        restart = self._startup_s
        self._timer(job, restart, self._begin_compute)
        self._notify("start", job.pool)

    def _begin_compute(self, job: Job) -> None:
        self._transition(job, JobState.COMPUTE, Phase.TRAIN_COMPUTE)
        pool = self.pools[job.pool]
        pool.computing[job.idx] = job
        if pool.spec.span is not None:  # a replacement node may have moved the job to another hall or site
            self._update_span(job)
        self._arm_segment(job)

    def _leave_compute(self, job: Job) -> None:
        self._anchor(job)
        self.pools[job.pool].computing.pop(job.idx, None)

    def _release(self, job: Job) -> None:
        """Return the job's nodes to the pool (GPUs must already be out of the ledger)."""
        pool = self.pools[job.pool]
        for g, n in job.nodes_by_group.items():
            if g not in pool.retired:  # nodes of a decommissioned group are gone
                pool.free[g] += n
        job.nodes_by_group = NO_GROUPS
        job.gpus_by_group = NO_GROUPS
        job.comm_factor = 1.0
        if pool.running.pop(job.idx, None) is not None:
            pool.drop_running(job)
        pool.unarmed.pop(job.idx, None)
        pool.computing.pop(job.idx, None)
        pool.alloc_gpus -= job.spec.n_gpus
        self._alloc_gpus -= job.spec.n_gpus
        prio = job.spec.priority
        pool.prio_gpus[prio] -= job.spec.n_gpus
        if pool.prio_gpus[prio] == 0:
            del pool.prio_gpus[prio]
        job.epoch += 1
        self.n_running -= 1

    def _finish(self, job: Job) -> None:
        self._transition(job, JobState.DONE, None)
        self._release(job)
        job.end_s = self._now
        job.retire()
        self.n_finished += 1
        self._log_counts()
        self._event("finish", job, job.pool, -1)
        self._notify("end", job.pool)
        self._schedule(self.pools[job.pool])

    def _fail_job(self, job: Job, reason: str) -> None:
        self._leave_compute(job)
        self._transition(job, JobState.FAILED, None)
        self._release(job)
        job.end_s = self._now
        job.retire()
        self.n_failed += 1
        self._log_counts()
        self._event("job_failed", job, job.pool, -1, reason)
        self._notify("end", job.pool)
        self._schedule(self.pools[job.pool])

    def _lose_work(self, job: Job) -> float:
        """Roll progress back to the last completed checkpoint; returns the lost work [s]."""
        self._leave_compute(job)
        lost = job.progress_s - job.ckpt_progress_s
        job.lost_work_s += lost
        job.progress_s = job.ckpt_progress_s
        return lost

    def _requeue(self, job: Job, kind: str, cause: str = "") -> None:
        """Release the job's nodes and put it back in the queue with its checkpointed progress."""
        self._transition(job, JobState.QUEUED, None)
        self._release(job)
        self._event(kind, job, job.pool, -1, cause)
        self._enqueue(job)
        self._notify("requeue", job.pool)
