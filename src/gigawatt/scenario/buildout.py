"""Build-out plan and demand curves: phases, long-lead items, lead-time distributions, demand growth.

A :class:`BuildoutPlan` is loaded on its own (:func:`gigawatt.buildout.load_buildout`, which also runs the
cross-field checks of :mod:`gigawatt.buildout.load`); it is not (yet) a field of
:class:`~gigawatt.Scenario`. Time is counted in **weeks from the plan's** ``start_date`` (``order_week``,
``target_online_week``, ``decommission_week``; negative = before the start, e.g. an item already on order).
Weeks keep every decision a plain number that a solver can move.

The plan is a network: an item starts at ``max(order_week, arrival of the items in its after list)`` and
arrives one lead time later; a phase is online when its last item has arrived and every phase in its
``after`` list is online (a phase with neither is online at week 0: existing capacity). The Monte Carlo in
:mod:`gigawatt.buildout.montecarlo` draws the lead times.

Example
-------
.. code-block:: yaml

    start_date: 2026-01-05
    seed: 7
    phases:
      - name: grid
        items:
          - {name: interconnection, lead_time: grid-interconnection, order_week: -52}
      - name: hall-1
        gpus: 100000
        it_power_mw: 150
        after: [grid]
        target_online_week: 200
        items:
          - {name: transformer, lead_time: utility-transformer}
          - {name: gpus, lead_time: gpu-servers, order_week: 150}
          - name: commissioning
            lead_time: commissioning
            after: [transformer, gpus]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, field_validator, model_validator

from gigawatt.scenario.base import StrictModel

__all__ = [
    "BuildoutPlan",
    "Demand",
    "DemandCurve",
    "Item",
    "LeadTime",
    "Phase",
    "set_updater",
]

#: Mean weeks per year (365.2425 / 7), used by growth rates given per year.
WEEKS_PER_YEAR = 365.2425 / 7.0

#: What :meth:`BuildoutPlan.updated` runs: :func:`gigawatt.buildout.load.updated_buildout`, which validates the
#: edited plan like a loaded one (fields, then the cross-field checks that need the lead-time distributions of
#: :mod:`gigawatt.buildout.leadtimes`, a layer above). Set when ``gigawatt.buildout`` is imported, which
#: ``import gigawatt`` does.
_UPDATER: Callable[[BuildoutPlan, Mapping[str, Any]], BuildoutPlan] | None = None


def set_updater(updater: Callable[[BuildoutPlan, Mapping[str, Any]], BuildoutPlan]) -> None:
    """Install the validated update behind :meth:`BuildoutPlan.updated` (called by
    :mod:`gigawatt.buildout.load`)."""
    global _UPDATER
    _UPDATER = updater


_NEEDS: dict[str, tuple[str, ...]] = {
    "triangular": ("low_weeks", "mode_weeks", "high_weeks"),
    "pert": ("low_weeks", "mode_weeks", "high_weeks"),
    "uniform": ("low_weeks", "high_weeks"),
    "lognormal": ("median_weeks", "p90_weeks"),
    "fixed": ("mode_weeks",),
    "slip": ("low_weeks", "high_weeks", "prob_frac"),
}
_PARAMS = ("low_weeks", "mode_weeks", "high_weeks", "median_weeks", "p90_weeks", "prob_frac")


def _no_slash(v: str) -> str:
    if "/" in v:
        raise ValueError(
            f"names may not contain '/' (it separates phase and item in 'phase/item'): rename {v!r}"
        )
    return v


class LeadTime(StrictModel):
    """A lead-time distribution [weeks] from order (or start) to arrival (or completion).

    ``triangular``/``pert`` need ``low_weeks <= mode_weeks <= high_weeks``; ``uniform`` needs low/high;
    ``lognormal`` needs ``median_weeks < p90_weeks`` (a right tail: "72-104+ weeks"); ``fixed`` needs
    ``mode_weeks``; ``slip`` is a schedule slip: with probability ``prob_frac`` uniform between low and high,
    otherwise 0. Equations: ``docs/models/buildout.md``.
    """

    distribution: Literal["triangular", "pert", "uniform", "lognormal", "fixed", "slip"] = "triangular"
    """Shape of the distribution."""
    low_weeks: NonNegativeFloat | None = None
    """Least lead time [weeks] (triangular, pert, uniform, slip)."""
    mode_weeks: NonNegativeFloat | None = None
    """Most likely lead time [weeks] (triangular, pert); the value of a ``fixed`` lead time."""
    high_weeks: NonNegativeFloat | None = None
    """Greatest lead time [weeks] (triangular, pert, uniform, slip)."""
    median_weeks: NonNegativeFloat | None = None
    """Median lead time [weeks] (lognormal)."""
    p90_weeks: NonNegativeFloat | None = None
    """90th percentile lead time [weeks] (lognormal)."""
    prob_frac: float | None = Field(default=None, ge=0.0, le=1.0)
    """Probability of a slip (slip only), 0-1."""
    source: str = ""
    """Where the numbers come from (citation with date), or 'estimate: ...'."""

    @model_validator(mode="after")
    def _shape(self) -> LeadTime:
        need = _NEEDS[self.distribution]
        problems = [
            f"{f} is required for distribution {self.distribution!r}"
            for f in need
            if getattr(self, f) is None
        ]
        extra = [f for f in _PARAMS if f not in need and getattr(self, f) is not None]
        if extra:
            problems.append(
                f"{', '.join(extra)} not used by distribution {self.distribution!r}: remove "
                + ("it" if len(extra) == 1 else "them")
                + f" (it uses {', '.join(need)})"
            )
        if not problems:
            lo, mo, hi = self.low_weeks, self.mode_weeks, self.high_weeks
            if (
                self.distribution in ("triangular", "pert")
                and lo is not None
                and mo is not None
                and hi is not None
            ):
                if not lo <= mo <= hi:
                    problems.append(
                        f"need low_weeks <= mode_weeks <= high_weeks (got {lo:g}, {mo:g}, {hi:g}): reorder them"
                    )
            if self.distribution in ("uniform", "slip") and lo is not None and hi is not None and lo > hi:
                problems.append(f"need low_weeks <= high_weeks (got {lo:g} > {hi:g}): swap them")
            if (
                self.distribution == "lognormal"
                and self.median_weeks is not None
                and self.p90_weeks is not None
            ):
                if not 0 < self.median_weeks < self.p90_weeks:
                    problems.append(
                        f"need 0 < median_weeks < p90_weeks (got {self.median_weeks:g}, {self.p90_weeks:g}); "
                        "for a lead time without spread use distribution: fixed"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Item(StrictModel):
    """A long-lead item (or task) of a phase: transformer, switchgear, GPUs, construction, ..."""

    name: str = Field(min_length=1)
    """Name, unique within its phase (no '/'); other items refer to it as ``name`` (same phase) or
    ``phase/name``."""
    lead_time: str | LeadTime
    """A name from the lead-time catalog (``gigawatt.buildout.leadtimes.lead_time_names()``, e.g.
    ``utility-transformer``) or an inline :class:`LeadTime`."""
    order_week: float = 0.0
    """Order (or earliest start) date [weeks from start_date]; negative = ordered before the plan start."""
    after: list[str] = Field(default_factory=list)
    """Items that must have arrived before this one starts (``name`` in the same phase or ``phase/name``)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _no_slash(v)


