"""Planning answers on top of the build-out Monte Carlo: flat KPIs for solvers, latest order dates.

:func:`plan_kpis` turns a plan (and demand) into a flat ``{name: float}`` dict, the shape that
:func:`gigawatt.solve.search` predicates and optimisers consume; decisions (order weeks, phase sizes) are
set with ``plan.updated({"phases[hall-2].gpus": ..., "phases[hall-1].items[transformer].order_week": ...})``.
Each item keeps its lead-time draws when decisions change (common random numbers), so KPIs respond to a
decision without sampling noise.

:func:`latest_order_weeks` finds, per item, the latest order week that keeps its phase on time with a given
probability. The network is max-plus linear in an item's order week x (every other order week fixed), per
draw d::

    online_d(x) = max(c_d, x + s_d)

with c_d the phase's online week when the item's order week does not bind (x = −∞) and s_d the longest
path from the item's order to the phase's online date (its lead time plus everything downstream). So
P(online ≤ T) = P(c_d ≤ T and x ≤ T − s_d), and the latest x with probability ≥ p is an order statistic of
v_d = T − s_d over the draws with c_d ≤ T — exact on the draws, no bisection needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.buildout.gap import PriceLike, capacity_gap
from gigawatt.buildout.montecarlo import BuildoutDraws, Network, propagate, run_buildout
from gigawatt.errors import ScenarioError
from gigawatt.scenario.buildout import BuildoutPlan, Demand
from gigawatt.scenario.update import _Name, parse_path
from gigawatt.solve import Constraint, OptimizeResult, search

__all__ = ["PlanSolveResult", "latest_order_weeks", "optimize_plan", "plan_kpis", "solve_plan"]

#: Margin [weeks] taken off a latest order week so that re-adding the path's lead times in another order
#: (floating-point rounding, ~1e-13 weeks) cannot push the phase past its target.
_ROUNDING_WEEKS = 1e-9


def latest_order_weeks(draws: BuildoutDraws, prob: float = 0.9) -> pd.DataFrame:
    """Per item: the latest order week that keeps every phase it feeds on time with probability ≥ ``prob``.

    Each item is moved alone (the other order weeks as planned), on the draws' lead times. The phases an item
    feeds are its own and every phase downstream of it (a grid connection feeds the halls that wait for it);
    each phase with a ``target_online_week`` must be on time with probability ≥ ``prob`` on its own, and
    the earliest of these latest weeks is reported with the phase that sets it.

    Returns
    -------
    DataFrame
        Indexed by item (``phase/item``): ``phase``, ``order_week`` (planned), ``latest_order_week`` (−inf when
        no order week is early enough: other items make a phase late too often; NaN when the item feeds no
        phase with a target), ``binding_phase``, ``latest_order_date``, ``slack_weeks`` (latest − planned;
        negative = order earlier), ``p_on_time_frac`` (of the binding phase, as planned).
    """
    if not 0 < prob <= 1:
        raise ValueError(f"prob must be in (0, 1] (got {prob})")
    net = draws.network
    lead = draws.lead_weeks.T
    order = net.order_weeks()
    tgt = draws.target_weeks()
    n = draws.n_draws
    k_needed = math.ceil(prob * n - 1e-9)
    rows = []
    fin0 = propagate(net, lead)[0]
    succ: list[list[int]] = [[] for _ in net.nodes]
    for k, pr in enumerate(net.preds):
        for j in pr:
            succ[int(j)].append(k)
    for i, name in enumerate(net.item_names):
        p_own = int(net.item_phase[i])
        row: dict[str, Any] = {"item": name, "phase": net.phase_names[p_own], "order_week": float(order[i])}
        node = int(net.item_nodes[i])
        sub = _downstream(node, succ)
        # c: the item's order week not binding; only the item and what is downstream of it change
        c_all = _repropagate(net, lead, fin0, sub, {node: -np.inf})
        # s: the longest path from the item's order (at week 0) to every node downstream of it
        s_all = _repropagate(net, lead, None, sub, {node: 0.0})
        best, binding = np.nan, ""
        for p, pnode in enumerate(net.phase_nodes):
            t = tgt[p]
            if not np.isfinite(t) or int(pnode) not in s_all:
                continue  # no target, or the item does not feed this phase
            s = s_all[int(pnode)]
            v = np.sort(np.where(c_all[int(pnode)] <= t, t - s, -np.inf))[::-1]
            latest = float(v[k_needed - 1]) - _ROUNDING_WEEKS
            if np.isnan(best) or latest < best:
                best, binding = latest, net.phase_names[p]
        row["latest_order_week"] = best
        row["binding_phase"] = binding
        row["p_on_time_frac"] = (
            float(
                np.mean(
                    draws.online_week[:, net.phase_names.index(binding)]
                    <= tgt[net.phase_names.index(binding)]
                )
            )
            if binding
            else np.nan
        )
        rows.append(row)
    df = pd.DataFrame(rows).set_index("item")
    df["slack_weeks"] = df["latest_order_week"] - df["order_week"]
    finite = np.isfinite(df["latest_order_week"].to_numpy(dtype=float))
    df["latest_order_date"] = [
        draws.to_date(w).date() if ok else None
        for w, ok in zip(df["latest_order_week"].to_numpy(dtype=float), finite, strict=True)
    ]
    cols = ["phase", "order_week", "latest_order_week", "binding_phase", "latest_order_date", "slack_weeks"]
    return df[[*cols, "p_on_time_frac"]]


def _downstream(node: int, succ: list[list[int]]) -> list[int]:
    """``node`` and every node that waits for it, in dependency order (node indices are topological)."""
    seen = {node}
    stack = [node]
    while stack:
        for k in succ[stack.pop()]:
            if k not in seen:
                seen.add(k)
                stack.append(k)
    return sorted(seen)


def _repropagate(
    net: Network, lead: np.ndarray, known: np.ndarray | None, sub: list[int], base: dict[int, float]
) -> dict[int, np.ndarray]:
    """Finish weeks of the nodes in ``sub`` (topological order) with their earliest starts replaced by ``base``
    where given; other nodes' finishes are read from ``known`` (−inf when ``None``)."""
    lead_of = {int(n): lead[k] for k, n in enumerate(net.item_nodes)}
    out: dict[int, np.ndarray] = {}
    n_draws = lead.shape[1]
    for k in sub:
        b = base.get(k, float(net.base_week[k]) if known is not None else -np.inf)
        start = np.full(n_draws, b)
        for j in net.preds[k]:
            j = int(j)
            f = out.get(j)
            if f is None:
                if known is None:
                    continue
                f = known[j]
            start = np.maximum(start, f)
        out[k] = start + lead_of[k] if k in lead_of else start
    return out


