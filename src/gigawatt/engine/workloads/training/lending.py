"""Node lending: other workloads (inference ``shared_with_training``) borrow free training nodes, preempting
preemptible training jobs if asked, and are told about allocation changes through listeners."""

from __future__ import annotations

import math
from collections.abc import Callable

from gigawatt.engine.workloads.training.state import EngineState

__all__ = ["Lending"]


class Lending(EngineState):
    """Hooks for other workloads: borrow and return nodes, listen to allocation changes."""

    def pool_index(self, name: str) -> int:
        """Index of the pool called ``name``."""
        try:
            return self._pool_index[name]
        except KeyError:
            raise ValueError(f"unknown pool {name!r} (pools: {list(self._pool_index)})") from None

    def acquire_nodes(
        self, pool_idx: int, n_nodes: int, preempt: bool = False, below_priority: float = math.inf
    ) -> dict[int, int]:
        """Lend up to ``n_nodes`` free nodes to another workload (e.g. inference), preempting if asked.

        Parameters
        ----------
        pool_idx : int
            Pool index (:meth:`pool_index`).
        n_nodes : int
            Nodes wanted.
        preempt : bool
            Preempt preemptible training jobs (lowest priority first) when free nodes are short.
        below_priority : float
            Only jobs with a lower priority than this are preempted.

        Returns
        -------
        dict of int to int
            Nodes obtained per rack group (sum may be below ``n_nodes``). The caller reports their power to
            the ledger itself and gives them back with :meth:`release_nodes`.
        """
        self._sync()
        pool = self.pools[pool_idx]
        if n_nodes < 0:
            raise ValueError("n_nodes must be >= 0")
        if preempt and pool.n_free < n_nodes:
            for j in self._preemptable(pool, below_priority):
                if pool.n_free >= n_nodes:
                    break
                self._preempt(j, cause="external preemption")
        got: dict[int, int] = {}
        need = n_nodes
        for g in pool.spec.group_idx:
            take = min(need, pool.free[g])
            if take:
                pool.free[g] -= take
                pool.external[g] = pool.external.get(g, 0) + take
                got[g] = take
                need -= take
        if preempt:
            self._schedule(pool)  # preempted jobs that fit elsewhere in the pool
        self._flush()
        return got

    def release_nodes(self, pool_idx: int, nodes_by_group: dict[int, int]) -> None:
        """Give back nodes obtained from :meth:`acquire_nodes` and reschedule the pool."""
        self._sync()
        pool = self.pools[pool_idx]
        for g, n in nodes_by_group.items():
            if n < 0 or pool.external.get(g, 0) < n:
                raise ValueError(f"releasing {n} nodes of group {g} that were not acquired")
            pool.external[g] -= n
            if g in pool.unpowered:  # its hall is dark (pool with priced links): back with the power
                pool.unpowered[g] += n
            elif g not in pool.retired:
                pool.free[g] += n
        self._schedule(pool)
        self._flush()

    def _notify(self, what: str, pool: int) -> None:
        for fn in self._listeners:
            fn(what, pool)

    def add_listener(self, fn: Callable[[str, int], None]) -> None:
        """Call ``fn(what, pool_idx)`` on allocation changes (``"start"``, ``"end"``, ``"requeue"``)."""
        self._listeners.append(fn)
