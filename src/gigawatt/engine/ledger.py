"""GPU occupancy by phase: the one record of what the accelerators are doing.

Event-driven workloads (training jobs, request-level inference) report *changes* at exact simulation times;
vectorised workloads (utilisation profiles, fleet-mode inference) report whole per-step profiles. The ledger
turns both into step-averaged active-GPU counts, exactly time-weighted, for the facility physics.

A *pulse* (:meth:`LoadLedger.pulse_many`) is one record for a pair of changes that cancel: ``n`` GPUs move
from one phase to another during ``[s, e)`` and back at ``e`` (a training checkpoint write). It costs one
record instead of four change rows, and adds nothing to the steps after ``e``: step ``k`` gets
``n·|[s, e) ∩ [kΔ, (k+1)Δ)|/Δ`` in the phase moved to and as much less in the phase moved from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from gigawatt.engine.clock import Clock
from gigawatt.physics.phases import N_PHASES, Phase

__all__ = ["BoundaryWatch", "LoadLedger", "pulse_step_average", "pulse_terms"]

#: Small chunks of changes that :meth:`LoadLedger.change_many` collects before merging them into one (an
#: engineering choice: the merge copies each change once; fewer, larger chunks save the per-array overhead).
_MERGE_CHUNKS = 256


#: Batches of at most this many changes update :attr:`LoadLedger.level` one change at a time (an engineering
#: choice: below it a Python loop costs less than ``np.add.at`` and a scan of the whole level; both add the
#: changes in the order given, so the levels are the same).
_SMALL_BATCH = 32


def pulse_terms(
    start_s: np.ndarray, end_s: np.ndarray, gpus: np.ndarray, step_s: float
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Step terms of pulses of ``gpus`` over ``[start_s, end_s)``: what each adds to the step averages.

    A pulse inside step ``k`` adds ``n·(e − s)/Δ`` to step ``k``. One from step ``k_s`` to step ``k_e > k_s``
    adds ``n·((k_s+1)Δ − s)/Δ`` to step ``k_s``, ``n·(e − k_eΔ)/Δ`` to step ``k_e`` and ``n`` to every step
    between (a level ``+n`` from step ``k_s+1`` and ``−n`` from step ``k_e``, when ``k_e > k_s + 1``). The
    same numbers as its four changes (``+n`` at ``s``, ``−n`` at ``e``, in both phases) up to rounding.

    Returns
    -------
    (rows, index, value), (rows, index, value)
        *Part* terms (added to the one step ``rows``) and *full* terms (added to step ``rows`` and every
        later step), each with the index of its pulse and its value [GPUs].
    """
    ks = np.floor(start_s / step_s).astype(np.int64)
    ke = np.floor(end_s / step_s).astype(np.int64)
    cross = np.flatnonzero(ke > ks)
    v0 = gpus * (end_s - start_s) / step_s
    v0[cross] = gpus[cross] * ((ks[cross] + 1) * step_s - start_s[cross]) / step_s
    v1 = gpus[cross] * (end_s[cross] - ke[cross] * step_s) / step_s
    part = (
        np.concatenate([ks, ke[cross]]),
        np.concatenate([np.arange(ks.size), cross]),
        np.concatenate([v0, v1]),
    )
    long = np.flatnonzero(ke > ks + 1)
    full = (
        np.concatenate([ks[long] + 1, ke[long]]),
        np.concatenate([long, long]),
        np.concatenate([gpus[long], -gpus[long]]),
    )
    return part, full


def pulse_step_average(
    start_s: np.ndarray, end_s: np.ndarray, gpus: np.ndarray, step_s: float, n_steps: int
) -> np.ndarray:
    """Step averages ``(n_steps,)`` of the GPUs inside pulses over ``[start_s, end_s)`` (:func:`pulse_terms`)."""
    (pr, _, pv), (fr, _, fv) = pulse_terms(start_s, end_s, gpus, step_s)
    if pr.size and (pr.min() < 0 or pr.max() >= n_steps):
        ok = (pr >= 0) & (pr < n_steps)
        pr, pv = pr[ok], pv[ok]
    out = np.bincount(pr, weights=pv, minlength=n_steps).astype(float, copy=False)
    fr = np.maximum(fr, 0)  # a level from before the horizon holds from its start
    ok = fr < n_steps
    if ok.any():
        out += np.cumsum(np.bincount(fr[ok], weights=fv[ok], minlength=n_steps))
    return out