def plan_kpis(
    plan: BuildoutPlan,
    demand: Demand | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    cloud_usd_per_gpu_h: PriceLike = 0.0,
    lead_weeks: np.ndarray | None = None,
    order_weeks: Mapping[str, float] | None = None,
    gap_from_week: float | None = None,
) -> dict[str, float]:
    """Flat KPIs of a build-out plan, for solvers and sweeps.

    Decisions: phase sizes and order weeks by ``plan.updated({...})`` (validated), or what-if order weeks by
    ``order_weeks={"phase/item": week}`` (not re-validated, so a search may pass dates that make a target
    impossible). ``draws``/``seed``/``lead_weeks`` as in :func:`~gigawatt.buildout.montecarlo.run_buildout`;
    ``cloud_usd_per_gpu_h`` as in :func:`~gigawatt.buildout.gap.capacity_gap`; ``gap_from_week`` counts the gap
    KPIs only from that week on.

    Returns
    -------
    dict
        ``p_on_time_frac`` (all phases with a target on time, jointly), ``online_p90_week_last`` (the latest
        phase's P90 online week), ``gpus_total``, ``it_power_mw_total``; per phase
        ``<phase>:p_on_time_frac``, ``<phase>:online_p50_week``, ``<phase>:online_p90_week``; with demand (the
        argument or ``plan.demand``) also ``unmet_gpu_h_mean``, ``unmet_gpu_h_p50``, ``unmet_gpu_h_p90``,
        ``gap_gpus_peak_p90``, ``p_any_shortfall_frac``, ``cloud_bridge_usd_mean``, ``cloud_bridge_usd_p90``.
    """
    res = run_buildout(plan, draws, seed, lead_weeks=lead_weeks, order_weeks=order_weeks)
    tgt = res.target_weeks()
    has = np.isfinite(tgt)
    out: dict[str, float] = {}
    on_time = res.online_week[:, has] <= tgt[has][None, :]
    out["p_on_time_frac"] = float(on_time.all(axis=1).mean()) if has.any() else float("nan")
    q50, q90 = np.quantile(res.online_week, [0.5, 0.9], axis=0)
    out["online_p90_week_last"] = float(q90.max())
    out["gpus_total"] = float(sum(p.gpus for p in plan.phases))
    out["it_power_mw_total"] = float(sum(p.it_power_mw for p in plan.phases))
    for k, name in enumerate(res.phase_names):
        out[f"{name}:p_on_time_frac"] = (
            float(np.mean(res.online_week[:, k] <= tgt[k])) if has[k] else float("nan")
        )
        out[f"{name}:online_p50_week"] = float(q50[k])
        out[f"{name}:online_p90_week"] = float(q90[k])
    dem = demand if demand is not None else plan.demand
    if dem is not None:
        out.update(capacity_gap(res, dem, cloud_usd_per_gpu_h=cloud_usd_per_gpu_h).kpis(gap_from_week))
    return out


