"""The training engine's own event heap, kept in step with simpy time, and the buffered ledger changes.

The engine keeps its own event heap and runs it ahead of simpy time up to the next simpy event
(``env.peek()``): nothing outside the engine can act before then, so the result is the same as one simpy
timeout per event, at a fraction of the cost. Public entry points call ``_sync()`` first. Ledger changes made
during such a batch are buffered and handed to the ledger in bulk when the batch ends (``_flush``).
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable

import numpy as np
import simpy

from gigawatt.engine.workloads.training.specs import LedgerLike
from gigawatt.engine.workloads.training.state import EngineState, Job
from gigawatt.physics.phases import Phase

__all__ = ["EventQueue"]


class _NoWatch:
    """The boundary watch of a ledger without one: no boundary is ever due."""

    t_s = math.inf

    @staticmethod
    def visit(t_next_s: float) -> bool:  # pragma: no cover - never due
        return False


_NO_WATCH = _NoWatch()


class EventQueue(EngineState):
    """Event heap, simpy alarm and ledger buffer of the engine."""

    def _init_queue(self, env: simpy.Environment, ledger: LedgerLike) -> None:
        self.env = env
        self._heap = []
        self._seq = 0
        self._now = env.now
        self._in_batch = False
        self._alarm_t = math.inf
        self._alarm_ev = None
        # ledger changes are buffered during a batch when the ledger accepts bulk input (change_many)
        self._bulk = callable(getattr(ledger, "change_many", None))
        # (from the lists themselves when the ledger takes them: LoadLedger.change_lists)
        self._lists = self._bulk and callable(getattr(ledger, "change_lists", None))
        # completed checkpoints are buffered as pulses (start, end, group, GPUs) when the ledger takes them
        self._pulses = self._bulk and callable(getattr(ledger, "pulse_many", None))
        self._lt = []
        self._lg = []
        self._lp = []
        self._ld = []
        self._lchunks = []
        self._n_lpulse = 0
        self.ledger = ledger
        # with a ledger that takes its records after the level (LoadLedger.record_lists), the engine updates
        # the level at each change and hands the records over in bulk: the level and the change count
        # (attach_pending) are current inside a batch, where the ledger's boundary watch may be visited
        self._level = None
        self._low = False  # some cell went below zero since the last hand-over (checked then)
        self._watch = _NO_WATCH
        if self._lists and callable(getattr(ledger, "record_lists", None)):
            self._level = ledger.level  # type: ignore[attr-defined]
            ledger.attach_pending(self._n_held)  # type: ignore[attr-defined]
            watch = getattr(ledger, "watch", None)
            if watch is not None:
                watch.writers += 1
                self._watch = watch

    def _n_held(self) -> int:
        """Records held back: buffered changes and checkpoint pulses not yet handed to the ledger."""
        return len(self._lt) + self._n_lpulse

    def _sync(self) -> None:
        if not self._in_batch:
            self._now = self.env.now

    def _push(self, t_s: float, fn: Callable[..., None], job: Job | None = None, epoch: int = -1) -> None:
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (t_s, seq, fn, job, epoch))
        if not self._in_batch and t_s < self._alarm_t:
            self._set_alarm(t_s)

    def _set_alarm(self, t_s: float) -> None:
        """Wake the engine when its earliest pending entry ``t_s`` is due.

        The alarm is held as an event and ``_alarm_t`` is the time simpy will actually fire it
        (``now + (t_s − now)``, which may round one ulp below ``t_s``), so the comparisons in :meth:`_push`
        and :meth:`_on_alarm` never depend on that rounding: an alarm is cleared by identity when it fires.
        """
        now = self.env.now
        delay = max(t_s - now, 0.0)
        ev = self.env.timeout(delay)
        self._alarm_t = now + delay  # what simpy schedules: ``env.now + delay``
        self._alarm_ev = ev
        ev.callbacks.append(self._on_alarm)

    def _on_alarm(self, ev: simpy.Event) -> None:
        env = self.env
        now = env.now
        if ev is self._alarm_ev:  # the pending alarm fired (a superseded, later one changes nothing)
            self._alarm_t = math.inf
            self._alarm_ev = None
        limit = max(env.peek(), now)
        heap = self._heap
        pop = heapq.heappop
        watch = self._watch
        watch_t = watch.t_s  # (only a visit moves it during a batch)
        self._in_batch = True
        try:
            while heap:
                t_s = heap[0][0]
                if not (t_s < limit or t_s <= now):
                    break
                # a sleeping controller's block boundary at or before this entry: visited first (after every
                # entry before it); when the controller must wake there, the batch stops before this entry
                if t_s >= watch_t:
                    if watch.visit(t_s):
                        break
                    watch_t = watch.t_s
                _t, _seq, fn, job, epoch = pop(heap)
                self._now = t_s
                if job is None:
                    fn()
                elif job.epoch == epoch:
                    fn(job)
        finally:
            self._in_batch = False
            self._now = now
            self._flush()
        nxt = heap[0][0] if heap else math.inf
        alarm = nxt
        if watch.t_s <= nxt:  # a boundary before the next entry (inf <= inf: none)
            if watch.t_s <= env.peek():  # nothing else happens before it: visit it now
                watch.visit(nxt)
            if watch.t_s <= nxt:  # (still unvisited) an alarm at the boundary visits it
                alarm = watch.t_s
        if alarm < self._alarm_t:
            self._set_alarm(alarm)

    def _lchange(self, t_s: float, group: int, phase: int, delta: float) -> None:
        if self._bulk:
            self._lt.append(t_s)
            self._lg.append(group)
            self._lp.append(phase)
            self._ld.append(delta)
            level = self._level
            if level is not None:  # (the ledger's own update, at the change: the same addition)
                v = level[group, phase] + delta
                level[group, phase] = v
                if v < -1e-6:
                    self._low = True
        else:
            self.ledger.change(t_s, group, phase, delta)

    def _flush(self) -> None:
        if self._lt:
            if self._level is not None:
                self.ledger.record_lists(self._lt, self._lg, self._lp, self._ld)  # type: ignore[attr-defined]
                if self._low:
                    self._low = False
                    self._check_level()
            elif self._lists:
                self.ledger.change_lists(self._lt, self._lg, self._lp, self._ld)  # type: ignore[attr-defined]
            else:
                self.ledger.change_many(  # type: ignore[attr-defined]
                    np.asarray(self._lt, dtype=float),
                    np.asarray(self._lg, dtype=np.int64),
                    np.asarray(self._lp, dtype=np.int64),
                    np.asarray(self._ld, dtype=float),
                )
            self._lt, self._lg, self._lp, self._ld = [], [], [], []
        if self._lchunks:  # checkpoint pulses: (starts, ends, group, GPUs) per job and rack group
            ch = self._lchunks
            if len(ch) == 1:  # (often: one segment closed in one rack group; the same arrays)
                s, e, g, n = ch[0]
                g_col = np.empty(s.size, dtype=np.int64)  # (np.full, at less cost)
                g_col.fill(g)
                n_col = np.empty(s.size)
                n_col.fill(n)
                self.ledger.pulse_many(  # type: ignore[attr-defined]
                    s, e, g_col, n_col, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL
                )
            else:
                sizes = [c[0].size for c in ch]
                self.ledger.pulse_many(  # type: ignore[attr-defined]
                    np.concatenate([c[0] for c in ch]),
                    np.concatenate([c[1] for c in ch]),
                    np.repeat(np.array([c[2] for c in ch], dtype=np.int64), sizes),
                    np.repeat(np.array([c[3] for c in ch], dtype=float), sizes),
                    Phase.TRAIN_COMPUTE,
                    Phase.TRAIN_STALL,
                )
            self._lchunks = []
            self._n_lpulse = 0

    def _check_level(self) -> None:
        """Raise when some ledger cell is below zero (as the ledger's own update checks)."""
        level = self._level
        assert level is not None
        if level.min() < -1e-6:
            gi, pi = np.unravel_index(int(np.argmin(level)), level.shape)
            raise RuntimeError(f"ledger: group {int(gi)} phase {Phase(int(pi)).name} went negative")

    def _at(self, t_s: float, fn: Callable[[], None]) -> None:
        # _push, inlined (one call less on the hot path)
        if t_s < self._now:
            t_s = self._now
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (t_s, seq, fn, None, -1))
        if not self._in_batch and t_s < self._alarm_t:
            self._set_alarm(t_s)

    def _timer(self, job: Job, delay_s: float, fn: Callable[[Job], None]) -> None:
        # _push, inlined (one call less on the hot path)
        job.epoch = epoch = job.epoch + 1
        t_s = self._now + max(delay_s, 0.0)
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (t_s, seq, fn, job, epoch))
        if not self._in_batch and t_s < self._alarm_t:
            self._set_alarm(t_s)

    def _init_submissions(self) -> None:
        """Feed the jobs' submissions into the heap one at a time, in (time, job) order.

        Each submission keeps the heap position it would have had if all were pushed at the start, in job
        order (``_at(submit_s, ...)``: time ``max(submit_s, now)`` and sequence ``1 + its job index`` after
        the entries already pushed), so entries are popped in exactly the same order; the heap only holds the
        next one (:meth:`_submit_next` pushes its successor), which keeps it small (the year's 183,000
        submissions of a campus would otherwise sit in it from the start). The alarms are set as those pushes
        would have set them.
        """
        now = self._now
        jobs = self.jobs
        n = len(jobs)
        t = [max(j.spec.submit_s, now) for j in jobs]  # the times _at gives them
        for t_s in t:  # the alarms of the pushes in job order (an earlier time supersedes the pending one)
            if t_s < self._alarm_t:
                self._set_alarm(t_s)
        order = np.argsort(np.asarray(t, dtype=float), kind="stable").tolist()  # ties in job order
        base = self._seq + 1
        self._seq += n
        # (typed arrays: 8 bytes a job, where a list held a pointer and a number object of its own)
        self._sub_t = array("d", [t[i] for i in order])
        self._sub_seq = array("q", [base + i for i in order])
        self._sub_jobs = [jobs[i] for i in order]
        self._sub_k = 0
        if n:
            heapq.heappush(self._heap, (self._sub_t[0], self._sub_seq[0], self._submit_next, None, -1))

    def _submit_next(self) -> None:
        """Submit the next job in submission order, and push the one after it."""
        k = self._sub_k
        job = self._sub_jobs[k]
        k += 1
        self._sub_k = k
        if k < len(self._sub_t):
            heapq.heappush(self._heap, (self._sub_t[k], self._sub_seq[k], self._submit_next, None, -1))
        self._submit(job)
