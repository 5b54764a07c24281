"""Lead-time distributions with cited defaults (``gigawatt/data/lead_times.csv``).

Each distribution is sampled with numpy (fast, vectorised) and described exactly with scipy (CDF, mean,
variance) so that the Monte Carlo can be checked against theory.

=============  ===================================================================================
shape          definition (weeks)
=============  ===================================================================================
triangular     Triangular(low, mode, high)
pert           low + (high − low)·Beta(α, β), α = 1 + 4(mode − low)/(high − low), β = 1 + 4(high − mode)/(high − low)
uniform        Uniform(low, high)
lognormal      exp(μ + σZ), μ = ln(median), σ = ln(p90/median)/z₀.₉, z₀.₉ = Φ⁻¹(0.9) ≈ 1.2816
fixed          mode (no spread)
slip           B·U, B ~ Bernoulli(prob), U ~ Uniform(low, high): a slip that happens with probability prob
=============  ===================================================================================

References
----------
Sources per row are in the CSV's ``source`` column; ``is_estimate`` flags rows whose shape or spread is a
gigawatt estimate around a published central figure. PERT: Malcolm, Roseboom, Clark & Fazar, "Application of
a technique for research and development program evaluation", Operations Research 7(5), 1959.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.catalog import data_path, suggest
from gigawatt.scenario.buildout import LeadTime

__all__ = ["Z90", "LeadTimeDist", "lead_time", "lead_time_names", "lead_times"]

#: Standard normal 90th percentile Φ⁻¹(0.9).
Z90 = NormalDist().inv_cdf(0.9)


@cache
def lead_times() -> pd.DataFrame:
    """The shipped lead-time catalog, one row per item kind, indexed by ``name``."""
    with data_path("lead_times.csv").open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh)
    return df.set_index("name", drop=False)


def lead_time_names() -> list[str]:
    """Names of the catalog lead times (``utility-transformer``, ``gpu-servers``, ...)."""
    return [str(n) for n in lead_times().index]


def _opt(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@dataclass(frozen=True)
class LeadTimeDist:
    """One lead-time distribution [weeks]: sampling, CDF, moments, support."""

    distribution: str
    low_weeks: float | None = None
    mode_weeks: float | None = None
    high_weeks: float | None = None
    median_weeks: float | None = None
    p90_weeks: float | None = None
    prob_frac: float | None = None
    name: str = ""
    source: str = ""
    is_estimate: bool = True

    @classmethod
    def from_spec(cls, spec: LeadTime, name: str = "") -> LeadTimeDist:
        return cls(
            spec.distribution,
            spec.low_weeks,
            spec.mode_weeks,
            spec.high_weeks,
            spec.median_weeks,
            spec.p90_weeks,
            spec.prob_frac,
            name=name,
            source=spec.source,
            is_estimate=not bool(spec.source) or spec.source.lower().startswith("estimate"),
        )

    # ------------------------------------------------------------------------------------------ helpers
    def _abc(self) -> tuple[float, float, float]:
        a, m, b = self.low_weeks, self.mode_weeks, self.high_weeks
        assert a is not None and b is not None  # guaranteed by LeadTime validation
        return a, (m if m is not None else a), b

    def _lognormal(self) -> tuple[float, float]:
        assert self.median_weeks is not None and self.p90_weeks is not None
        return math.log(self.median_weeks), math.log(self.p90_weeks / self.median_weeks) / Z90

    def frozen(self) -> Any:
        """The scipy frozen distribution (``None`` for ``fixed`` and ``slip``, which are handled directly)."""
        from scipy import stats  # lazy: scipy.stats takes ~1 s to import; only sampling needs it

        d = self.distribution
        if d in ("triangular", "pert", "uniform"):
            a, m, b = self._abc()
            if b <= a:
                return None
            if d == "triangular":
                return stats.triang((m - a) / (b - a), loc=a, scale=b - a)
            if d == "pert":
                return stats.beta(1 + 4 * (m - a) / (b - a), 1 + 4 * (b - m) / (b - a), loc=a, scale=b - a)
            return stats.uniform(loc=a, scale=b - a)
        if d == "lognormal":
            mu, s = self._lognormal()
            return stats.lognorm(s, scale=math.exp(mu))
        return None

    def _point(self) -> float | None:
        """The single value of a distribution without spread (fixed, or low == high)."""
        if self.distribution == "fixed":
            assert self.mode_weeks is not None
            return self.mode_weeks
        if self.distribution in ("triangular", "pert", "uniform"):
            a, _, b = self._abc()
            if b <= a:
                return a
        return None

    # ------------------------------------------------------------------------------------------ public
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent lead times [weeks] from ``rng`` (always consumes the same stream shape)."""
        d = self.distribution
        point = self._point()
        if point is not None:
            return np.full(n, point)
        if d == "triangular":
            a, m, b = self._abc()
            return rng.triangular(a, m, b, n)
        if d == "pert":
            a, m, b = self._abc()
            return a + (b - a) * rng.beta(1 + 4 * (m - a) / (b - a), 1 + 4 * (b - m) / (b - a), n)
        if d == "uniform":
            a, _, b = self._abc()
            return rng.uniform(a, b, n)
        if d == "lognormal":
            mu, s = self._lognormal()
            return rng.lognormal(mu, s, n)
        if d == "slip":
            a, _, b = self._abc()
            assert self.prob_frac is not None
            hit = rng.random(n) < self.prob_frac
            return np.where(hit, rng.uniform(a, b, n), 0.0)
        raise ValueError(f"unknown distribution {d!r}")  # pragma: no cover - validated by LeadTime

    def cdf(self, weeks: Any) -> np.ndarray:
        """P(lead time ≤ weeks)."""
        w = np.asarray(weeks, dtype=float)
        point = self._point()
        if point is not None:
            return (w >= point).astype(float)
        if self.distribution == "slip":
            a, _, b = self._abc()
            assert self.prob_frac is not None
            u = np.clip((w - a) / (b - a), 0.0, 1.0) if b > a else (w >= a).astype(float)
            return np.where(w >= 0, 1.0 - self.prob_frac + self.prob_frac * u, 0.0)
        return np.asarray(self.frozen().cdf(w), dtype=float)

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile function [weeks] (for ``slip``: the generalised inverse of :meth:`cdf`)."""
        qq = np.asarray(q, dtype=float)
        point = self._point()
        if point is not None:
            return np.full_like(qq, point)
        if self.distribution == "slip":
            a, _, b = self._abc()
            p = self.prob_frac or 0.0
            u = (qq - (1 - p)) / p if p > 0 else np.zeros_like(qq)
            return np.where(qq <= 1 - p, 0.0, a + (b - a) * np.clip(u, 0, 1))
        return np.asarray(self.frozen().ppf(qq), dtype=float)

    @property
    def mean_weeks(self) -> float:
        """Expected lead time [weeks]."""
        point = self._point()
        if point is not None:
            return point
        if self.distribution == "slip":
            a, _, b = self._abc()
            return (self.prob_frac or 0.0) * (a + b) / 2
        return float(self.frozen().mean())

    @property
    def var_weeks2(self) -> float:
        """Variance of the lead time [weeks²]."""
        if self._point() is not None:
            return 0.0
        if self.distribution == "slip":
            a, _, b = self._abc()
            p = self.prob_frac or 0.0
            m1 = (a + b) / 2
            m2 = (b - a) ** 2 / 12 + m1**2
            return p * m2 - (p * m1) ** 2
        return float(self.frozen().var())

    @property
    def min_weeks(self) -> float:
        """Least possible lead time [weeks] (lower end of the support)."""
        point = self._point()
        if point is not None:
            return point
        if self.distribution in ("lognormal", "slip"):
            return 0.0
        return self._abc()[0]


def lead_time(spec: str | LeadTime | LeadTimeDist) -> LeadTimeDist:
    """A :class:`LeadTimeDist` from a catalog name, an inline :class:`LeadTime`, or a distribution.

    Raises
    ------
    KeyError
        For an unknown catalog name (the message suggests the closest one).
    """
    if isinstance(spec, LeadTimeDist):
        return spec
    if isinstance(spec, LeadTime):
        return LeadTimeDist.from_spec(spec)
    table = lead_times()
    if spec not in table.index:
        hint = suggest(spec, lead_time_names())
        raise KeyError(
            f"no lead time named {spec!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" (catalog: {', '.join(lead_time_names())})"
        )
    row = table.loc[spec]
    return LeadTimeDist(
        str(row["distribution"]),
        _opt(row["low_weeks"]),
        _opt(row["mode_weeks"]),
        _opt(row["high_weeks"]),
        _opt(row["median_weeks"]),
        _opt(row["p90_weeks"]),
        _opt(row["prob_frac"]),
        name=str(spec),
        source=str(row["source"]),
        is_estimate=bool(row["is_estimate"]),
    )
