"""Tests for gigawatt.perf.fleet.latency.mixture_quantile (latency quantiles of several fleets together)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.perf.fleet import evaluate_fleet, mixture_quantile, replica_capacity_per_s


def _fleet(setup, load_frac: float, replicas: int = 4, n: int = 6):  # type: ignore[no-untyped-def]
    perf, ts = setup
    mu = replica_capacity_per_s(perf, ts)
    demand = np.linspace(0.3, 1.0, n) * load_frac * mu * replicas
    return evaluate_fleet(demand, 60.0, perf, ts, np.full(n, replicas))


def _sample_ttft(dist, k: int, n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Draws of TTFT in step k from the model's definition: shift + W + S_j, W ~ (1-pw) δ0 + pw Exp(θ)."""
    j = rng.choice(dist.w.size, size=n, p=dist.w / dist.w.sum())
    wait = np.where(rng.random(n) < dist.pw[k], rng.exponential(1.0 / dist.theta[k], n), 0.0)
    return np.asarray(dist.shift[k] + wait + dist.S[k, j])


def test_one_fleet_is_its_own_quantile(setup) -> None:  # type: ignore[no-untyped-def]
    res = _fleet(setup, 0.7)
    lam = res.frame["served_rps"].to_numpy()
    for q, col in ((0.5, "ttft_p50_s"), (0.99, "ttft_p99_s")):
        got = mixture_quantile(q, [(res.latency, lam, np.zeros(lam.size))], "ttft")
        assert_allclose(got, res.frame[col].to_numpy(), rtol=1e-9)
        # a constant delay shifts the quantile by exactly that delay
        got_d = mixture_quantile(q, [(res.latency, lam, np.full(lam.size, 0.07))], "ttft")
        assert_allclose(got_d, res.frame[col].to_numpy() + 0.07, rtol=1e-9)
    # TPOT: the exact CDF against the per-fleet table interpolation (grid of 64 rates)
    got = mixture_quantile(0.99, [(res.latency, lam, np.zeros(lam.size))], "tpot")
    assert_allclose(got, res.frame["tpot_p99_s"].to_numpy(), rtol=2e-2)


def test_two_fleets_match_a_monte_carlo_of_the_pooled_requests(setup) -> None:  # type: ignore[no-untyped-def]
    """The formula against sampling: requests of a lightly and a heavily loaded fleet, 30 % and 70 %."""
    light, heavy = _fleet(setup, 0.3), _fleet(setup, 0.9)
    n = light.frame.shape[0]
    parts = [
        (light.latency, np.full(n, 3.0), np.full(n, 0.02)),
        (heavy.latency, np.full(n, 7.0), np.full(n, 0.08)),
    ]
    rng = np.random.default_rng(42)
    for q in (0.5, 0.99):
        got = mixture_quantile(q, parts, "ttft")
        for k in (0, n - 1):
            pooled = np.concatenate(
                [
                    _sample_ttft(light.latency, k, 300_000, rng) + 0.02,
                    _sample_ttft(heavy.latency, k, 700_000, rng) + 0.08,
                ]
            )
            # sampling error of an empirical quantile from 1e6 draws: well under 1 % here
            assert got[k] == pytest.approx(np.quantile(pooled, q), rel=0.01)
        # between the parts' own quantiles (plus delays), strictly below the slowest for p99
        own = [
            light.frame[f"ttft_p{round(q * 100)}_s"].to_numpy() + 0.02,
            heavy.frame[f"ttft_p{round(q * 100)}_s"].to_numpy() + 0.08,
        ]
        assert np.all(got >= np.minimum(*own) - 1e-12) and np.all(got <= np.maximum(*own) + 1e-12)
    p99 = mixture_quantile(0.99, parts, "ttft")
    assert np.all(p99 < heavy.frame["ttft_p99_s"].to_numpy() + 0.08)


def test_tpot_mixture_lies_between_the_fleets(setup) -> None:  # type: ignore[no-untyped-def]
    light, heavy = _fleet(setup, 0.3), _fleet(setup, 0.95)
    n = light.frame.shape[0]
    known = [light.frame["tpot_p99_s"].to_numpy(), heavy.frame["tpot_p99_s"].to_numpy()]
    got = mixture_quantile(
        0.99,
        [(light.latency, np.ones(n), np.zeros(n)), (heavy.latency, np.ones(n), np.zeros(n))],
        "tpot",
        known,
    )
    assert np.all(got >= np.minimum(*known)) and np.all(got <= np.maximum(*known))
    # with the known quantiles, a step served by one fleet only reports that fleet's own quantile
    w_light = np.zeros(n)
    w_light[0] = 1.0
    got1 = mixture_quantile(
        0.99,
        [(light.latency, w_light, np.zeros(n)), (heavy.latency, 1.0 - w_light, np.zeros(n))],
        "tpot",
        known,
    )
    assert got1[0] == known[0][0] and np.all(got1[1:] == known[1][1:])


def test_steps_without_requests_and_unstable_shares(setup) -> None:  # type: ignore[no-untyped-def]
    stable = _fleet(setup, 0.5, n=3)
    unstable = _fleet(setup, 5.0, n=3)  # demand far above capacity: unbounded latency in the model
    assert unstable.latency is not None and unstable.latency.ttft_dead().all()
    parts = [(stable.latency, np.array([0.0, 1.0, 1.0]), np.zeros(3))]
    got = mixture_quantile(
        0.99, [*parts, (unstable.latency, np.array([0.0, 0.005, 0.5]), np.zeros(3))], "ttft"
    )
    assert np.isnan(got[0])  # nothing served
    assert np.isfinite(got[1])  # 0.5 % of requests unbounded: the p99 is still finite
    assert got[2] == np.inf  # a third unbounded: no finite p99
    with pytest.raises(ValueError, match="q: must be in"):
        mixture_quantile(1.0, parts)
    with pytest.raises(ValueError, match="what:"):
        mixture_quantile(0.5, parts, "e2e")
