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

    def _unarmed_ends(self, pool: Pool) -> list[tuple[float, int, int]]:
        """``(expected end [s], nodes, job idx)`` of the pool's running jobs without an armed segment (the
        operations of :meth:`_expected_end_s` with :meth:`_rate`, inlined; rarely reached since the shadow time
        is first settled on the armed rows, :meth:`_least_remaining_s`)."""
        now, rate_of = self._now, self._rate
        out = []
        for j in pool.unarmed.values():
            if j.seg_active:
                out.append((j.seg_t_fin, j.n_nodes, j.idx))
                continue
            spec = j.spec
            remaining = max(spec.work_s - j.progress_s, 0.0)
            n_ckpt = 0.0 if math.isinf(j.interval_s) else remaining / j.interval_s
            end_s = now + remaining / max(rate_of(j), 1e-3) + n_ckpt * spec.checkpoint_write_s
            out.append((end_s, j.n_nodes, j.idx))
        return out

    @staticmethod
    def _least_remaining_s(pool: Pool) -> float:
        """The least remaining work [s] of the pool's running jobs without an armed segment (−inf if one has an
        armed segment after all: its end is not bounded by its work)."""
        lo = math.inf
        for j in pool.unarmed.values():
            if j.seg_active:
                return -math.inf
            r = j.spec.work_s - j.progress_s
            if r < lo:
                lo = r
        return max(lo, 0.0)

    def _window(self, pool: Pool) -> tuple[int, int, list[tuple[int, int]]]:
        """The backfill window's summary, kept while it does not change (``q_version``): (version, fewest
        nodes of its jobs or 0 for an empty window, and each priority in it with its first position)."""
        win = pool.bf_win
        if win is None or win[0] != pool.q_version:
            stop = 1 + self.config.backfill_depth
            nodes = pool.q_nodes[1:stop]
            prios = pool.q_prio[1:stop]
            first = [(p, prios.index(p)) for p in dict.fromkeys(prios)]
            win = pool.bf_win = (pool.q_version, min(nodes) if nodes else 0, first)
        return win

    def _schedule(self, pool: Pool) -> None:
        """Start queued jobs by policy (gang: all nodes or none)."""
        if pool.dark_halls:  # pool.dark
            return
        started = False
        queue, free, cfg = pool.queue, pool.free, self.config
        while queue:
            head = self.jobs[queue[0][1]]
            if head.n_nodes <= sum(free.values()):  # pool.n_free
                self._start(pool, head, 0)
                started = True
                continue
            if cfg.preemption and self._preempt_for(pool, head):
                continue
            if cfg.policy == "easy_backfill":
                started |= self._backfill(pool, head)
            break
        if started:
            self._schedule_hook(pool)

    def _schedule_hook(self, pool: Pool) -> None:
        """Extension point called after a scheduling pass started jobs (no-op)."""

    def _backfill(self, pool: Pool, head: Job) -> bool:
        """EASY backfill (Lifka 1995): start jobs of the window behind the blocked ``head`` that do not delay it.

        The head's reservation (shadow time) is the expected end at which enough running jobs have ended;
        a job of the window starts if it fits the free nodes and ends by then, or if it fits the nodes the
        head leaves spare at that time (``extra``). Window jobs are taken in queue order.
        """
        free = sum(pool.free.values())  # pool.n_free
        _version, min_nodes, first = self._window(pool)
        if free <= 0 or not first or min_nodes > free:
            return False  # nothing in the window fits the free nodes: skip the shadow-time pass
        stop = 1 + self.config.backfill_depth
        need = head.n_nodes
        now = self._now
        # running jobs in order of (expected end, nodes, job idx): the armed ones kept sorted as their segments
        # are armed and closed, merged with the few whose end moves with time (sorted here); the walk stops at
        # the first job whose end frees enough nodes for the head (a few dozen rows: plain loops, no merge
        # generator)
        avail, shadow_s = free, math.inf
        armed = pool.seg_ends
        unarmed = pool.unarmed
        settled = False
        if unarmed and not pool.hall_factors and pool.spec.span is None:
            # first the armed rows alone: if no unarmed job can end by the row where they free enough nodes,
            # none comes before it in the merged order, and that row gives the shadow time. A lower bound of
            # every unarmed end, with the same rounding: the least remaining work over the pool's highest rate
            # (a job of a one-hall pool without priced links runs at clock × (1 − paused fraction) ≤ clock), so
            # now + least remaining / max(clock, 1e-3) ≤ now + remaining / max(rate, 1e-3) + checkpoints
            for row in armed:
                avail += row[1]
                if avail >= need:
                    if now + self._least_remaining_s(pool) / max(pool.rate, 1e-3) > row[0]:
                        shadow_s, settled = row[0], True
                    break
            if not settled:
                avail = free  # the merged walk below, from the start
        if settled:
            pass
        elif not unarmed:
            for row in armed:
                avail += row[1]
                if avail >= need:
                    shadow_s = row[0]
                    break
        else:
            moving = sorted(self._unarmed_ends(pool))
            m_iter = iter(moving)
            m_row = next(m_iter, None)
            found = False
            for row in armed:
                while m_row is not None and m_row < row:  # unarmed rows before this armed one
                    avail += m_row[1]
                    if avail >= need:
                        shadow_s, found = m_row[0], True
                        break
                    m_row = next(m_iter, None)
                if found:
                    break
                avail += row[1]
                if avail >= need:
                    shadow_s, found = row[0], True
                    break
            while not found and m_row is not None:  # armed rows exhausted
                avail += m_row[1]
                if avail >= need:
                    shadow_s, found = m_row[0], True
                    break
                m_row = next(m_iter, None)
        extra = avail - need if math.isfinite(shadow_s) else 0
        # the window's jobs in queue order: the next one that fits the free nodes and ends by the shadow time
        # (expected end _expected_end_s(job, _rate(job)) + start-up time, the same operations in the same
        # order; a queued job's rate depends on its priority only: it holds no GPUs), or fits the extra nodes
        queue = pool.queue
        jobs = self.jobs
        # every rate before any start (a start may notify other workloads): the rate of the window's first job
        # of each priority
        rates = {p: max(self._rate(jobs[queue[1 + k][1]]), 1e-3) for p, k in first}
        now, startup_s = self._now, self._startup_s
        memo = pool.bf_memo
        if (
            memo is not None
            and memo[0] == pool.q_version
            and memo[1] == rates
            and memo[2] <= now
            and memo[3] > shadow_s
            and min_nodes > min(free, extra)
        ):
            # the same window at the same rates as a pass that started nothing: each job's expected end +
            # start-up time, the same float operations on a later ``now``, can only have grown, and the
            # earliest is past this shadow time; so only a job that fits the extra nodes could start, and
            # none does (exactly what the loop below would find)
            return False
        # expected end + start-up time of a job of the window (computed for those that fit the free nodes; all
        # of them for the memo when nothing starts): now + remaining / rate + checkpoint time + start-up time
        rem_s = pool.q_rem_s[1:stop]
        ckpt_s = pool.q_ckpt_s[1:stop]
        prios = pool.q_prio[1:stop]
        one_rate = rates[first[0][0]] if len(first) == 1 else None
        window = queue[1:stop]
        nodes = pool.q_nodes[1:stop]
        started = False
        pi = pool.idx
        n_started = (
            0  # jobs of the window started so far: the k-th is now at queue position 1 + k − n_started
        )
        for k, n_k in enumerate(nodes):
            if n_k > free:
                continue
            end_s = (
                now + rem_s[k] / (rates[prios[k]] if one_rate is None else one_rate) + ckpt_s[k] + startup_s
            )
            end_ok = end_s <= shadow_s
            if not end_ok and n_k > extra:
                continue
            job = jobs[window[k][1]]
            if not end_ok:
                extra -= n_k
            free -= n_k
            self._start(pool, job, 1 + k - n_started)
            n_started += 1
            self._event("backfill", job, pi, -1)
            started = True
            if free <= 0:
                break
        if not started:
            if one_rate is None:
                ends = [
                    now + r / rates[p] + c + startup_s for r, c, p in zip(rem_s, ckpt_s, prios, strict=True)
                ]
            else:
                ends = [now + r / one_rate + c + startup_s for r, c in zip(rem_s, ckpt_s, strict=True)]
            pool.bf_memo = (pool.q_version, rates, now, min(ends))
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
