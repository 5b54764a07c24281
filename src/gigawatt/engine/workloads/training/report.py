"""Records of the training engine and its outputs: events and jobs tables, counters, phase occupancy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import itemgetter

import numpy as np
import pandas as pd

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import pulse_step_average
from gigawatt.engine.workloads.base import WorkloadOutput
from gigawatt.engine.workloads.training.specs import GROUP_COLUMNS, TrainingJobSpec
from gigawatt.engine.workloads.training.state import EngineState, Job, JobState
from gigawatt.physics.phases import Phase

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


class Reporting(EngineState):
    """What the engine records as it runs, and the tables and arrays built from it."""

    def _init_records(self) -> None:
        self._ev = []
        self._listeners = []
        self._count_log = []
        self._alloc_gpus = 0  # GPUs of running jobs over all pools (counter log)
        self._plt = []  # phase log (time, phase, delta GPUs) for per-workload columns
        self._plp = []
        self._pld = []
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
        self._count_log.append(
            (
                self._now,
                self.n_submitted,
                self.n_queued,
                self.n_running,
                self.n_finished,
                self.n_failed,
                self._alloc_gpus,
            )
        )

    def counter_samples(self, times_s: np.ndarray) -> dict[str, np.ndarray]:
        """Job counters and allocated GPUs as they stood at ``times_s`` (after every event at that time).

        Returns
        -------
        dict of numpy.ndarray
            ``submitted``, ``queued``, ``running``, ``finished``, ``failed``, ``allocated_gpus`` per time.
            ``submitted = finished + running + queued + failed`` holds at every time.
        """
        keys = ("submitted", "queued", "running", "finished", "failed", "allocated_gpus")
        t = np.asarray(times_s, dtype=float)
        if not self._count_log:
            return {k: np.zeros(t.shape, dtype=np.int64) for k in keys}
        log = np.asarray(self._count_log, dtype=float)
        idx = np.searchsorted(log[:, 0], t, side="right") - 1
        vals = np.vstack([np.zeros((1, log.shape[1])), log])[idx + 1]
        return {k: vals[:, i + 1].astype(np.int64) for i, k in enumerate(keys)}

    def phase_occupancy(self, step_s: float, n_steps: int) -> dict[int, np.ndarray]:
        """Step-averaged GPUs of this engine's jobs per ledger phase (exact time weighting).

        Returns
        -------
        dict of int to numpy.ndarray
            ``{Phase.TRAIN_COMPUTE: (n_steps,), Phase.TRAIN_STALL: (n_steps,)}`` [GPUs].
        """
        t = np.asarray(self._plt, dtype=float)
        p = np.fromiter(
            self._plp, dtype=np.int64, count=len(self._plp)
        )  # (Phase members: faster than asarray)
        d = np.asarray(self._pld, dtype=float)
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
        if self._plchunks:  # completed checkpoints: pulses from compute to stall
            ch = self._plchunks
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

    def jobs_table(self) -> pd.DataFrame:
        """One row per job (call :meth:`finalize` first). Units in column names; times in s since start."""
        jobs = self.jobs
        if not jobs:  # no job (e.g. a sparse mix over a short horizon): same columns, no rows
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _JOB_TABLE_COLUMNS})
        specs = [j.spec for j in jobs]
        n_gpus = [s.n_gpus for s in specs]
        gh = [n / 3600.0 for n in n_gpus]
        wall = [j.compute_wall_s + j.ckpt_wall_s + j.stall_wall_s for j in jobs]
        useful = [j.progress_s for j in jobs]
        names = JobState.NAMES
        n_int = {c: [j.n_int[c] for j in jobs] for c in GROUP_COLUMNS}
        cols = {
            "job": [s.name for s in specs],
            "pool": [s.pool for s in specs],
            "state": [names[j.state] for j in jobs],
            "n_gpus": n_gpus,
            "n_nodes": [j.n_nodes for j in jobs],
            "priority": [s.priority for s in specs],
            "submit_s": [s.submit_s for s in specs],
            "start_s": [j.start_s for j in jobs],
            "end_s": [j.end_s for j in jobs],
            "queue_wait_s": [j.queue_wait_s for j in jobs],
            "work_s": [s.work_s for s in specs],
            "progress_frac": [u / s.work_s for u, s in zip(useful, specs, strict=True)],
            "checkpoint_interval_s": [j.interval_s for j in jobs],
            "n_checkpoints": [j.n_checkpoints for j in jobs],
            "gpu_hours": [w * g for w, g in zip(wall, gh, strict=True)],
            "useful_gpu_hours": [u * g for u, g in zip(useful, gh, strict=True)],
            "lost_work_gpu_hours": [j.lost_work_s * g for j, g in zip(jobs, gh, strict=True)],
            "checkpoint_gpu_hours": [j.ckpt_wall_s * g for j, g in zip(jobs, gh, strict=True)],
            "restart_gpu_hours": [j.stall_wall_s * g for j, g in zip(jobs, gh, strict=True)],
            "throttled_gpu_hours": [
                (j.compute_wall_s - j.work_done_s - j.paused_work_s - j.comm_work_s) * g
                for j, g in zip(jobs, gh, strict=True)
            ],
            "paused_gpu_hours": [j.paused_work_s * g for j, g in zip(jobs, gh, strict=True)],
            "comm_gpu_hours": [j.comm_work_s * g for j, g in zip(jobs, gh, strict=True)],
            "goodput_frac": [u / w if w > 0 else math.nan for u, w in zip(useful, wall, strict=True)],
            # in GROUP_COLUMNS order, without planned maintenance (same sum order as one job at a time)
            "n_interruptions": [sum(j.n_int[c] for c in GROUP_COLUMNS if c != "planned") for j in jobs],
            **{f"n_interruptions_{c}": n_int[c] for c in GROUP_COLUMNS},
            "n_preemptions": [j.n_preemptions for j in jobs],
            "deadline_s": [math.nan if s.deadline_s is None else s.deadline_s for s in specs],
            "deadline_met": [
                (j.state == JobState.DONE and j.end_s <= s.deadline_s) if s.deadline_s is not None else None
                for j, s in zip(jobs, specs, strict=True)
            ],
            # across halls/sites (spanning.py): the most halls and sites the job's GPUs were in, what it
            # spanned ("" / "halls" / "sites"), and its compute utilisation under the communication factor
            # (work done / (work done + work lost to communication); 1 when it never paid any)
            "span_halls": [j.span_halls for j in jobs],
            "span_sites": [j.span_sites for j in jobs],
            "spanned": ["sites" if j.span_sites > 1 else "halls" if j.span_halls > 1 else "" for j in jobs],
            "spanned_halls": [j.span_where for j in jobs],  # hall indices; named in workload_output
            "comm_factor": [
                j.work_done_s / (j.work_done_s + j.comm_work_s) if j.comm_work_s > 0 else 1.0 for j in jobs
            ],
        }
        return pd.DataFrame(cols)

    def events_table(self) -> pd.DataFrame:
        """Events in time order: time_s, job_idx, job, pool_idx, pool, kind, cause, lost_gpu_hours,
        duration_s, group_idx (-1 where not applicable)."""
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
        ev, ck = self._ev, self._ev_ck
        if not ev and not ck:
            return pd.DataFrame([], columns=cols)
        # column arrays of the recorded events, then the checkpoints (one chunk of completion times per
        # segment); strings as codes into short lists, turned into string columns once, after the sort
        kinds: dict[str, int] = {}
        causes: dict[str, int] = {}
        n = len(ev)

        def col(k: int, dtype: type) -> np.ndarray:
            return np.fromiter(map(itemgetter(k), ev), dtype=dtype, count=n)

        parts_t = [col(0, float)]
        parts_j = [col(1, np.int64)]
        parts_p = [col(2, np.int64)]
        parts_k = [np.array([kinds.setdefault(r[3], len(kinds)) for r in ev], dtype=np.int64)]
        parts_c = [np.array([causes.setdefault(r[4], len(causes)) for r in ev], dtype=np.int64)]
        parts_l = [col(5, float)]
        parts_d = [col(6, float)]
        parts_g = [col(7, np.int64)]
        if ck:
            times = np.concatenate([c[0] for c in ck])
            idx = np.repeat(np.array([c[1] for c in ck], dtype=np.int64), [c[0].size for c in ck])
            pidx = np.array([j.pool for j in self.jobs], dtype=np.int64)
            write = np.array([j.spec.checkpoint_write_s for j in self.jobs])
            m = times.size
            parts_t.append(times)
            parts_j.append(idx)
            parts_p.append(pidx[idx])
            parts_k.append(np.full(m, kinds.setdefault("checkpoint", len(kinds)), dtype=np.int64))
            parts_c.append(np.full(m, causes.setdefault("", len(causes)), dtype=np.int64))
            parts_l.append(np.zeros(m))
            parts_d.append(write[idx])
            parts_g.append(np.full(m, -1, dtype=np.int64))
        t = np.concatenate(parts_t)
        order = np.argsort(t, kind="stable")  # time order; events at one time in the order recorded
        j_idx = np.concatenate(parts_j)[order]
        p_idx = np.concatenate(parts_p)[order]
        # index -1 (no job) takes the trailing ""
        names = pd.array([*(j.spec.name for j in self.jobs), ""], dtype="str")
        pnames = pd.array([p.spec.name for p in self.pools], dtype="str")
        return pd.DataFrame(
            {
                "time_s": t[order],
                "job_idx": j_idx,
                "job": names.take(j_idx),
                "pool_idx": p_idx,
                "pool": pnames.take(p_idx),
                "kind": pd.array(list(kinds), dtype="str").take(np.concatenate(parts_k)[order]),
                "cause": pd.array(list(causes), dtype="str").take(np.concatenate(parts_c)[order]),
                "lost_gpu_hours": np.concatenate(parts_l)[order],
                "duration_s": np.concatenate(parts_d)[order],
                "group_idx": np.concatenate(parts_g)[order],
            }
        )


def workload_output(
    eng: Reporting,
    name: str,
    clock: Clock,
    group_keys: Sequence[str],
    specs: Sequence[TrainingJobSpec],
    job_info: Sequence[Mapping[str, float]],
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
    specs, job_info : sequence
        The engine's jobs in order, and their ``mfu_frac`` and ``tflops_per_gpu``.
    pool_gpus : int
        GPUs of the pool (denominator of ``allocation_frac``).
    """
    occ = eng.phase_occupancy(clock.step_s, clock.n_steps)
    compute = occ[Phase.TRAIN_COMPUTE]
    stall = occ[Phase.TRAIN_STALL]
    cols: dict[str, np.ndarray] = {
        f"{name}:training_compute_gpus": compute,
        f"{name}:training_stall_gpus": stall,
        f"{name}:allocated_gpus": compute + stall,
        f"{name}:allocation_frac": (compute + stall) / pool_gpus,
    }
    counts = eng.counter_samples(clock.step_start_s)
    for key in ("submitted", "queued", "running", "finished", "failed"):
        cols[f"{name}:{key}_jobs"] = counts[key].astype(float)

    jobs = eng.jobs_table()
    jobs.insert(0, "workload", name)
    if len(jobs):  # the halls of a job's widest placement over several halls, by name ("site/hall;...")
        hall_key = {
            p.spec.hall_of(g): group_keys[g].rsplit("/", 1)[0] for p in eng.pools for g in p.spec.group_idx
        }
        jobs["spanned_halls"] = [";".join(hall_key[h] for h in where) for where in jobs["spanned_halls"]]
    jobs["mfu_frac"] = [i["mfu_frac"] for i in job_info]
    jobs["tflops_per_gpu"] = [i["tflops_per_gpu"] for i in job_info]
    jobs["checkpoint_write_s"] = [j.checkpoint_write_s for j in specs]
    for col in ("submit", "start", "end"):
        jobs[f"{col}_time"] = clock.start + pd.to_timedelta(jobs[f"{col}_s"], unit="s")
    events = eng.events_table()
    events.insert(0, "time", clock.start + pd.to_timedelta(events["time_s"], unit="s"))
    events.insert(1, "workload", name)
    g_idx = events["group_idx"].to_numpy(dtype=np.int64)
    if g_idx.size:  # index -1: no rack group
        events["rack_group"] = pd.array([*group_keys, ""], dtype="str").take(g_idx)
    else:
        events["rack_group"] = np.array([], dtype=object)

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
