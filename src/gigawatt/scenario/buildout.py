"""Build-out plan and demand curves: phases, long-lead items, lead-time distributions, demand growth.

A :class:`BuildoutPlan` is loaded on its own (:func:`gigawatt.buildout.load_buildout`, which also runs the
cross-field checks of :mod:`gigawatt.buildout.load`) or as the ``buildout`` section of a
:class:`~gigawatt.Scenario`, whose phases name the scenario objects they bring online (``brings_online``; see
:func:`plan_links`): one file then carries the fleet and the plan, and a simulation uses the plan's target
dates (``docs/models/buildout.md`` §7). Time is counted in **weeks from the plan's** ``start_date`` (``order_week``,
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

import datetime as dt
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    NonNegativeFloat,
    Tag,
    field_validator,
    model_validator,
)

from gigawatt.scenario.base import StrictModel
from gigawatt.scenario.update import _Name, format_path

__all__ = [
    "BuildoutPlan",
    "Demand",
    "DemandCurve",
    "Item",
    "LeadTime",
    "Phase",
    "PlanLink",
    "plan_links",
    "plan_problems",
    "planned_datetime",
    "planned_week",
    "set_checker",
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


#: What :func:`plan_problems` runs: :func:`gigawatt.buildout.load.buildout_problems` (names, references, cycles,
#: impossible dates; it needs the lead-time catalog of a layer above). Set when ``gigawatt.buildout`` is
#: imported, which ``import gigawatt`` does.
_CHECKER: Callable[[BuildoutPlan], list[tuple[str, str]]] | None = None


def set_checker(checker: Callable[[BuildoutPlan], list[tuple[str, str]]]) -> None:
    """Install the cross-field checks behind :func:`plan_problems` (called by :mod:`gigawatt.buildout.load`)."""
    global _CHECKER
    _CHECKER = checker


def plan_problems(plan: BuildoutPlan) -> list[tuple[str, str]]:
    """Every cross-field problem of ``plan`` as ``(path, message)`` (paths relative to the plan), found by the
    installed checker (``[]`` before ``gigawatt.buildout`` is imported)."""
    return [] if _CHECKER is None else _CHECKER(plan)


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


def _lead_time_tag(value: Any) -> str:
    return "lead-time-name" if isinstance(value, str) else "lead-time-spec"


#: A lead time: a catalog name or an inline :class:`LeadTime` (a tagged union, so that a bad inline
#: distribution reports its own problems, not also "not a string").
LeadTimeRef = Annotated[
    Annotated[str, Tag("lead-time-name")] | Annotated[LeadTime, Tag("lead-time-spec")],
    Discriminator(_lead_time_tag),
]


class Item(StrictModel):
    """A long-lead item (or task) of a phase: transformer, switchgear, GPUs, construction, ..."""

    name: str = Field(min_length=1)
    """Name, unique within its phase (no '/'); other items refer to it as ``name`` (same phase) or
    ``phase/name``."""
    lead_time: LeadTimeRef
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
    brings_online: list[str] = Field(default_factory=list)
    """Scenario objects this phase brings online, when the plan is a scenario's ``buildout``: a hall
    (``hall`` or ``site/hall``), a rack group (``hall/group`` or ``site/hall/group``; a two-part name is
    ``site/hall`` when that hall exists), a site's grid connection (``grid:site``), on-site plant
    (``plant:name`` or ``plant:site/name``) or battery (``battery:site``); ``grid``/``battery`` alone on a
    one-site scenario. They come online at the phase's online date (the target, unless a build-out outcome
    is simulated) and go out of service at its ``decommission_week``."""

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


# --------------------------------------------------------------------------------- links to a scenario
@dataclass(frozen=True)
class PlanLink:
    """One scenario object a phase brings online (:attr:`Phase.brings_online` or :attr:`Phase.scenario_path`)."""

    phase: int
    """Index of the phase in ``plan.phases``."""
    entry: int | None
    """Index in the phase's ``brings_online``; ``None`` for its ``scenario_path``."""
    kind: Literal["hall", "rack_group", "grid", "plant", "battery", "path"]
    """What the link names."""
    online_path: str
    """Dotted scenario path of the field that takes the online date."""
    offline_path: str | None
    """Dotted scenario path of the field that takes the decommission date (``None``: none)."""
    hall_path: str | None = None
    """For a rack group: the path of its hall (``sites[s].halls[h]``)."""


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    if isinstance(obj, BaseModel):
        return getattr(obj, key, None)
    return None