@dataclass
class PlanSolveResult:
    """What :func:`solve_plan` found: the decision value, whether it is feasible, and every point evaluated."""

    decision: str
    x: float | None
    feasible: bool
    constraints: list[str]
    binding: list[str]
    history: pd.DataFrame
    kpis: dict[str, float] = field(default_factory=dict)
    """The KPIs at ``x`` (empty when nothing is feasible)."""

    def __repr__(self) -> str:
        state = "feasible" if self.feasible else "INFEASIBLE in the bounds"
        return (
            f"PlanSolveResult({self.decision} = {self.x!r}, {state}, {len(self.history)} evaluations, "
            f"binding: {', '.join(self.binding) or '-'})"
        )


def solve_plan(
    plan: BuildoutPlan,
    decision: str,
    bounds: tuple[float, float],
    constraints: Sequence[str],
    *,
    sense: str = "least",
    method: str = "bisect",
    integer: bool | None = None,
    tolerance: float | None = None,
    max_evaluations: int = 40,
    **kpi_kw: Any,
) -> PlanSolveResult:
    """The least (or most) value of one plan decision that meets every constraint on :func:`plan_kpis`.

    Parameters
    ----------
    plan
        The plan to start from.
    decision
        Dotted path in the plan: ``phases[hall-5].gpus``, ``phases[hall-1].items[gpus].order_week``, ...
        An order week is applied as a what-if (``order_weeks``), so dates that make a target impossible are
        evaluated (infeasible) rather than rejected.
    bounds
        ``(low, high)``.
    constraints
        ``"kpi op value"`` strings over :func:`plan_kpis` (``"unmet_gpu_h_p90 <= 5e7"``,
        ``"hall-1:p_on_time_frac >= 0.9"``).
    sense, method, integer, tolerance, max_evaluations
        As in :func:`gigawatt.solve.search` (``least``: constraints get easier as the decision grows, e.g.
        more GPUs; ``most``: harder, e.g. a later order week). ``integer`` defaults to whole numbers for
        integer fields (``gpus``).
    **kpi_kw
        Passed to :func:`plan_kpis` (``draws``, ``seed``, ``cloud_usd_per_gpu_h``, ``gap_from_week``, ...).
        Every evaluation uses the same draws per item (common random numbers).
    """
    cons = [Constraint.parse(c) for c in constraints]
    if integer is None:
        integer = _is_integer_field(decision)
    tol = tolerance if tolerance is not None else (1.0 if integer else (bounds[1] - bounds[0]) / 1000)
    ev = _PlanEvaluator(plan, [decision], [integer], cons, kpi_kw)

    def evaluate(v: float) -> dict[str, Any]:
        return ev.one((v,))

    good, bad = search(
        lambda v: evaluate(v)["feasible"],
        bounds,
        integer=integer,
        tolerance=tol,
        sense=sense,
        method=method,
        max_evaluations=max_evaluations,
    )
    hist = ev.history()
    binding: list[str] = []
    if bad is not None:
        binding = [str(c) for c in cons if not evaluate(bad)[f"{c}: met"]]
    x = None if good is None else (float(round(good)) if integer else float(good))
    return PlanSolveResult(
        decision=decision,
        x=x,
        feasible=good is not None,
        constraints=[str(c) for c in cons],
        binding=binding,
        history=hist,
        kpis=dict(evaluate(x)["_kpis"]) if x is not None else {},
    )


