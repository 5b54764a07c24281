"""Capacity solvers: the least (or most) of a decision that meets targets, Pareto fronts, sensitivity.

Every evaluation is a :func:`gigawatt.simulate` of the base scenario with the decision set by dotted path,
run through the sweep machinery (:func:`gigawatt.sweep.run_variants`): seeds run in parallel, a ``store``
makes a solve resumable, and an evaluation already made is never repeated.

Constraints are strings over the KPIs of :meth:`Result.summary` (and of an extra KPI function), e.g.
``"chat:slo_attainment_frac >= 0.99"``, ``"unserved_energy_mwh <= 0"``, ``"pretrain:makespan_h < 720"``;
``==`` holds within ``atol`` (default 1e-6 in the KPI's unit). With several seeds a constraint holds when it
holds in at least ``chance`` of them (a chance constraint; ``chance=1`` means in every seed).

Methods
-------
``bisect``  Monotone bisection. For a *least* solve the constraints must become easier as the decision
            grows (more GPUs, more battery); for a *most* solve, harder. The solver checks this on every
            pair of points it evaluated and reports any violation (``monotone_violations``).
``scan``    A coarse grid over the bounds, then bisection inside the first feasible cell: for constraints
            that are not monotone (it finds the least feasible grid point, then refines below it).
``optimize`` :func:`scipy.optimize.differential_evolution` over several decisions (integer-aware through
            ``integrality``), minimising a KPI with the constraints as penalties.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.checks.load import load_scenario
from gigawatt.scenario.root import Scenario
from gigawatt.sweep import KpiFunction, Range, _open_pool, _seed_list, run_variants

__all__ = [
    "Constraint",
    "OptimizeResult",
    "SolveResult",
    "optimize",
    "pareto_front",
    "search",
    "sobol_indices",
    "solve",
    "tornado",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": lambda a, b: False,  # replaced by a tolerance test in Constraint.holds
}
_CONSTRAINT = re.compile(r"^\s*(?P<kpi>.+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[-+0-9.eE]+|inf|-inf)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``kpi op value``; ``==`` holds within ``atol``."""

    kpi: str
    op: str
    value: float
    atol: float = 1e-6

    @classmethod
    def parse(cls, text: str | Constraint, atol: float = 1e-6) -> Constraint:
        if isinstance(text, Constraint):
            return text
        m = _CONSTRAINT.match(text)
        if m is None:
            raise ValueError(
                f"cannot read the constraint {text!r}: write '<kpi> <op> <number>' with op one of "
                ">=, <=, >, <, == (e.g. 'chat:slo_attainment_frac >= 0.99')"
            )
        return cls(m.group("kpi"), m.group("op"), float(m.group("value")), atol)

    def holds(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.op == "==":
            return abs(x - self.value) <= self.atol
        if self.op in ("<=", "<"):
            return _OPS[self.op](x, self.value + (self.atol if self.op == "<=" else 0.0))
        return _OPS[self.op](x, self.value - (self.atol if self.op == ">=" else 0.0))

    def slack(self, x: float) -> float:
        """Signed distance to the bound, positive when met (in the KPI's unit)."""
        if self.op in ("<=", "<"):
            return self.value - x
        if self.op in (">=", ">"):
            return x - self.value
        return self.atol - abs(x - self.value)

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"


@dataclass
class SolveResult:
    """What a solve found and how.

    Attributes
    ----------
    x
        The decision value found (``None`` when no value in the bounds meets the constraints).
    feasible
        Whether ``x`` meets every constraint (at the chance level over seeds).
    method
        ``bisect``, ``scan`` or ``optimize``.
    evaluations
        Distinct decision values simulated (each over ``len(seeds)`` seeds).
    runs
        Simulations run (evaluations × seeds, less what a store already held).
    bracket
        ``(last infeasible, first feasible)`` decision values around the answer (bisection/scan).
    tolerance
        The bracket width the solver stopped at (1 for integer decisions).
    binding
        The constraint(s) that fail just below the answer (for a least solve; above it for a most solve):
        what decides the answer.
    history
        One row per evaluated decision value: the value, the fraction of seeds meeting each constraint, the
        mean of each constrained KPI, feasibility.
    monotone_violations
        Pairs of evaluated points that contradict the monotonicity a bisection assumes (empty when sound).
    seeds
        The seeds each point was evaluated over.
    """

    x: float | None
    feasible: bool
    method: str
    evaluations: int
    runs: int
    bracket: tuple[float | None, float | None]
    tolerance: float
    binding: list[str]
    history: pd.DataFrame
    monotone_violations: list[tuple[float, float]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    decision: str = ""
    constraints: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        state = "feasible" if self.feasible else "INFEASIBLE in the bounds"
        return (
            f"SolveResult({self.decision} = {self.x!r}, {state}; {self.method}, {self.evaluations} evaluations "
            f"× {len(self.seeds)} seeds, bracket {self.bracket}, binding: {', '.join(self.binding) or '-'}"
            + (f"; NOT MONOTONE at {self.monotone_violations}" if self.monotone_violations else "")
            + ")"
        )


class _Evaluator:
    """Evaluates decision values over seeds through the sweep machinery, caching every point."""

    def __init__(
        self,
        base: Scenario,
        decisions: Sequence[str],
        constraints: Sequence[Constraint],
        seeds: list[int],
        chance: float,
        run_kw: dict[str, Any],
        objective: str | None = None,
    ) -> None:
        self.base = base
        self.decisions = list(decisions)
        self.constraints = list(constraints)
        self.seeds = seeds
        self.chance = chance
        self.run_kw = run_kw
        self.objective = objective
        self.cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.runs = 0
        self._pool: Any = None  # one worker pool for every evaluation (opened on first use)

    def _run_kw(self) -> dict[str, Any]:
        if self._pool is None:
            kw = self.run_kw
            self._pool = _open_pool(kw.get("executor"), kw.get("workers"), kw.get("scheduler"))
        inline = self._pool.executor is None
        return {
            **self.run_kw,
            "executor": self._pool.executor,
            "workers": 1 if inline else None,
            "scheduler": None,
        }

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _key(self, x: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(float(v) if isinstance(v, float) else v for v in x)

    def many(self, xs: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        todo = [x for x in dict.fromkeys(self._key(x) for x in xs) if x not in self.cache]
        if todo:
            variants = [dict(zip(self.decisions, x, strict=True)) for x in todo]
            table = run_variants(self.base, variants, self.seeds, **self._run_kw())
            self.runs += int((table["wall_s"] > 0).sum())
            for i, x in enumerate(todo):
                rows = table[table["variant"] == i]
                self.cache[x] = self._judge(x, rows)
        return [self.cache[self._key(x)] for x in xs]

    def one(self, x: Sequence[Any]) -> dict[str, Any]:
        return self.many([x])[0]

    def _judge(self, x: tuple[Any, ...], rows: pd.DataFrame) -> dict[str, Any]:
        ok = rows[rows["status"] == "ok"]
        rec: dict[str, Any] = dict(zip(self.decisions, x, strict=True))
        rec["n_seeds_ok"] = len(ok)
        errors = rows.loc[rows["status"] != "ok", "error"].tolist()
        rec["error"] = errors[0] if errors else ""
        feasible = len(ok) == len(self.seeds)
        for c in self.constraints:
            if c.kpi not in ok.columns:
                vals = np.full(len(ok), np.nan)
                if len(ok):
                    raise KeyError(
                        f"constraint {c}: no KPI named {c.kpi!r} in the results; "
                        f"KPIs include {', '.join(sorted(k for k in ok.columns if ':' not in k)[:12])} ..."
                    )
            else:
                vals = ok[c.kpi].to_numpy(dtype=float)
            met = np.array([c.holds(v) for v in vals], dtype=bool)
            frac = float(met.sum() / len(self.seeds)) if len(self.seeds) else 0.0
            rec[f"{c}: met_frac"] = frac
            rec[f"{c.kpi}: mean"] = float(np.nanmean(vals)) if len(vals) else float("nan")
            feasible &= frac >= self.chance - 1e-12
        if self.objective is not None:
            rec[f"{self.objective}: mean"] = (
                float(ok[self.objective].mean()) if self.objective in ok.columns and len(ok) else float("nan")
            )
        rec["feasible"] = bool(feasible)
        return rec

    def failing(self, x: Sequence[Any]) -> list[str]:
        """What fails at ``x``: the constraints missed, or the runs that did not complete (and why)."""
        rec = self.one(x)
        out = [str(c) for c in self.constraints if rec[f"{c}: met_frac"] < self.chance - 1e-12]
        if rec["n_seeds_ok"] < len(self.seeds):
            out.append(f"run not completed: {rec['error'][:300]}")
        return out

    def history(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.cache.values())).sort_values(self.decisions).reset_index(drop=True)


def _infer_integer(base: Scenario, path: str, bounds: tuple[float, float]) -> bool:
    try:
        current = base.value_at(path)
    except KeyError:
        current = None
    if isinstance(current, bool):
        return False
    if isinstance(current, int):
        return True
    return all(isinstance(b, int | np.integer) for b in bounds) and current is None


def _range(sc: Scenario, path: str, r: Range | tuple[float, float]) -> Range:
    """A Range from a Range or ``(low, high)``; whole numbers when the field holds an int."""
    if isinstance(r, Range):
        return r
    lo, hi = r
    return Range(float(lo), float(hi), integer=_infer_integer(sc, path, (lo, hi)))


def solve(
    base: Scenario | str | Path | Mapping[str, Any],
    decision: str,
    bounds: tuple[float, float],
    constraints: Sequence[str | Constraint],
    *,
    sense: str = "least",
    method: str = "bisect",
    integer: bool | None = None,
    tolerance: float | None = None,
    seeds: int | Sequence[int] | None = None,
    chance: float = 1.0,
    scan_points: int = 8,
    max_evaluations: int = 60,
    atol: float = 1e-6,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
) -> SolveResult:
    """The least (or most) value of one decision that meets every constraint.

    Parameters
    ----------
    base
        Scenario to solve on.
    decision
        Dotted path of the decision (``"workloads[chat].target.gpus"``, ``"sites[a].energy.battery.energy_mwh"``).
    bounds
        ``(low, high)`` to search in.
    constraints
        ``"kpi op value"`` strings or :class:`Constraint`.
    sense
        ``least`` (constraints get easier as the decision grows) or ``most`` (they get harder).
    method
        ``bisect`` (monotone) or ``scan`` (grid, then bisection in the first feasible cell).
    integer
        Whole-number decision; default: inferred from the field's current value (an int field) or int bounds.
    tolerance
        Stop when the bracket is at most this wide (default: 1 for integer decisions, (high−low)/1000 for
        continuous ones). A coarser integer tolerance (e.g. 8 GPUs) saves evaluations; the answer is then
        feasible and at most ``tolerance`` above the least feasible value.
    seeds, chance
        Evaluate each point over these seeds; a constraint holds at a point when it holds in at least
        ``chance`` of them.
    scan_points
        Grid points of the ``scan`` method.
    max_evaluations
        Hard cap on distinct decision values.
    atol
        Tolerance of ``==`` and of the bounds of ``<=``/``>=`` constraints, in the KPI's unit.
    executor, workers, scheduler, store, kpis
        As for :func:`gigawatt.sweep` (seeds of a point run in parallel; a store makes the solve resumable).

    Returns
    -------
    SolveResult
    """
    sc = load_scenario(base)
    if sense not in ("least", "most"):
        raise ValueError("sense must be 'least' or 'most'")
    if method not in ("bisect", "scan"):
        raise ValueError("method must be 'bisect' or 'scan' (use optimize() for several decisions)")
    if not 0 < chance <= 1:
        raise ValueError("chance must be in (0, 1]")
    lo, hi = bounds
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ValueError(f"bounds must be finite with low <= high (got {bounds})")
    cons = [Constraint.parse(c, atol) for c in constraints]
    if not cons:
        raise ValueError("give at least one constraint")
    integer = _infer_integer(sc, decision, bounds) if integer is None else integer
    if integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    if integer:
        tol = max(1.0, float(math.ceil(tolerance))) if tolerance is not None else 1.0
    else:
        tol = tolerance if tolerance is not None else (hi - lo) / 1000.0
    seed_list = _seed_list(sc, seeds)
    run_kw = dict(
        executor=executor, workers=workers, scheduler=scheduler, store=store, kpis=kpis, progress=False
    )
    ev = _Evaluator(sc, [decision], cons, seed_list, chance, run_kw)

    def cast(v: float) -> Any:
        return round(float(v)) if integer else float(v)

    def feasible(v: float) -> bool:
        return bool(ev.one([cast(v)])["feasible"])

    def prefetch(vs: Sequence[float]) -> None:  # evaluate several points as one parallel batch
        ev.many([[cast(v)] for v in vs])

    try:
        good, bad = search(
            feasible,
            (lo, hi),
            integer=integer,
            tolerance=tol,
            sense=sense,
            method=method,
            scan_points=scan_points,
            max_evaluations=max_evaluations,
            prefetch=prefetch,
            n_evaluated=lambda: len(ev.cache),
        )
    finally:
        ev.close()
    x: float | None
    x = cast(good) if good is not None else None
    hist = ev.history()
    violations = _monotone_violations(hist, decision, sense)
    binding = ev.failing([cast(bad)]) if bad is not None else []
    if x is None:
        binding = ev.failing([cast(hi if sense == "least" else lo)])
    bracket = (cast(bad) if bad is not None else None, x)
    width = abs(good - bad) if good is not None and bad is not None else 0.0
    return SolveResult(
        x=x,
        feasible=x is not None,
        method=method,
        evaluations=len(ev.cache),
        runs=ev.runs,
        bracket=bracket,
        tolerance=float(width),
        binding=binding,
        history=hist,
        monotone_violations=violations,
        seeds=seed_list,
        decision=decision,
        constraints=[str(c) for c in cons],
    )


def search(
    feasible: Callable[[float], bool],
    bounds: tuple[float, float],
    *,
    integer: bool,
    tolerance: float,
    sense: str = "least",
    method: str = "bisect",
    scan_points: int = 8,
    max_evaluations: int = 60,
    prefetch: Callable[[Sequence[float]], None] | None = None,
    n_evaluated: Callable[[], int] | None = None,
) -> tuple[float | None, float | None]:
    """The search behind :func:`solve`, on any feasibility predicate.

    Returns ``(good, bad)``: the least (``sense="least"``) or most (``"most"``) feasible value found and the
    infeasible value next to it (``None`` when the bound itself is feasible; ``good`` is ``None`` when
    nothing in the bounds is). Bisection assumes feasibility is monotone in the decision (for ``least``:
    once feasible, feasible for every larger value); ``scan`` evaluates ``scan_points`` grid points first
    and bisects in the first feasible cell. It stops when the bracket is at most ``tolerance`` wide (1 for
    integers) or after ``max_evaluations`` predicate calls (when ``n_evaluated`` counts them).
    """
    lo, hi = bounds
    count = [0]

    def feas(v: float) -> bool:
        count[0] += 1
        return feasible(v)

    def used() -> int:
        return n_evaluated() if n_evaluated is not None else count[0]

    def at(t: float) -> float:  # orient so that "feasible" lies at the high end of t
        return t if sense == "least" else lo + hi - t

    def mid(a: float, b: float) -> float:
        m = (a + b) / 2
        return math.floor(m) if integer else m

    good_t: float | None = None
    bad_t: float | None = None
    if method == "scan":
        grid = np.linspace(lo, hi, max(2, scan_points))
        if integer:
            grid = np.unique(np.round(grid))
        if prefetch is not None:
            prefetch([at(t) for t in grid])
        first = next((float(t) for t in grid if feas(at(t))), None)
        if first is not None:
            good_t = first
            below = [float(t) for t in grid if t < first]
            bad_t = below[-1] if below else None
    else:
        if prefetch is not None:
            prefetch([at(lo), at(hi)])
        if feas(at(hi)):
            good_t, bad_t = hi, lo
            if feas(at(lo)):
                good_t, bad_t = lo, None
    if good_t is not None and bad_t is not None:
        step = max(1.0, tolerance) if integer else tolerance
        while good_t - bad_t > step and used() < max_evaluations:
            m = mid(bad_t, good_t)
            if m <= bad_t or m >= good_t:
                break
            if feas(at(m)):
                good_t = m
            else:
                bad_t = m
    return (
        at(good_t) if good_t is not None else None,
        at(bad_t) if bad_t is not None else None,
    )


def _monotone_violations(hist: pd.DataFrame, decision: str, sense: str) -> list[tuple[float, float]]:
    """Pairs (feasible point, infeasible point) that contradict the assumed direction."""
    pts = hist[[decision, "feasible"]].sort_values(decision).to_numpy()
    out: list[tuple[float, float]] = []
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            a, fa = pts[i]
            b, fb = pts[j]
            # least: feasibility must not be lost as the decision grows
            if sense == "least" and fa and not fb:
                out.append((float(a), float(b)))
            if sense == "most" and fb and not fa:
                out.append((float(b), float(a)))
    return out


# ---------------------------------------------------------------------------------------- optimize()
@dataclass
class OptimizeResult:
    """Best decisions found by :func:`optimize` and the evaluations behind them."""

    x: dict[str, Any] | None
    objective: float
    feasible: bool
    evaluations: int
    runs: int
    history: pd.DataFrame
    message: str


def optimize(
    base: Scenario | str | Path | Mapping[str, Any],
    decisions: Mapping[str, Range | tuple[float, float]],
    objective: str,
    constraints: Sequence[str | Constraint] = (),
    *,
    sense: str = "min",
    seeds: int | Sequence[int] | None = None,
    chance: float = 1.0,
    maxiter: int = 10,
    popsize: int = 6,
    rng_seed: int = 0,
    atol: float = 1e-6,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
) -> OptimizeResult:
    """Minimise (or maximise) a KPI over several decisions subject to constraints.

    Uses :func:`scipy.optimize.differential_evolution` (integer decisions through ``integrality``) with the
    constraints as a penalty: an infeasible point scores worse than every feasible one, ranked by how far
    it misses. A generation is evaluated as one batch (``updating="deferred"``), in parallel.
    """
    from scipy.optimize import differential_evolution

    sc = load_scenario(base)
    names = list(decisions)
    ranges = [_range(sc, p, d) for p, d in decisions.items()]
    cons = [Constraint.parse(c, atol) for c in constraints]
    seed_list = _seed_list(sc, seeds)
    run_kw = dict(
        executor=executor, workers=workers, scheduler=scheduler, store=store, kpis=kpis, progress=False
    )
    ev = _Evaluator(sc, names, cons, seed_list, chance, run_kw, objective=objective)
    sign = 1.0 if sense == "min" else -1.0

    def cast(xv: np.ndarray) -> list[Any]:
        return [round(float(v)) if r.integer else float(v) for v, r in zip(xv, ranges, strict=True)]

    def score(rec: dict[str, Any]) -> float:
        obj = rec.get(f"{objective}: mean", float("nan"))
        if rec["feasible"] and math.isfinite(obj):
            return sign * obj
        miss = sum(1.0 - rec[f"{c}: met_frac"] for c in cons) + (0 if math.isfinite(obj) else 1)
        return 1e30 * (1 + miss)

    def vec(pop: np.ndarray) -> np.ndarray:
        pts = [cast(pop[:, k]) for k in range(pop.shape[1])]
        return np.array([score(r) for r in ev.many(pts)])

    try:
        res = differential_evolution(
            vec,
            bounds=[(r.low, r.high) for r in ranges],
            integrality=[r.integer for r in ranges],
            maxiter=maxiter,
            popsize=popsize,
            rng=np.random.default_rng(rng_seed),
            polish=False,
            vectorized=True,
            updating="deferred",
            tol=0,
        )
    finally:
        ev.close()
    # the best feasible point of every evaluation (DE's own answer is one of them)
    recs = list(ev.cache.items())
    scored = [(score(r), x) for x, r in recs]
    best = list(min(scored, key=lambda t: t[0])[1]) if scored else cast(res.x)
    rec = ev.one(best)
    return OptimizeResult(
        x=dict(zip(names, best, strict=True)) if rec["feasible"] else None,
        objective=float(rec.get(f"{objective}: mean", float("nan"))),
        feasible=bool(rec["feasible"]),
        evaluations=len(ev.cache),
        runs=ev.runs,
        history=ev.history(),
        message=str(res.message),
    )


# ------------------------------------------------------------------------------------------- pareto
def pareto_front(table: pd.DataFrame, objectives: Mapping[str, str]) -> pd.DataFrame:
    """The non-dominated rows of ``table`` for ``{column: "min" | "max"}``.

    A row is dominated when another is at least as good in every objective and strictly better in one.
    O(n²) comparisons, vectorised per row (fine for the thousands of rows of a sweep).
    """
    cols = list(objectives)
    for c, s in objectives.items():
        if c not in table.columns:
            raise KeyError(f"no column {c!r} to optimise")
        if s not in ("min", "max"):
            raise ValueError(f"objective {c!r}: sense must be 'min' or 'max'")
    data = table[cols].to_numpy(dtype=float)
    sign = np.array([1.0 if objectives[c] == "min" else -1.0 for c in cols])
    v = data * sign
    finite = np.isfinite(v).all(axis=1)
    keep = np.zeros(len(v), dtype=bool)
    for i in np.flatnonzero(finite):
        others = v[finite]
        dominated = np.any(np.all(others <= v[i], axis=1) & np.any(others < v[i], axis=1))
        keep[i] = not dominated
    return table[keep].sort_values(cols[0]).copy()


# -------------------------------------------------------------------------------------- sensitivity
def tornado(
    base: Scenario | str | Path | Mapping[str, Any],
    ranges: Mapping[str, tuple[Any, Any]],
    kpi: str,
    *,
    seeds: int | Sequence[int] | None = None,
    executor: Any = None,
    workers: int | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity: ``kpi`` at the base and with each input at its low and its high value.

    Returns one row per input, sorted by swing ``|kpi(high) − kpi(low)|`` (largest first), with the base
    value, means over seeds.
    """
    sc = load_scenario(base)
    variants: list[dict[str, Any]] = [{}]
    for p, (lo, hi) in ranges.items():
        variants += [{p: lo}, {p: hi}]
    table = run_variants(
        sc,
        variants,
        _seed_list(sc, seeds),
        executor=executor,
        workers=workers,
        store=store,
        kpis=kpis,
        progress=False,
    )
    ok = table[table["status"] == "ok"]
    if kpi not in ok.columns:
        raise KeyError(f"no KPI named {kpi!r} in the results")
    mean = ok.groupby("variant")[kpi].mean()
    base_v = float(mean.get(0, np.nan))
    rows = []
    for i, (p, (lo, hi)) in enumerate(ranges.items()):
        k_lo, k_hi = float(mean.get(1 + 2 * i, np.nan)), float(mean.get(2 + 2 * i, np.nan))
        rows.append(
            {"input": p, "low": lo, "high": hi, f"{kpi}_at_low": k_lo, f"{kpi}_at_high": k_hi, "base": base_v}
        )
    out = pd.DataFrame(rows)
    out["swing"] = (out[f"{kpi}_at_high"] - out[f"{kpi}_at_low"]).abs()
    return out.sort_values("swing", ascending=False).reset_index(drop=True)


def sobol_indices(
    base: Scenario | str | Path | Mapping[str, Any],
    ranges: Mapping[str, Range | tuple[float, float]],
    kpi: str,
    *,
    n: int = 64,
    seed: int | None = None,
    executor: Any = None,
    workers: int | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
) -> pd.DataFrame:
    """Variance-based (Sobol') first-order and total indices of ``kpi`` over uniform input ranges.

    Uses :func:`scipy.stats.sobol_indices` (Saltelli 2010 estimators on a scrambled Sobol' design), which
    makes the sample and the estimators; every point is a simulation, so the cost is ``n·(d+2)`` runs
    (``n`` a power of 2). SciPy rather than SALib: the one function we need, with no extra dependency.

    References
    ----------
    Saltelli et al. (2010), "Variance based sensitivity analysis of model output", Comput. Phys. Commun.
    181(2), 259-270.
    """
    from scipy import stats

    sc = load_scenario(base)
    names = list(ranges)
    rs = [_range(sc, p, r) for p, r in ranges.items()]
    seed_list = _seed_list(sc, None if seed is None else [seed])

    def func(x: np.ndarray) -> np.ndarray:  # x: (d, m)
        variants = []
        for j in range(x.shape[1]):
            variants.append(
                {p: (round(float(x[k, j])) if rs[k].integer else float(x[k, j])) for k, p in enumerate(names)}
            )
        table = run_variants(
            sc,
            variants,
            seed_list,
            executor=executor,
            workers=workers,
            store=store,
            kpis=kpis,
            progress=False,
        )
        bad = table[table["status"] != "ok"]
        if len(bad):
            raise RuntimeError(
                f"{len(bad)} of {len(table)} runs failed; Sobol' indices need every point. First error: "
                f"{bad['error'].iloc[0]}"
            )
        if kpi not in table.columns:
            raise KeyError(f"no KPI named {kpi!r} in the results")
        ok = table.groupby("variant")[kpi].mean()
        y = np.array([ok.get(j, np.nan) for j in range(x.shape[1])], dtype=float)
        if not np.isfinite(y).all():
            raise RuntimeError(f"{int((~np.isfinite(y)).sum())} runs failed; Sobol' indices need every point")
        return y

    if len(names) < 2:
        raise ValueError("Sobol' indices need at least two inputs (one input explains all the variance)")
    dists = [stats.uniform(loc=r.low, scale=r.high - r.low) for r in rs]
    res = stats.sobol_indices(func=func, n=n, dists=dists, rng=np.random.default_rng(sc.seed))
    return pd.DataFrame({"input": names, "first_order": res.first_order, "total_order": res.total_order})
