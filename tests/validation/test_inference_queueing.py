"""Request-level simulator in its degenerate M/M/c mode against queueing theory (Erlang C, Little's law).

Exponential service times, no batching, one request per replica, one FCFS queue (``router="central"``):
the simulator is then exactly an M/M/c queue, whose waiting time is known in closed form (Kleinrock 1975,
Queueing Systems Vol. 1, §3.5): P(W > t) = C(c, a) exp(-(c mu - lambda) t). These checks (kind *theory*)
show the discrete-event numerics are exact; they say nothing about how real LLM servers queue.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.engine.inference_sim import simulate_requests
from gigawatt.perf.queueing import erlang_c, mmc_wait_mean_s, mmc_wait_percentile_s
from gigawatt.perf.roofline import IterationCoefficients

UNUSED = IterationCoefficients(
    fixed_s=0.0,
    dense_weights_s=0.0,
    expert_weights_s=0.0,
    expert_hit_frac=1.0,
    kv_per_token_s=0.0,
    flop_per_token_s=0.0,
    attn_per_pair_s=0.0,
    comm_per_token_s=0.0,
)


def _run(lam: float, mu: float, c: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arr = np.cumsum(rng.exponential(1 / lam, n))
    svc = rng.exponential(1 / mu, n)
    ones = np.ones(n, dtype=np.int64)
    r = simulate_requests(arr, ones, ones, c, UNUSED, 10, router="central", service_s=svc)
    return r.arrival_s, r.start_s, r.finish_s


@pytest.mark.parametrize(("lam", "c"), [(8.0, 10), (45.0, 50), (0.7, 1)])
def test_mmc_wait_matches_erlang_c(lam: float, c: int, validation) -> None:
    mu = 1.0
    waits = []
    for seed in range(8):
        a, s, _ = _run(lam, mu, c, 300_000, seed)
        waits.append((s - a)[30_000:])  # drop the warm-up (system starts empty)
    w = np.concatenate(waits)
    # mean and p99 of the waiting time within 5 % of Erlang C (8 x 270k requests: sampling error ~1-2 %)
    case = f"M/M/{c}, λ = {lam:g}/s, μ = 1/s (ρ = {lam / (c * mu):.2f}), 8 × 270k requests"
    src = "Erlang C (Kleinrock 1975, Queueing Systems Vol. 1, §3.5)"
    validation(
        f"{case}: mean wait in queue [s]",
        model=float(w.mean()),
        reference=float(mmc_wait_mean_s(c, lam, mu)),
        tolerance="± 5 %",
        source=src,
        kind="theory",
    )
    validation(
        f"{case}: p99 wait in queue [s]",
        model=float(np.quantile(w, 0.99)),
        reference=float(mmc_wait_percentile_s(0.99, c, lam, mu)),
        tolerance="± 5 %",
        source=src,
        kind="theory",
    )
    validation(
        f"{case}: probability of waiting",
        model=float(np.mean(w > 0)),
        reference=float(erlang_c(c, lam / mu)),
        tolerance="± 5 %",
        source=src,
        kind="theory",
    )
    assert_allclose(w.mean(), mmc_wait_mean_s(c, lam, mu), rtol=0.05)
    assert_allclose(np.quantile(w, 0.99), mmc_wait_percentile_s(0.99, c, lam, mu), rtol=0.05)
    assert_allclose(np.mean(w > 0), erlang_c(c, lam / mu), rtol=0.05)


def test_littles_law(validation) -> None:
    lam, mu, c = 8.0, 1.0, 10
    a, _, f = _run(lam, mu, c, 400_000, 99)
    t1, t2 = a[40_000], a[360_000]
    # time-average number in system over [t1, t2] by an exact event sweep
    times = np.concatenate([a, f])
    steps = np.concatenate([np.ones_like(a), -np.ones_like(f)])
    order = np.argsort(times, kind="stable")
    times, n_sys = times[order], np.cumsum(steps[order])
    lo, hi = np.searchsorted(times, [t1, t2])
    seg_t = np.concatenate([[t1], times[lo:hi], [t2]])
    seg_n = np.concatenate([[n_sys[lo - 1]], n_sys[lo:hi]])
    L = np.sum(seg_n * np.diff(seg_t)) / (t2 - t1)
    sel = (a >= t1) & (a < t2)
    lam_hat = sel.sum() / (t2 - t1)
    W = np.mean(f[sel] - a[sel])
    validation(
        "M/M/10, λ = 8/s, μ = 1/s: time-average number in system L vs measured λ × W",
        model=float(L),
        reference=float(lam_hat * W),
        tolerance="± 1 %",
        source="Little's law L = λW (Little 1961): holds on every sample path, so an invariant of the simulation",
        kind="invariant",
    )
    validation(
        "M/M/10, λ = 8/s, μ = 1/s: time-average number in system L vs theory λ (W_q + 1/μ)",
        model=float(L),
        reference=float(lam * (mmc_wait_mean_s(c, lam, mu) + 1 / mu)),
        tolerance="± 3 %",
        source="Erlang C mean wait (Kleinrock 1975 §3.5) with Little's law",
        kind="theory",
    )
    assert_allclose(L, lam_hat * W, rtol=0.01)  # Little's law, L = lambda W
    assert_allclose(L, lam * (mmc_wait_mean_s(c, lam, mu) + 1 / mu), rtol=0.03)  # and against theory
