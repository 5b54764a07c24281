"""Demand generators for inference services: arrival processes, rate profiles, token lengths, trace replay.

All randomness comes from a ``numpy.random.Generator`` passed in (no global RNG); everything is vectorised.

Rate profiles are multiplicative factors of time ``t_s`` [s since the start of the horizon] composed as

.. math:: λ(t) = λ_0 \\cdot d(t) \\cdot w(t) \\cdot g(t) \\cdot m(t) + s(t)

(daily shape ``d``, weekly shape ``w``, growth ``g``, Markov-modulated bursts ``m``, launch spike ``s``).
Arrivals of a piecewise-constant rate on a grid are drawn exactly (Poisson count per cell, uniform times within
the cell): :func:`arrivals_from_rate_s`.

Trace replay reads the Azure LLM inference trace format (``TIMESTAMP, ContextTokens, GeneratedTokens``) [1]_
and replays it with time and rate scaling (:func:`replay_trace`); ``time_scale=1, rate_scale=1`` returns the
trace exactly.

References
----------
.. [1] Patel, P. et al. (2024). Splitwise: Efficient Generative LLM Inference Using Phase Splitting. ISCA '24;
   Azure Public Dataset "Azure LLM inference trace 2023" (CC-BY 4.0).
.. [2] Fischer, W., Meier-Hellstern, K. (1993). The Markov-modulated Poisson process (MMPP) cookbook.
   Performance Evaluation 18(2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "arrivals_from_rate_s",
    "daily_profile_frac",
    "growth_factor",
    "launch_spike_rate_per_s",
    "lognormal_tokens",
    "mmpp_multiplier",
    "poisson_arrivals_s",
    "read_azure_trace",
    "replay_trace",
    "sample_empirical_tokens",
    "weekly_profile_frac",
]

FloatArray = npt.NDArray[np.float64]
DAY_S = 86400.0
WEEK_S = 7 * DAY_S
YEAR_S = 365.25 * DAY_S


def poisson_arrivals_s(rate_per_s: float, duration_s: float, rng: np.random.Generator) -> FloatArray:
    """Homogeneous Poisson arrival times in ``[0, duration_s)`` [s] (count ~ Poisson, times uniform, sorted)."""
    if rate_per_s < 0 or duration_s < 0:
        raise ValueError("rate_per_s and duration_s must be >= 0")
    n = rng.poisson(rate_per_s * duration_s)
    return np.sort(rng.random(n) * duration_s)


def arrivals_from_rate_s(
    rate_per_s: npt.ArrayLike, step_s: float, rng: np.random.Generator, start_s: float = 0.0
) -> FloatArray:
    """Arrival times [s] of a Poisson process whose rate is constant within each cell of a grid.

    Exact for a piecewise-constant intensity: cell ``k`` (``[start_s + k·step_s, start_s + (k+1)·step_s)``)
    receives ``Poisson(rate_per_s[k] · step_s)`` arrivals placed uniformly, the result sorted.
    """
    rate = np.asarray(rate_per_s, dtype=np.float64)
    if rate.ndim != 1 or np.any(~np.isfinite(rate)) or np.any(rate < 0):
        raise ValueError("rate_per_s: must be a 1-D array of finite rates >= 0 [1/s]")
    if step_s <= 0:
        raise ValueError("step_s: must be > 0")
    counts = rng.poisson(rate * step_s)
    cell0 = start_s + np.repeat(np.arange(rate.size, dtype=np.float64) * step_s, counts)
    return np.sort(cell0 + rng.random(cell0.size) * step_s)


def daily_profile_frac(
    t_s: npt.ArrayLike, peak_hour: float = 14.0, trough_frac: float = 0.35, start_hour: float = 0.0
) -> FloatArray:
    """Daily demand shape in ``[trough_frac, 1]`` [-]: a cosine peaking at ``peak_hour`` (wall-clock time).

    .. math:: d(t) = f_{min} + (1 - f_{min})\\,\\frac{1 + \\cos(2π (h(t) - h_{peak})/24)}{2}

    with :math:`h(t)` the hour of day, ``start_hour`` the wall-clock hour at ``t = 0`` (the engine passes the
    scenario's ``wall_clock``: by default the site's local standard time, ``docs/models/energy.md``). A smooth stand-in for the diurnal
    swing of interactive services (the Azure conversation trace varies by roughly 2-3x over a day, Patel
    et al. 2024, §II; the shape parameters are **estimates** to be fitted to the user's telemetry).
    """
    if not 0.0 <= trough_frac <= 1.0:
        raise ValueError("trough_frac: must be in [0, 1]")
    h = (np.asarray(t_s, dtype=np.float64) / 3600.0 + start_hour) % 24.0
    return np.asarray(
        trough_frac + (1.0 - trough_frac) * 0.5 * (1.0 + np.cos(2 * np.pi * (h - peak_hour) / 24.0))
    )


def weekly_profile_frac(
    t_s: npt.ArrayLike, weekend_frac: float = 0.7, start_weekday: int = 0, transition_h: float = 0.0
) -> FloatArray:
    """Weekly factor [-]: 1 on weekdays, ``weekend_frac`` on Saturday and Sunday (``start_weekday`` 0 = Monday).

    With ``transition_h > 0`` the factor changes smoothly at Saturday 00:00 and Monday 00:00: a raised
    cosine of width ``transition_h`` centred on the day boundary,

    .. math:: w(t) = 1 + (f_{we} - 1)\\,σ(x - 5)\\,\\big(1 - σ(x - 7)\\big), \\qquad
              σ(d) = \\tfrac12\\big(1 + \\sin(π d / τ)\\big) \\text{ for } |d| < τ/2

    (``x`` the day of the week in days from Monday 00:00, differences wrapped to ±3.5 days, ``τ`` the
    transition in days, σ = 0 below and 1 above the ramp). A step (``transition_h = 0``) makes demand jump
    by ``1/weekend_frac`` in one control step at Monday 00:00, which no reactive autoscaler with a
    provisioning delay can follow; real weekly traffic changes over hours (the weekday/weekend contrast
    builds with the diurnal cycle; the ramp width is an **estimate**).
    """
    if weekend_frac < 0:
        raise ValueError("weekend_frac: must be >= 0")
    if transition_h < 0 or transition_h > 48:
        raise ValueError("transition_h: must be in [0, 48]")
    t = np.asarray(t_s, dtype=np.float64)
    if transition_h == 0:
        day = (np.floor(t / DAY_S).astype(np.int64) + int(start_weekday)) % 7
        return np.where(day >= 5, weekend_frac, 1.0)
    x = t / DAY_S + int(start_weekday)
    tau = transition_h / 24.0

    def sigma(d: FloatArray) -> FloatArray:
        d = (d + 3.5) % 7.0 - 3.5
        return np.asarray(np.where(np.abs(d) < tau / 2, 0.5 * (1.0 + np.sin(np.pi * d / tau)), d > 0))

    f = sigma(x - 5.0) * (1.0 - sigma(x - 7.0))
    return np.asarray(1.0 + (weekend_frac - 1.0) * f)


def growth_factor(t_s: npt.ArrayLike, annual_growth_frac: float) -> FloatArray:
    """Compound growth factor :math:`(1 + g)^{t / 1\\,yr}` [-] (``annual_growth_frac = 1`` doubles per year)."""
    if annual_growth_frac <= -1:
        raise ValueError("annual_growth_frac: must be > -1")
    return np.asarray((1.0 + annual_growth_frac) ** (np.asarray(t_s, dtype=np.float64) / YEAR_S))


def launch_spike_rate_per_s(
    t_s: npt.ArrayLike,
    launch_s: float,
    base_rate_per_s: float,
    peak_rate_per_s: float,
    ramp_s: float = 3600.0,
    decay_s: float = 6 * 3600.0,
    settle_rate_per_s: float | None = None,
) -> FloatArray:
    """Launch-day demand [1/s]: ``base`` before ``launch_s``, linear ramp to ``peak`` over ``ramp_s``, then
    exponential decay with time constant ``decay_s`` towards ``settle_rate_per_s`` (default ``base``).

    E.g. ``base=100, peak=10_000``: the 100 → 10,000 req/s launch spike of the planning question.
    """
    t = np.asarray(t_s, dtype=np.float64)
    settle = base_rate_per_s if settle_rate_per_s is None else settle_rate_per_s
    if ramp_s < 0 or decay_s <= 0:
        raise ValueError("ramp_s must be >= 0 and decay_s > 0")
    dt = t - launch_s
    ramp = base_rate_per_s + (peak_rate_per_s - base_rate_per_s) * np.clip(dt / max(ramp_s, 1e-12), 0.0, 1.0)
    decay = settle + (peak_rate_per_s - settle) * np.exp(-np.maximum(dt - ramp_s, 0.0) / decay_s)
    return np.asarray(np.where(dt < 0, base_rate_per_s, np.where(dt < ramp_s, ramp, decay)))


def mmpp_multiplier(
    n_steps: int,
    step_s: float,
    rng: np.random.Generator,
    burst_factor: float = 3.0,
    mean_normal_s: float = 3600.0,
    mean_burst_s: float = 300.0,
) -> FloatArray:
    """Rate multiplier of a two-state Markov-modulated Poisson process, averaged over each grid cell [-].

    The modulating chain alternates exponential sojourns (means ``mean_normal_s`` at factor 1 and
    ``mean_burst_s`` at ``burst_factor``) [2]_, starting from its stationary distribution. Cell ``k`` gets
    ``1 + (burst_factor - 1) × (time share of the cell spent bursting)``; with cells shorter than the sojourns
    this is the MMPP intensity itself.
    """
    if n_steps < 0 or step_s <= 0 or mean_normal_s <= 0 or mean_burst_s <= 0 or burst_factor < 0:
        raise ValueError("mmpp_multiplier: n_steps >= 0, step_s, mean sojourns > 0, burst_factor >= 0")
    horizon = n_steps * step_s
    p_burst = mean_burst_s / (mean_normal_s + mean_burst_s)
    state = int(rng.random() < p_burst)
    block = int(2 * horizon / (mean_normal_s + mean_burst_s)) + 16
    soj_parts: list[FloatArray] = []
    st_parts: list[npt.NDArray[np.int64]] = []
    total = 0.0
    while total < horizon:
        st = (state + np.arange(block)) % 2
        soj = rng.exponential(np.where(st == 0, mean_normal_s, mean_burst_s))
        soj_parts.append(soj)
        st_parts.append(st)
        total += float(soj.sum())
        state = (state + block) % 2
    if not soj_parts:
        return np.ones(n_steps)
    soj_all = np.concatenate(soj_parts)
    st_all = np.concatenate(st_parts).astype(np.float64)
    ends = np.cumsum(soj_all)
    starts = ends - soj_all
    cum_burst = np.concatenate([[0.0], np.cumsum(soj_all * st_all)])
    grid = np.arange(n_steps + 1, dtype=np.float64) * step_s
    j = np.minimum(np.searchsorted(ends, grid, side="right"), soj_all.size - 1)
    burst_time = cum_burst[j] + st_all[j] * (grid - starts[j])
    share = np.clip(np.diff(burst_time) / step_s, 0.0, 1.0)  # clip round-off of long cumulative sums
    return np.asarray(1.0 + (burst_factor - 1.0) * share)


def lognormal_tokens(
    n: int,
    median_tokens: float,
    sigma: float,
    rng: np.random.Generator,
    min_tokens: int = 1,
    max_tokens: int = 131072,
) -> npt.NDArray[np.int64]:
    """Token lengths from a log-normal with given median and log-space ``sigma``, rounded and clipped [tokens].

    Prompt and output lengths of production LLM services are heavy-tailed and roughly log-normal (Azure
    trace 2023: Patel et al. 2024, Fig. 3).
    """
    if median_tokens <= 0 or sigma < 0 or min_tokens < 1 or max_tokens < min_tokens:
        raise ValueError("lognormal_tokens: median_tokens > 0, sigma >= 0, 1 <= min_tokens <= max_tokens")
    x = rng.lognormal(np.log(median_tokens), sigma, size=n)
    return np.clip(np.rint(x), min_tokens, max_tokens).astype(np.int64)


def sample_empirical_tokens(sample: npt.ArrayLike, n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Draw ``n`` token lengths with replacement from an empirical sample (e.g. a trace column) [tokens]."""
    s = np.asarray(sample, dtype=np.int64)
    if s.size == 0:
        raise ValueError("sample: must not be empty")
    return s[rng.integers(0, s.size, size=n)]


def read_azure_trace(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an Azure LLM inference trace CSV (``TIMESTAMP, ContextTokens, GeneratedTokens``).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``arrival_s`` (seconds since the first request), ``prompt_tokens``, ``output_tokens``,
        sorted by arrival (stable).
    metadata : dict
        ``source``, ``path``, ``start`` (timestamp of the first request), ``n_requests``, ``duration_s``.
    """
    p = Path(path)
    raw = pd.read_csv(p)
    missing = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"} - set(raw.columns)
    if missing:
        raise ValueError(f"{p}: not an Azure LLM trace, missing column(s) {sorted(missing)}")
    ts = pd.to_datetime(raw["TIMESTAMP"], format="ISO8601")
    ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.argsort(ns, kind="stable")
    ns = ns[order]
    data = pd.DataFrame(
        {
            "arrival_s": (ns - ns[0]).astype(np.float64) / 1e9,
            "prompt_tokens": raw["ContextTokens"].to_numpy(dtype=np.int64)[order],
            "output_tokens": raw["GeneratedTokens"].to_numpy(dtype=np.int64)[order],
        }
    )
    meta = {
        "source": "Azure LLM inference trace 2023 (Patel et al., ISCA 2024), CC-BY 4.0",
        "path": str(p),
        "start": pd.Timestamp(int(ns[0])),
        "n_requests": len(data),
        "duration_s": float(data["arrival_s"].iloc[-1]),
    }
    return data, meta


def replay_trace(
    trace: pd.DataFrame,
    *,
    time_scale: float = 1.0,
    rate_scale: float = 1.0,
    duration_s: float | None = None,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Replay a trace (columns ``arrival_s, prompt_tokens, output_tokens``) with time and rate scaling.

    Parameters
    ----------
    time_scale : float
        Multiplies inter-arrival times (``0.5`` plays the trace twice as fast, doubling its rate).
    rate_scale : float
        Multiplies the request rate without changing the time axis: ``k = floor(rate_scale)`` copies of the
        trace, copies after the first circularly shifted by independent uniform offsets within the trace
        period (so bursts do not align), plus one more shifted copy thinned with probability
        ``rate_scale - k`` (``rate_scale < 1`` is pure thinning). Integer scales preserve the token-length
        distribution exactly.
    duration_s : float, optional
        Tile the (scaled) trace periodically to cover this horizon, then cut at it.
    rng : numpy.random.Generator, optional
        Needed when ``rate_scale != 1``.

    Returns
    -------
    pandas.DataFrame
        Same columns, sorted by arrival (stable: original order within equal times).
    """
    if time_scale <= 0 or rate_scale <= 0:
        raise ValueError("time_scale and rate_scale must be > 0")
    t = trace["arrival_s"].to_numpy(dtype=np.float64)
    P = trace["prompt_tokens"].to_numpy(dtype=np.int64)
    O = trace["output_tokens"].to_numpy(dtype=np.int64)
    n = t.size
    if n == 0:
        return trace.copy()
    t = (t - t[0]) * time_scale
    # period of the trace when tiled / shifted circularly: span plus one mean gap
    period = (t[-1] + (t[-1] / (n - 1) if n > 1 else 1.0)) if t[-1] > 0 else 1.0
    k = int(np.floor(rate_scale))
    frac = rate_scale - k
    if rate_scale != 1.0 and rng is None:
        raise ValueError("rng: a numpy Generator is needed when rate_scale is not 1")
    idx = np.arange(n)
    parts_t: list[FloatArray] = []
    parts_i: list[npt.NDArray[np.int64]] = []
    n_copies = max(k, 1) + (1 if frac > 0 and k >= 1 else 0)
    for copy in range(n_copies):
        tt = t
        if copy > 0:
            assert rng is not None
            tt = (t + rng.random() * period) % period
        if copy < k:
            keep = np.ones(n, dtype=bool)
        else:
            assert rng is not None
            keep = rng.random(n) < frac
        parts_t.append(tt[keep])
        parts_i.append(idx[keep])
    tt_all = np.concatenate(parts_t)
    ii_all = np.concatenate(parts_i)
    if duration_s is not None:
        if duration_s <= 0:
            raise ValueError("duration_s: must be > 0")
        reps = int(np.ceil(duration_s / period))
        tt_all = (tt_all[None, :] + period * np.arange(reps)[:, None]).ravel()
        ii_all = np.tile(ii_all, reps)
        keep = tt_all < duration_s
        tt_all, ii_all = tt_all[keep], ii_all[keep]
    order = np.argsort(tt_all, kind="stable")
    return pd.DataFrame(
        {"arrival_s": tt_all[order], "prompt_tokens": P[ii_all[order]], "output_tokens": O[ii_all[order]]}
    )