def _is_integer_field(path: str) -> bool:
    return path.rstrip().endswith(".gpus")


class _PlanEvaluator:
    """Evaluates plan decisions (dotted paths) through :func:`plan_kpis`, caching every point.

    An item's ``order_week`` is applied as a what-if order week (not re-validated); other paths through
    ``plan.updated``. A point the plan model rejects is infeasible (its error is kept in the history).
    """

    def __init__(
        self,
        plan: BuildoutPlan,
        paths: list[str],
        integer: list[bool],
        constraints: Sequence[Any],
        kpi_kw: dict[str, Any],
        objective: str | None = None,
    ) -> None:
        self.plan, self.paths, self.integer, self.cons, self.objective = (
            plan,
            paths,
            integer,
            list(constraints),
            objective,
        )
        self.kpi_kw = dict(kpi_kw)
        self.fixed_orders = dict(self.kpi_kw.pop("order_weeks", None) or {})
        self.order_items = [_order_item(plan, p) for p in paths]
        self.cache: dict[tuple[float, ...], dict[str, Any]] = {}

    def one(self, values: Sequence[float]) -> dict[str, Any]:
        key = tuple(float(round(v)) if i else float(v) for v, i in zip(values, self.integer, strict=True))
        if key in self.cache:
            return self.cache[key]
        rec: dict[str, Any] = dict(zip(self.paths, key, strict=True))
        rec["error"] = ""
        orders = dict(self.fixed_orders)
        updates: dict[str, Any] = {}
        for path, item, v, i in zip(self.paths, self.order_items, key, self.integer, strict=True):
            if item is not None:
                orders[item] = v
            else:
                updates[path] = int(v) if i else v
        try:
            plan = self.plan.updated(updates) if updates else self.plan
            k = plan_kpis(plan, order_weeks=orders or None, **self.kpi_kw)
        except ScenarioError as exc:
            k = {}
            rec["error"] = str(exc).splitlines()[-1]
        miss = 0.0
        for c in self.cons:
            if k and c.kpi not in k:
                raise KeyError(f"constraint {c}: no KPI named {c.kpi!r}; KPIs: {', '.join(sorted(k))}")
            val = k.get(c.kpi, float("nan"))
            rec[c.kpi] = val
            rec[f"{c}: met"] = c.holds(val)
            if not rec[f"{c}: met"]:
                miss += 1.0 + (max(0.0, -c.slack(val)) / (abs(c.value) + 1.0) if math.isfinite(val) else 1.0)
        if self.objective is not None:
            if k and self.objective not in k:
                raise KeyError(f"objective: no KPI named {self.objective!r}; KPIs: {', '.join(sorted(k))}")
            rec[self.objective] = k.get(self.objective, float("nan"))
        rec["feasible"] = bool(k) and miss == 0.0
        rec["_miss"] = miss if k else float(len(self.cons) + 1)
        rec["_kpis"] = k
        self.cache[key] = rec
        return rec

    def history(self) -> pd.DataFrame:
        rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.cache.values()]
        return pd.DataFrame(rows).sort_values(self.paths).reset_index(drop=True)