class Phase(StrictModel):
    """A phase of the build-out: capacity that comes online when its items have arrived."""

    name: str = Field(min_length=1)
    """Unique phase name (no '/')."""
    gpus: int = Field(default=0, ge=0)
    """Accelerators this phase brings online."""
    it_power_mw: NonNegativeFloat = 0.0
    """IT power this phase brings online [MW]."""
    items: list[Item] = Field(default_factory=list)
    """Long-lead items; the phase is online when the last has arrived."""
    after: list[str] = Field(default_factory=list)
    """Phases that must be online before this one is (shared grid connection, earlier halls)."""
    target_online_week: float | None = None
    """Planned online date [weeks from start_date]; 'on time' means online no later than this."""
    decommission_week: float | None = None
    """Date the phase's capacity is retired [weeks from start_date]; none = never within the study."""
    scenario_path: str | None = None
    """Dotted path of the scenario field that takes this phase's online date (e.g.
    ``sites[a].halls[hall-1].commission_date``); used by ``BuildoutDraws.scenario_updates``."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _no_slash(v)


class DemandCurve(StrictModel):
    """One demand curve: training or inference demand growing over time, converted to GPUs.

    ``quantity`` says what ``start_value``/``saturation_value``/``table_values`` measure; the conversion to
    busy GPUs is ``gpus`` (as is), ``gpu_hours_per_week`` (÷ 168), ``flop_per_week`` (÷ (gpu_flop_per_s ×
    mfu_frac × 604 800)), ``tokens_per_s`` (÷ tokens_per_s_per_gpu), ``requests_per_s`` (× tokens_per_request
    ÷ tokens_per_s_per_gpu).
    """

    name: str = Field(min_length=1)
    """Curve name."""
    workload: Literal["training", "inference"]
    """What the demand is for."""
    quantity: Literal["gpus", "gpu_hours_per_week", "flop_per_week", "tokens_per_s", "requests_per_s"] = (
        "gpus"
    )
    """Unit of the values."""
    growth: Literal["constant", "exponential", "logistic", "table"] = "exponential"
    """Shape: constant, exponential (annual_growth_frac), logistic (annual_growth_frac, saturation_value),
    or a table (table_weeks, table_values; linear between points, constant beyond the ends)."""
    start_value: float | None = Field(default=None, gt=0)
    """Value at week 0 (constant, exponential, logistic), in ``quantity`` units."""
    annual_growth_frac: float | None = Field(default=None, gt=-1.0)
    """Growth per year as a fraction (0.5 = +50 %/year): the exponential rate, or the logistic rate while
    demand is far below saturation."""
    saturation_value: float | None = Field(default=None, gt=0)
    """Logistic ceiling, in ``quantity`` units."""
    table_weeks: list[float] | None = None
    """Weeks from start_date of the table points, increasing."""
    table_values: list[NonNegativeFloat] | None = None
    """Values at ``table_weeks``, in ``quantity`` units."""
    gpu_flop_per_s: float | None = Field(default=None, gt=0)
    """Peak dense throughput of one GPU [FLOP/s] (flop_per_week)."""
    mfu_frac: float | None = Field(default=None, gt=0, le=1)
    """Model FLOPs utilisation, 0-1 (flop_per_week)."""
    tokens_per_s_per_gpu: float | None = Field(default=None, gt=0)
    """Sustained serving throughput of one GPU [tokens/s] (tokens_per_s, requests_per_s)."""
    tokens_per_request: float | None = Field(default=None, gt=0)
    """Tokens per request (requests_per_s)."""

    @model_validator(mode="after")
    def _complete(self) -> DemandCurve:
        need = {
            "constant": ("start_value",),
            "exponential": ("start_value", "annual_growth_frac"),
            "logistic": ("start_value", "annual_growth_frac", "saturation_value"),
            "table": ("table_weeks", "table_values"),
        }[self.growth]
        need += {
            "gpus": (),
            "gpu_hours_per_week": (),
            "flop_per_week": ("gpu_flop_per_s", "mfu_frac"),
            "tokens_per_s": ("tokens_per_s_per_gpu",),
            "requests_per_s": ("tokens_per_s_per_gpu", "tokens_per_request"),
        }[self.quantity]
        problems = [
            f"{f} is required for growth {self.growth!r} / quantity {self.quantity!r}"
            for f in need
            if getattr(self, f) is None
        ]
        if self.growth == "table" and self.table_weeks is not None and self.table_values is not None:
            if len(self.table_weeks) != len(self.table_values) or not self.table_weeks:
                problems.append(
                    f"table_weeks and table_values need the same, non-zero length (got {len(self.table_weeks)} and "
                    f"{len(self.table_values)})"
                )
            elif any(b <= a for a, b in zip(self.table_weeks, self.table_weeks[1:], strict=False)):
                problems.append("table_weeks must be strictly increasing: sort the table")
        if self.growth == "logistic" and self.annual_growth_frac is not None and self.annual_growth_frac <= 0:
            problems.append("a logistic curve needs annual_growth_frac > 0 (for decline use a table)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Demand(StrictModel):
    """Demand curves and the period grid on which the capacity gap is counted."""

    curves: list[DemandCurve] = Field(min_length=1)
    """Demand curves; their GPU-equivalents add up."""
    horizon_weeks: float = Field(gt=0)
    """Length of the study [weeks from start_date]."""
    period_weeks: float = Field(default=4.0, gt=0)
    """Length of one accounting period [weeks] (the last period may be shorter)."""
    capacity_usable_frac: float = Field(default=1.0, gt=0, le=1)
    """Share of online GPUs that can serve this demand (availability, spares, reserved capacity), 0-1."""


class BuildoutPlan(StrictModel):
    """A phased build-out: phases, their long-lead items and dependencies, and optional demand curves."""

    name: str = "buildout"
    """Plan name."""
    start_date: date
    """Calendar date of week 0."""
    seed: int = Field(default=0, ge=0)
    """Seed of the Monte Carlo (numpy SeedSequence); the same seed gives the same draws."""
    draws: int = Field(default=10_000, ge=1)
    """Monte Carlo draws."""
    lead_time_correlation: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Correlation of all items' lead times through one market-wide factor (Gaussian copula on normal
    scores): a shortage lengthens every lead time together. 0 = independent items."""
    phases: list[Phase] = Field(min_length=1)
    """Phases of the build-out."""
    demand: Demand | None = None
    """Demand curves for the capacity gap (optional)."""

    def updated(self, updates: Mapping[str, Any]) -> BuildoutPlan:
        """A new, validated plan with fields changed by dotted path (``phases[hall-2].gpus``,
        ``phases[hall-1].items[transformer].order_week``); one ScenarioError lists every problem
        (:func:`gigawatt.buildout.load.updated_buildout`)."""
        if _UPDATER is None:  # pragma: no cover - set when gigawatt is imported, before any plan exists
            raise RuntimeError("BuildoutPlan.updated needs gigawatt.buildout; import gigawatt first")
        return _UPDATER(self, updates)

    def phase(self, name: str) -> Phase:
        """The phase named ``name``."""
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"no phase named {name!r}; phases: {', '.join(p.name for p in self.phases)}")
