"""Build-out plan and demand curves: phases, long-lead items, lead-time distributions, demand growth.

A :class:`BuildoutPlan` is loaded on its own (:func:`load_buildout`); it is not (yet) a field of
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

import copy
import difflib
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, ValidationError, field_validator, model_validator

from gigawatt.errors import ScenarioError
from gigawatt.scenario.base import StrictModel
from gigawatt.scenario.io import _describe, _parse_text
from gigawatt.scenario.update import _walk, parse_path

__all__ = [
    "BuildoutPlan",
    "Demand",
    "DemandCurve",
    "Item",
    "LeadTime",
    "Phase",
    "buildout_problems",
    "check_buildout",
    "load_buildout",
]

#: Mean weeks per year (365.2425 / 7), used by growth rates given per year.
WEEKS_PER_YEAR = 365.2425 / 7.0

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
        ``phases[hall-1].items[transformer].order_week``); one ScenarioError lists every problem."""
        return updated_buildout(self, updates)

    def phase(self, name: str) -> Phase:
        """The phase named ``name``."""
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"no phase named {name!r}; phases: {', '.join(p.name for p in self.phases)}")


# ----------------------------------------------------------------------------------- cross-field checks
def _min_lead_weeks(lt: str | LeadTime) -> float | None:
    from gigawatt.buildout.leadtimes import lead_time

    try:
        return lead_time(lt).min_weeks
    except KeyError:
        return None


def buildout_problems(plan: BuildoutPlan) -> list[tuple[str, str]]:
    """Every problem that needs the whole plan: names, references, cycles, impossible dates.

    Checks: duplicate phase/item names; unknown lead-time catalog names (with a suggestion); unknown
    dependencies (with a suggestion); dependency cycles; a target online date before the phase's items can
    arrive even at their shortest lead times; a decommission date not after the (target or earliest) online
    date; demand tables beyond the plan.
    """
    from gigawatt.buildout.leadtimes import lead_time_names

    problems: list[tuple[str, str]] = []
    names = [p.name for p in plan.phases]
    for d in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            ("phases", f"phase names must be unique; {d!r} is used {names.count(d)} times: rename one")
        )
    catalog = lead_time_names()
    items: dict[str, tuple[int, int]] = {}
    for i, ph in enumerate(plan.phases):
        inames = [it.name for it in ph.items]
        for d in sorted({n for n in inames if inames.count(n) > 1}):
            problems.append(
                (f"phases[{i}].items", f"item names must be unique within a phase; {d!r} repeats")
            )
        for j, it in enumerate(ph.items):
            items.setdefault(f"{ph.name}/{it.name}", (i, j))
            if isinstance(it.lead_time, str) and it.lead_time not in catalog:
                hint = difflib.get_close_matches(it.lead_time, catalog, n=1, cutoff=0.4)
                problems.append(
                    (
                        f"phases[{i}].items[{j}].lead_time",
                        f"no lead time named {it.lead_time!r} in the catalog"
                        + (f"; did you mean {hint[0]!r}?" if hint else "")
                        + f" (names: {', '.join(catalog)}), or give an inline distribution",
                    )
                )
    # dependency references
    edges: dict[str, list[str]] = {}
    for i, ph in enumerate(plan.phases):
        deps: list[str] = [f"{ph.name}/{it.name}" for it in ph.items]
        for k, ref in enumerate(ph.after):
            if ref in names:
                deps.append(f"@{ref}")
            else:
                hint = difflib.get_close_matches(ref, names, n=1, cutoff=0.5)
                problems.append(
                    (
                        f"phases[{i}].after[{k}]",
                        f"unknown phase {ref!r}"
                        + (f"; did you mean {hint[0]!r}?" if hint else f" (phases: {', '.join(names)})"),
                    )
                )
        edges[f"@{ph.name}"] = deps
        for j, it in enumerate(ph.items):
            ideps: list[str] = []
            for k, ref in enumerate(it.after):
                full = ref if "/" in ref else f"{ph.name}/{ref}"
                if full in items:
                    ideps.append(full)
                else:
                    known = [n.split("/", 1)[1] for n in items if n.startswith(ph.name + "/")] + [
                        n for n in items if not n.startswith(ph.name + "/")
                    ]
                    hint = difflib.get_close_matches(ref, known, n=1, cutoff=0.5)
                    problems.append(
                        (
                            f"phases[{i}].items[{j}].after[{k}]",
                            f"unknown item {ref!r}"
                            + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + " (name an item of the same phase, or another phase's item as 'phase/item')",
                        )
                    )
            edges[f"{ph.name}/{it.name}"] = ideps
    cycle = _find_cycle(edges)
    if cycle:
        shown = " -> ".join(c.lstrip("@") for c in cycle)
        problems.append(("phases", f"dependency cycle: {shown}; remove one of these 'after' entries"))
        return problems
    # earliest possible dates (every lead time at its least value)
    earliest: dict[str, float] = {}
    why: dict[str, str] = {}
    for node in _topo(edges):
        if node.startswith("@"):
            deps = edges[node]
            earliest[node] = max((earliest.get(d, -math.inf) for d in deps), default=0.0)
            why[node] = why.get(max(deps, key=lambda d: earliest.get(d, -math.inf)), "") if deps else "week 0"
        else:
            i, j = items[node]
            it = plan.phases[i].items[j]
            lo = _min_lead_weeks(it.lead_time)
            start = max([it.order_week, *(earliest.get(d, -math.inf) for d in edges[node])])
            earliest[node] = start + (lo if lo is not None else 0.0)
            why[node] = (
                f"{node}: starts week {start:g} + {lo if lo is not None else 0:g} weeks least lead time"
            )
    for i, ph in enumerate(plan.phases):
        e = earliest.get(f"@{ph.name}")
        if e is None:
            continue
        if ph.target_online_week is not None and ph.target_online_week < e - 1e-9:
            problems.append(
                (
                    f"phases[{i}].target_online_week",
                    f"week {ph.target_online_week:g} is before the phase can be online even at the shortest lead "
                    f"times (week {e:g}; {why.get(f'@{ph.name}', '')}): order earlier or move the target to "
                    f">= {e:g}",
                )
            )
        if ph.decommission_week is not None:
            on = ph.target_online_week if ph.target_online_week is not None else e
            if ph.decommission_week <= on:
                problems.append(
                    (
                        f"phases[{i}].decommission_week",
                        f"week {ph.decommission_week:g} is not after the phase is commissioned (week {on:g}): "
                        "decommission later or remove decommission_week",
                    )
                )
    return problems


