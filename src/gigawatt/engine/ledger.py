"""GPU occupancy by phase: the one record of what the accelerators are doing.

Event-driven workloads (training jobs, request-level inference) report *changes* at exact simulation times;
vectorised workloads (utilisation profiles, fleet-mode inference) report whole per-step profiles. The ledger
turns both into step-averaged active-GPU counts, exactly time-weighted, for the facility physics.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gigawatt.engine.clock import Clock
from gigawatt.physics.phases import N_PHASES, Phase

__all__ = ["LoadLedger"]

#: Small chunks of changes that :meth:`LoadLedger.change_many` collects before merging them into one (an
#: engineering choice: the merge copies each change once; fewer, larger chunks save the per-array overhead).
_MERGE_CHUNKS = 256


class LoadLedger:
    """Active-GPU counts per rack group and phase.

    Parameters
    ----------
    clock
        Simulation clock.
    n_groups
        Number of rack groups in the fleet.
    """

    def __init__(self, clock: Clock, n_groups: int) -> None:
        self.clock = clock
        self.n_groups = n_groups
        self._t: list[float] = []
        self._g: list[int] = []
        self._p: list[int] = []
        self._d: list[float] = []
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # from change_many
        self._n_chunked = 0
        self._n_merged = 0  # chunks before this one are not merged again (see `_merge_tail`)
        # range queries (`occupancy_range`) see the changes not yet folded: whole-GPU changes before the
        # earliest step a query starts at are summed once into `_folded` (exact: sums of integers), so a
        # controller asking about the steps since its last decision costs O(new changes), not O(all changes)
        self._rq: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rq_n_chunks = 0  # chunks of `_chunks` already handed to `_rq`
        self._folded = np.zeros(n_groups * N_PHASES)
        self._fold_step = 0
        self.level = np.zeros((n_groups, N_PHASES))
        """Current event-driven active GPUs per group and phase."""
        self._profiles: np.ndarray | None = None

    # ----------------------------------------------------------------------------------------- inputs
    def change(self, t_s: float, group: int, phase: Phase | int, delta_gpus: float) -> None:
        """Record that ``delta_gpus`` GPUs of ``group`` enter (``> 0``) or leave (``< 0``) ``phase`` at ``t_s``."""
        if delta_gpus == 0:
            return
        self._t.append(float(t_s))
        self._g.append(int(group))
        self._p.append(int(phase))
        self._d.append(float(delta_gpus))
        self.level[group, phase] += delta_gpus
        if self.level[group, phase] < -1e-6:
            raise RuntimeError(f"ledger: group {group} phase {Phase(phase).name} went negative")

    def change_many(
        self, t_s: np.ndarray, group: np.ndarray, phase: np.ndarray, delta_gpus: np.ndarray
    ) -> None:
        """Record many changes at once (same meaning as :meth:`change`; used by event-driven workloads that
        batch the changes of a stretch of simulated time before anyone reads the ledger). Array-likes of
        equal length; times may precede ``env.now`` (a workload closing a deterministic stretch late)."""
        t = np.asarray(t_s, dtype=float)
        if t.size == 0:
            return
        g = np.asarray(group, dtype=np.int64)
        p = np.asarray(phase, dtype=np.int64)
        d = np.asarray(delta_gpus, dtype=float)
        if not (g.shape == p.shape == d.shape == t.shape):
            raise ValueError("change_many: t_s, group, phase and delta_gpus must have the same length")
        self._chunks.append((t, g, p, d))
        self._n_chunked += t.size
        if len(self._chunks) - self._n_merged >= _MERGE_CHUNKS:
            self._merge_tail()
        np.add.at(self.level, (g, p), d)
        if self.level.min() < -1e-6:
            gi, pi = np.unravel_index(int(np.argmin(self.level)), self.level.shape)
            raise RuntimeError(f"ledger: group {int(gi)} phase {Phase(int(pi)).name} went negative")

    def _merge_tail(self) -> None:
        """Merge the chunks recorded since the last merge (and not yet handed to range queries) into one.

        A workload that flushes its changes block by block leaves many small chunks (a year at 15-s steps:
        hundreds of thousands), each four arrays with their own overhead; merged, the changes cost their 32
        bytes each. Every change is copied at most once (a merged chunk is not merged again) and the order of
        the changes, hence every sum over them, is unchanged.
        """
        lo = max(self._n_merged, self._rq_n_chunks)
        tail = self._chunks[lo:]
        if len(tail) > 1:
            self._chunks[lo:] = [
                (
                    np.concatenate([c[0] for c in tail]),
                    np.concatenate([c[1] for c in tail]),
                    np.concatenate([c[2] for c in tail]),
                    np.concatenate([c[3] for c in tail]),
                )
            ]
        self._n_merged = len(self._chunks)

    def add_profile(self, group: int, phase: Phase | int, gpus_per_step: np.ndarray) -> None:
        """Add a per-step profile of step-averaged active GPUs (shape ``(n_steps,)``)."""
        arr = np.asarray(gpus_per_step, dtype=float)
        if arr.shape != (self.clock.n_steps,):
            raise ValueError(f"profile must have shape ({self.clock.n_steps},), got {arr.shape}")
        if self._profiles is None:
            self._profiles = np.zeros((self.clock.n_steps, self.n_groups, N_PHASES))
        self._profiles[:, group, phase] += arr

    # ---------------------------------------------------------------------------------------- outputs
    @property
    def n_changes(self) -> int:
        """Number of event-driven changes recorded."""
        return len(self._t) + self._n_chunked

    def predict(self, step0: int, step1: int) -> np.ndarray:
        """Occupancy ``(step1-step0, n_groups, N_PHASES)`` assuming no further event-driven changes.

        Used by the controller to decide throttling for the coming block.
        """
        n = step1 - step0
        out = np.broadcast_to(self.level, (n, self.n_groups, N_PHASES)).copy()
        if self._profiles is not None:
            out += self._profiles[step0:step1]
        return out

    def profiles_at(self, step_idx: np.ndarray) -> np.ndarray:
        """Profile part of the occupancy (vectorised workloads) at the given steps, ``(m, n_groups, N_PHASES)``."""
        idx = np.asarray(step_idx, dtype=np.int64)
        if self._profiles is None:
            return np.zeros((idx.size, self.n_groups, N_PHASES))
        return self._profiles[idx]

    def _unfolded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The changes not yet folded into ``_folded`` (the new ones since the last range query appended)."""
        if self._t:  # single changes become one more chunk (the lists are not kept: memory)
            self._chunks.append(
                (
                    np.asarray(self._t, dtype=float),
                    np.asarray(self._g, dtype=np.int64),
                    np.asarray(self._p, dtype=np.int64),
                    np.asarray(self._d, dtype=float),
                )
            )
            self._n_chunked += len(self._t)
            self._t, self._g, self._p, self._d = [], [], [], []
        if self._rq_n_chunks < len(self._chunks):
            self._rq.extend(self._chunks[self._rq_n_chunks :])
            self._rq_n_chunks = len(self._chunks)
        if len(self._rq) > 1:
            rq = self._rq
            self._rq = [
                (
                    np.concatenate([c[0] for c in rq]),
                    np.concatenate([c[1] for c in rq]),
                    np.concatenate([c[2] for c in rq]),
                    np.concatenate([c[3] for c in rq]),
                )
            ]
        if not self._rq:
            return (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        return self._rq[0]

    def occupancy_range(self, step0: int, step1: int) -> np.ndarray:
        """Step-averaged active GPUs ``(step1-step0, n_groups, N_PHASES)`` of steps ``step0..step1`` from the
        changes recorded so far (same time weighting as :meth:`occupancy`).

        Cost O(changes since the last query) when queries move forward in time, as the controller's do:
        whole-GPU changes before ``step0`` are folded into one level per group and phase (exact, being sums of
        integers) and not read again. A query that starts before the folded steps reads every change.
        """
        n, dt = step1 - step0, self.clock.step_s
        out = (
            np.zeros((n, self.n_groups, N_PHASES))
            if self._profiles is None
            else self._profiles[step0:step1].copy()
        )
        if n <= 0 or not (self._t or self._chunks):
            return out
        m = self.n_groups * N_PHASES
        if step0 >= self._fold_step:
            t, g, p, d = self._unfolded()
            folded = self._folded
        else:  # before the folded steps: every change
            t = np.concatenate([np.asarray(self._t, dtype=float), *(c[0] for c in self._chunks)])
            g = np.concatenate([np.asarray(self._g, dtype=np.int64), *(c[1] for c in self._chunks)])
            p = np.concatenate([np.asarray(self._p, dtype=np.int64), *(c[2] for c in self._chunks)])
            d = np.concatenate([np.asarray(self._d, dtype=float), *(c[3] for c in self._chunks)])
            folded = np.zeros(m)
        k = np.floor(t / dt).astype(np.int64)
        cell = g * N_PHASES + p
        before = k < step0
        start = (folded + np.bincount(cell[before], weights=d[before], minlength=m)).reshape(
            self.n_groups, N_PHASES
        )
        inside = (k >= step0) & (k < step1)
        ki, ci, di = k[inside] - step0, cell[inside], d[inside]
        full = np.bincount((ki + 1) * m + ci, weights=di, minlength=(n + 1) * m).reshape(n + 1, -1)
        frac = ((k[inside] + 1) * dt - t[inside]) / dt
        part = np.bincount(ki * m + ci, weights=di * frac, minlength=n * m).reshape(n, -1)
        level = np.cumsum(full, axis=0)[:n] + part
        if step0 >= self._fold_step and before.any():
            fold = before & (d == np.round(d)) & (np.abs(d) < 2.0**50)
            if fold.any():
                self._folded = self._folded + np.bincount(cell[fold], weights=d[fold], minlength=m)
                keep = ~fold
                self._rq = [(t[keep], g[keep], p[keep], d[keep])]
            self._fold_step = step0
        return out + start + level.reshape(n, self.n_groups, N_PHASES)

    def occupancy(self) -> np.ndarray:
        """Step-averaged active GPUs ``(n_steps, n_groups, N_PHASES)`` over the whole horizon.

        A change of ``d`` at time ``t`` inside step ``k`` contributes ``d·((k+1)Δ − t)/Δ`` to step ``k`` and ``d``
        to every later step, so energies computed from it are exact for piecewise-constant load.
        """
        n = self.clock.n_steps
        blocks = [occ for _, _, occ in self.occupancy_blocks(max(n, 1))]
        return blocks[0] if blocks else np.zeros((0, self.n_groups, N_PHASES))

    def occupancy_blocks(self, block_steps: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """:meth:`occupancy` in consecutive blocks of at most ``block_steps`` steps: ``(step0, step1, occ)``.

        The same numbers as :meth:`occupancy` (the same additions in the same order: the level carried from
        one block into the next starts the next block's running sum), without a whole-horizon array: memory
        grows with the block, not the horizon.
        """
        n, dt = self.clock.n_steps, self.clock.step_s
        size = max(1, int(block_steps))
        shape = (self.n_groups, N_PHASES)
        n_cells = self.n_groups * N_PHASES
        if self._t or self._chunks:
            t = np.concatenate([np.asarray(self._t, dtype=float), *(c[0] for c in self._chunks)])
            g = np.concatenate([np.asarray(self._g, dtype=np.int64), *(c[1] for c in self._chunks)])
            p = np.concatenate([np.asarray(self._p, dtype=np.int64), *(c[2] for c in self._chunks)])
            d = np.concatenate([np.asarray(self._d, dtype=float), *(c[3] for c in self._chunks)])
            k = np.floor(t / dt).astype(np.int64)
            k_in = np.clip(k, 0, n)
            # rows of the running sum (``d`` from step k+1 on; n: past the horizon) and of the partial step
            # (changes inside the horizon), each in a stable order so that every cell adds its changes in the
            # order they were recorded
            row_full = np.minimum(k_in + 1, n)
            of = np.argsort(row_full, kind="stable")
            cell = g * N_PHASES + p
            rf, cf, df = row_full[of], cell[of], d[of]
            inside = np.flatnonzero(k < n)
            op = inside[np.argsort(k_in[inside], kind="stable")]
            rp, cp = k_in[op], cell[op]
            dp = (d * (((k + 1) * dt - t) / dt))[op]
            del t, g, p, d, k, k_in, row_full, of, inside, op, cell
        else:
            rf = rp = cf = cp = np.zeros(0, dtype=np.int64)
            df = dp = np.zeros(0)
        carry = np.zeros(shape)  # the running sum up to the step before the block
        for s0 in range(0, n, size):
            s1 = min(s0 + size, n)
            m = s1 - s0
            # sums per (step, group, phase) cell by bincount: the same additions in the same (recorded) order
            # as np.add.at, so the same result, at a fraction of the cost
            a, b = np.searchsorted(rf, [s0, s1])
            full = (  # (float even for a block without changes: bincount of nothing is an int array)
                np.bincount((rf[a:b] - s0) * n_cells + cf[a:b], weights=df[a:b], minlength=m * n_cells)
                .astype(float, copy=False)
                .reshape(m, *shape)
            )
            full[0] += carry
            cum = np.cumsum(full, axis=0)
            carry = cum[-1].copy()
            a, b = np.searchsorted(rp, [s0, s1])
            part = (
                np.bincount((rp[a:b] - s0) * n_cells + cp[a:b], weights=dp[a:b], minlength=m * n_cells)
                .astype(float, copy=False)
                .reshape(m, *shape)
            )
            out = np.zeros((m, *shape)) if self._profiles is None else self._profiles[s0:s1].copy()
            if rf.size or rp.size:
                out += cum + part
            yield s0, s1, out