def _refresh_group_names(rack: Any) -> list[str]:
    """Names of the groups a raw rack group's ``refresh`` adds (mirrors
    :func:`gigawatt.scenario.hardware.refresh_name`, which the expanded model uses)."""
    ref = _get(rack, "refresh")
    if isinstance(ref, Mapping):
        ref = [ref]
    name = _get(rack, "name")
    out = []
    for k, r in enumerate(ref if isinstance(ref, list) else []):
        given = _get(r, "name")
        out.append(str(given) if isinstance(given, str) and given else f"{name}-refresh{k + 1}")
    return out


def _name_tree(sites: Any) -> list[tuple[str, dict[str, list[str]], list[str], bool]]:
    """``(site, {hall: [rack groups]}, [plant names], has battery)`` per site, from validated models or raw
    input (broken parts are left out: their own field errors report them)."""
    tree = []
    for site in sites if isinstance(sites, list) else []:
        sname = _get(site, "name")
        if not isinstance(sname, str):
            continue
        halls: dict[str, list[str]] = {}
        for hall in _get(site, "halls") or []:
            hname = _get(hall, "name")
            if not isinstance(hname, str):
                continue
            racks = _get(hall, "racks") or []
            names = [str(_get(r, "name")) for r in racks if isinstance(_get(r, "name"), str)]
            for r in racks:
                names += _refresh_group_names(r)
            halls[hname] = names
        energy = _get(site, "energy")
        plants = [
            str(_get(g, "name"))
            for g in (_get(energy, "generation") or [])
            if isinstance(_get(g, "name"), str)
        ]
        tree.append((sname, halls, plants, _get(energy, "battery") is not None))
    return tree


def _path(*keys: str | _Name) -> str:
    return format_path(list(keys))


def _unknown(what: str, name: str, known: list[str], where: str = "") -> str:
    hint = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return f"unknown {what} {name!r}{where}" + (
        f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(known) or 'none'})"
    )


