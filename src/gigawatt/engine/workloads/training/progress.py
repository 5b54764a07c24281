"""Progress of computing jobs: rates, compute/checkpoint segments, and rate changes from the facility.

Between interruptions a computing job follows a deterministic cycle: compute until its progress reaches the
next checkpoint, write the checkpoint (delta s), repeat, finish. The engine schedules only the end of that
segment; the checkpoints inside it are generated (vectorised) when the segment closes — at its end, or earlier
when a failure, preemption, rate change or the end of the run interrupts it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping

import numpy as np

from gigawatt.engine.workloads.training.state import EngineState, Job, JobState, Pool
from gigawatt.physics.phases import Phase

__all__ = ["Progress"]

#: Checkpoint pulses of the phase log merged into one chunk at a time (an engineering choice, as the ledger's
#: ``_MERGE_CHUNKS``: one pulse then costs its 24 bytes, not a share of the arrays of its segment).
_PL_MERGE = 256


class Progress(EngineState):
    """Progress rates and compute/checkpoint segments of the engine's jobs."""

    def _rate(self, job: Job) -> float:
        """Progress rate of a computing job: clock factor × (1 − paused fraction of its priority level); over
        several halls the slowest of the job's halls; × the job's communication factor across halls/sites
        (1 unless it spans priced links, :mod:`.spanning`)."""
        pool = self.pools[job.pool]
        if pool.hall_factors:
            return self._hall_clock_rate(pool, job)[1] * job.comm_factor
        return pool.rate * (1.0 - pool.paused.get(job.spec.priority, pool.paused_default)) * job.comm_factor

    def _clock(self, job: Job) -> float:
        """Clock (throughput) factor a job runs at: its hall's, or the slowest of its halls'."""
        pool = self.pools[job.pool]
        return self._hall_clock_rate(pool, job)[0] if pool.hall_factors else pool.rate

    def _hall_clock_rate(self, pool: Pool, job: Job) -> tuple[float, float]:
        """``(min_h c_h, min_h c_h·(1 − q_h,p))`` over the halls holding the job's GPUs (a job spanning halls
        moves in lockstep, so the slowest hall sets its pace)."""
        halls = {pool.spec.hall_of(g) for g in job.gpus_by_group} or set(pool.hall_factors)
        p = job.spec.priority
        clock = rate = math.inf
        for h in halls:
            c, paused, dflt = pool.hall_factors[h]
            clock = min(clock, c)
            rate = min(rate, c * (1.0 - paused.get(p, dflt)))
        return clock, rate

    def _anchor(self, job: Job) -> None:
        """Bring a computing job up to now: close its compute/checkpoint segment (it may then be inside a
        checkpoint write, state CHECKPOINT) or, at zero rate, just move its anchor."""
        if job.state == JobState.COMPUTE:
            if job.seg_active:
                self._materialize(job)
            else:
                now = self._now
                rate = self._rate(job)
                base = rate / job.comm_factor  # the rate without the communication factor
                done = rate * (now - job.anchor_t)
                job.progress_s += done
                job.work_done_s += done
                job.paused_work_s += (self._clock(job) - base) * (now - job.anchor_t)
                job.comm_work_s += (base - rate) * (now - job.anchor_t)
                job.anchor_t = now
                job.compute_wall_s += now - job.phase_since
                job.phase_since = now

    def _arm_segment(self, job: Job) -> None:
        pool = self.pools[job.pool]
        if pool.hall_factors:
            rate = self._rate(job)
            clock = self._clock(job)
        else:  # _rate and _clock of a one-hall pool, inlined (the same operations)
            clock = pool.rate
            rate = clock * (1.0 - pool.paused.get(job.spec.priority, pool.paused_default)) * job.comm_factor
        job.anchor_t = self._now
        if rate <= 0:
            job.seg_active = False
            job.epoch += 1  # no progress: nothing to schedule until the rate recovers
            return
        work, tau, d = job.spec.work_s, job.interval_s, job.spec.checkpoint_write_s
        p0, c0 = job.progress_s, job.ckpt_progress_s
        if math.isinf(tau) or c0 + tau >= work:
            nck = 0
            first = work
        else:
            nck = max(math.ceil((work - c0) / tau - 1e-9) - 1, 0)
            first = c0 + tau
        job.seg_active = True
        job.seg_t0 = self._now
        job.seg_p0 = p0
        job.seg_c0 = c0
        job.seg_rate = rate
        job.seg_clock = clock
        job.seg_a = max(first - p0, 0.0) / rate
        job.seg_cycle = d + tau / rate if nck else math.inf
        job.seg_nck = nck
        job.seg_t_fin = self._now + max(work - p0, 0.0) / rate + nck * d
        bisect.insort(pool.seg_ends, (job.seg_t_fin, job.n_nodes, job.idx))
        pool.unarmed.pop(job.idx, None)
        self._timer(job, job.seg_t_fin - self._now, self._on_segment_end)

    def _on_segment_end(self, job: Job) -> None:
        self._materialize(job, final=True)
        self.pools[job.pool].computing.pop(job.idx, None)
        self._finish(job)

    def _materialize(self, job: Job, final: bool = False) -> None:
        """Close the job's segment at now: record its checkpoints (events, ledger, accounting) and set its
        state (COMPUTE, or CHECKPOINT when now falls inside a checkpoint write)."""
        now = self._now
        t0, p0, c0, r = job.seg_t0, job.seg_p0, job.seg_c0, job.seg_rate
        tau, d, a, cyc, nck = (
            job.interval_s,
            job.spec.checkpoint_write_s,
            job.seg_a,
            job.seg_cycle,
            job.seg_nck,
        )
        e = now - t0
        in_ckpt = False
        if final:
            m, progress = nck, job.spec.work_s
        elif nck == 0 or e < a:
            m, progress = 0, p0 + r * e
        else:
            k = min(int((e - a) // cyc), nck - 1)
            within = e - a - k * cyc
            if within < d:
                m, in_ckpt, progress = k, True, c0 + (k + 1) * tau
            else:
                m, progress = k + 1, c0 + (k + 1) * tau + r * (within - d)
        n_started = m + int(in_ckpt)
        ckpt_time = m * d
        if n_started:
            # t0 + a + cyc·k, built in place (the same products and sums)
            starts = np.arange(n_started, dtype=float)
            starts *= cyc
            starts += t0 + a
            ends = starts[:m] + d
            if in_ckpt:
                ckpt_time += now - starts[m]
                job.ckpt_end_t = starts[m] + d
            self._record_checkpoints(job, starts, ends)
        job.compute_wall_s += e - ckpt_time
        base = r / job.comm_factor  # the factor is fixed while a segment runs (placement changes stop it)
        # (a zero term is not added: x + 0.0 is x, and the job keeps the shared zero instead of a float of its
        # own; x is never −0.0, a sum of terms of opposite sign that cancel being +0.0)
        if job.seg_clock != base:
            job.paused_work_s += (job.seg_clock - base) * (e - ckpt_time)
        if base != r:
            job.comm_work_s += (base - r) * (e - ckpt_time)
        job.ckpt_wall_s += ckpt_time
        job.work_done_s += progress - p0
        job.progress_s = progress
        job.ckpt_progress_s = c0 + m * tau if m else c0
        job.n_checkpoints += m
        job.phase_since = now
        job.anchor_t = now
        job.seg_active = False
        job.epoch += 1  # cancel the segment-end timer
        pool = self.pools[job.pool]
        armed = pool.seg_ends
        del armed[bisect.bisect_left(armed, (job.seg_t_fin, job.n_nodes, job.idx))]
        pool.unarmed[job.idx] = job
        if in_ckpt:
            job.ckpt_start_progress_s = progress
            job.state = JobState.CHECKPOINT
            job.phase = Phase.TRAIN_STALL

    def _record_checkpoints(self, job: Job, starts: np.ndarray, ends: np.ndarray) -> None:
        """Ledger, phase-log and event entries of checkpoints starting at ``starts`` (completed at ``ends``).

        A completed checkpoint is one pulse (its GPUs move compute → stall at its start and back at its end)
        in the phase log and, per rack group, in the ledger (:meth:`~gigawatt.engine.ledger.LoadLedger.
        pulse_many`); a checkpoint still being written (``starts`` has one more entry) is two changes at its
        start (compute −n, stall +n), undone by the changes of its completion.
        """
        m = ends.size
        n = job.spec.n_gpus
        comp, stall = int(Phase.TRAIN_COMPUTE), int(Phase.TRAIN_STALL)
        s = starts[:m]
        if m:
            ch = self._plchunks
            ch.append((s, ends, float(n)))
            if len(ch) >= _PL_MERGE and isinstance(ch[-_PL_MERGE][2], float):  # the last ones, unmerged
                tail = ch[-_PL_MERGE:]
                sizes = [c[0].size for c in tail]
                ch[-_PL_MERGE:] = [
                    (
                        np.concatenate([c[0] for c in tail]),
                        np.concatenate([c[1] for c in tail]),
                        np.repeat(np.array([c[2] for c in tail]), sizes),
                    )
                ]
        t_open = float(starts[m]) if starts.size > m else None
        if t_open is not None:
            self._plt.extend((t_open, t_open))
            self._plp.extend((comp, stall))
            self._pld.extend((-n, n))
        for g, ng in job.gpus_by_group.items():
            if self._pulses:
                if m:
                    self._lchunks.append((s, ends, g, float(ng)))
                    self._n_lpulse += m
                if t_open is not None:
                    self._lchange(t_open, g, comp, -ng)
                    self._lchange(t_open, g, stall, ng)
            else:  # a ledger without pulses: per checkpoint, in time order, its four changes
                for t0, t1 in zip(s.tolist(), ends.tolist(), strict=True):
                    self._lchange(t0, g, comp, -ng)
                    self._lchange(t0, g, stall, ng)
                    self._lchange(t1, g, stall, -ng)
                    self._lchange(t1, g, comp, ng)
                if t_open is not None:
                    self._lchange(t_open, g, comp, -ng)
                    self._lchange(t_open, g, stall, ng)
        if m:
            ck = self._ev_ck
            ck.append((ends, job.idx))
            if len(ck) >= _PL_MERGE and isinstance(ck[-_PL_MERGE][1], int):  # the last ones, unmerged
                ck_tail = ck[-_PL_MERGE:]
                ck[-_PL_MERGE:] = [
                    (
                        np.concatenate([c[0] for c in ck_tail]),
                        np.repeat(
                            np.array([c[1] for c in ck_tail], dtype=np.int64), [c[0].size for c in ck_tail]
                        ),
                    )
                ]

    def _on_checkpoint_done(self, job: Job) -> None:
        job.ckpt_progress_s = job.ckpt_start_progress_s
        job.n_checkpoints += 1
        self._event("checkpoint", job, job.pool, -1, duration_s=job.spec.checkpoint_write_s)
        self._begin_compute(job)

    def set_throughput(
        self,
        hall_idx: int,
        throughput_frac: float,
        paused_frac: Mapping[int, float] | None = None,
        paused_default_frac: float = 0.0,
    ) -> None:
        """Set the progress rate of every pool in ``hall_idx`` from now on (cost O(jobs computing there)).

        A computing job of priority ``p`` progresses at ``throughput_frac · (1 − paused_frac[p])``.

        Parameters
        ----------
        hall_idx : int
            Hall index.
        throughput_frac : float
            Facility throughput (clock) factor in [0, 1] (thermal throttling, DVFS power caps).
        paused_frac : mapping of int to float, optional
            Paused fraction in [0, 1] of each training priority level (power capping pauses the lowest
            priorities first; carbon-/price-aware pausing applies to every level).
        paused_default_frac : float
            Paused fraction of priority levels missing from ``paused_frac``.
        """
        self._sync()
        if not 0.0 <= throughput_frac <= 1.0 + 1e-12:
            raise ValueError(f"throughput_frac must be in [0, 1], got {throughput_frac}")
        paused = dict(paused_frac or {})
        for p, q in [*paused.items(), (None, paused_default_frac)]:
            if not 0.0 <= q <= 1.0 + 1e-12:
                what = "paused_default_frac" if p is None else f"paused_frac[{p}]"
                raise ValueError(f"{what} must be in [0, 1], got {q}")
        for pool in self._hall_pools.get(hall_idx, ()):
            if pool.hall_factors:  # several halls: this hall's factors, the jobs with GPUs there re-timed
                if pool.hall_factors[hall_idx] == (throughput_frac, paused, paused_default_frac):
                    continue
                jobs = [
                    j
                    for j in pool.computing.values()
                    if any(pool.spec.hall_of(g) == hall_idx for g in j.gpus_by_group)
                ]
                for job in jobs:
                    self._anchor(job)
                pool.hall_factors[hall_idx] = (throughput_frac, dict(paused), paused_default_frac)
            else:
                if (
                    pool.rate == throughput_frac
                    and pool.paused == paused
                    and pool.paused_default == paused_default_frac
                ):
                    continue
                jobs = list(pool.computing.values())
                for job in jobs:
                    self._anchor(job)
                pool.rate = throughput_frac
                pool.paused = dict(paused)
                pool.paused_default = paused_default_frac
            for job in jobs:
                if job.state == JobState.COMPUTE:
                    self._arm_segment(job)
                else:  # inside a checkpoint write: compute resumes (at the new rate) when it completes
                    pool.computing.pop(job.idx, None)
                    self._timer(job, job.ckpt_end_t - self._now, self._on_checkpoint_done)
        self._flush()
