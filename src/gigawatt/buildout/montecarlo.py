"""Monte Carlo of a build-out plan: lead-time draws → item arrivals → phase online dates.

One draw is a vector of lead times, one per item. The plan's network is resolved by one pass in dependency
order, vectorised over draws::

    start_i   = max(order_week_i, max_{j ∈ after(i)} finish_j)
    finish_i  = start_i + L_i                                   L_i ~ the item's lead-time distribution
    online_p  = max(max_{i ∈ items(p)} finish_i, max_{q ∈ after(p)} online_q)   (0 when p has neither)

so the cost is (items + phases) × draws array operations (10,000 draws of a 10-phase plan in a few ms).

Each item's draws come from its own stream, ``SeedSequence(seed, spawn_key=(crc32(phase/item),))`` (and, with
``lead_time_correlation`` > 0, a shared market factor, see :func:`sample_lead_weeks`): the same seed gives the
same draws, and an item keeps its draws when other items are added, removed or re-ordered, or
when order dates change (common random numbers, so that a solver moving an order date sees a smooth,
monotone response rather than sampling noise).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from gigawatt.buildout.leadtimes import LeadTimeDist, lead_time
from gigawatt.buildout.load import _topo, check_buildout
from gigawatt.errors import ScenarioError
from gigawatt.scenario.buildout import BuildoutPlan, plan_links
from gigawatt.scenario.root import Scenario

__all__ = ["BuildoutDraws", "Network", "compile_plan", "propagate", "run_buildout", "week_to_date"]


def week_to_date(start: date, weeks: Any) -> Any:
    """Calendar date(s) of ``weeks`` after ``start`` (a pandas Timestamp or DatetimeIndex)."""
    w = np.asarray(weeks, dtype=float)
    out = pd.Timestamp(start) + pd.to_timedelta(w * 7.0, unit="D")
    return out


def date_to_week(start: date, when: Any) -> Any:
    """Weeks from ``start`` to ``when`` (a date, string or array of them)."""
    delta: Any = pd.to_datetime(when) - pd.Timestamp(start)
    week = pd.Timedelta(days=7)
    if isinstance(delta, pd.Timedelta):
        return float(delta / week)
    return np.asarray(delta / week, dtype=float)


@dataclass
class Network:
    """The plan compiled into arrays: nodes in dependency order (items and phases)."""

    nodes: list[str]
    """Node names in dependency order: items as ``phase/item``, phases as ``@phase``."""
    preds: list[np.ndarray]
    """Per node, the indices of the nodes it waits for."""
    base_week: np.ndarray
    """Per node, the earliest start [weeks]: an item's order week; 0 for a phase without dependencies,
    −inf for other phases."""
    item_nodes: np.ndarray
    """Node index of each item (in plan order)."""
    phase_nodes: np.ndarray
    """Node index of each phase (in plan order)."""
    item_names: list[str]
    phase_names: list[str]
    item_phase: np.ndarray
    """Phase index of each item."""
    dists: list[LeadTimeDist]
    """Lead-time distribution of each item."""

    def order_weeks(self) -> np.ndarray:
        """Order week of each item (plan order)."""
        return self.base_week[self.item_nodes].copy()


def compile_plan(plan: BuildoutPlan) -> Network:
    """Compile a checked plan into a :class:`Network`."""
    check_buildout(plan)
    item_names: list[str] = []
    item_phase: list[int] = []
    dists: list[LeadTimeDist] = []
    deps: dict[str, list[str]] = {}
    base: dict[str, float] = {}
    for i, ph in enumerate(plan.phases):
        for it in ph.items:
            key = f"{ph.name}/{it.name}"
            item_names.append(key)
            item_phase.append(i)
            dists.append(lead_time(it.lead_time))
            deps[key] = [a if "/" in a else f"{ph.name}/{a}" for a in it.after]
            base[key] = float(it.order_week)
        pdeps = [f"{ph.name}/{it.name}" for it in ph.items] + [f"@{q}" for q in ph.after]
        deps[f"@{ph.name}"] = pdeps
        base[f"@{ph.name}"] = 0.0 if not pdeps else -np.inf

    nodes = _topo(deps)
    index = {n: k for k, n in enumerate(nodes)}
    return Network(
        nodes=nodes,
        preds=[np.array([index[d] for d in deps[n]], dtype=int) for n in nodes],
        base_week=np.array([base[n] for n in nodes]),
        item_nodes=np.array([index[n] for n in item_names], dtype=int),
        phase_nodes=np.array([index[f"@{p.name}"] for p in plan.phases], dtype=int),
        item_names=item_names,
        phase_names=[p.name for p in plan.phases],
        item_phase=np.array(item_phase, dtype=int),
        dists=dists,
    )


def _stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


def sample_lead_weeks(net: Network, seed: int, draws: int, correlation: float = 0.0) -> np.ndarray:
    """Lead times [weeks], shape ``(items, draws)``; item k from ``SeedSequence(seed, spawn_key=crc32(name))``.

    With ``correlation`` ρ > 0 the items share one market factor M (stream ``"@market"``)::

        Z_k = √ρ · M + √(1 − ρ) · ε_k,   L_k = F_k⁻¹(Φ(Z_k))

    (a one-factor Gaussian copula: the normal scores of any two items have correlation ρ; each item keeps its
    own marginal distribution). With ρ = 0 each item is sampled directly from its distribution.
    """
    out = np.empty((len(net.item_names), draws))
    if correlation <= 0:
        for k, (name, dist) in enumerate(zip(net.item_names, net.dists, strict=True)):
            out[k] = dist.sample(_stream(seed, name), draws)
        return out
    market = _stream(seed, "@market").standard_normal(draws)
    for k, (name, dist) in enumerate(zip(net.item_names, net.dists, strict=True)):
        z = np.sqrt(correlation) * market + np.sqrt(1.0 - correlation) * _stream(seed, name).standard_normal(
            draws
        )
        out[k] = dist.ppf(ndtr(z))
    return out


def propagate(
    net: Network,
    lead_weeks: np.ndarray,
    order_weeks: np.ndarray | None = None,
    *,
    base_week: np.ndarray | None = None,
    critical: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Finish week of every node for every draw.

    Parameters
    ----------
    net
        Compiled plan.
    lead_weeks
        Lead times, ``(items, draws)``.
    order_weeks
        Order week per item (plan order), overriding the plan's (``-inf`` = not binding); default: the plan's.
    base_week
        Earliest start of every node, ``(nodes,)``, overriding both the plan and ``order_weeks``.
    critical
        Also return, per node and draw, the index of the predecessor that set its start (−1 when its own
        order week did): the critical path can be traced back from any phase.

    Returns
    -------
    finish
        ``(nodes, draws)`` finish weeks (for a phase: its online week).
    crit
        ``(nodes, draws)`` int array of binding predecessors, or ``None``.
    """
    n_draws = lead_weeks.shape[1]
    base = net.base_week.copy() if base_week is None else np.asarray(base_week, dtype=float).copy()
    if order_weeks is not None and base_week is None:
        base[net.item_nodes] = np.asarray(order_weeks, dtype=float)
    lead = np.zeros((len(net.nodes), n_draws))
    lead[net.item_nodes] = lead_weeks
    finish = np.empty((len(net.nodes), n_draws))
    crit = np.full((len(net.nodes), n_draws), -1, dtype=np.int32) if critical else None
    for k, pr in enumerate(net.preds):
        if len(pr) == 0:
            start = np.full(n_draws, base[k])
        elif len(pr) == 1:
            start = np.maximum(finish[pr[0]], base[k])
            if crit is not None:
                crit[k] = np.where(finish[pr[0]] > base[k], pr[0], -1)
        else:
            cand = finish[pr]
            j = np.argmax(cand, axis=0)
            best = np.take_along_axis(cand, j[None, :], axis=0)[0]
            start = np.maximum(best, base[k])
            if crit is not None:
                crit[k] = np.where(best > base[k], pr[j], -1)
        finish[k] = start + lead[k]
    return finish, crit


