"""A scenario's build-out plan as a fleet over time: the scenario of one build-out outcome.

A :class:`~gigawatt.Scenario` with a ``buildout`` section carries its fleet and the plan that builds it; the
phases' ``brings_online`` name the halls, rack groups, grid connections and plant they bring online
(:func:`gigawatt.scenario.buildout.plan_links`). Loaded, the scenario holds the plan's *target* dates, and
that is what :func:`gigawatt.simulate` runs. :func:`with_buildout` (what :meth:`gigawatt.Scenario.with_buildout`
runs) gives the scenario of another outcome: a quantile of each phase's online date over the Monte Carlo
draws, or one draw (``docs/models/buildout.md`` §7).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from gigawatt.buildout.montecarlo import BuildoutDraws, run_buildout, week_to_date
from gigawatt.errors import ScenarioError
from gigawatt.scenario.buildout import BuildoutPlan, PlanLink, plan_links, planned_datetime, planned_week
from gigawatt.scenario.root import Scenario, set_buildout_runner
from gigawatt.scenario.update import _Name, format_path, parse_path

__all__ = ["outcome_updates", "with_buildout"]

_PNN = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def _outcome_weeks(
    sc: Scenario,
    plan: BuildoutPlan,
    outcome: str | float | None,
    draw: int | None,
    draws: int | None,
    seed: int | None,
) -> tuple[np.ndarray, str]:
    """Online week per phase of the outcome, and its description."""
    if (outcome is None) == (draw is None):
        raise ValueError(
            "give one outcome: 'target', 'pNN' (e.g. 'p90'), a fraction in (0, 1), 'mean', or draw=i"
        )
    if outcome == "target":
        planned = [planned_week(p) for p in plan.phases]
        missing = [p.name for p, w in zip(plan.phases, planned, strict=True) if w is None]
        weeks = np.array([np.nan if w is None else w for w in planned])
        if missing and any(np.isnan(weeks[ln.phase]) for ln in plan_links(plan, sc.sites)[0]):
            raise ValueError(
                f"phase(s) {', '.join(missing)} bring objects online but have no target_online_week"
            )
        return weeks, "its target dates"
    res: BuildoutDraws = run_buildout(sc, draws=draws, seed=seed)
    what = f"{res.n_draws} draws, seed {res.seed}"
    if draw is not None:
        return res._outcome_weeks(draw, None), f"draw {draw} ({what})"
    if outcome == "mean":
        return res.online_week.mean(axis=0), f"the mean online dates ({what})"
    if isinstance(outcome, str):
        m = _PNN.match(outcome.strip().lower())
        if m is None:
            raise ValueError(
                f"unknown outcome {outcome!r}: use 'target', 'pNN' (e.g. 'p50', 'p90'), 'mean' or a fraction"
            )
        q = float(m.group(1)) / 100.0
        label = outcome.strip().lower()
    else:
        assert outcome is not None
        q = float(outcome)
        label = f"quantile {q:g}"
    if not 0.0 < q < 1.0:
        raise ValueError(f"the quantile must be within (0, 1), got {q:g}")
    return res._outcome_weeks(None, q), f"{label} of each phase's online date ({what})"


def _day(plan: BuildoutPlan, week: float) -> str:
    return str(week_to_date(plan.start_date, week).ceil("D").date().isoformat())


def outcome_updates(sc: Scenario, weeks: np.ndarray) -> dict[str, Any]:
    """``{dotted path: value}`` that date a scenario's fleet by one outcome of its plan (online week per phase).

    Every linked object comes online at its phase's date (rounded up to a whole day) and, when the phase
    has a ``decommission_week``, goes out of service then. A rack group that replaces another (one whose
    ``decommission_date`` is the group's planned commission date: a refresh) retires that group at the same
    date. The plan itself is removed (``buildout: None``): the dates are written in.
    """
    plan = sc.buildout
    if plan is None:
        raise ScenarioError([("buildout", "the scenario has no build-out plan")], f"scenario {sc.name!r}")
    links, problems = plan_links(plan, sc.sites)
    if problems:
        raise ScenarioError([(f"buildout.{p}", m) for p, m in problems], f"scenario {sc.name!r}")
    ups: dict[str, Any] = {}
    offline = {ln.offline_path for ln in links if plan.phases[ln.phase].decommission_week is not None}
    for ln in links:
        ph = plan.phases[ln.phase]
        day = _day(plan, float(weeks[ln.phase]))
        ups[ln.online_path] = day
        if ph.decommission_week is not None and ln.offline_path is not None:
            ups[ln.offline_path] = planned_datetime(plan, ph.decommission_week).date().isoformat()
        if ln.kind == "rack_group":
            for path in _replaced(sc, ln):
                if path not in offline:
                    ups[path] = day
    ups["buildout"] = None
    return ups


def _replaced(sc: Scenario, ln: PlanLink) -> list[str]:
    """Decommission-date paths of the rack groups that a linked rack group replaces (same hall, retired at the
    linked group's date)."""
    when = sc.value_at(ln.online_path)
    if when is None or ln.hall_path is None:
        return []
    hall = sc.value_at(ln.hall_path)
    this = ln.online_path.rsplit(".", 1)[0]
    out = []
    for rg in hall["racks"]:
        path = format_path([*parse_path(ln.hall_path), "racks", _Name(rg["name"])])
        if path != this and rg.get("decommission_date") == when:
            out.append(f"{path}.decommission_date")
    return out


def with_buildout(
    sc: Scenario,
    outcome: str | float | None = None,
    *,
    draw: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """The scenario of one outcome of its build-out plan (:meth:`gigawatt.Scenario.with_buildout`).

    Parameters
    ----------
    sc
        A scenario with a ``buildout`` plan whose phases name what they bring online.
    outcome
        ``"target"``: the plan's target dates (what simulating ``sc`` itself runs); ``"pNN"`` or a fraction q
        in (0, 1): each phase at that quantile of its online date over the draws (per phase: a P90 scenario
        has every phase at its own P90, later than any one draw's typical combination; the order of
        dependent phases holds since a successor is online after its predecessor in every draw); ``"mean"``.
    draw
        Instead of ``outcome``: the dates of one Monte Carlo draw (a consistent joint outcome).
    draws, seed
        Override the plan's number of draws and seed.

    Returns
    -------
    Scenario
        Validated, with the dates written in (:func:`outcome_updates`), no ``buildout``, and the outcome named
        in its description.
    """
    plan = sc.buildout
    if plan is None:
        raise ScenarioError(
            [
                (
                    "buildout",
                    "the scenario has no build-out plan: add a buildout section (docs/models/buildout.md)",
                )
            ],
            f"scenario {sc.name!r}",
        )
    weeks, label = _outcome_weeks(sc, plan, outcome, draw, draws, seed)
    ups = outcome_updates(sc, weeks)
    note = f"Build-out outcome of plan {plan.name!r}: {label}."
    ups["description"] = f"{sc.description}\n{note}".strip() if sc.description else note
    return sc.updated(ups)


set_buildout_runner(with_buildout)