class BoundaryWatch:
    """A sleeping feedback controller's request to the event-driven writer of the ledger.

    While the facility controller sleeps through decided, unconstrained feedback blocks
    (:meth:`gigawatt.engine.controller.FacilityController.process`), the one event-driven workload that writes
    the ledger (a training engine) calls :attr:`visit` at each block boundary ``t_s`` it passes, before any of
    its entries at or after ``t_s`` and after all those before it: the controller checks there, as it would
    have on waking, whether the load change since its decision leaves the decision standing.

    Attributes
    ----------
    t_s : float
        Time of the next boundary to visit [s]; ``inf`` when none (the controller is awake or will wake
        before the next boundary that could matter).
    visit : callable or None
        ``visit(t_next_s) -> bool``, where ``t_next_s`` is the time of the writer's next entry [s] (``inf``
        when it has none): True when the controller must wake at ``t_s`` (the writer stops there, before its
        entries at or after ``t_s``); it then sets :attr:`t_s` to the next boundary to visit.
    writers : int
        Event-driven writers that visit boundaries (registered by them; the controller sleeps only when there
        is exactly one).
    """

    __slots__ = ("t_s", "visit", "writers")

    def __init__(self) -> None:
        self.t_s = math.inf
        self.visit: Callable[[float], bool] | None = None
        self.writers = 0


def _by_block(rows: np.ndarray, size: int, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Order grouping ``rows`` (in ``[0, size·n_blocks)``) by block ``rows // size`` that keeps their order
    inside each block (a stable radix sort on small block numbers: O(rows)), and each block's bounds in it."""
    b = rows // size
    kind = np.uint8 if n_blocks <= 1 << 8 else np.uint16 if n_blocks <= 1 << 16 else np.int64
    order = np.argsort(b.astype(kind), kind="stable")
    bounds = np.zeros(n_blocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(b, minlength=n_blocks), out=bounds[1:])
    return order, bounds


class _Pulses:
    """Pulse records ``(start_s, end_s, group, gpus)`` of one pair of phases in chunks, merged like the change
    chunks of :class:`LoadLedger`; ``pending`` holds those range queries have not dropped yet."""

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, ...]] = []
        self.size = 0
        self._n_merged = 0
        self.pending: list[tuple[np.ndarray, ...]] = []
        self._n_pending = 0  # chunks already handed to ``pending``

    def append(self, cols: tuple[np.ndarray, ...]) -> None:
        self.chunks.append(cols)
        self.size += cols[0].size
        if len(self.chunks) - self._n_merged >= _MERGE_CHUNKS:
            lo = max(self._n_merged, self._n_pending)
            tail = self.chunks[lo:]
            if len(tail) > 1:
                self.chunks[lo:] = [_concat(tail)]
            self._n_merged = len(self.chunks)

    def all(self) -> tuple[np.ndarray, ...]:
        return _concat(self.chunks)

    def unfolded(self) -> tuple[np.ndarray, ...]:
        if self._n_pending < len(self.chunks):
            self.pending.extend(self.chunks[self._n_pending :])
            self._n_pending = len(self.chunks)
        if len(self.pending) != 1:
            self.pending = [_concat(self.pending)]
        return self.pending[0]