def _find_cycle(edges: Mapping[str, list[str]]) -> list[str]:
    """A dependency cycle as a list of nodes (first == last), or ``[]``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str]:
        state[n] = 1
        stack.append(n)
        for d in edges.get(n, []):
            if state.get(d) == 1:
                return [*stack[stack.index(d) :], d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return []

    for n in edges:
        if n not in state:
            found = visit(n)
            if found:
                return found
    return []


def _topo(edges: Mapping[str, list[str]]) -> list[str]:
    """Nodes in dependency order (each after everything it depends on); assumes no cycle."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(n: str) -> None:
        seen.add(n)
        for d in edges.get(n, []):
            if d not in seen:
                visit(d)
        out.append(n)

    for n in edges:
        if n not in seen:
            visit(n)
    return out


def check_buildout(plan: BuildoutPlan, source: str | None = None) -> BuildoutPlan:
    """Raise one :class:`~gigawatt.ScenarioError` with every cross-field problem; return ``plan`` if none."""
    problems = buildout_problems(plan)
    if problems:
        raise ScenarioError(problems, source or f"build-out plan {plan.name!r}")
    return plan


# ------------------------------------------------------------------------------------------- loading
_FIELDS: set[str] = set()


def _field_names() -> set[str]:
    if not _FIELDS:
        for m in (BuildoutPlan, Phase, Item, LeadTime, Demand, DemandCurve):
            _FIELDS.update(m.model_fields)
    return _FIELDS


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        path = ""
        for k in err["loc"]:
            if isinstance(k, int):
                path += f"[{k}]"
            elif k in ("str", "LeadTime") or str(k).startswith(("function", "union")):
                continue  # union branch names
            else:
                path += f".{k}" if path else str(k)
        msg = _describe(err)
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            hint = difflib.get_close_matches(key, sorted(_field_names()), n=1, cutoff=0.6)
            msg = f"unknown field {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
        if (path, msg) not in problems:
            problems.append((path, msg))
    # a lead_time that is neither a name nor a valid distribution reports both union branches: keep the
    # distribution's complaints, which say what to fix
    return [
        p
        for p in problems
        if not (p[1].startswith("Input should be a valid string") and p[0].endswith("lead_time"))
    ]


def validate_buildout(data: Any, *, source: str = "<dict>") -> BuildoutPlan:
    """Validate a mapping into a :class:`BuildoutPlan`, raising one ScenarioError with every problem."""
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [("", f"a build-out plan must be a mapping of fields, got {type(data).__name__}")], source
        )
    try:
        plan = BuildoutPlan.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc), source) from None
    return check_buildout(plan, source)


def load_buildout(source: str | Path | Mapping[str, Any] | BuildoutPlan) -> BuildoutPlan:
    """Load and validate a build-out plan from a YAML/JSON file, a mapping, or a plan (checked, returned).

    Raises
    ------
    ScenarioError
        Listing every problem: unknown fields, bad values, negative lead times, unknown catalog names or
        dependencies, cycles, targets before the items can arrive, decommissioning before commissioning.
    """
    if isinstance(source, BuildoutPlan):
        return check_buildout(source)
    if isinstance(source, Mapping):
        return validate_buildout(source)
    path = Path(source)
    if not path.exists():
        raise ScenarioError([(str(path), "file not found")], str(path))
    data, _node = _parse_text(path.read_text(encoding="utf-8"), str(path), path.suffix.lower())
    return validate_buildout(data, source=str(path))


def updated_buildout(plan: BuildoutPlan, updates: Mapping[str, Any]) -> BuildoutPlan:
    """A new, validated plan with ``updates`` (``{dotted path: value}``) applied to ``plan``'s input."""
    data = copy.deepcopy(plan.model_dump(mode="python", exclude_unset=True))
    problems: list[tuple[str, str]] = []
    for path, value in updates.items():
        try:
            container, key = _walk(data, parse_path(path), BuildoutPlan, create=True)
        except (ValueError, KeyError) as exc:
            problems.append((str(path), f"cannot update: {exc.args[0] if exc.args else exc}"))
            continue
        container[key] = copy.deepcopy(value)
    source = f"update of build-out plan {plan.name!r}"
    try:
        new = validate_buildout(data, source=source)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems, source) from None
    if problems:
        raise ScenarioError(problems, source)
    return new