def _resolve(
    text: str, tree: list[tuple[str, dict[str, list[str]], list[str], bool]]
) -> tuple[Any, str | None]:
    """``(kind, online path, offline path, hall path)`` of one ``brings_online`` entry, or ``(None, message)``."""
    sites = [t[0] for t in tree]
    by_site = {t[0]: t for t in tree}
    kind, _, rest = text.partition(":") if ":" in text else ("", "", text)
    kind, rest = kind.strip(), rest.strip()
    if not kind and rest in ("grid", "battery") and not any(rest in t[1] for t in tree):
        kind, rest = (
            rest,
            "",
        )  # 'grid' / 'battery' alone (a hall of that name wins; 'grid:' then names the grid)
    if kind in ("grid", "battery"):
        if not rest:
            if len(sites) != 1:
                return None, f"name the site: '{kind}:<site>' (sites: {', '.join(sites)})"
            rest = sites[0]
        if rest not in by_site:
            return None, _unknown("site", rest, sites)
        s = _Name(rest)
        if kind == "grid":
            return ("grid", _path("sites", s, "grid", "energisation_date"), None, None), None
        if not by_site[rest][3]:
            return None, f"site {rest!r} has no battery (sites[{rest}].energy.battery)"
        return (
            "battery",
            _path("sites", s, "energy", "battery", "commission_date"),
            _path("sites", s, "energy", "battery", "decommission_date"),
            None,
        ), None
    if kind == "plant":
        hits = [(t[0], rest) for t in tree if rest in t[2]]
        if not hits and "/" in rest:
            sname, pname = rest.split("/", 1)
            if sname in by_site and pname in by_site[sname][2]:
                hits = [(sname, pname)]
        if len(hits) > 1:
            return None, f"plant {rest!r} is on several sites; name it 'plant:<site>/{rest}'"
        if not hits:
            return None, _unknown("on-site plant", rest, [p for t in tree for p in t[2]])
        sn, pn = hits[0]
        base = ("sites", _Name(sn), "energy", "generation", _Name(pn))
        return ("plant", _path(*base, "commission_date"), _path(*base, "decommission_date"), None), None
    if kind:
        return (
            None,
            f"unknown kind {kind!r} in {text!r}; use grid:, plant: or battery: (or a hall or hall/group)",
        )
    parts = [p.strip() for p in text.split("/")]
    halls = [(t[0], h) for t in tree for h in t[1]]

    def hall_of(name: str) -> tuple[tuple[str, str] | None, str | None]:
        found = [sh for sh in halls if sh[1] == name]
        if len(found) > 1:
            return None, f"hall {name!r} is on several sites; name it '<site>/{name}'"
        if not found:
            return None, _unknown("hall", name, sorted({h for _, h in halls}))
        return found[0], None

    def group(site: str, hall: str, name: str) -> tuple[Any, str | None]:
        groups = by_site[site][1][hall]
        if name not in groups:
            return None, _unknown("rack group", name, groups, f" in hall {hall!r}")
        hp = ("sites", _Name(site), "halls", _Name(hall))
        gp = (*hp, "racks", _Name(name))
        return (
            "rack_group",
            _path(*gp, "commission_date"),
            _path(*gp, "decommission_date"),
            _path(*hp),
        ), None

    if len(parts) == 1 or (len(parts) == 2 and parts[0] in by_site and parts[1] in by_site[parts[0]][1]):
        if len(parts) == 2:
            sh: tuple[str, str] | None = (parts[0], parts[1])
        else:
            sh, msg = hall_of(parts[0])
        if sh is None:
            return None, msg
        hp = ("sites", _Name(sh[0]), "halls", _Name(sh[1]))
        return ("hall", _path(*hp, "commission_date"), _path(*hp, "decommission_date"), None), None
    if len(parts) == 2:
        sh, msg = hall_of(parts[0])
        if sh is None:
            if parts[0] in by_site:
                return None, _unknown("hall", parts[1], list(by_site[parts[0]][1]), f" on site {parts[0]!r}")
            return None, msg
        return group(sh[0], sh[1], parts[1])
    if len(parts) == 3:
        if parts[0] not in by_site:
            return None, _unknown("site", parts[0], sites)
        if parts[1] not in by_site[parts[0]][1]:
            return None, _unknown("hall", parts[1], list(by_site[parts[0]][1]), f" on site {parts[0]!r}")
        return group(parts[0], parts[1], parts[2])
    return (
        None,
        f"cannot read {text!r}: use hall, site/hall, hall/group, site/hall/group, grid:, plant: or battery:",
    )


def plan_links(plan: BuildoutPlan, sites: Any) -> tuple[list[PlanLink], list[tuple[str, str]]]:
    """The scenario objects the plan's phases bring online, resolved against ``sites`` (validated models or
    raw input), and the problems of the entries that name nothing (``(path, message)``, paths relative to the
    plan: ``phases[i].brings_online[j]``). A phase's ``scenario_path`` is a link of kind ``path``."""
    tree = _name_tree(sites)
    links: list[PlanLink] = []
    problems: list[tuple[str, str]] = []
    for i, ph in enumerate(plan.phases):
        for j, text in enumerate(ph.brings_online):
            got, msg = _resolve(text, tree)
            if got is None:
                problems.append((f"phases[{i}].brings_online[{j}]", f"{msg}"))
                continue
            kind, on, off, hall = got
            links.append(PlanLink(i, j, kind, on, off, hall))
        if ph.scenario_path:
            links.append(PlanLink(i, None, "path", ph.scenario_path, None))
    return links, problems


def planned_week(phase: Phase) -> float | None:
    """The week a simulation of the plan's scenario has the phase online: its ``target_online_week``; week 0
    for a phase with neither items nor dependencies (existing capacity); else ``None``."""
    if phase.target_online_week is not None:
        return phase.target_online_week
    return 0.0 if not phase.items and not phase.after else None


def planned_datetime(plan: BuildoutPlan, week: float) -> dt.datetime:
    """The date of a plan week, rounded up to the next midnight (a phase is online from that day on, as in
    ``BuildoutDraws.scenario_updates``)."""
    t = dt.datetime.combine(plan.start_date, dt.time()) + dt.timedelta(weeks=float(week))
    day = dt.datetime.combine(t.date(), dt.time())
    return day if t == day else day + dt.timedelta(days=1)
