"""Checks of a scenario's build-out plan (``buildout``) against the fleet it builds (``docs/models/buildout.md``
§7): the plan's own cross-field checks, what its phases bring online (``brings_online``, ``scenario_path``),
dates written in the scenario that contradict the plan, and the plan's calendar against the simulated period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gigawatt.checks.fleet_time import horizon_end
from gigawatt.scenario.buildout import PlanLink, plan_links, plan_problems, planned_datetime, planned_week
from gigawatt.scenario.update import _Name, parse_path, value_at

__all__ = ["index_path", "plan_link_problems", "plan_link_warnings"]

#: Scenario fields a phase may date (``scenario_path``).
DATE_FIELDS = ("commission_date", "decommission_date", "energisation_date")


def index_path(sc: Any, path: str) -> str:
    """``path`` with list elements named by position (``sites[0].halls[1]…``), as the other checks report
    them (and as the YAML line lookup follows); ``path`` itself when it names nothing."""
    out = ""
    cur: Any = sc
    for key in parse_path(path):
        if isinstance(key, _Name | int):
            if not isinstance(cur, list):
                return path
            if isinstance(key, _Name):
                idx = next((i for i, x in enumerate(cur) if getattr(x, "name", None) == key), None)
                if idx is None:
                    return path
            else:
                idx = key % len(cur) if -len(cur) <= key < len(cur) else None
                if idx is None:
                    return path
            out += f"[{idx}]"
            cur = cur[idx]
        else:
            out += f".{key}" if out else key
            cur = getattr(cur, key, None)
    return out


def _where(ln: PlanLink) -> str:
    return f"phases[{ln.phase}]." + (
        f"brings_online[{ln.entry}]" if ln.entry is not None else "scenario_path"
    )


def _preds(plan: Any) -> dict[str, set[str]]:
    """Phases each phase waits for, directly or through others (``after``, transitively)."""
    direct = {p.name: set(p.after) for p in plan.phases}
    out: dict[str, set[str]] = {}
    for name in direct:
        seen: set[str] = set()
        stack = list(direct[name])
        while stack:
            q = stack.pop()
            if q not in seen:
                seen.add(q)
                stack.extend(direct.get(q, ()))
        out[name] = seen
    return out


def plan_link_problems(sc: Any) -> list[tuple[str, str]]:
    """``(path, message)`` for every problem of the scenario's ``buildout`` plan (none without one).

    Errors: the plan's own cross-field problems (:func:`gigawatt.buildout.load.buildout_problems`: names,
    lead-time catalog, dependencies, cycles, impossible targets); ``brings_online`` entries that name no
    hall, rack group, grid connection, plant or battery (with the closest name); a ``scenario_path`` that names
    no date field; one object brought online twice; a phase that brings objects online without a
    ``target_online_week``; a date written in the scenario that contradicts the plan's (reported at that
    date); a grid connection with a ``decommission_week``; a rack group brought online by a phase that does
    not wait for the phase that brings its hall online; a plan that starts after the simulated period ends.
    """
    plan = getattr(sc, "buildout", None)
    if plan is None:
        return []
    problems = [(f"buildout.{p}", m) for p, m in plan_problems(plan)]
    links, unresolved = plan_links(plan, sc.sites)
    problems += [(f"buildout.{p}", m) for p, m in unresolved]
    first: dict[str, str] = {}
    ok: list[PlanLink] = []
    for ln in links:
        where = f"buildout.{_where(ln)}"
        if ln.kind == "path":
            field = parse_path(ln.online_path)[-1]
            try:
                value_at(sc, ln.online_path)
            except (KeyError, ValueError) as exc:
                problems.append((where, f"names no scenario field: {exc.args[0] if exc.args else exc}"))
                continue
            if field not in DATE_FIELDS:
                problems.append(
                    (where, f"{field!r} is not a date field; name a {', '.join(DATE_FIELDS)} field")
                )
                continue
        if ln.online_path in first:
            problems.append(
                (
                    where,
                    f"{ln.online_path} is already brought online by {first[ln.online_path]}: a scenario object "
                    "comes online once; keep one of them",
                )
            )
            continue
        first[ln.online_path] = f"buildout.{_where(ln)} (phase {plan.phases[ln.phase].name!r})"
        ok.append(ln)
    phases_linked = sorted({ln.phase for ln in ok})
    for i in phases_linked:
        ph = plan.phases[i]
        if planned_week(ph) is None:
            problems.append(
                (
                    f"buildout.phases[{i}].target_online_week",
                    f"phase {ph.name!r} brings scenario objects online but has no target_online_week: give one "
                    "(the date a simulation of this scenario uses; Scenario.with_buildout simulates other "
                    "outcomes)",
                )
            )
    for ln in ok:
        ph = plan.phases[ln.phase]
        for path, week, what in (
            (ln.online_path, planned_week(ph), "target_online_week"),
            (ln.offline_path, ph.decommission_week, "decommission_week"),
        ):
            if path is None or week is None:
                continue
            want = planned_datetime(plan, week)
            got = value_at(sc, path)
            if got is not None and got != want:
                problems.append(
                    (
                        index_path(sc, path),
                        f"{got.isoformat()} contradicts the build-out plan: phase {ph.name!r} "
                        f"({_where(ln)}) puts it at {want.date().isoformat()} ({what} {week:g}); "
                        f"drop this date (the plan sets it) or make them agree",
                    )
                )
        if ln.kind == "grid" and ph.decommission_week is not None:
            problems.append(
                (
                    f"buildout.phases[{ln.phase}].decommission_week",
                    f"phase {ph.name!r} brings a grid connection online ({ph.brings_online[ln.entry or 0]}), "
                    "which has no decommission date; remove decommission_week or the grid link",
                )
            )
    preds = _preds(plan)
    hall_phase = {ln.online_path.rsplit(".", 1)[0]: ln.phase for ln in ok if ln.kind == "hall"}
    for ln in ok:
        if ln.kind != "rack_group" or ln.hall_path not in hall_phase:
            continue
        hp = hall_phase[ln.hall_path]
        a, b = plan.phases[ln.phase], plan.phases[hp]
        if hp != ln.phase and b.name not in preds[a.name]:
            problems.append(
                (
                    f"buildout.phases[{ln.phase}].after",
                    f"phase {a.name!r} brings a rack group online ({a.brings_online[ln.entry or 0]}) in a hall "
                    f"that phase {b.name!r} brings online, but does not wait for it: a draw could install the "
                    f"racks before their hall; add {b.name!r} to after",
                )
            )
    end = horizon_end(sc)
    start = dt.datetime.combine(plan.start_date, dt.time())
    if ok and start >= end:
        problems.append(
            (
                "buildout.start_date",
                f"the plan starts {plan.start_date.isoformat()}, after the simulated period ends "
                f"({end.isoformat()}): nothing it brings online can be simulated; check start_date, start "
                "and horizon_h",
            )
        )
    return problems


def plan_link_warnings(sc: Any) -> list[tuple[str, str]]:
    """Warnings ``(path, message)``: a plan that starts after the simulation does while a phase that brings
    objects online has neither items nor dependencies (existing capacity, online at the plan's week 0, which
    then falls inside the run), and phases planned online after the simulated period ends (never
    simulated)."""
    plan = getattr(sc, "buildout", None)
    if plan is None:
        return []
    out: list[tuple[str, str]] = []
    links, _ = plan_links(plan, sc.sites)
    if not links:
        return out
    start = dt.datetime.combine(plan.start_date, dt.time())
    at_zero = [
        plan.phases[i].name
        for i in sorted({ln.phase for ln in links})
        if not plan.phases[i].items and not plan.phases[i].after
    ]
    if start > sc.start and at_zero:
        out.append(
            (
                "buildout.start_date",
                f"the plan's week 0 ({plan.start_date.isoformat()}) is after the simulation starts "
                f"({sc.start.isoformat()}), so what phase(s) {', '.join(at_zero)} bring online (existing "
                f"capacity, online at week 0) is missing from the run's first "
                f"{(start - sc.start).total_seconds() / 86400:g} days; if the plan starts with the run, set "
                f"start_date: {sc.start.date().isoformat()} (weeks count from it)",
            )
        )
    end = horizon_end(sc)
    for i in sorted({ln.phase for ln in links}):
        ph = plan.phases[i]
        week = planned_week(ph)
        if week is not None and planned_datetime(plan, week) >= end:
            out.append(
                (
                    f"buildout.phases[{i}].target_online_week",
                    f"phase {ph.name!r} is planned online "
                    f"{planned_datetime(plan, week).date().isoformat()}, after the simulated "
                    f"period ends ({end.date().isoformat()}): what it brings online is never simulated; "
                    "lengthen horizon_h",
                )
            )
    return out
