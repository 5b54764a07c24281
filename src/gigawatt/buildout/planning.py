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
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.buildout.gap import capacity_gap
from gigawatt.buildout.montecarlo import BuildoutDraws, Network, propagate, run_buildout
from gigawatt.scenario.buildout import BuildoutPlan, Demand

__all__ = ["latest_order_weeks", "plan_kpis"]

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
    cloud_usd_per_gpu_h: float = 0.0,
    lead_weeks: np.ndarray | None = None,
    order_weeks: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Flat KPIs of a build-out plan, for solvers and sweeps.

    Decisions: phase sizes and order weeks by ``plan.updated({...})`` (validated), or what-if order weeks by
    ``order_weeks={"phase/item": week}`` (not re-validated, so a search may pass dates that make a target
    impossible). ``draws``/``seed``/``lead_weeks`` as in :func:`~gigawatt.buildout.montecarlo.run_buildout`.

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
        out.update(capacity_gap(res, dem, cloud_usd_per_gpu_h=cloud_usd_per_gpu_h).kpis())
    return out
