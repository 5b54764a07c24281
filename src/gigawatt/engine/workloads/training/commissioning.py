"""A fleet that changes over time: rack groups join a pool when commissioned and leave it when retired."""

from __future__ import annotations

from gigawatt.engine.workloads.training.state import EngineState, Pool

__all__ = ["Commissioning"]


class Commissioning(EngineState):
    """Commissioning and decommissioning of a pool's rack groups (``PoolSpec.group_online_s``)."""

    def _commission(self, pool: Pool, g: int) -> None:
        """Group ``g``'s nodes join the pool (spares are topped up first), and the pool is scheduled."""
        n = pool.pending.pop(g, 0)
        if n <= 0 or g in pool.retired:
            return
        if g in pool.unpowered:  # its hall is dark (pool with priced links): the nodes join with the power
            pool.unpowered[g] += n
            self._event("nodes_commissioned", None, self._pool_index[pool.spec.name], g, "commissioning")
            return
        to_spare = min(n, max(pool.spec.spare_nodes - pool.n_spare, 0))
        if to_spare:
            pool.spare[g] = pool.spare.get(g, 0) + to_spare
        pool.free[g] += n - to_spare
        self._event("nodes_commissioned", None, self._pool_index[pool.spec.name], g, "commissioning")
        self._schedule(pool)

    def _decommission(self, pool: Pool, g: int) -> None:
        """Group ``g`` is retired: its free, spare and pending nodes leave the pool; every running job with a
        node on it is preempted — the work since its last completed checkpoint is lost (``preemption`` event
        with cause ``decommissioning``) — and requeued, its nodes on other groups returned to the pool; nodes
        in repair or lent out do not come back. Then the pool is scheduled."""
        pool.retired.add(g)
        pool.free[g] = 0
        pool.spare[g] = 0
        pool.pending.pop(g, None)
        pi = self._pool_index[pool.spec.name]
        self._event("nodes_decommissioned", None, pi, g, "decommissioning")
        for job in sorted(pool.running.values(), key=lambda j: j.idx):
            if job.nodes_by_group.get(g, 0) > 0:
                self._preempt(job, cause="decommissioning")
        self._schedule(pool)
