"""Records of the training engine and its outputs: events and jobs tables, counters, phase occupancy."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import pulse_step_average
from gigawatt.engine.workloads.base import WorkloadOutput
from gigawatt.engine.workloads.training.specs import GROUP_COLUMNS
from gigawatt.engine.workloads.training.state import NO_INTERRUPTIONS, EngineState, Job, JobState
from gigawatt.physics.phases import Phase
from gigawatt.result import frame_from_columns, release_free_heap

__all__ = ["Reporting", "workload_output"]


def _step_average(
    t_s: np.ndarray,
    delta: np.ndarray,
    step_s: float,
    n_steps: int,
    series: np.ndarray | None = None,
    n_series: int = 1,
) -> np.ndarray:
    """Step averages of piecewise-constant levels given their changes ``delta`` at times ``t_s``.

    A change ``d`` at ``t`` in step ``k`` adds ``d·((k+1)Δ − t)/Δ`` to step ``k`` and ``d`` to later steps. With
    ``series`` (index in ``[0, n_series)`` of the level each change belongs to) the result has shape
    ``(n_steps, n_series)``, else ``(n_steps,)``; each level sums its changes in the order given.
    """
    k = np.floor(t_s / step_s).astype(np.int64)
    inside = k < n_steps
    k, t_s, delta = k[inside], t_s[inside], delta[inside]
    s = 0 if series is None else series[inside]
    m = n_series
    full = np.bincount((k + 1) * m + s, weights=delta, minlength=(n_steps + 1) * m)[: (n_steps + 1) * m]
    level = np.cumsum(full.reshape(n_steps + 1, m), axis=0)[:n_steps]
    frac = delta * ((k + 1) * step_s - t_s) / step_s
    part = np.bincount(k * m + s, weights=frac, minlength=n_steps * m)[: n_steps * m]
    out = level + part.reshape(n_steps, m)
    return out[:, 0] if series is None else out


#: Events kept as Python tuples before they are moved into column arrays (an
#: engineering choice: small enough that the tuples of a chunk weigh a few MB, large enough that the per-chunk
#: overhead is negligible; the tables do not depend on it).
RECORD_CHUNK = 1 << 13

#: Columns of :meth:`TrainingEngine.jobs_table` (the table of a run without jobs has these, and no rows).
_JOB_TABLE_COLUMNS = (
    "job",
    "pool",
    "state",
    "n_gpus",
    "n_nodes",
    "priority",
    "submit_s",
    "start_s",
    "end_s",
    "queue_wait_s",
    "work_s",
    "progress_frac",
    "checkpoint_interval_s",
    "n_checkpoints",
    "gpu_hours",
    "useful_gpu_hours",
    "lost_work_gpu_hours",
    "checkpoint_gpu_hours",
    "restart_gpu_hours",
    "throttled_gpu_hours",
    "paused_gpu_hours",
    "comm_gpu_hours",
    "goodput_frac",
    "n_interruptions",
    *(f"n_interruptions_{c}" for c in GROUP_COLUMNS),
    "n_preemptions",
    "deadline_s",
    "deadline_met",
    "span_halls",
    "span_sites",
    "spanned",
    "spanned_halls",
    "comm_factor",
)


class _Codes(dict[str, int]):
    """Codes of strings in order of first use: looking up a new string gives it the next code."""

    def __missing__(self, key: str) -> int:
        code = self[key] = len(self)
        return code


class Reporting(EngineState):
    """What the engine records as it runs, and the tables and arrays built from it."""

    def _init_records(self) -> None:
        self._ev = []
        self._ev_chunks: list[tuple[np.ndarray, ...]] = []
        self._ev_kinds = _Codes()
        self._ev_causes = _Codes()
        self._listeners = []
        self._count_buf = array("d")
        # records freed by workload_output ("counter", "event", "job", "phase")
        self._consumed: set[str] = set()
        self._job_cols: tuple[list[str], np.ndarray, np.ndarray] = ([], np.zeros(0, np.int64), np.zeros(0))
        self._alloc_gpus = 0  # GPUs of running jobs over all pools (counter log)
        # phase log (time, phase, delta GPUs) for per-workload columns, as typed arrays: 8 bytes a value, where
        # a list held a pointer and, for most, a number object of its own
        self._plt = array("d")
        self._plp = array("q")
        self._pld = array("d")
        self._plchunks = []  # checkpoint pulses (starts, ends, GPUs): TRAIN_COMPUTE -> TRAIN_STALL
        self._ev_ck = []  # checkpoint completions per segment: (times, job)

    def _event(
        self,
        kind: str,
        job: Job | None,
        pool: int,
        group: int,
        cause: str = "",
        lost_gpu_h: float = 0.0,
        duration_s: float = 0.0,
    ) -> None:
        # job and pool names, and the columns' order, are filled in by events_table
        self._ev.append(
            (
                self._now,
                -1 if job is None else job.idx,
                pool,
                kind,
                cause,
                lost_gpu_h,
                duration_s,
                group,
            )
        )
        if len(self._ev) >= RECORD_CHUNK:
            self._compact_events()

    def _compact_events(self) -> None:
        """Move the recorded events (a list of tuples) into one chunk of column arrays (8 columns: time, job,
        pool, kind code, cause code, lost GPU-hours, duration, group), about 50 bytes per event instead of
        about 150."""
        ev = self._ev
        if not ev:
            return
        n = len(ev)
        kinds, causes = self._ev_kinds, self._ev_causes

        def col(k: int, dtype: type) -> np.ndarray:
            return np.fromiter(map(itemgetter(k), ev), dtype=dtype, count=n)

        def codes(k: int, known: _Codes) -> np.ndarray:
            return np.fromiter(map(known.__getitem__, map(itemgetter(k), ev)), dtype=np.int32, count=n)

        self._ev_chunks.append(
            (
                col(0, float),
                col(1, np.int64),
                col(2, np.int32),
                codes(3, kinds),
                codes(4, causes),
                col(5, float),
                col(6, float),
                col(7, np.int32),
            )
        )
        self._ev = []

    def counts(self) -> dict[str, int]:
        """Job counters now: submitted, queued, running, finished, failed."""
        return {
            "submitted": self.n_submitted,
            "queued": self.n_queued,
            "running": self.n_running,
            "finished": self.n_finished,
            "failed": self.n_failed,
        }

    def pool_nodes(self, pool_idx: int) -> dict[str, int]:
        """Node counts of a pool now: total, allocated, free, spare, repair, replacing (reclaimed spot nodes
        awaiting their replacement), external, unpowered (idle nodes of a dark hall held by a pool with priced
        links, :mod:`.spanning`)."""
        pool = self.pools[pool_idx]
        alloc = sum(sum(j.nodes_by_group.values()) for j in pool.running.values())
        return {
            "total": pool.spec.n_nodes,
            "allocated": alloc,
            "free": pool.n_free,
            "spare": pool.n_spare,
            "repair": sum(pool.repair.values()),
            "replacing": sum(pool.replacing.values()),
            "external": sum(pool.external.values()),
            "unpowered": sum(pool.unpowered.values()),
        }

    def allocated_gpus_by_priority(self, pool_idx: int) -> dict[int, int]:
        """GPUs allocated to running jobs of the pool, by job priority (kept as jobs start and end)."""
        return dict(self.pools[pool_idx].prio_gpus)

    def allocated_gpus_by_hall_priority(self, pool_idx: int) -> dict[int, dict[int, int]]:
        """GPUs allocated to running jobs of the pool, per hall and job priority (O(running jobs))."""
        pool = self.pools[pool_idx]
        if not pool.hall_factors:
            return {pool.spec.hall_idx: dict(pool.prio_gpus)}
        out: dict[int, dict[int, int]] = {h: {} for h in pool.spec.halls}
        for job in pool.running.values():
            by = out
            for g, n in job.gpus_by_group.items():
                row = by[pool.spec.hall_of(g)]
                row[job.spec.priority] = row.get(job.spec.priority, 0) + n
        return out

    def allocated_gpus(self, pool_idx: int) -> int:
        """GPUs held by running training jobs in the pool now."""
        return self.pools[pool_idx].alloc_gpus

    def _log_counts(self) -> None:
        # one row of 7 float64 per change (time and six counters, exact in float64): 56 bytes, where a tuple
        # with its numbers took about 200. A change at the time of the last row replaces it: a sample takes
        # the last row at or before its time (counter_samples), so the rows before it at that time are never
        # read (the changes of one instant, a finish and the starts it allows, keep one row)
        buf = self._count_buf
        now = self._now
        if buf and buf[-7] == now:
            del buf[-7:]
        buf.extend(
            (
                now,
                self.n_submitted,
                self.n_queued,
                self.n_running,
                self.n_finished,
                self.n_failed,
                self._alloc_gpus,
            )
        )

    def counter_samples(self, times_s: np.ndarray, *, consume: bool = False) -> dict[str, np.ndarray]:
        """Job counters and allocated GPUs as they stood at ``times_s`` (after every event at that time).

        ``consume=True`` (the run's outputs, :func:`workload_output`) frees the counter log afterwards; a later
        call raises ``RuntimeError``.

        Returns
        -------
        dict of numpy.ndarray
            ``submitted``, ``queued``, ``running``, ``finished``, ``failed``, ``allocated_gpus`` per time.
            ``submitted = finished + running + queued + failed`` holds at every time.
        """
        keys = ("submitted", "queued", "running", "finished", "failed", "allocated_gpus")
        t = np.asarray(times_s, dtype=float)
        self._check_records("counter")
        if not self._count_buf:
            return {k: np.zeros(t.shape, dtype=np.int64) for k in keys}
        if consume:  # the buffer itself (no copy): the engine drops it
            log = np.frombuffer(self._count_buf, dtype=float).reshape(-1, 7)
            self._count_buf = array("d")
            self._consumed.add("counter")
        else:
            log = np.array(self._count_buf, dtype=float).reshape(-1, 7)  # (a copy: the buffer may still grow)
        log_t, log_n = log[:, 0], log[:, 1:]
        # row 0: before the first record (all zero); record i is row i + 1
        idx = np.searchsorted(log_t, t, side="right")
        out = {}
        for i, k in enumerate(keys):
            col = np.concatenate([np.zeros(1, dtype=np.int64), log_n[:, i].astype(np.int64)])
            out[k] = col[idx]
        return out

    def phase_occupancy(self, step_s: float, n_steps: int, *, consume: bool = False) -> dict[int, np.ndarray]:
        """Step-averaged GPUs of this engine's jobs per ledger phase (exact time weighting).

        ``consume=True`` (the run's outputs, :func:`workload_output`) frees the phase log afterwards; a later
        call raises ``RuntimeError``.

        Returns
        -------
        dict of int to numpy.ndarray
            ``{Phase.TRAIN_COMPUTE: (n_steps,), Phase.TRAIN_STALL: (n_steps,)}`` [GPUs].
        """
        self._check_records("phase")
        if consume:  # the log itself (no copy): the engine drops it
            t = np.frombuffer(self._plt, dtype=float)
            p = np.frombuffer(self._plp, dtype=np.int64)
            d = np.frombuffer(self._pld, dtype=float)
        else:  # (copies: the log may still grow)
            t = np.array(self._plt, dtype=float)
            p = np.array(self._plp, dtype=np.int64)
            d = np.array(self._pld, dtype=float)
        ch = self._plchunks
        if consume:
            self._plt, self._plp, self._pld = array("d"), array("q"), array("d")
            self._plchunks = []
            self._consumed.add("phase")
        phases = (int(Phase.TRAIN_COMPUTE), int(Phase.TRAIN_STALL))
        # both phases in one pass: bins (step, phase) take each phase's changes in the order recorded, the same
        # sums as one _step_average per phase
        slot = np.full(p.size, -1, dtype=np.int64)
        for i, ph in enumerate(phases):
            slot[p == ph] = i
        keep = slot >= 0
        if not keep.all():
            t, d, slot = t[keep], d[keep], slot[keep]
        both = _step_average(t, d, step_s, n_steps, slot, len(phases))
        if ch:  # completed checkpoints: pulses from compute to stall
            x = pulse_step_average(
                np.concatenate([c[0] for c in ch]),
                np.concatenate([c[1] for c in ch]),
                np.concatenate([np.broadcast_to(c[2], c[0].shape) for c in ch]),
                step_s,
                n_steps,
            )
            both[:, 0] -= x
            both[:, 1] += x
        return {ph: both[:, i].copy() for i, ph in enumerate(phases)}

    def finalize(self) -> None:
        """Close the time buckets of running jobs at ``env.now`` (call once, at the end of the run)."""
        self._sync()
        for job in self.jobs:
            if job.state in (JobState.STALL, JobState.COMPUTE, JobState.CHECKPOINT):
                self._anchor(job)
                now = self._now
                dt = now - job.phase_since
                if job.state == JobState.COMPUTE:
                    job.compute_wall_s += dt
                elif job.state == JobState.CHECKPOINT:
                    job.ckpt_wall_s += dt
                else:
                    job.stall_wall_s += dt
                job.phase_since = now
            elif job.state == JobState.QUEUED:
                job.queue_wait_s += self._now - job.queued_since
                job.queued_since = self._now

    def jobs_table(self, *, consume: bool = False) -> pd.DataFrame:
        """One row per job (call :meth:`finalize` first). Units in column names; times in s since start.

        ``consume=True`` (the run's outputs, :func:`workload_output`) frees the job records once the table is
        built (what :meth:`events_table` needs of them is kept as columns); a later call raises
        ``RuntimeError``."""
        self._check_records("job")
        jobs = self.jobs
        if not jobs:  # no job (e.g. a sparse mix over a short horizon): same columns, no rows
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _JOB_TABLE_COLUMNS})
        n = len(jobs)
        specs = [j.spec for j in jobs]

        def job_col(attr: str, dtype: type = float) -> np.ndarray:
            return np.fromiter(map(attrgetter(attr), jobs), dtype=dtype, count=n)

        def spec_col(attr: str, dtype: type = float) -> np.ndarray:
            return np.fromiter(map(attrgetter(attr), specs), dtype=dtype, count=n)

        # numeric columns as arrays (the same elementwise float operations, in the same order, as one job at a
        # time); strings and the optional deadline flag as lists
        n_gpus = spec_col("n_gpus", np.int64)
        gh = n_gpus / 3600.0
        compute = job_col("compute_wall_s")
        ckpt = job_col("ckpt_wall_s")
        stall = job_col("stall_wall_s")
        wall = compute + ckpt + stall
        useful = job_col("progress_s")
        work_done = job_col("work_done_s")
        paused = job_col("paused_work_s")
        comm = job_col("comm_work_s")
        work = spec_col("work_s")
        state = job_col("state", np.int64)
        end_s = job_col("end_s")
        # interruption counts: zero for the jobs holding the shared zeros (most), the others' own counts
        n_int = {c: np.zeros(n, dtype=np.int64) for c in GROUP_COLUMNS}
        hit = [i for i, m in enumerate(map(attrgetter("n_int"), jobs)) if m is not NO_INTERRUPTIONS]
        if hit:
            for c in GROUP_COLUMNS:
                n_int[c][hit] = [jobs[i].n_int[c] for i in hit]
        n_int_total = np.zeros(n, dtype=np.int64)
        for c in GROUP_COLUMNS:  # without planned maintenance
            if c != "planned":
                n_int_total += n_int[c]
        deadline = [s.deadline_s for s in specs]
        span_halls = job_col("span_halls", np.int64)
        span_sites = job_col("span_sites", np.int64)
        spanned = np.where(span_sites > 1, "sites", np.where(span_halls > 1, "halls", "")).astype(object)
        cols = {
            "job": [s.name for s in specs],
            "pool": [s.pool for s in specs],
            "state": np.array(JobState.NAMES, dtype=object)[state],
            "n_gpus": n_gpus,
            "n_nodes": job_col("n_nodes", np.int64),
            "priority": spec_col("priority", np.int64),
            "submit_s": spec_col("submit_s"),
            "start_s": job_col("start_s"),
            "end_s": end_s,
            "queue_wait_s": job_col("queue_wait_s"),
            "work_s": work,
            "progress_frac": useful / work,
            "checkpoint_interval_s": job_col("interval_s"),
            "n_checkpoints": job_col("n_checkpoints", np.int64),
            "gpu_hours": wall * gh,
            "useful_gpu_hours": useful * gh,
            "lost_work_gpu_hours": job_col("lost_work_s") * gh,
            "checkpoint_gpu_hours": ckpt * gh,
            "restart_gpu_hours": stall * gh,
            "throttled_gpu_hours": (compute - work_done - paused - comm) * gh,
            "paused_gpu_hours": paused * gh,
            "comm_gpu_hours": comm * gh,
            "goodput_frac": np.divide(useful, wall, out=np.full(n, math.nan), where=wall > 0),
            "n_interruptions": n_int_total,
            **{f"n_interruptions_{c}": n_int[c] for c in GROUP_COLUMNS},
            "n_preemptions": job_col("n_preemptions", np.int64),
            "deadline_s": np.array([math.nan if d is None else d for d in deadline], dtype=float),
            "deadline_met": [
                (st == JobState.DONE and e <= d) if d is not None else None
                for st, e, d in zip(state.tolist(), end_s.tolist(), deadline, strict=True)
            ],
            # across halls/sites (spanning.py): the most halls and sites the job's GPUs were in, what it
            # spanned ("" / "halls" / "sites"), and its compute utilisation under the communication factor
            # (work done / (work done + work lost to communication); 1 when it never paid any)
            "span_halls": span_halls,
            "span_sites": span_sites,
            "spanned": spanned,
            "spanned_halls": [j.span_where for j in jobs],  # hall indices; named in workload_output
            "comm_factor": np.divide(work_done, work_done + comm, out=np.ones(n), where=comm > 0),
        }
        if consume:
            self._job_cols = (cols["job"], job_col("pool", np.int64), spec_col("checkpoint_write_s"))
            self._drop_jobs()
            del jobs, specs
        return pd.DataFrame(cols)

    def _drop_jobs(self) -> None:
        """Free the job records (those of running jobs stay with their pools until the engine goes)."""
        self.jobs = []
        self._sub_jobs, self._sub_t, self._sub_seq = [], array("d"), array("q")
        self._consumed.add("job")

    def _job_names_pools_writes(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Per job: name, pool index and checkpoint write time [s] (kept by a consuming :meth:`jobs_table`)."""
        if "job" in self._consumed:
            return self._job_cols
        jobs = self.jobs
        return (
            [j.spec.name for j in jobs],
            np.array([j.pool for j in jobs], dtype=np.int64),
            np.array([j.spec.checkpoint_write_s for j in jobs]),
        )

    def _check_records(self, what: str) -> None:
        if what in self._consumed:
            raise RuntimeError(f"the engine's {what} records were consumed by its outputs (workload_output)")

    def events_table(self, *, consume: bool = False) -> pd.DataFrame:
        """Events in time order: time_s, job_idx, job, pool_idx, pool, kind, cause, lost_gpu_hours,
        duration_s, group_idx (-1 where not applicable).

        ``consume=True`` (the run's outputs, :func:`workload_output`) frees the event records as the table is
        built; a later call raises ``RuntimeError``."""
        self._check_records("event")
        cols = [
            "time_s",
            "job_idx",
            "job",
            "pool_idx",
            "pool",
            "kind",
            "cause",
            "lost_gpu_hours",
            "duration_s",
            "group_idx",
        ]
        self._compact_events()
        chunks, ck = self._ev_chunks, self._ev_ck
        if not chunks and not ck:
            return pd.DataFrame([], columns=cols)
        # column arrays of the recorded events (in chunks, see _compact_events), then the checkpoints (one chunk
        # of completion times per segment); strings as codes into short lists, turned into string columns
        # once, after the sort
        kinds, causes = self._ev_kinds, self._ev_causes
        parts_t = [c[0] for c in chunks]
        parts_j = [c[1] for c in chunks]
        parts_p = [c[2] for c in chunks]
        parts_k = [c[3] for c in chunks]
        parts_c = [c[4] for c in chunks]
        parts_l = [c[5] for c in chunks]
        parts_d = [c[6] for c in chunks]
        parts_g = [c[7] for c in chunks]
        if consume:
            self._ev_chunks, self._ev_ck = [], []
            self._consumed.add("event")
            del chunks
        if ck:
            times = np.concatenate([c[0] for c in ck])
            # (job index per segment, or per checkpoint in a merged chunk, see Progress._record_checkpoints)
            idx = np.concatenate([np.broadcast_to(np.asarray(c[1], dtype=np.int64), c[0].shape) for c in ck])
            del ck
            _names, pidx, write = self._job_names_pools_writes()
            m = times.size
            parts_t.append(times)
            parts_j.append(idx)
            parts_p.append(pidx[idx])
            parts_k.append(np.full(m, kinds["checkpoint"], dtype=np.int32))
            parts_c.append(np.full(m, causes[""], dtype=np.int32))
            parts_l.append(np.zeros(m))
            parts_d.append(write[idx])
            parts_g.append(np.full(m, -1, dtype=np.int32))
        t = np.concatenate(parts_t)
        del parts_t
        order = np.argsort(t, kind="stable")  # time order; events at one time in the order recorded

        def ordered(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            out: np.ndarray = np.concatenate(parts).astype(dtype, copy=False)[order]
            parts.clear()  # (each column's parts are freed once it is built)
            return out

        j_idx = ordered(parts_j, np.int64)
        p_idx = ordered(parts_p, np.int64)
        # index -1 (no job) takes the trailing ""
        names = pd.array([*self._job_names_pools_writes()[0], ""], dtype="str")
        pnames = pd.array([p.spec.name for p in self.pools], dtype="str")
        columns: dict[str, Any] = {
            "time_s": t[order],
            "job_idx": j_idx,
            "job": names.take(j_idx),
            "pool_idx": p_idx,
            "pool": pnames.take(p_idx),
            "kind": pd.array(list(kinds), dtype="str").take(ordered(parts_k, np.intp)),
            "cause": pd.array(list(causes), dtype="str").take(ordered(parts_c, np.intp)),
            "lost_gpu_hours": ordered(parts_l, float),
            "duration_s": ordered(parts_d, float),
            "group_idx": ordered(parts_g, np.int64),
        }
        # each column its own block (``pd.DataFrame(dict)`` would copy them into one block per dtype)
        return frame_from_columns(columns, pd.RangeIndex(len(j_idx)))


def workload_output(
    eng: Reporting,
    name: str,
    clock: Clock,
    group_keys: Sequence[str],
    mfu_frac: np.ndarray,
    tflops_per_gpu: np.ndarray,
    pool_gpus: int,
) -> WorkloadOutput:
    """Time-series columns, jobs and events tables and KPIs of one ``kind: training`` workload.

    Parameters
    ----------
    eng : TrainingEngine
        The workload's engine, finalized (:meth:`Reporting.finalize`).
    name : str
        Workload name (column prefix ``"<name>:"``).
    clock : Clock
        Simulation clock (steps, start time).
    group_keys : sequence of str
        Rack-group key of every ledger group (``rack_group`` column of the events table).
    mfu_frac, tflops_per_gpu : numpy.ndarray
        Per job of the engine, in order: its MFU and achieved TFLOP/s per GPU (NaN for jobs of a mix).
    pool_gpus : int
        GPUs of the pool (denominator of ``allocation_frac``).
    """
    occ = eng.phase_occupancy(clock.step_s, clock.n_steps, consume=True)
    compute = occ[Phase.TRAIN_COMPUTE]
    stall = occ[Phase.TRAIN_STALL]
    cols: dict[str, np.ndarray] = {
        f"{name}:training_compute_gpus": compute,
        f"{name}:training_stall_gpus": stall,
        f"{name}:allocated_gpus": compute + stall,
        f"{name}:allocation_frac": (compute + stall) / pool_gpus,
    }
    counts = eng.counter_samples(clock.step_start_s, consume=True)
    for key in ("submitted", "queued", "running", "finished", "failed"):
        cols[f"{name}:{key}_jobs"] = counts.pop(key).astype(float)
    del counts  # (the integer samples: 8 bytes a step each, not kept while the tables are built)
    # the step averages' temporaries (tens of MB each for a year at 15-s steps) are freed but their pages stay
    # with the C heap, which the tables cannot reuse: hand them back first (it changes no number)
    release_free_heap()

    jobs = eng.jobs_table(consume=True)
    jobs.insert(0, "workload", name)
    if len(jobs):  # the halls of a job's widest placement over several halls, by name ("site/hall;...")
        hall_key = {
            p.spec.hall_of(g): group_keys[g].rsplit("/", 1)[0] for p in eng.pools for g in p.spec.group_idx
        }
        jobs["spanned_halls"] = [
            ";".join(hall_key[h] for h in where) if where else "" for where in jobs["spanned_halls"]
        ]
    jobs["mfu_frac"] = mfu_frac
    jobs["tflops_per_gpu"] = tflops_per_gpu
    jobs["checkpoint_write_s"] = eng._job_names_pools_writes()[2]
    for col in ("submit", "start", "end"):
        jobs[f"{col}_time"] = clock.start + pd.to_timedelta(jobs[f"{col}_s"], unit="s")
    release_free_heap()  # (likewise the jobs table's temporaries, before the larger events table)
    events = eng.events_table(consume=True)
    events.insert(0, "time", clock.start + pd.to_timedelta(events["time_s"], unit="s"))
    events.insert(1, "workload", name)
    g_idx = events["group_idx"].to_numpy(dtype=np.int64)
    if g_idx.size:  # index -1: no rack group
        events["rack_group"] = pd.array([*group_keys, ""], dtype="str").take(g_idx)
    else:
        events["rack_group"] = np.array([], dtype=object)
    del g_idx

    gh = jobs["gpu_hours"].sum()
    kpis = {
        f"{name}:jobs_submitted": float(eng.n_submitted),
        f"{name}:jobs_finished": float(eng.n_finished),
        f"{name}:jobs_failed": float(eng.n_failed),
        f"{name}:interruptions": float(jobs["n_interruptions"].sum()),
        f"{name}:power_interruptions": float(jobs["n_interruptions_power"].sum()),
        f"{name}:gpu_hours": float(gh),
        f"{name}:useful_gpu_hours": float(jobs["useful_gpu_hours"].sum()),
        f"{name}:lost_work_gpu_hours": float(jobs["lost_work_gpu_hours"].sum()),
        f"{name}:checkpoint_gpu_hours": float(jobs["checkpoint_gpu_hours"].sum()),
        f"{name}:restart_gpu_hours": float(jobs["restart_gpu_hours"].sum()),
        f"{name}:throttled_gpu_hours": float(jobs["throttled_gpu_hours"].sum()),
        f"{name}:paused_gpu_hours": float(jobs["paused_gpu_hours"].sum()),
        f"{name}:comm_gpu_hours": float(jobs["comm_gpu_hours"].sum()),
        f"{name}:comm_loss_frac": float(jobs["comm_gpu_hours"].sum() / gh) if gh > 0 else math.nan,
        f"{name}:jobs_spanning_sites": float((jobs["span_sites"] > 1).sum()),
        f"{name}:goodput_frac": float(jobs["useful_gpu_hours"].sum() / gh) if gh > 0 else math.nan,
        f"{name}:mean_allocation_frac": float(np.mean(cols[f"{name}:allocation_frac"])),
    }
    return WorkloadOutput(columns=cols, jobs=jobs, events=events, kpis=kpis)