@dataclass
class BuildoutDraws:
    """The Monte Carlo of a plan: lead times, arrivals and online dates of every draw.

    Weeks count from ``plan.start_date``. Arrays are ``(draws, items)`` and ``(draws, phases)``.
    """

    plan: BuildoutPlan
    network: Network
    seed: int
    lead_weeks: np.ndarray
    """Lead time of each item [weeks], ``(draws, items)``."""
    arrival_week: np.ndarray
    """Arrival (finish) week of each item, ``(draws, items)``."""
    online_week: np.ndarray
    """Online week of each phase, ``(draws, phases)``."""
    _crit: np.ndarray | None = field(default=None, repr=False)
    scenario: Scenario | None = field(default=None, repr=False)
    """The scenario whose ``buildout`` this is (``run_buildout(scenario)``), or ``None``."""

    # --------------------------------------------------------------------------------------- basics
    @property
    def n_draws(self) -> int:
        return int(self.online_week.shape[0])

    @property
    def phase_names(self) -> list[str]:
        return self.network.phase_names

    @property
    def item_names(self) -> list[str]:
        return self.network.item_names

    def _phase_index(self, phases: str | Sequence[str] | None) -> list[int]:
        if phases is None:
            return list(range(len(self.phase_names)))
        names = [phases] if isinstance(phases, str) else list(phases)
        out = []
        for n in names:
            if n not in self.phase_names:
                raise KeyError(f"no phase named {n!r}; phases: {', '.join(self.phase_names)}")
            out.append(self.phase_names.index(n))
        return out

    def target_weeks(self) -> np.ndarray:
        """Target online week per phase (NaN where none is set)."""
        return np.array(
            [np.nan if p.target_online_week is None else p.target_online_week for p in self.plan.phases]
        )

    def decommission_weeks(self) -> np.ndarray:
        """Decommission week per phase (+inf where none is set)."""
        return np.array(
            [np.inf if p.decommission_week is None else p.decommission_week for p in self.plan.phases]
        )

    def to_date(self, weeks: Any) -> Any:
        """Calendar date(s) of plan weeks."""
        return week_to_date(self.plan.start_date, weeks)

    def to_week(self, when: Any) -> Any:
        """Plan week(s) of calendar date(s)."""
        return date_to_week(self.plan.start_date, when)

    # ------------------------------------------------------------------------------------- answers
    def online_quantiles(self, q: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Per phase: quantiles of the online week and date, the target and P(on time)."""
        qs = np.quantile(self.online_week, q, axis=0)
        tgt = self.target_weeks()
        rows = []
        for k, name in enumerate(self.phase_names):
            row: dict[str, Any] = {"phase": name}
            for qi, qv in zip(q, qs[:, k], strict=True):
                row[f"online_p{round(qi * 100):02d}_week"] = float(qv)
            for qi, qv in zip(q, qs[:, k], strict=True):
                row[f"online_p{round(qi * 100):02d}_date"] = self.to_date(qv).date()
            row["online_mean_week"] = float(self.online_week[:, k].mean())
            row["target_online_week"] = tgt[k]
            row["p_on_time_frac"] = (
                float(np.mean(self.online_week[:, k] <= tgt[k])) if np.isfinite(tgt[k]) else np.nan
            )
            row["gpus"] = self.plan.phases[k].gpus
            row["it_power_mw"] = self.plan.phases[k].it_power_mw
            rows.append(row)
        return pd.DataFrame(rows).set_index("phase")

    def p_online_by(self, when: Any, phases: str | Sequence[str] | None = None) -> pd.DataFrame:
        """P(phase online by each date): rows = dates (or weeks, if numbers are given), columns = phases."""
        weeks = np.atleast_1d(np.asarray(when if _is_numeric(when) else self.to_week(when), dtype=float))
        idx = self._phase_index(phases)
        ow = np.sort(self.online_week[:, idx], axis=0)
        p = np.stack([np.searchsorted(ow[:, j], weeks, side="right") for j in range(len(idx))], axis=1)
        index = (
            pd.Index(weeks, name="week")
            if _is_numeric(when)
            else pd.DatetimeIndex(self.to_date(weeks), name="date")
        )
        return pd.DataFrame(p / self.n_draws, index=index, columns=[self.phase_names[j] for j in idx])

    def capacity(self, weeks: Any, what: str = "gpus") -> np.ndarray:
        """Capacity online at each week (``gpus`` or ``it_power_mw``), ``(draws, len(weeks))``."""
        w = np.atleast_1d(np.asarray(weeks, dtype=float))
        size = self._sizes(what)
        dec = self.decommission_weeks()
        out = np.zeros((self.n_draws, w.size))
        for k in range(len(self.phase_names)):
            if size[k] == 0:
                continue
            on = (self.online_week[:, k, None] <= w[None, :]) & (w[None, :] < dec[k])
            out += size[k] * on
        return out

    def _sizes(self, what: str) -> np.ndarray:
        if what not in ("gpus", "it_power_mw"):
            raise ValueError(f"what must be 'gpus' or 'it_power_mw', got {what!r}")
        return np.array([float(getattr(p, what)) for p in self.plan.phases])

    def capacity_fan(
        self, weeks: Any, what: str = "gpus", q: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)
    ) -> pd.DataFrame:
        """Quantiles over draws of the capacity online at each week (a fan chart's bands)."""
        w = np.atleast_1d(np.asarray(weeks, dtype=float))
        cap = self.capacity(w, what)
        qs = np.quantile(cap, q, axis=0)
        df = pd.DataFrame(qs.T, index=pd.Index(w, name="week"), columns=[f"p{round(x * 100):02d}" for x in q])
        df["mean"] = cap.mean(axis=0)
        df["date"] = self.to_date(w)
        return df

    def p_capacity_by(self, amount: float, when: Any, what: str = "gpus") -> float:
        """P(capacity online at ``when`` ≥ ``amount``) (``when`` a date or a plan week)."""
        week = float(when) if _is_numeric(when) else float(self.to_week(when))
        return float(np.mean(self.capacity([week], what)[:, 0] >= amount - 1e-9))

    def criticality(self, late_only: bool = False, driving: bool = False) -> pd.DataFrame:
        """How often each item lies on its phase's critical path (criticality index), per phase.

        The critical path of a draw is traced back from the phase through the predecessor that set each
        node's start. With ``driving`` only the item at the head of the path counts: the one whose own order
        week set its start (the long-lead item that drives the date, rather than the commissioning step that
        always closes it). With ``late_only`` the share is over the draws in which the phase misses its
        target (the items that cause lateness: their share of the delay); phases without a target give NaN
        then.

        References
        ----------
        Van Slyke, "Monte Carlo methods and the PERT problem", Operations Research 11(5), 1963 (criticality
        index); Williams, "Criticality in stochastic networks", J. Oper. Res. Soc. 43(4), 1992.
        """
        crit = self._critical()
        net = self.network
        on_path = self._on_path(crit, driving)
        tgt = self.target_weeks()
        cols = {}
        for k, name in enumerate(self.phase_names):
            mask = np.ones(self.n_draws, dtype=bool)
            if late_only:
                if not np.isfinite(tgt[k]):
                    cols[name] = np.full(len(net.item_names), np.nan)
                    continue
                mask = self.online_week[:, k] > tgt[k]
            n = int(mask.sum())
            cols[name] = on_path[k][:, mask].sum(axis=1) / n if n else np.zeros(len(net.item_names))
        return pd.DataFrame(cols, index=pd.Index(net.item_names, name="item"))

    def _critical(self) -> np.ndarray:
        if self._crit is None:
            _, crit = propagate(self.network, self.lead_weeks.T, critical=True)
            assert crit is not None
            self._crit = crit
        return self._crit

    def _on_path(self, crit: np.ndarray, driving: bool = False) -> list[np.ndarray]:
        """Per phase, ``(items, draws)`` booleans: item on the phase's critical path in that draw (with
        ``driving``: the item at the head of the path)."""
        net = self.network
        item_of_node = np.full(len(net.nodes), -1)
        item_of_node[net.item_nodes] = np.arange(len(net.item_names))
        draws = np.arange(self.n_draws)
        out = []
        for pn in net.phase_nodes:
            mark = np.zeros((len(net.item_names), self.n_draws), dtype=bool)
            head = np.full(self.n_draws, -1)
            cur = np.full(self.n_draws, pn)
            for _ in range(len(net.nodes)):
                live = cur >= 0
                if not live.any():
                    break
                it = item_of_node[np.where(live, cur, 0)]
                hit = live & (it >= 0)
                mark[it[hit], draws[hit]] = True
                head[hit] = it[hit]
                cur = np.where(live, crit[np.where(live, cur, 0), draws], -1)
            if driving:
                mark[:] = False
                has = head >= 0
                mark[head[has], draws[has]] = True
            out.append(mark)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The draws as a tidy table: one row per draw and phase (``draw``, ``phase``, ``online_week``,
        ``online_date``, ``on_time``), e.g. to store with a sweep's results."""
        n, m = self.online_week.shape
        tgt = self.target_weeks()
        ow = self.online_week.ravel()
        on_time = ow <= np.tile(tgt, n)
        return pd.DataFrame(
            {
                "draw": np.repeat(np.arange(n), m),
                "phase": np.tile(np.array(self.phase_names, dtype=object), n),
                "online_week": ow,
                "online_date": self.to_date(ow),
                "on_time": np.where(np.isfinite(np.tile(tgt, n)), on_time, False),
            }
        )

    def draw_online_dates(self, draw: int) -> dict[str, pd.Timestamp]:
        """The online date of every phase in one draw."""
        return {n: self.to_date(self.online_week[draw, k]) for k, n in enumerate(self.phase_names)}

    def scenario_updates(
        self,
        draw: int | None = None,
        paths: Mapping[str, str | Sequence[str]] | None = None,
        *,
        quantile: float | None = None,
    ) -> dict[str, str]:
        """One outcome as ``{dotted scenario path: ISO online date}``, ready for ``Scenario.updated``.

        The outcome is one ``draw`` or, with ``quantile``, each phase at that quantile of its online dates.
        Online dates are rounded up to the next whole day (a phase is online from that date).

        ``paths`` maps phase name → scenario path(s); default: each phase's ``scenario_path`` and, for the
        draws of a scenario's plan (``run_buildout(scenario)``), the online dates of the objects its
        ``brings_online`` names (phases without either are left out). For the whole outcome of a scenario's
        plan (decommission dates, refreshed groups) use :meth:`gigawatt.Scenario.with_buildout`.
        """
        weeks = self._outcome_weeks(draw, quantile)
        if paths is None:
            by_phase: dict[str, list[str]] = {}
            if self.scenario is not None:
                links, _ = plan_links(self.plan, self.scenario.sites)
                for ln in links:
                    by_phase.setdefault(self.phase_names[ln.phase], []).append(ln.online_path)
            else:
                for p in self.plan.phases:
                    if p.scenario_path:
                        by_phase[p.name] = [p.scenario_path]
        else:
            by_phase = {k: [v] if isinstance(v, str) else list(v) for k, v in paths.items()}
        out = {}
        for name, ps in by_phase.items():
            k = self._phase_index(name)[0]
            day = self.to_date(weeks[k]).ceil("D").date().isoformat()
            for path in ps:
                out[path] = day
        return out

    def _outcome_weeks(self, draw: int | None, quantile: float | None) -> np.ndarray:
        """Online week per phase of one draw or of a quantile over the draws."""
        if (draw is None) == (quantile is None):
            raise ValueError("give one of draw (a draw index) or quantile (a fraction in (0, 1))")
        if quantile is not None:
            if not 0.0 <= quantile <= 1.0:
                raise ValueError(f"quantile must be within [0, 1], got {quantile}")
            return np.quantile(self.online_week, quantile, axis=0)
        assert draw is not None
        if not -self.n_draws <= draw < self.n_draws:
            raise IndexError(
                f"draw {draw} does not exist: there are {self.n_draws} draws (0-{self.n_draws - 1})"
            )
        return self.online_week[draw]

    def summary(self) -> pd.DataFrame:
        """Per phase: online quantiles, P(on time), and the item that most often drives the online date (the
        head of the critical path, see :meth:`criticality`) with the share of draws in which it does."""
        df = self.online_quantiles()
        crit = self.criticality(driving=True)
        df["driving_item"] = [str(crit[p].idxmax()) if crit[p].max() > 0 else "" for p in self.phase_names]
        df["driving_item_frac"] = [float(crit[p].max()) for p in self.phase_names]
        return df


def _is_numeric(x: Any) -> bool:
    arr = np.asarray(x)
    return arr.dtype.kind in "iuf"


def run_buildout(
    plan: BuildoutPlan | Scenario,
    draws: int | None = None,
    seed: int | None = None,
    *,
    lead_weeks: np.ndarray | None = None,
    order_weeks: Mapping[str, float] | None = None,
) -> BuildoutDraws:
    """Run the Monte Carlo of a build-out plan.

    Parameters
    ----------
    plan
        A :class:`~gigawatt.scenario.buildout.BuildoutPlan` (checked for cross-field problems first), or a
        :class:`~gigawatt.Scenario` with a ``buildout`` plan (its draws then know the scenario objects the
        phases bring online: ``scenario_updates``; ``Scenario.with_buildout`` gives an outcome's scenario).
    draws, seed
        Override ``plan.draws`` and ``plan.seed``.
    lead_weeks
        Use these lead times, ``(draws, items)``, instead of sampling (e.g. the draws of another plan with the
        same items, to compare order dates on common random numbers).
    order_weeks
        What-if order weeks by item (``{"hall-1/transformer": 12.0}``), replacing the plan's without
        re-checking targets: a solver may try order dates that make a target impossible (it then sees
        P(on time) = 0 rather than an error). The returned draws' plan keeps the original order weeks.

    Returns
    -------
    BuildoutDraws
    """
    scenario = None
    if isinstance(plan, Scenario):
        scenario = plan
        if scenario.buildout is None:
            raise ScenarioError(
                [
                    (
                        "buildout",
                        "the scenario has no build-out plan: add a buildout section (docs/models/buildout.md)",
                    )
                ],
                f"scenario {scenario.name!r}",
            )
        plan = scenario.buildout
    net = compile_plan(plan)
    n = int(draws if draws is not None else plan.draws)
    s = int(seed if seed is not None else plan.seed)
    lw = (
        sample_lead_weeks(net, s, n, plan.lead_time_correlation)
        if lead_weeks is None
        else np.asarray(lead_weeks, dtype=float).T
    )
    if order_weeks:
        order = net.order_weeks()
        for name, week in order_weeks.items():
            if name not in net.item_names:
                raise KeyError(
                    f"no item named {name!r} (items are named 'phase/item': {', '.join(net.item_names)})"
                )
            order[net.item_names.index(name)] = float(week)
        net.base_week[net.item_nodes] = order
    finish, _ = propagate(net, lw)
    return BuildoutDraws(
        plan=plan,
        network=net,
        seed=s,
        lead_weeks=lw.T.copy(),
        arrival_week=finish[net.item_nodes].T.copy(),
        online_week=finish[net.phase_nodes].T.copy(),
        scenario=scenario,
    )
