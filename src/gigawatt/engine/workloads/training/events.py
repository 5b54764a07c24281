"""The training engine's own event heap, kept in step with simpy time, and the buffered ledger changes.

The engine keeps its own event heap and runs it ahead of simpy time up to the next simpy event
(``env.peek()``): nothing outside the engine can act before then, so the result is the same as one simpy
timeout per event, at a fraction of the cost. Public entry points call ``_sync()`` first. Ledger changes made
during such a batch are buffered and handed to the ledger in bulk when the batch ends (``_flush``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
import simpy

from gigawatt.engine.workloads.training.specs import LedgerLike
from gigawatt.engine.workloads.training.state import EngineState, Job
from gigawatt.physics.phases import Phase

__all__ = ["EventQueue"]


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
        # completed checkpoints are buffered as pulses (start, end, group, GPUs) when the ledger takes them
        self._pulses = self._bulk and callable(getattr(ledger, "pulse_many", None))
        self._lt = []
        self._lg = []
        self._lp = []
        self._ld = []
        self._lchunks = []
        self.ledger = ledger

    def _sync(self) -> None:
        if not self._in_batch:
            self._now = self.env.now

    def _push(self, t_s: float, fn: Callable[..., None], job: Job | None = None, epoch: int = -1) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t_s, self._seq, fn, job, epoch))
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
        now = self.env.now
        if ev is self._alarm_ev:  # the pending alarm fired (a superseded, later one changes nothing)
            self._alarm_t = math.inf
            self._alarm_ev = None
        limit = max(self.env.peek(), now)
        heap = self._heap
        self._in_batch = True
        try:
            while heap and (heap[0][0] < limit or heap[0][0] <= now):
                t_s, _seq, fn, job, epoch = heapq.heappop(heap)
                self._now = t_s
                if job is None:
                    fn()
                elif job.epoch == epoch:
                    fn(job)
        finally:
            self._in_batch = False
            self._now = now
            self._flush()
        if heap and heap[0][0] < self._alarm_t:
            self._set_alarm(heap[0][0])

    def _lchange(self, t_s: float, group: int, phase: int, delta: float) -> None:
        if self._bulk:
            self._lt.append(t_s)
            self._lg.append(group)
            self._lp.append(phase)
            self._ld.append(delta)
        else:
            self.ledger.change(t_s, group, phase, delta)

    def _flush(self) -> None:
        if self._lt:
            self.ledger.change_many(  # type: ignore[attr-defined]
                np.asarray(self._lt, dtype=float),
                np.asarray(self._lg, dtype=np.int64),
                np.asarray(self._lp, dtype=np.int64),
                np.asarray(self._ld, dtype=float),
            )
            self._lt, self._lg, self._lp, self._ld = [], [], [], []
        if self._lchunks:  # checkpoint pulses: (starts, ends, group, GPUs) per job and rack group
            ch = self._lchunks
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

    def _at(self, t_s: float, fn: Callable[[], None]) -> None:
        self._push(max(t_s, self._now), fn)

    def _timer(self, job: Job, delay_s: float, fn: Callable[[Job], None]) -> None:
        job.epoch += 1
        self._push(self._now + max(delay_s, 0.0), fn, job, job.epoch)
