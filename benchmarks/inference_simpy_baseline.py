"""Baseline for the request-level inference simulator: one simpy process per request, same serving model.

Mirrors :mod:`gigawatt.engine.inference_sim` line for line in plain Python (continuous batching, chunked or
whole prefill, KV reservation, routers, M/M/c mode) so that ``tests/engine/test_inference_sim.py`` can hold
the compiled kernel to *identical* per-request results, and ``benchmarks/bench_inference.py`` can measure the
kernel's speed-up against an idiomatic simpy model measured in the same run.

Each request is a simpy process: it waits for its arrival, is routed and queued, then waits on a
first-token event and a completion event. Each busy replica runs an engine process that performs
iterations (one ``timeout`` per iteration) until it has no work.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np
import simpy

from gigawatt.engine.inference_sim import ROUTERS, RequestResult
from gigawatt.perf.roofline import IterationCoefficients, roofline_time_s


def _iter_time(c: list[float], n_tok: int, kv_read: int, pairs: float, speed: float) -> float:
    # c: IterationCoefficients.packed() as Python floats; the same roofline formula as the kernel
    return float(roofline_time_s(c, float(n_tok), float(kv_read), pairs)) / speed


class _Replica:
    def __init__(self, idx: int, queue: deque[int]) -> None:
        self.idx = idx
        self.queue = queue
        self.busy = False
        self.iter = 0
        self.dec: list[tuple[int, int]] = []  # heap of (finish iteration, request)
        self.sctx = 0
        self.kvu = 0
        self.seqs = 0
        self.pfreq = -1
        self.pfdone = 0
        self.itlist: list[int] = []
        self.itpart = 0
        self.cur = -1
        self.load = 0.0


class SimpySim:
    """One-process-per-request simpy model of the serving model in :mod:`gigawatt.engine.inference_sim`."""

    def __init__(
        self,
        arrival_s,
        prompt_tokens,
        output_tokens,
        n_replicas,
        coeffs: IterationCoefficients,  # type: ignore[no-untyped-def]
        kv_capacity_tokens,
        *,
        max_batch_tokens=8192,
        max_batch_seqs=256,
        chunked_prefill=True,
        router="least_loaded",
        speed_frac=1.0,
        service_s=None,
    ) -> None:
        self.arr = np.asarray(arrival_s, dtype=np.float64)
        self.P = [int(x) for x in prompt_tokens]
        self.O = [int(x) for x in output_tokens]
        self.svc = None if service_s is None else [float(x) for x in service_s]
        self.mode_exp = service_s is not None
        self.n = len(self.arr)
        self.router = ROUTERS.index(router)
        self.c: list[float] = coeffs.packed().tolist()
        self.kv_cap = int(kv_capacity_tokens)
        self.max_tok = int(max_batch_tokens)
        self.max_seqs = int(max_batch_seqs)
        self.chunked = bool(chunked_prefill)
        self.speed = float(speed_frac)
        self.env = simpy.Environment()
        central: deque[int] = deque()
        self.reps = [_Replica(r, central if self.router == 0 else deque()) for r in range(int(n_replicas))]
        self.rr = 0
        n = self.n
        self.rep = np.full(n, -1, dtype=np.int64)
        self.start = np.full(n, np.nan)
        self.first = np.full(n, np.nan)
        self.finish = np.full(n, np.nan)
        self.status = np.zeros(n, dtype=np.int8)
        self.ev_first: list[simpy.Event | None] = [None] * n
        self.ev_done: list[simpy.Event | None] = [None] * n

    # -- replica mechanics (same as the numba kernel) --------------------------------------------------
    def _start_iter(self, rp: _Replica, t: float) -> float:
        q = rp.queue
        if self.mode_exp:
            if not q:
                return -1.0
            i = q.popleft()
            self.start[i] = t
            self.rep[i] = rp.idx
            rp.cur = i
            assert self.svc is not None
            return self.svc[i] / self.speed
        P, O = self.P, self.O
        n_dec = len(rp.dec)
        budget = self.max_tok - n_dec
        n_tok = n_dec
        kv_read = rp.sctx
        pairs = float(rp.sctx)
        rp.itlist = []
        rp.itpart = 0
        while budget > 0:
            i = rp.pfreq
            if i < 0:
                if not q:
                    break
                i = q[0]
                if rp.seqs >= self.max_seqs:
                    break
                need = P[i] + O[i]
                if rp.kvu + need > self.kv_cap:
                    break
                if (not self.chunked) and P[i] > budget and rp.itlist:
                    break
                q.popleft()
                rp.kvu += need
                rp.seqs += 1
                self.start[i] = t
                self.rep[i] = rp.idx
                rp.pfreq = i
                rp.pfdone = 0
            s = rp.pfdone
            rem = P[i] - s
            cch = rem
            if self.chunked and rem > budget:
                cch = budget
            n_tok += cch
            kv_read += s
            pairs += float(cch) * float(s) + float(cch) * (float(cch) + 1.0) / 2.0
            budget -= cch
            rp.itlist.append(i)
            if cch == rem:
                rp.pfreq = -1
            else:
                rp.pfdone = s + cch
                rp.itpart = 1
                break
        if n_tok == 0:
            return -1.0
        return _iter_time(self.c, n_tok, kv_read, pairs, self.speed)

    def _release(self, rp: _Replica, i: int) -> None:
        if self.router == 2:
            rp.load -= 1.0
        elif self.router == 3:
            rp.load -= float(self.P[i] + self.O[i])

    def _done(self, i: int, t: float) -> None:
        self.finish[i] = t
        ev = self.ev_done[i]
        assert ev is not None
        ev.succeed()

    def _end_iter(self, rp: _Replica, t: float) -> None:
        P, O = self.P, self.O
        if self.mode_exp:
            i = rp.cur
            self.first[i] = t
            ev = self.ev_first[i]
            assert ev is not None
            ev.succeed()
            self._done(i, t)
            rp.cur = -1
            self._release(rp, i)
            return
        rp.iter += 1
        j = rp.iter
        rp.sctx += len(rp.dec)
        while rp.dec and rp.dec[0][0] == j:
            _, i = heapq.heappop(rp.dec)
            self._done(i, t)
            need = P[i] + O[i]
            rp.sctx -= need
            rp.kvu -= need
            rp.seqs -= 1
            self._release(rp, i)
        m = len(rp.itlist) - rp.itpart
        for i in rp.itlist[:m]:
            self.first[i] = t
            ev = self.ev_first[i]
            assert ev is not None
            ev.succeed()
            if O[i] == 1:
                self._done(i, t)
                rp.kvu -= P[i] + O[i]
                rp.seqs -= 1
                self._release(rp, i)
            else:
                heapq.heappush(rp.dec, (j + O[i] - 1, i))
                rp.sctx += P[i] + 1

    def _engine(self, rp: _Replica, d: float):  # type: ignore[no-untyped-def]
        env = self.env
        while True:
            yield env.timeout(d)
            self._end_iter(rp, env.now)
            d = self._start_iter(rp, env.now)
            if d < 0.0:
                rp.busy = False
                return

    def _wake(self, rp: _Replica) -> None:
        d = self._start_iter(rp, self.env.now)
        rp.busy = True
        self.env.process(self._engine(rp, d))

    # -- one process per request ------------------------------------------------------------------------
    def _request(self, i: int):  # type: ignore[no-untyped-def]
        env = self.env
        yield env.timeout(float(self.arr[i]))
        if (not self.mode_exp) and self.P[i] + self.O[i] > self.kv_cap:
            self.status[i] = 1
            return
        self.ev_first[i] = env.event()
        self.ev_done[i] = env.event()
        reps = self.reps
        if self.router == 0:
            rp = None
        elif self.router == 1:
            rp = reps[self.rr % len(reps)]
            self.rr += 1
        else:
            rp = min(reps, key=lambda x: (x.load, x.idx))
            rp.load += 1.0 if self.router == 2 else float(self.P[i] + self.O[i])
        if rp is None:
            reps[0].queue.append(i)
            idle = [x for x in reps if not x.busy]
            if idle:
                self._wake(idle[0])
        else:
            rp.queue.append(i)
            if not rp.busy:
                self._wake(rp)
        yield self.ev_first[i]
        yield self.ev_done[i]

    def run(self) -> RequestResult:
        """Run to completion and return per-request results."""
        for i in range(self.n):
            self.env.process(self._request(i))
        self.env.run()
        return RequestResult(
            self.arr,
            np.asarray(self.P, dtype=np.int64),
            np.asarray(self.O, dtype=np.int64),
            self.rep,
            self.start,
            self.first,
            self.finish,
            self.status,
        )
