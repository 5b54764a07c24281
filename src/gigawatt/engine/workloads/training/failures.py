"""Failures and repair, spot reclaims, planned maintenance, and power loss of a hall.

Failures are one thinned Poisson process per pool at the aggregate rate of all its GPUs; a hit on a running
job's GPU interrupts that job, and the class is drawn in proportion to the per-class rates. A failure loses
the work since the last completed checkpoint, costs detection + restart time and takes the node out for its
MTTR; a hot spare (or a free node) replaces it at once, otherwise the job is requeued with its checkpointed
progress.
"""

from __future__ import annotations

import bisect
import functools

from gigawatt.engine.workloads.training.state import EngineState, Job, JobState, Pool
from gigawatt.physics.phases import Phase

__all__ = ["Failures"]


class Failures(EngineState):
    """Interruptions of the engine's jobs and the repair of its nodes."""

    def _arm_failure(self, pool: Pool) -> None:
        assert pool.rng is not None
        lam = pool.fail_lam
        if lam is None:  # first use: the pool's candidate rate, and its callback (made once, reused)
            lam = pool.fail_lam = self._fail_rate_per_gpu_s * pool.spec.n_nodes * pool.spec.gpus_per_node
            pool.fail_cb = functools.partial(self._on_failure_candidate, pool)
            pool.fail_nodes = pool.spec.n_nodes
            if lam > 0:
                pool.fail_scale_s = 1.0 / lam
        if lam <= 0:
            return
        t = self._now + pool.rng.exponential(pool.fail_scale_s)
        if t < self.horizon_s:
            assert pool.fail_cb is not None
            self._at(t, pool.fail_cb)

    def _on_failure_candidate(self, pool: Pool) -> None:
        """Thinning: a candidate at the pool's full-capacity rate hits a uniformly random GPU slot.

        Slots ``[0, alloc)`` are the running jobs' GPUs (in pool order), then the idle nodes' GPUs (free, then
        spare); nodes in repair or lent out are not exposed, so those candidates are rejected.
        """
        assert pool.rng is not None and self.config.failures is not None
        fm = self.config.failures
        pi = pool.idx
        gpn = pool.spec.gpus_per_node
        if pool.dark:  # unpowered hardware does not fail (the candidate is thinned away)
            self._arm_failure(pool)
            return
        rng = pool.rng
        u = rng.random() * pool.fail_nodes * gpn
        # the class: bisect_right over the cumulative shares (a list of the same floats), as
        # np.searchsorted(side="right")
        n_cls = len(self._fail_classes)
        k = min(bisect.bisect_right(self._class_cum_list, rng.random()), n_cls + 1)
        planned = k == n_cls
        spot = k == n_cls + 1
        if u < pool.alloc_gpus:
            job, before = pool.job_at_gpu(u)
            off = u - before
            a2 = 0.0
            g = -1
            for gg, n in job.gpus_by_group.items():
                a2 += n
                g = gg
                if off < a2:
                    break
            if spot:
                self._reclaim(pool, pi, job, g)
            else:
                self._interrupt(pool, pi, job, g, k, planned)
        elif self.config.idle_node_failures and (planned or spot or fm.needs_repair[k]):
            node = int((u - pool.alloc_gpus) // gpn)
            acc_n = 0
            done = False
            for bucket in (pool.free, pool.spare):
                for g, n in bucket.items():
                    acc_n += n
                    if node < acc_n:
                        bucket[g] -= 1
                        if spot:
                            delay = fm.spot_replacement_delay_s
                            self._event("idle_node_reclaimed", None, pi, g, "spot", duration_s=delay)
                            self._to_replacement(pool, g, delay)
                            done = True
                            break
                        cause = "planned_maintenance" if planned else fm.names[k]
                        out_s = fm.planned_duration_s if planned else float(fm.mttr_s[k])
                        self._event("idle_node_down", None, pi, g, cause, duration_s=out_s)
                        self._to_repair(pool, g, out_s)
                        done = True
                        break
                if done:
                    break
        self._arm_failure(pool)

    def _to_repair(self, pool: Pool, g: int, out_s: float) -> None:
        pool.repair[g] = pool.repair.get(g, 0) + 1
        cb = pool.repair_cb.get(g)
        if cb is None:  # one callback per group, made once
            cb = pool.repair_cb[g] = functools.partial(self._repaired, pool, g)
        self._at(self._now + out_s, cb)

    def _repaired(self, pool: Pool, g: int) -> None:
        pool.repair[g] -= 1
        if g in pool.retired:  # decommissioned while in repair: the node does not come back
            return
        if g in pool.unpowered:  # its hall is dark (pool with priced links): it rejoins with the power
            pool.unpowered[g] += 1
            return
        if pool.n_spare < pool.spec.spare_nodes:
            pool.spare[g] = pool.spare.get(g, 0) + 1
        else:
            pool.free[g] += 1
        self._event("node_repaired", None, pool.idx, g)
        self._schedule(pool)

    def _to_replacement(self, pool: Pool, g: int, delay_s: float) -> None:
        """A reclaimed spot node leaves the pool; a new one arrives after ``delay_s`` (no repair)."""
        pool.replacing[g] = pool.replacing.get(g, 0) + 1
        cb = pool.replaced_cb.get(g)
        if cb is None:  # one callback per group, made once
            cb = pool.replaced_cb[g] = functools.partial(self._replaced, pool, g)
        self._at(self._now + delay_s, cb)

    def _replaced(self, pool: Pool, g: int) -> None:
        pool.replacing[g] -= 1
        if g in pool.unpowered:  # its hall is dark (pool with priced links): it joins with the power
            pool.unpowered[g] += 1
            return
        if pool.n_spare < pool.spec.spare_nodes:
            pool.spare[g] = pool.spare.get(g, 0) + 1
        else:
            pool.free[g] += 1
        self._event("node_replaced", None, pool.idx, g, "spot")
        self._schedule(pool)

    def _reclaim(self, pool: Pool, pi: int, job: Job, g: int) -> None:
        """A spot reclaim of one of the job's nodes (interruption class ``spot``; no repair).

        The job loses the work since its last checkpoint (none with an emergency checkpoint that fits within
        the notice: it then pays the write instead) and restarts once it has a node again: a hot spare at
        once (the reclaimed slot returns to the pool as a new node after the replacement delay), otherwise it
        keeps its other nodes and waits for the new node, which joins it directly after the delay. Free nodes
        of the pool are not taken: a spot cluster rents nodes per job, so a free node stands for capacity
        nobody holds. No detection time: the notice announces the reclaim.
        """
        fm = self.config.failures
        assert fm is not None
        restart_s = fm.restart_s
        if not fm.spot_loses_work(job.spec.checkpoint_write_s) and job.state in (
            JobState.COMPUTE,
            JobState.CHECKPOINT,
        ):
            self._leave_compute(job)  # emergency checkpoint within the notice: nothing lost but the write
            job.ckpt_progress_s = job.progress_s
            lost = 0.0
            stall_s = job.spec.checkpoint_write_s + restart_s
        else:
            lost = self._lose_work(job)
            stall_s = restart_s
        job.count_interruption("spot")
        self._event("spot_reclaim", job, pi, g, "spot", lost * job.spec.n_gpus / 3600.0)
        delay = fm.spot_replacement_delay_s
        mx = job.spec.max_interruptions
        if mx is not None and sum(job.n_int.values()) > mx:
            job.nodes_by_group[g] -= 1  # the reclaimed node is gone, the others go back to the pool
            self._to_replacement(pool, g, delay)
            self._fail_job(job, f"more than {mx} interruptions")
            return
        spare = next((gg for gg, n in pool.spare.items() if n > 0), None)
        if spare is not None:
            pool.spare[spare] -= 1
            self._to_replacement(pool, g, delay)
            self._move_node(pool, job, g, spare)
            wait_s = 0.0
        else:
            wait_s = delay
            self._at(
                self._now + delay,
                functools.partial(self._event, "node_replaced", job, pi, g, "spot"),
            )
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        self._event("restart", job, pi, g, "spot", duration_s=wait_s + stall_s)
        self._timer(job, wait_s + stall_s, self._begin_compute)

    def _take_replacement(self, pool: Pool) -> int | None:
        for bucket in (pool.spare, pool.free):
            for g, n in bucket.items():
                if n > 0:
                    bucket[g] -= 1
                    return g
        return None

    def _move_node(self, pool: Pool, job: Job, g_from: int, g_to: int) -> None:
        """Replace one of the job's nodes in group ``g_from`` by a node of ``g_to`` (ledger follows)."""
        job.nodes_by_group[g_from] -= 1
        if job.nodes_by_group[g_from] == 0:
            del job.nodes_by_group[g_from]
        job.nodes_by_group[g_to] = job.nodes_by_group.get(g_to, 0) + 1
        if g_from == g_to:
            return
        n = min(pool.spec.gpus_per_node, job.gpus_by_group[g_from])
        job.gpus_by_group[g_from] -= n
        if job.gpus_by_group[g_from] == 0:
            del job.gpus_by_group[g_from]
        job.gpus_by_group[g_to] = job.gpus_by_group.get(g_to, 0) + n
        if job.phase is not None:
            self._lchange(self._now, g_from, job.phase, -n)
            self._lchange(self._now, g_to, job.phase, n)

    def _interrupt(self, pool: Pool, pi: int, job: Job, g: int, k: int, planned: bool) -> None:
        fm = self.config.failures
        assert fm is not None
        if planned:
            # automated maintenance drains the job with a final checkpoint: no work is lost
            cause, group, needs_node, out_s = "planned_maintenance", "planned", True, fm.planned_duration_s
            self._leave_compute(job)
            if job.state in (JobState.COMPUTE, JobState.CHECKPOINT):
                job.ckpt_progress_s = job.progress_s
                stall_s = job.spec.checkpoint_write_s + fm.restart_s
            else:
                stall_s = fm.restart_s
            lost = 0.0
        else:
            cause, group, needs_node, out_s = self._fail_classes[k]
            lost = self._lose_work(job)
            stall_s = self._recovery_s
        job.count_interruption(group)
        self._event(
            "maintenance" if planned else "failure", job, pi, g, cause, lost * job.spec.n_gpus / 3600.0
        )
        mx = job.spec.max_interruptions
        if mx is not None and sum(job.n_int.values()) > mx:
            if needs_node:
                job.nodes_by_group[g] -= 1  # the failed node goes to repair, the others back to the pool
                self._to_repair(pool, g, out_s)
            self._fail_job(job, f"more than {mx} interruptions")
            return
        if needs_node:
            repl = self._take_replacement_near(pool, g) if pool.spec.span else self._take_replacement(pool)
            self._to_repair(pool, g, out_s)
            if repl is None:
                job.nodes_by_group[g] -= 1  # this node goes to repair, the rest back to the pool
                self._requeue(job, "requeue", f"no replacement node after {cause}")
                self._schedule(pool)
                return
            self._move_node(pool, job, g, repl)
        self._transition(job, JobState.STALL, Phase.TRAIN_STALL)
        self._event("restart", job, pi, g, cause, duration_s=stall_s)
        self._timer(job, stall_s, self._begin_compute)

    # ---------------------------------------------------------------------------------------- power loss
    def set_power(self, hall_idx: int, powered: bool, cause: str = "blackout") -> None:
        """The hall loses (``powered=False``) or regains power from now on.

        A pool spanning several halls stops as a whole while any of its halls is dark (conservative: a job
        placed only on the lit halls is interrupted too; gang-scheduled jobs of such pools usually span them);
        a pool with priced links (``campus_link``/``cross_site``) stops only the jobs with GPUs in the dark
        hall and keeps scheduling on its lit halls (:meth:`~.spanning.Spanning._set_power_span`).

        On loss, every running job of the hall's pools (starting, computing or writing a checkpoint) is
        interrupted like a failure of class ``power``: the work since its last completed checkpoint is lost
        (``lost_gpu_hours`` of a ``power_loss`` event), ``n_interruptions_power`` counts it (and it counts
        towards ``max_interruptions``), and the job is requeued with its checkpointed progress and its nodes
        released; nodes lent to other workloads stay lent (they are dark too). While the hall is dark nothing
        starts and no failure candidate hits its nodes. On return, a ``power_restored`` event is logged and
        the pools are scheduled (each restarting job pays the start-up time). Cost O(running jobs).

        Parameters
        ----------
        hall_idx : int
            Hall index.
        powered : bool
            Whether the hall has power from now on.
        cause : str
            Recorded in the events table.
        """
        self._sync()
        for pool in self._hall_pools.get(hall_idx, ()):
            if pool.spec.span is not None:  # priced links: only the jobs touching the hall stop (spanning.py)
                self._set_power_span(pool, hall_idx, powered, cause)
                continue
            was_dark = pool.dark
            if powered:
                pool.dark_halls.discard(hall_idx)
            else:
                pool.dark_halls.add(hall_idx)
            if pool.dark == was_dark:
                continue  # no change, or another hall of a multi-hall pool is still dark
            pi = self._pool_index[pool.spec.name]
            if powered:
                self._event("power_restored", None, pi, -1, cause)
                self._schedule(pool)
                continue
            self._event("power_lost", None, pi, -1, cause)
            for job in sorted(pool.running.values(), key=lambda j: j.idx):
                lost = self._lose_work(job)
                job.count_interruption("power")
                self._event("power_loss", job, pi, -1, cause, lost * job.spec.n_gpus / 3600.0)
                mx = job.spec.max_interruptions
                if mx is not None and sum(job.n_int.values()) > mx:
                    self._fail_job(job, f"more than {mx} interruptions")
                    continue
                self._requeue(job, "requeue", cause)
        self._flush()
