"""Loading and checking a build-out plan: the plan's fields (:mod:`gigawatt.scenario.buildout`), then every
problem that needs the whole plan and the lead-time distributions (names, references, cycles, impossible
dates), all raised together as one :class:`~gigawatt.ScenarioError`; and validated edits by dotted path
(:func:`updated_buildout`, what :meth:`~gigawatt.scenario.buildout.BuildoutPlan.updated` runs)."""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gigawatt.buildout.leadtimes import lead_time, lead_time_names
from gigawatt.errors import ScenarioError
from gigawatt.scenario.buildout import (
    BuildoutPlan,
    Demand,
    DemandCurve,
    Item,
    LeadTime,
    Phase,
    set_checker,
    set_updater,
)
from gigawatt.scenario.io import _describe, _parse_text
from gigawatt.scenario.update import _walk, parse_path

__all__ = ["buildout_problems", "check_buildout", "load_buildout", "updated_buildout", "validate_buildout"]


# ----------------------------------------------------------------------------------- cross-field checks
def _min_lead_weeks(lt: str | LeadTime) -> float | None:
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
            elif k in ("str", "LeadTime", "lead-time-name", "lead-time-spec") or str(k).startswith(
                ("function", "union")
            ):
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


set_updater(updated_buildout)
set_checker(buildout_problems)