def optimize_plan(
    plan: BuildoutPlan,
    decisions: Mapping[str, tuple[float, float]],
    objective: str,
    constraints: Sequence[str] = (),
    *,
    sense: str = "min",
    integer: Mapping[str, bool] | None = None,
    maxiter: int = 15,
    popsize: int = 8,
    rng_seed: int = 0,
    **kpi_kw: Any,
) -> Any:
    """Minimise (or maximise) a :func:`plan_kpis` KPI over several plan decisions, subject to constraints.

    "How much to build, when": decisions are dotted paths with bounds, e.g. phase sizes
    (``phases[hall-5].gpus``) and order weeks (``phases[hall-5].items[gpus].order_week``, applied as what-if
    order weeks). Uses :func:`scipy.optimize.differential_evolution` (whole numbers for ``gpus`` fields
    through ``integrality``) with the constraints as a penalty: an infeasible point scores worse than every
    feasible one, ranked by how many constraints it misses and by how much. Every point is evaluated on the
    same draws per item (common random numbers).

    Returns
    -------
    gigawatt.solve.OptimizeResult
        ``x`` (decision values, ``None`` if no feasible point was found), ``objective``, ``feasible``,
        ``evaluations``, ``runs`` (= evaluations), ``history`` (every point), ``message``.
    """
    # lazy: scipy.optimize takes ~0.2 s to import; only the solvers need it
    from scipy.optimize import differential_evolution

    if sense not in ("min", "max"):
        raise ValueError(f"sense must be 'min' or 'max' (got {sense!r})")
    paths = list(decisions)
    ints = [(integer or {}).get(p, _is_integer_field(p)) for p in paths]
    cons = [Constraint.parse(c) for c in constraints]
    ev = _PlanEvaluator(plan, paths, ints, cons, kpi_kw, objective=objective)
    sign = 1.0 if sense == "min" else -1.0

    def score(rec: dict[str, Any]) -> float:
        obj = rec.get(objective, float("nan"))
        if rec["feasible"] and math.isfinite(obj):
            return sign * obj
        return 1e30 * (1.0 + rec["_miss"])

    res = differential_evolution(
        lambda x: score(ev.one(x)),
        bounds=[tuple(map(float, decisions[p])) for p in paths],
        integrality=ints,
        maxiter=maxiter,
        popsize=popsize,
        rng=np.random.default_rng(rng_seed),
        polish=False,
        tol=0,
    )
    best = min(ev.cache.values(), key=score)
    return OptimizeResult(
        x={p: best[p] for p in paths} if best["feasible"] else None,
        objective=float(best.get(objective, float("nan"))),
        feasible=bool(best["feasible"]),
        evaluations=len(ev.cache),
        runs=len(ev.cache),
        history=ev.history(),
        message=str(res.message),
    )


def _order_item(plan: BuildoutPlan, path: str) -> str | None:
    """``phase/item`` when ``path`` names an item's order week (``phases[p].items[i].order_week``)."""
    try:
        keys = parse_path(path)
    except ValueError:
        return None
    if len(keys) != 5 or keys[0] != "phases" or keys[2] != "items" or keys[4] != "order_week":
        return None
    phases = plan.phases
    pk, ik = keys[1], keys[3]
    ph = (
        next((p for p in phases if p.name == pk), None)
        if isinstance(pk, _Name)
        else (phases[pk] if isinstance(pk, int) and -len(phases) <= pk < len(phases) else None)
    )
    if ph is None:
        return None
    it = (
        next((i for i in ph.items if i.name == ik), None)
        if isinstance(ik, _Name)
        else (ph.items[ik] if isinstance(ik, int) and -len(ph.items) <= ik < len(ph.items) else None)
    )
    return None if it is None else f"{ph.name}/{it.name}"
