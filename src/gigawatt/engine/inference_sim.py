"""Request-level LLM serving simulator: iteration-level continuous batching on replicas behind a router.

Exact discrete-event simulation of the serving model below, compiled with numba (one pass over arrival-ordered
requests; cost grows with requests and iterations, not with GPUs or simulated seconds). The same model written
as one simpy process per request lives in ``benchmarks/inference_simpy_baseline.py``; a test holds the two to
identical per-request results.

Serving model (per replica, one iteration at a time)
----------------------------------------------------
* Every running **decode** sequence contributes one token per iteration (decodes are never paused).
* The token budget ``max_batch_tokens`` minus the decodes is filled with **prefill** tokens of waiting
  requests in FIFO order (Sarathi-Serve's stall-free batching [1]_ / vLLM's chunked prefill):

  - ``chunked_prefill=True``: the head-of-line prompt is split across iterations to fill the budget exactly;
  - ``chunked_prefill=False`` (*whole prefill*): a prompt enters only if it fits the remaining budget in full;
    a prompt larger than the budget enters alone (with the running decodes) when no other prompt is in the
    batch, so long prompts cannot starve.

* Admission (start of prefill) needs a free sequence slot (``max_batch_seqs``) and **KV-cache space for the
  whole request** (prompt + output tokens reserved at admission, released at completion): a conservative
  stand-in for paged allocation with preemption [2]_ that never preempts. FIFO is strict (head-of-line
  blocking). A request larger than the KV capacity of a replica is rejected (``status = 1``).
* A request's first token is produced at the end of the iteration that completes its prefill (TTFT); each
  following iteration adds one token; it finishes at the end of the iteration producing its last token.
* Iteration duration: the roofline :func:`gigawatt.perf.roofline.roofline_time_s` (the formula of
  :func:`gigawatt.perf.llm.iteration_time_s`, compiled into the kernel from the packed
  :class:`~gigawatt.perf.roofline.IterationCoefficients`) of (new tokens, KV tokens read, attention pairs),
  divided by ``speed_frac`` (facility throughput factor). A prefill chunk of ``c`` tokens starting at
  prompt position ``s`` reads ``s`` cached tokens and attends ``c s + c (c+1)/2`` pairs; a decode with context
  ``x`` (prompt + generated tokens) reads and attends ``x``.

Routers: ``central`` (one FIFO queue for the pool; an idle replica starts at once, busy replicas admit at
iteration boundaries — pull-based, like a cluster-level scheduler), ``round_robin``, ``jsq`` (join the
replica with fewest unfinished requests) and ``least_loaded`` (fewest unfinished prompt + output tokens);
ties go to the lowest replica index. Events at equal times: iteration ends before arrivals.

*M/M/c mode* (``service_s`` given): no batching, one request per replica at a time, the request's service
time is ``service_s[i]`` (e.g. exponential draws); with the ``central`` router this is exactly M/M/c FCFS.

References
----------
.. [1] Agrawal, A. et al. (2024). Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve.
   OSDI '24.
.. [2] Kwon, W. et al. (2023). Efficient Memory Management for LLM Serving with PagedAttention. SOSP '23.
.. [3] Yu, G.-I. et al. (2022). Orca: iteration-level scheduling. OSDI '22.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

from gigawatt.perf.roofline import IterationCoefficients, roofline_time_s_jit

__all__ = ["ROUTERS", "RequestResult", "Router", "simulate_requests"]

Router = Literal["central", "round_robin", "jsq", "least_loaded"]
ROUTERS: Final = ("central", "round_robin", "jsq", "least_loaded")

# integer state columns of one replica
_BUSY, _ITER, _DN, _SCTX, _KVU, _SEQS, _PFREQ, _PFDONE, _ITN, _ITPART, _CUR = range(11)
_NIST = 11


# ---------------------------------------------------------------------------------------------------------
# indexed binary min-heap on (key[id], id), state in arrays (heap, pos, key) with its size in hn[slot]
@njit(cache=True, inline="always", error_model="numpy")
def _less(key, a, b):
    return key[a] < key[b] or (key[a] == key[b] and a < b)


@njit(cache=True, inline="always", error_model="numpy")
def _sift_up(heap, pos, key, k):
    item = heap[k]
    while k > 0:
        p = (k - 1) >> 1
        par = heap[p]
        if _less(key, item, par):
            heap[k] = par
            pos[par] = k
            k = p
        else:
            break
    heap[k] = item
    pos[item] = k


@njit(cache=True, inline="always", error_model="numpy")
def _sift_down(heap, pos, key, k, n):
    item = heap[k]
    while True:
        c = 2 * k + 1
        if c >= n:
            break
        if c + 1 < n and _less(key, heap[c + 1], heap[c]):
            c += 1
        if _less(key, heap[c], item):
            heap[k] = heap[c]
            pos[heap[c]] = k
            k = c
        else:
            break
    heap[k] = item
    pos[item] = k


@njit(cache=True, inline="always", error_model="numpy")
def _hpush(heap, pos, key, hn, slot, ident, value):
    key[ident] = value
    n = hn[slot]
    heap[n] = ident
    pos[ident] = n
    hn[slot] = n + 1
    _sift_up(heap, pos, key, n)


@njit(cache=True, inline="always", error_model="numpy")
def _hpop(heap, pos, key, hn, slot):
    top = heap[0]
    n = hn[slot] - 1
    hn[slot] = n
    pos[top] = -1
    if n > 0:
        heap[0] = heap[n]
        pos[heap[0]] = 0
        _sift_down(heap, pos, key, 0, n)
    return top


@njit(cache=True, inline="always", error_model="numpy")
def _hupdate(heap, pos, key, hn, slot, ident, value):
    old = key[ident]
    key[ident] = value
    if value < old:
        _sift_up(heap, pos, key, pos[ident])
    else:
        _sift_down(heap, pos, key, pos[ident], hn[slot])


# plain binary min-heap of (finish iteration, request) per replica: rows of dkey/dreq, size ist[r, _DN]
@njit(cache=True, inline="always", error_model="numpy")
def _dpush(dkey, dreq, r, n, k, i):
    j = n
    while j > 0:
        p = (j - 1) >> 1
        if dkey[r, p] > k:
            dkey[r, j] = dkey[r, p]
            dreq[r, j] = dreq[r, p]
            j = p
        else:
            break
    dkey[r, j] = k
    dreq[r, j] = i


@njit(cache=True, inline="always", error_model="numpy")
def _dpop(dkey, dreq, r, n):
    # remove the root of a heap of size n (caller decrements n)
    m = n - 1
    k = dkey[r, m]
    i = dreq[r, m]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= m:
            break
        if c + 1 < m and dkey[r, c + 1] < dkey[r, c]:
            c += 1
        if dkey[r, c] < k:
            dkey[r, j] = dkey[r, c]
            dreq[r, j] = dreq[r, c]
            j = c
        else:
            break
    if m > 0:
        dkey[r, j] = k
        dreq[r, j] = i


@njit(cache=True, inline="always", error_model="numpy")
def _iter_time(c, n_tok, kv_read, pairs, speed):
    # c: IterationCoefficients.packed(); the one roofline formula, throttled by the facility's speed factor
    return roofline_time_s_jit(c, float(n_tok), float(kv_read), pairs) / speed


@njit(cache=True, inline="always", error_model="numpy")
def _start_iter(
    r,
    t,
    ist,
    itlist,
    qhead,
    qtail,
    nxt,
    q,
    P,
    O,
    svc,
    start,
    rep,
    mode_exp,
    chunked,
    max_tok,
    max_seqs,
    kv_cap,
    c,
    speed,
):
    if mode_exp:
        i = qhead[q]
        if i < 0:
            return -1.0
        qhead[q] = nxt[i]
        if qhead[q] < 0:
            qtail[q] = -1
        start[i] = t
        rep[i] = r
        ist[r, _CUR] = i
        return svc[i] / speed
    n_dec = ist[r, _DN]
    budget = max_tok - n_dec
    n_tok = n_dec
    kv_read = ist[r, _SCTX]
    pairs = float(ist[r, _SCTX])
    itn = 0
    part = 0
    while budget > 0:
        i = ist[r, _PFREQ]
        if i < 0:
            i = qhead[q]
            if i < 0:
                break
            if ist[r, _SEQS] >= max_seqs:
                break
            need = P[i] + O[i]
            if ist[r, _KVU] + need > kv_cap:
                break
            if (not chunked) and P[i] > budget and itn > 0:
                break
            qhead[q] = nxt[i]
            if qhead[q] < 0:
                qtail[q] = -1
            ist[r, _KVU] += need
            ist[r, _SEQS] += 1
            start[i] = t
            rep[i] = r
            ist[r, _PFREQ] = i
            ist[r, _PFDONE] = 0
        s = ist[r, _PFDONE]
        rem = P[i] - s
        cch = rem
        if chunked and rem > budget:
            cch = budget
        n_tok += cch
        kv_read += s
        pairs += float(cch) * float(s) + float(cch) * (float(cch) + 1.0) / 2.0
        budget -= cch
        itlist[r, itn] = i
        itn += 1
        if cch == rem:
            ist[r, _PFREQ] = -1
        else:
            ist[r, _PFDONE] = s + cch
            part = 1
            break
    ist[r, _ITN] = itn
    ist[r, _ITPART] = part
    if n_tok == 0:
        return -1.0
    return _iter_time(c, n_tok, kv_read, pairs, speed)


@njit(cache=True, inline="always", error_model="numpy")
def _release(r, i, P, O, router, ld_heap, ld_pos, ld_key, hn):
    if router == 2:
        _hupdate(ld_heap, ld_pos, ld_key, hn, 1, r, ld_key[r] - 1.0)
    elif router == 3:
        _hupdate(ld_heap, ld_pos, ld_key, hn, 1, r, ld_key[r] - float(P[i] + O[i]))


@njit(cache=True, inline="always", error_model="numpy")
def _end_iter(
    r,
    t,
    ist,
    itlist,
    dkey,
    dreq,
    P,
    O,
    first,
    finish,
    mode_exp,
    router,
    ld_heap,
    ld_pos,
    ld_key,
    hn,
):
    if mode_exp:
        i = ist[r, _CUR]
        first[i] = t
        finish[i] = t
        ist[r, _CUR] = -1
        _release(r, i, P, O, router, ld_heap, ld_pos, ld_key, hn)
        return
    ist[r, _ITER] += 1
    j = ist[r, _ITER]
    ist[r, _SCTX] += ist[r, _DN]
    while ist[r, _DN] > 0 and dkey[r, 0] == j:
        i = dreq[r, 0]
        _dpop(dkey, dreq, r, ist[r, _DN])
        ist[r, _DN] -= 1
        finish[i] = t
        need = P[i] + O[i]
        ist[r, _SCTX] -= need
        ist[r, _KVU] -= need
        ist[r, _SEQS] -= 1
        _release(r, i, P, O, router, ld_heap, ld_pos, ld_key, hn)
    m = ist[r, _ITN] - ist[r, _ITPART]
    for k in range(m):
        i = itlist[r, k]
        first[i] = t
        if O[i] == 1:
            finish[i] = t
            ist[r, _KVU] -= P[i] + O[i]
            ist[r, _SEQS] -= 1
            _release(r, i, P, O, router, ld_heap, ld_pos, ld_key, hn)
        else:
            _dpush(dkey, dreq, r, ist[r, _DN], j + O[i] - 1, i)
            ist[r, _DN] += 1
            ist[r, _SCTX] += P[i] + 1
    ist[r, _ITN] = 0


@njit(cache=True, error_model="numpy")
def _simulate_kernel(
    arr,
    P,
    O,
    svc,
    n_rep,
    router,
    mode_exp,
    chunked,
    max_tok,
    max_seqs,
    kv_cap,
    c,
    speed,
    rep,
    start,
    first,
    finish,
    status,
):
    n = arr.shape[0]
    inf = np.inf
    ist = np.zeros((n_rep, _NIST), dtype=np.int64)
    ist[:, _PFREQ] = -1
    ist[:, _CUR] = -1
    slots = max_seqs + 1
    itlist = np.empty((n_rep, slots), dtype=np.int64)
    dkey = np.empty((n_rep, slots), dtype=np.int64)
    dreq = np.empty((n_rep, slots), dtype=np.int64)
    nq = n_rep + 1
    qhead = np.full(nq, -1, dtype=np.int64)
    qtail = np.full(nq, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    hn = np.zeros(3, dtype=np.int64)
    ev_heap = np.empty(n_rep, dtype=np.int64)
    ev_pos = np.full(n_rep, -1, dtype=np.int64)
    ev_key = np.zeros(n_rep, dtype=np.float64)
    ld_heap = np.empty(n_rep, dtype=np.int64)
    ld_pos = np.full(n_rep, -1, dtype=np.int64)
    ld_key = np.zeros(n_rep, dtype=np.float64)
    id_heap = np.empty(n_rep, dtype=np.int64)
    id_pos = np.full(n_rep, -1, dtype=np.int64)
    id_key = np.zeros(n_rep, dtype=np.float64)
    for r in range(n_rep):
        _hpush(ld_heap, ld_pos, ld_key, hn, 1, r, 0.0)
        _hpush(id_heap, id_pos, id_key, hn, 2, r, float(r))
    rr = 0
    i = 0
    while True:
        ta = arr[i] if i < n else inf
        tr = ev_key[ev_heap[0]] if hn[0] > 0 else inf
        if i >= n and hn[0] == 0:
            break
        if tr <= ta:
            r = ev_heap[0]  # stays on the heap: re-keyed below if it keeps working (one sift, not two)
            _end_iter(
                r,
                tr,
                ist,
                itlist,
                dkey,
                dreq,
                P,
                O,
                first,
                finish,
                mode_exp,
                router,
                ld_heap,
                ld_pos,
                ld_key,
                hn,
            )
            q = n_rep if router == 0 else r
            d = _start_iter(
                r,
                tr,
                ist,
                itlist,
                qhead,
                qtail,
                nxt,
                q,
                P,
                O,
                svc,
                start,
                rep,
                mode_exp,
                chunked,
                max_tok,
                max_seqs,
                kv_cap,
                c,
                speed,
            )
            if d >= 0.0:
                t_end = tr + d
                if (not mode_exp) and ist[r, _ITN] == 0 and ist[r, _DN] > 0 and qhead[q] < 0:
                    # Fast-forward decode-only iterations that end before the next arrival and finish nobody:
                    # with its queue empty, nothing but an arrival can change this replica's state meanwhile
                    # (other replicas never do), so completing them now, out of global time order, gives the
                    # same results.
                    while dkey[r, 0] != ist[r, _ITER] + 1 and t_end <= ta:
                        ist[r, _ITER] += 1
                        ist[r, _SCTX] += ist[r, _DN]
                        t_end = t_end + _iter_time(c, ist[r, _DN], ist[r, _SCTX], float(ist[r, _SCTX]), speed)
                _hupdate(ev_heap, ev_pos, ev_key, hn, 0, r, t_end)
            else:
                _hpop(ev_heap, ev_pos, ev_key, hn, 0)
                ist[r, _BUSY] = 0
                if router == 0:
                    _hpush(id_heap, id_pos, id_key, hn, 2, r, float(r))
            continue
        k = i
        i += 1
        if (not mode_exp) and P[k] + O[k] > kv_cap:
            status[k] = 1
            continue
        if router == 0:
            q = n_rep
            r = -1
        elif router == 1:
            r = rr % n_rep
            rr += 1
            q = r
        else:
            r = ld_heap[0]
            q = r
        # routed load (jsq / least_loaded)
        if router == 2:
            _hupdate(ld_heap, ld_pos, ld_key, hn, 1, r, ld_key[r] + 1.0)
        elif router == 3:
            _hupdate(ld_heap, ld_pos, ld_key, hn, 1, r, ld_key[r] + float(P[k] + O[k]))
        if qtail[q] < 0:
            qhead[q] = k
        else:
            nxt[qtail[q]] = k
        qtail[q] = k
        if router == 0:
            if hn[2] == 0:
                continue
            r = _hpop(id_heap, id_pos, id_key, hn, 2)
        elif ist[r, _BUSY] == 1:
            continue
        d = _start_iter(
            r,
            ta,
            ist,
            itlist,
            qhead,
            qtail,
            nxt,
            q,
            P,
            O,
            svc,
            start,
            rep,
            mode_exp,
            chunked,
            max_tok,
            max_seqs,
            kv_cap,
            c,
            speed,
        )
        ist[r, _BUSY] = 1
        _hpush(ev_heap, ev_pos, ev_key, hn, 0, r, ta + d)


@dataclass(frozen=True)
class RequestResult:
    """Per-request outcome of :func:`simulate_requests` (arrays aligned with the input requests).

    Attributes
    ----------
    arrival_s, start_s, first_token_s, finish_s : numpy.ndarray
        Arrival, admission (start of prefill), first token and completion times [s] (NaN if rejected).
    prompt_tokens, output_tokens : numpy.ndarray
    replica : numpy.ndarray
        Replica that served the request (-1 if rejected).
    status : numpy.ndarray
        0 served, 1 rejected (prompt + output exceed a replica's KV-cache capacity).
    """

    arrival_s: npt.NDArray[np.float64]
    prompt_tokens: npt.NDArray[np.int64]
    output_tokens: npt.NDArray[np.int64]
    replica: npt.NDArray[np.int64]
    start_s: npt.NDArray[np.float64]
    first_token_s: npt.NDArray[np.float64]
    finish_s: npt.NDArray[np.float64]
    status: npt.NDArray[np.int8]

    @property
    def queue_s(self) -> npt.NDArray[np.float64]:
        """Queueing delay before admission [s]."""
        return self.start_s - self.arrival_s

    @property
    def ttft_s(self) -> npt.NDArray[np.float64]:
        """Time to first token [s]."""
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self) -> npt.NDArray[np.float64]:
        """End-to-end latency [s]."""
        return self.finish_s - self.arrival_s

    @property
    def tpot_s(self) -> npt.NDArray[np.float64]:
        """Mean time per output token after the first [s] (NaN for one-token outputs)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (self.finish_s - self.first_token_s) / (self.output_tokens - 1)
        return np.where(self.output_tokens > 1, out, np.nan)

    def to_frame(self) -> pd.DataFrame:
        """One row per request with unit-suffixed columns."""
        return pd.DataFrame(
            {
                "arrival_s": self.arrival_s,
                "prompt_tokens": self.prompt_tokens,
                "output_tokens": self.output_tokens,
                "replica": self.replica,
                "status": self.status,
                "queue_s": self.queue_s,
                "ttft_s": self.ttft_s,
                "tpot_s": self.tpot_s,
                "e2e_s": self.e2e_s,
            }
        )


def simulate_requests(
    arrival_s: npt.ArrayLike,
    prompt_tokens: npt.ArrayLike,
    output_tokens: npt.ArrayLike,
    n_replicas: int,
    coeffs: IterationCoefficients,
    kv_capacity_tokens: int,
    *,
    max_batch_tokens: int = 8192,
    max_batch_seqs: int = 256,
    chunked_prefill: bool = True,
    router: Router = "least_loaded",
    speed_frac: float = 1.0,
    service_s: npt.ArrayLike | None = None,
) -> RequestResult:
    """Simulate requests through ``n_replicas`` continuous-batching replicas (see module docstring).

    Parameters
    ----------
    arrival_s : array_like
        Arrival times [s], non-decreasing.
    prompt_tokens, output_tokens : array_like
        Prompt and output lengths [tokens], ≥ 1.
    n_replicas : int
    coeffs : IterationCoefficients
        From :func:`gigawatt.perf.llm.iteration_coeffs`.
    kv_capacity_tokens : int
        KV-cache capacity per replica [tokens] (:func:`gigawatt.perf.llm.kv_cache_capacity_tokens`).
    max_batch_tokens, max_batch_seqs : int
        Token budget and sequence limit per iteration.
    chunked_prefill : bool
        Split prompts across iterations (True) or admit whole prompts only (False).
    router : {"central", "round_robin", "jsq", "least_loaded"}
    speed_frac : float
        Throughput factor in (0, 1] dividing every iteration's speed (facility throttling).
    service_s : array_like, optional
        M/M/c mode: per-request service times [s]; no batching, one request per replica.

    Returns
    -------
    RequestResult
    """
    arr = np.ascontiguousarray(arrival_s, dtype=np.float64)
    n = arr.shape[0]
    P = np.ascontiguousarray(prompt_tokens, dtype=np.int64)
    O = np.ascontiguousarray(output_tokens, dtype=np.int64)
    problems = []
    if P.shape != (n,) or O.shape != (n,):
        problems.append("prompt_tokens/output_tokens: must be 1-D and as long as arrival_s")
    elif n and (P.min() < 1 or O.min() < 1):
        problems.append("prompt_tokens/output_tokens: must be >= 1")
    if n and (not np.all(np.isfinite(arr)) or np.any(np.diff(arr) < 0)):
        problems.append("arrival_s: must be finite and non-decreasing (sort requests by arrival)")
    if int(n_replicas) != n_replicas or n_replicas < 1:
        problems.append(f"n_replicas: must be an integer >= 1, got {n_replicas!r}")
    if router not in ROUTERS:
        problems.append(f"router: must be one of {', '.join(ROUTERS)}, got {router!r}")
    if max_batch_tokens < 1 or max_batch_seqs < 1:
        problems.append("max_batch_tokens/max_batch_seqs: must be >= 1")
    if kv_capacity_tokens < 1:
        problems.append("kv_capacity_tokens: must be >= 1")
    if not 0.0 < speed_frac:
        problems.append("speed_frac: must be > 0")
    mode_exp = service_s is not None
    svc = np.ascontiguousarray(service_s if service_s is not None else np.zeros(0), dtype=np.float64)
    if mode_exp and (svc.shape != (n,) or (n and svc.min() < 0)):
        problems.append("service_s: must be a non-negative array as long as arrival_s")
    if problems:
        raise ValueError("; ".join(problems))
    rep = np.full(n, -1, dtype=np.int64)
    start = np.full(n, np.nan)
    first = np.full(n, np.nan)
    finish = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int8)
    if n:
        _simulate_kernel(
            arr,
            P,
            O,
            svc,
            int(n_replicas),
            ROUTERS.index(router),
            mode_exp,
            bool(chunked_prefill),
            int(max_batch_tokens),
            int(max_batch_seqs),
            int(kv_capacity_tokens),
            coeffs.packed(),
            float(speed_frac),
            rep,
            start,
            first,
            finish,
            status,
        )
    return RequestResult(arr, P, O, rep, start, first, finish, status)