def _concat(chunks: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return (np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))
    return tuple(np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0])))


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
        # pulses (`pulse_many`) per (from, to) phase pair; range queries drop those ending before `_pfold_step`
        self._pulses: dict[tuple[int, int], _Pulses] = {}
        self._n_pulses = 0  # pulses recorded (every pair; read by the controller at every feedback block)
        self._released = False  # records freed by `release`
        self._pfold_step = 0
        self.level = np.zeros((n_groups, N_PHASES))
        """Current event-driven active GPUs per group and phase."""
        self._profiles: np.ndarray | None = None
        self._pending: list[Callable[[], int]] = []  # records writers hold back (see `attach_pending`)
        self.watch = BoundaryWatch()
        """Boundaries a sleeping feedback controller asks the event-driven writer to visit."""

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
        level = self.level
        if t.size <= _SMALL_BATCH:  # one at a time: the same additions in the same order as np.add.at
            low = False  # some cell dipped below zero on the way (checked on the final levels below)
            for gk, pk, dk in zip(g.ravel().tolist(), p.ravel().tolist(), d.ravel().tolist(), strict=True):
                v = level[gk, pk] + dk
                level[gk, pk] = v
                if v < -1e-6:
                    low = True
            if not low:  # (only a cell changed here can have gone negative, and none went below zero)
                return
        else:
            np.add.at(level, (g, p), d)
        if level.min() < -1e-6:
            gi, pi = np.unravel_index(int(np.argmin(level)), level.shape)
            raise RuntimeError(f"ledger: group {int(gi)} phase {Phase(int(pi)).name} went negative")

    def change_lists(
        self, t_s: list[float], group: list[int], phase: list[int], delta_gpus: list[float]
    ) -> None:
        """:meth:`change_many` from Python lists of equal length (an event-driven workload's buffer): the same
        record and levels, without converting the numbers back from arrays to update the levels."""
        n = len(t_s)
        if not n:
            return
        if not len(group) == len(phase) == len(delta_gpus) == n:
            raise ValueError("change_lists: t_s, group, phase and delta_gpus must have the same length")
        if n > _SMALL_BATCH:
            self.change_many(np.array(t_s, dtype=float), group, phase, delta_gpus)  # type: ignore[arg-type]
            return
        t = np.array(t_s, dtype=float)
        g = np.array(group, dtype=np.int64)
        p = np.array(phase, dtype=np.int64)
        d = np.array(delta_gpus, dtype=float)
        self._chunks.append((t, g, p, d))
        self._n_chunked += n
        if len(self._chunks) - self._n_merged >= _MERGE_CHUNKS:
            self._merge_tail()
        level = self.level
        low = False  # one at a time, as change_many: the same additions in the same order
        for gk, pk, dk in zip(group, phase, delta_gpus, strict=True):
            v = level[gk, pk] + dk
            level[gk, pk] = v
            if v < -1e-6:
                low = True
        if low and level.min() < -1e-6:
            gi, pi = np.unravel_index(int(np.argmin(level)), level.shape)
            raise RuntimeError(f"ledger: group {int(gi)} phase {Phase(int(pi)).name} went negative")

    def record_lists(
        self, t_s: list[float], group: list[int], phase: list[int], delta_gpus: list[float]
    ) -> None:
        """Record changes whose :attr:`level` update the writer has already made, one change at a time in the
        order given, as :meth:`change_lists` would (a writer attached with :meth:`attach_pending`: the level is
        current between its hand-overs, the records follow in bulk)."""
        n = len(t_s)
        if not n:
            return
        if not len(group) == len(phase) == len(delta_gpus) == n:
            raise ValueError("record_lists: t_s, group, phase and delta_gpus must have the same length")
        self._chunks.append(
            (
                np.array(t_s, dtype=float),
                np.array(group, dtype=np.int64),
                np.array(phase, dtype=np.int64),
                np.array(delta_gpus, dtype=float),
            )
        )
        self._n_chunked += n
        if len(self._chunks) - self._n_merged >= _MERGE_CHUNKS:
            self._merge_tail()

    def attach_pending(self, count: Callable[[], int]) -> None:
        """Count the records a writer holds back (changes and pulses it will hand over later) in
        :attr:`n_changes`, so that the count is current whenever the writer's level updates are."""
        self._pending.append(count)

    def pulse_many(
        self,
        start_s: np.ndarray,
        end_s: np.ndarray,
        group: np.ndarray,
        gpus: np.ndarray,
        from_phase: Phase | int,
        to_phase: Phase | int,
    ) -> None:
        """Record pulses: ``gpus`` GPUs of ``group`` move from ``from_phase`` to ``to_phase`` at ``start_s`` and
        back at ``end_s`` (``start_s <= end_s``; array-likes of equal length, times may precede ``env.now``).

        The same occupancy as the four changes ``change_many([s, s, e, e], g, [from, to, to, from], [-n, n, -n,
        n])`` up to rounding, as one record; the current :attr:`level` is unchanged (the pulse is over).
        """
        s = np.asarray(start_s, dtype=float)
        if s.size == 0:
            return
        e = np.asarray(end_s, dtype=float)
        g = np.asarray(group, dtype=np.int64)
        n = np.asarray(gpus, dtype=float)
        if not (s.shape == e.shape == g.shape == n.shape):
            raise ValueError("pulse_many: start_s, end_s, group and gpus must have the same length")
        if (e < s).any():
            raise ValueError("pulse_many: every end_s must be >= its start_s")
        if g.min() < 0 or g.max() >= self.n_groups:
            raise ValueError(f"pulse_many: group must be in [0, {self.n_groups})")
        pair = (int(from_phase), int(to_phase))
        if pair[0] == pair[1]:
            return  # nothing moves
        self._pulses.setdefault(pair, _Pulses()).append((s.ravel(), e.ravel(), g.ravel(), n.ravel()))
        self._n_pulses += s.size

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

    def release(self) -> None:
        """Free the event-driven records (changes and pulses) once the run's occupancy has been read (after the
        controller's final pass): a job-heavy year holds tens of MB of them. :attr:`level`, the profiles and
        the counts stay; a later occupancy query raises ``RuntimeError``."""
        self._n_chunked += len(self._t)  # (counted still)
        self._t, self._g, self._p, self._d = [], [], [], []
        self._chunks, self._rq, self._pulses = [], [], {}
        self._released = True

    def _check_released(self) -> None:
        if self._released:
            raise RuntimeError("ledger: the event-driven records were released (LoadLedger.release)")

    # ---------------------------------------------------------------------------------------- outputs
    @property
    def n_changes(self) -> int:
        """Number of event-driven records (changes and pulses): grows with every record."""
        n = len(self._t) + self._n_chunked + self._n_pulses
        for count in self._pending:
            n += count()
        return n

    @property
    def n_pulses(self) -> int:
        """Number of pulses recorded (:meth:`pulse_many`)."""
        return self._n_pulses

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
        self._check_released()
        n, dt = step1 - step0, self.clock.step_s
        out = (
            np.zeros((n, self.n_groups, N_PHASES))
            if self._profiles is None
            else self._profiles[step0:step1].copy()
        )
        if n <= 0 or not (self._t or self._chunks or self._pulses):
            return out
        m = self.n_groups * N_PHASES
        if self._pulses:
            self._pulse_range(step0, step1, out)
        if not (self._t or self._chunks):
            return out
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

    def _pulse_range(self, step0: int, step1: int, out: np.ndarray) -> None:
        """Add the pulses' part of :meth:`occupancy_range` to ``out``. Pulses ending before ``step0`` add
        nothing there or later: a query moving forward drops them (only a query going back reads them again)."""
        n, dt, ng = step1 - step0, self.clock.step_s, self.n_groups
        forward = step0 >= self._pfold_step
        for (frm, to), store in self._pulses.items():
            s, e, g, gp = store.unfolded() if forward else store.all()
            (pr, pi, pv), (fr, fi, fv) = pulse_terms(s, e, gp, dt)
            # full terms before step0 start the level (row 0), those inside change it
            fb = np.clip(fr - step0, 0, None)
            ok = fb < n
            x = np.bincount(fb[ok] * ng + g[fi[ok]], weights=fv[ok], minlength=n * ng).astype(
                float, copy=False
            )
            x = np.cumsum(x.reshape(n, ng), axis=0)
            ok = (pr >= step0) & (pr < step1)
            x += np.bincount((pr[ok] - step0) * ng + g[pi[ok]], weights=pv[ok], minlength=n * ng).reshape(
                n, ng
            )
            out[:, :, to] += x
            out[:, :, frm] -= x
            if forward and step0 > self._pfold_step:
                keep = np.floor(e / dt) >= step0
                if not keep.all():
                    store.pending = [(s[keep], e[keep], g[keep], gp[keep])]
        if forward:
            self._pfold_step = step0

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
        grows with the block, not the horizon. Pulses add their :func:`pulse_terms` after the changes.
        """
        self._check_released()
        n, dt = self.clock.n_steps, self.clock.step_s
        size = max(1, int(block_steps))
        n_blocks = -(-n // size)
        shape = (self.n_groups, N_PHASES)
        n_cells, ng = self.n_groups * N_PHASES, self.n_groups
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        # terms of the running sum (``d`` from step ``row`` on) and of single steps, as (row, cell, value),
        # each grouped by block keeping the recorded order, so that every cell adds its changes in that order
        if self._t or self._chunks:
            t = np.concatenate([np.asarray(self._t, dtype=float), *(c[0] for c in self._chunks)])
            g = np.concatenate([np.asarray(self._g, dtype=np.int64), *(c[1] for c in self._chunks)])
            p = np.concatenate([np.asarray(self._p, dtype=np.int64), *(c[2] for c in self._chunks)])
            d = np.concatenate([np.asarray(self._d, dtype=float), *(c[3] for c in self._chunks)])
            k = np.floor(t / dt).astype(np.int64)
            k_in = np.clip(k, 0, n)
            cell = g * N_PHASES + p
            del g, p
            row = k_in + 1  # ``d`` from step k+1 on (past the horizon: dropped)
            ok = np.flatnonzero(row < n)
            full_terms = (row[ok], cell[ok], d[ok])
            ok = np.flatnonzero(k < n)  # the partial step of changes inside the horizon
            part_terms = (k_in[ok], cell[ok], (d * (((k + 1) * dt - t) / dt))[ok])
            del t, d, k, k_in, row, ok, cell
        else:
            full_terms = part_terms = empty
        rf, cf, df = full_terms
        rp, cp, dp = part_terms
        if n_blocks > 1:
            of, bf = _by_block(rf, size, n_blocks)
            rf, cf, df = rf[of], cf[of], df[of]
            op, bp = _by_block(rp, size, n_blocks)
            rp, cp, dp = rp[op], cp[op], dp[op]
            del of, op
        else:
            bf, bp = np.array([0, rf.size]), np.array([0, rp.size])
        # pulses per pair of phases: terms per (step, group), the same grouping by block
        pulses = []
        for (frm, to), store in self._pulses.items():
            s, e, g, gp = store.all()
            terms = []
            (pr, pi, pv), (fr, fi, fv) = pulse_terms(s, e, gp, dt)
            for rows, idx, val in ((pr, pi, pv), (np.maximum(fr, 0), fi, fv)):  # (full: held from step 0)
                if rows.size and (rows.min() < 0 or rows.max() >= n):  # (rarely: outside the horizon)
                    ok = np.flatnonzero((rows >= 0) & (rows < n))
                    rows, idx, val = rows[ok], idx[ok], val[ok]
                gi = g[idx] if ng > 1 else np.zeros(rows.size, dtype=np.int64)
                if n_blocks > 1:
                    order, bounds = _by_block(rows, size, n_blocks)
                    rows, gi, val = rows[order], gi[order], val[order]
                else:
                    bounds = np.array([0, rows.size])
                terms.append((rows, gi, val, bounds))
            pulses.append((frm, to, terms))
            del s, e, g, gp
        any_terms = bool(rf.size or rp.size or pulses)
        carry = np.zeros(shape)  # the running sum up to the step before the block
        for i, s0 in enumerate(range(0, n, size)):
            s1 = min(s0 + size, n)
            m = s1 - s0
            # sums per (step, group, phase) cell by bincount: the same additions in the same (recorded) order
            # as np.add.at, so the same result, at a fraction of the cost
            a, b = bf[i], bf[i + 1]
            a2, b2 = bp[i], bp[i + 1]
            full = (  # (float even for a block without changes: bincount of nothing is an int array)
                np.bincount((rf[a:b] - s0) * n_cells + cf[a:b], weights=df[a:b], minlength=m * n_cells)
                .astype(float, copy=False)
                .reshape(m, *shape)
            )
            part = (
                np.bincount((rp[a2:b2] - s0) * n_cells + cp[a2:b2], weights=dp[a2:b2], minlength=m * n_cells)
                .astype(float, copy=False)
                .reshape(m, *shape)
            )
            for frm, to, terms in pulses:  # part terms, then full ones (`pulse_terms`)
                for (rows, gi, val, bounds), arr in zip(terms, (part, full), strict=True):
                    a, b = bounds[i], bounds[i + 1]
                    if b > a:
                        x = np.bincount((rows[a:b] - s0) * ng + gi[a:b], weights=val[a:b], minlength=m * ng)
                        arr[:, :, to] += x.reshape(m, ng)
                        arr[:, :, frm] -= x.reshape(m, ng)
            full[0] += carry
            cum = np.cumsum(full, axis=0)
            carry = cum[-1].copy()
            out = np.zeros((m, *shape)) if self._profiles is None else self._profiles[s0:s1].copy()
            if any_terms:
                out += cum + part
            yield s0, s1, out
