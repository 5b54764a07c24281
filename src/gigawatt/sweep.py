"""Parameter sweeps: many variants of a scenario × seeds, on local processes or a Dask cluster.

A sweep changes fields of a base scenario by dotted path (the syntax of :meth:`Scenario.updated`), runs
every variant for every seed, and keeps one row per variant × seed with the axis values, the seed, a status,
the error of a failed variant, every KPI of :meth:`Result.summary` (plus any extra KPI function), the wall
time and the gigawatt version.

Designs
-------
``grid``   every combination of the listed values (a full factorial).
``zip``    the i-th values of every axis together (all lists of one length).
``lhs``    a Latin hypercube of ``samples`` points over ranges (``scipy.stats.qmc.LatinHypercube``).
``sobol``  a scrambled Sobol' sequence of ``samples`` points (``scipy.stats.qmc.Sobol``; a power of 2
           keeps its balance properties).
Ranges are :class:`Range` (``low``, ``high``, ``integer``, ``log``). *Derived* axes are computed from the
others, e.g. a battery of 4 hours: ``derived={"…battery.power_mw": Derived("…battery.energy_mwh", 0.25)}``
(or any picklable callable of the variant's values).

Execution
---------
Local processes by default (a ``forkserver`` pool that imports gigawatt once), any
``concurrent.futures.Executor``, or a ``distributed.Client`` (a laptop ``LocalCluster`` or a scheduler
address, the same code path; on SLURM or Kubernetes start the cluster with dask-jobqueue or dask-kubernetes
and pass its client). Compiled kernels are cached on disk by numba (``cache=True``) and every worker is warmed
once before the first task, so no worker compiles per task.

Store
-----
With ``store=DIR`` rows stream to a parquet dataset as they finish (``DIR/rows/part-*.parquet``, each file
written to a temporary name and renamed, so an interrupted sweep — Ctrl-C included — leaves only whole
files). A variant × seed is identified by a content hash of its resolved scenario and seed; running the same
sweep again skips what the store holds, so a sweep resumes where it stopped and results do not depend on the
number of workers or the order in which tasks finish.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import math
import multiprocessing as mp
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gigawatt.checks.load import load_scenario
from gigawatt.errors import ScenarioError
from gigawatt.scenario.root import Scenario

__all__ = [
    "Derived",
    "Range",
    "SweepResult",
    "SweepSpec",
    "design_variants",
    "load_sweep_spec",
    "run_variants",
    "sweep",
    "sweep_from_spec",
    "variant_key",
]

KpiFunction = Callable[[Any], Mapping[str, float]]
"""``f(result) -> {kpi_name: value}``: extra KPIs computed in the worker (must be picklable: a module-level
function) and stored beside the summary's."""

ROW_COLUMNS = ("variant", "seed", "key", "status", "error", "wall_s", "gigawatt_version")


# --------------------------------------------------------------------------------------------- designs
@dataclass(frozen=True)
class Range:
    """A range to sample an axis over (``lhs``/``sobol`` designs).

    Parameters
    ----------
    low, high
        Bounds (inclusive) in the field's own unit.
    integer
        Round samples to whole numbers (counts: racks, GPUs, replicas).
    log
        Sample uniformly in log space (``low`` must be > 0): for quantities spanning decades.
    """

    low: float
    high: float
    integer: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high < self.low:
            raise ValueError(f"a range needs finite low <= high (got {self.low}, {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (got {self.low})")

    def scale(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples ``u`` to the range."""
        if self.log:
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if self.integer:
            # floor(u·(n)) keeps every integer equally likely, including both ends
            lo, hi = math.ceil(self.low), math.floor(self.high)
            x = np.minimum(lo + np.floor(u * (hi - lo + 1)), hi) if not self.log else np.round(x)
        return x


@dataclass(frozen=True)
class Derived:
    """An axis computed from another: ``value = scale × variant[source] + offset``.

    Example: a 4-hour battery, ``Derived("sites[a].energy.battery.energy_mwh", scale=0.25)`` for its
    ``power_mw``.
    """

    source: str
    scale: float = 1.0
    offset: float = 0.0

    def __call__(self, values: Mapping[str, Any]) -> Any:
        if self.source not in values:
            raise KeyError(f"derived axis needs {self.source!r}, which is not an axis of the sweep")
        return self.scale * float(values[self.source]) + self.offset


def _plain(v: Any) -> Any:
    """numpy scalars → Python scalars (clean YAML/JSON, stable hashing)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def design_variants(
    axes: Mapping[str, Sequence[Any] | Range],
    *,
    design: str = "grid",
    samples: int | None = None,
    seed: int = 0,
    derived: Mapping[str, Callable[[Mapping[str, Any]], Any]] | None = None,
) -> list[dict[str, Any]]:
    """The variants of a sweep as ``[{path: value, ...}, ...]``.

    Parameters
    ----------
    axes
        ``{path: [values]}`` for ``grid``/``zip``; ``{path: Range(...)}`` (or ``[low, high]``) for
        ``lhs``/``sobol``.
    design
        ``grid``, ``zip``, ``lhs`` or ``sobol``.
    samples
        Number of points of a sampled design.
    seed
        Seed of the sampled design's scrambling (deterministic).
    derived
        ``{path: f(values)}`` computed after the design's own axes.
    """
    axes = dict(axes)
    if not axes:
        out: list[dict[str, Any]] = [{}]
    elif design == "grid":
        lists = [_values(p, v) for p, v in axes.items()]
        out = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*lists)]
    elif design == "zip":
        lists = [_values(p, v) for p, v in axes.items()]
        lengths = {len(v) for v in lists}
        if len(lengths) != 1:
            raise ValueError(f"a zip design needs axes of one length (got {sorted(lengths)})")
        out = [dict(zip(axes, combo, strict=True)) for combo in zip(*lists, strict=True)]
    elif design in ("lhs", "sobol"):
        from scipy.stats import qmc

        if not samples or samples < 1:
            raise ValueError(f"a {design} design needs samples >= 1")
        ranges = [_as_range(p, v) for p, v in axes.items()]
        d = len(ranges)
        if design == "lhs":
            u = qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(samples)
        else:
            u = qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random(samples)
        cols = [r.scale(u[:, j]) for j, r in enumerate(ranges)]
        out = []
        for i in range(samples):
            row = {}
            for j, p in enumerate(axes):
                v = cols[j][i]
                row[p] = int(v) if ranges[j].integer else float(v)
            out.append(row)
    else:
        raise ValueError(f"unknown design {design!r}: use grid, zip, lhs or sobol")
    for row in out:
        for p, f in (derived or {}).items():
            row[p] = _plain(f(row))
    return [{k: _plain(v) for k, v in row.items()} for row in out]


def _values(path: str, v: Any) -> list[Any]:
    if isinstance(v, Range):
        raise ValueError(f"axis {path!r}: a range needs a sampled design (lhs or sobol), not a value list")
    if isinstance(v, str | bytes) or not isinstance(v, Iterable):
        raise ValueError(f"axis {path!r}: give a list of values (got {v!r})")
    vals = list(v)
    if not vals:
        raise ValueError(f"axis {path!r}: the list of values is empty")
    return vals


def _as_range(path: str, v: Any) -> Range:
    if isinstance(v, Range):
        return v
    if isinstance(v, Mapping):
        return Range(**v)
    if isinstance(v, Sequence) and len(v) == 2:
        return Range(float(v[0]), float(v[1]))
    raise ValueError(f"axis {path!r}: a sampled design needs a Range or [low, high] (got {v!r})")


# ----------------------------------------------------------------------------------------- identities
def variant_key(scenario: Scenario, seed: int) -> str:
    """Content hash of a resolved scenario and a seed (the store's key: resumable, order-free)."""
    payload = json.dumps(
        {"scenario": scenario.model_dump(mode="json"), "seed": int(seed)}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def _seed_list(base: Scenario, seeds: int | Sequence[int] | None) -> list[int]:
    """``None`` → the scenario's seed; ``n`` → ``seed, seed+1, …`` (each simulate spawns its own streams
    from ``SeedSequence(seed)``, so consecutive seeds give independent draws); a list → itself."""
    if seeds is None:
        return [base.seed]
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (got {seeds})")
        return [base.seed + i for i in range(int(seeds))]
    out = [int(s) for s in seeds]
    if not out or any(s < 0 for s in out):
        raise ValueError("seeds must be a non-empty list of non-negative integers")
    return out


# ------------------------------------------------------------------------------------------- workers
@dataclass
class _Task:
    variant: int
    seed: int
    key: str
    scenario: Scenario
    values: dict[str, Any]
    kpis: KpiFunction | None = None
    timeseries_every: str | None = None
    timeseries_columns: tuple[str, ...] | None = None


#: A tiny scenario whose run touches every compiled kernel on the common path (facility physics, dispatch with
#: a battery, the fleet-mode inference kernels): a worker runs it once before its first task, so no task pays for
#: imports or for loading numba's on-disk cache.
_WARM_SCENARIO: dict[str, Any] = {
    "name": "warm-up",
    "start": "2026-07-01T00:00:00",
    "horizon_h": 2,
    "step_s": 600,
    "sites": [
        {
            "name": "s",
            "location": {"latitude_deg": 40.0, "longitude_deg": -75.0, "country_code": "US"},
            "climate": {"kind": "constant", "dry_bulb_c": 20.0, "relative_humidity_frac": 0.5},
            "grid": {"import_capacity_mw": 5.0},
            "energy": {"battery": {"energy_mwh": 1.0, "power_mw": 0.5}},
            "halls": [
                {
                    "name": "h",
                    "cooling": {"technology": "air"},
                    "racks": [
                        {
                            "name": "r",
                            "count": 2,
                            "servers_per_rack": 4,
                            "server": {"accelerator": "H100-SXM", "host_overhead_w": 4600},
                        }
                    ],
                }
            ],
        }
    ],
    "workloads": [
        {
            "kind": "inference",
            "name": "warm",
            "target": {"hall": "h"},
            "model": "Llama-3-8B",
            "serving": {"tensor_parallel": 1},
            "autoscaling": {"policy": "utilization"},
            "demand": {"kind": "profile", "peak_rps": 1.0},
        }
    ],
}


def _warm_worker() -> str:
    """Warm a worker process once: import the engine and run a tiny scenario (numba kernels loaded)."""
    import warnings

    from gigawatt.engine.core import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            simulate(_WARM_SCENARIO)
        except Exception:  # a warm-up must never stop a sweep; the task reports any real problem
            pass
    return f"pid {os.getpid()}"


def _version() -> str:
    from gigawatt import __version__

    return __version__


def _run_task(task: _Task) -> dict[str, Any]:
    """Simulate one variant × seed; never raises (a failure is a row with its error)."""
    from gigawatt.engine.core import simulate

    t0 = time.perf_counter()
    row: dict[str, Any] = {"variant": task.variant, "seed": task.seed, "key": task.key}
    try:
        res = simulate(task.scenario, seed=task.seed)
        kp = res.summary()
        row.update({str(k): float(v) for k, v in kp.items()})
        if task.kpis is not None:
            row.update({str(k): float(v) for k, v in task.kpis(res).items()})
        if task.timeseries_every:
            ts = res.timeseries
            if task.timeseries_columns:
                ts = ts[[c for c in task.timeseries_columns if c in ts.columns]]
            row["_timeseries"] = ts.select_dtypes("number").resample(task.timeseries_every).mean()
        row["status"] = "ok"
        row["error"] = ""
    except Exception as exc:  # recorded, the sweep goes on
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}".strip()[:4000]
    row["wall_s"] = time.perf_counter() - t0
    row["gigawatt_version"] = _version()
    return row


@dataclass
class _Pool:
    executor: cf.Executor | None  # None: run in this process, one task at a time (Ctrl-C stops at once)
    close: Callable[[], None] = lambda: None
    n_workers: int = 1
    kind: str = "inline"


def _open_pool(executor: Any, workers: int | None, scheduler: str | None) -> _Pool:
    if scheduler is not None or _is_dask_client(executor):
        from distributed import Client

        client = Client(scheduler) if scheduler is not None else executor
        client.run(_warm_worker)  # once per worker, before any task
        n = len(client.scheduler_info().get("workers", {})) or 1
        close = client.close if scheduler is not None else (lambda: None)
        return _Pool(client.get_executor(pure=False), close, n, "dask")
    if executor is not None:
        if not isinstance(executor, cf.Executor):
            raise TypeError("executor must be a concurrent.futures.Executor or a distributed.Client")
        return _Pool(executor, lambda: None, getattr(executor, "_max_workers", 1) or 1, "executor")
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        return _Pool(None, lambda: None, 1, "inline")
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["gigawatt.sweep", "gigawatt.engine.core"])
    else:  # pragma: no cover - Windows
        ctx = mp.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_warm_worker)
    return _Pool(pool, lambda: pool.shutdown(wait=True, cancel_futures=True), n, "processes")


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


# --------------------------------------------------------------------------------------------- store
class _Store:
    """Append-only parquet dataset of rows (``rows/part-*.parquet``) and downsampled time series."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"store {self.path} exists and is not a directory")
        (self.path / "rows").mkdir(parents=True, exist_ok=True)

    def rows(self) -> pd.DataFrame:
        parts = sorted((self.path / "rows").glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame(columns=list(ROW_COLUMNS))
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        df = pd.DataFrame(rows)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = self.path / "rows" / f".{name}.tmp"
        df.to_parquet(tmp, index=False)
        os.replace(tmp, self.path / "rows" / name)

    def write_timeseries(self, key: str, ts: pd.DataFrame) -> None:
        d = self.path / "timeseries"
        d.mkdir(exist_ok=True)
        tmp = d / f".{key}.tmp"
        ts.to_parquet(tmp)
        os.replace(tmp, d / f"{key}.parquet")

    def timeseries(self, key: str) -> pd.DataFrame | None:
        p = self.path / "timeseries" / f"{key}.parquet"
        return pd.read_parquet(p) if p.exists() else None

    def write_spec(self, spec: Mapping[str, Any]) -> None:
        tmp = self.path / ".sweep.json.tmp"
        tmp.write_text(json.dumps(spec, indent=2, default=str, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / "sweep.json")


# ---------------------------------------------------------------------------------------------- runs
@dataclass
class _Planned:
    variant: int
    values: dict[str, Any]
    scenario: Scenario | None
    problem: str = ""


def _plan(base: Scenario, variants: list[dict[str, Any]]) -> list[_Planned]:
    out = []
    for i, values in enumerate(variants):
        try:
            out.append(_Planned(i, values, base.updated(values) if values else base))
        except ScenarioError as exc:
            out.append(_Planned(i, values, None, "ScenarioError: " + "; ".join(exc.lines())))
    return out


def _axis_cell(v: Any) -> Any:
    """An axis value as a parquet-friendly scalar (lists/dicts as JSON text)."""
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return json.dumps(v, sort_keys=True, default=str)


def run_variants(
    base: Scenario,
    variants: list[dict[str, Any]],
    seeds: Sequence[int],
    *,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
    timeseries_every: str | None = None,
    timeseries_columns: Sequence[str] | None = None,
    progress: bool | None = None,
    retry_failed: bool = False,
    flush_every_s: float = 5.0,
) -> pd.DataFrame:
    """Run ``variants`` × ``seeds`` of ``base`` and return one row per pair (the engine of :func:`sweep`
    and of the solvers). Rows already in ``store`` are not run again."""
    planned = _plan(base, variants)
    st = _Store(store) if store is not None else None
    done = st.rows() if st is not None else pd.DataFrame(columns=list(ROW_COLUMNS))
    if not retry_failed:
        have = done
    else:
        have = done[done["status"] == "ok"]
    have_by_key = {k: r for k, r in zip(have["key"], have.to_dict("records"), strict=True)}
    version = _version()
    rows: list[dict[str, Any]] = []
    tasks: list[_Task] = []
    for p in planned:
        for s in seeds:
            if p.scenario is None:
                key = hashlib.sha256(json.dumps([p.values, s], default=str).encode()).hexdigest()[:24]
                rows.append(
                    {
                        "variant": p.variant,
                        "seed": s,
                        "key": key,
                        "status": "invalid",
                        "error": p.problem,
                        "wall_s": 0.0,
                        "gigawatt_version": version,
                    }
                )
                continue
            key = variant_key(p.scenario, s)
            if key in have_by_key:
                old: dict[str, Any] = {str(k): v for k, v in have_by_key[key].items()}
                old.update(variant=p.variant, seed=s)
                rows.append(old)
                continue
            tasks.append(
                _Task(
                    p.variant,
                    s,
                    key,
                    p.scenario,
                    p.values,
                    kpis,
                    timeseries_every,
                    tuple(timeseries_columns) if timeseries_columns else None,
                )
            )
    fresh = _execute(tasks, executor, workers, scheduler, st, progress, flush_every_s)
    rows.extend(fresh)
    if st is not None:
        st.write_rows([r for r in rows if r.get("status") == "invalid" and r["key"] not in have_by_key])
    table = pd.DataFrame(rows)
    for c in ROW_COLUMNS:
        if c not in table.columns:
            table[c] = pd.Series(dtype=object)
    axis_names = list(dict.fromkeys(k for v in variants for k in v))
    for name in axis_names:
        table[name] = [_axis_cell(planned[int(i)].values.get(name)) for i in table["variant"]]
    lead = ["variant", *axis_names, "seed", "status", "error"]
    rest = [c for c in table.columns if c not in lead]
    table = table[lead + rest].sort_values(["variant", "seed"], kind="stable").reset_index(drop=True)
    return table


def _execute(
    tasks: list[_Task],
    executor: Any,
    workers: int | None,
    scheduler: str | None,
    st: _Store | None,
    progress: bool | None,
    flush_every_s: float,
) -> list[dict[str, Any]]:
    if not tasks:
        return []
    pool = _open_pool(executor, min(workers, len(tasks)) if workers else workers, scheduler)
    bar = _progress_bar(len(tasks), progress)
    out: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal pending, last_flush
        if st is not None and pending:
            for r in pending:
                ts = r.pop("_timeseries", None)
                if ts is not None:
                    st.write_timeseries(r["key"], ts)
            st.write_rows([r for r in pending if r["status"] != "lost"])
        pending = []
        last_flush = time.monotonic()

    futures: list[cf.Future[Any]] = []

    def failed_row(task: _Task, exc: BaseException) -> dict[str, Any]:
        """A run lost with its worker (not a result of the variant: kept out of the store, rerun next time)."""
        hint = ""
        if isinstance(exc, BrokenProcessPool) and getattr(sys.modules["__main__"], "__file__", None):
            hint = (
                " — worker processes re-import the script that started them: put the sweep/solve call under "
                '`if __name__ == "__main__":`, or pass workers=1'
            )
        return {
            "variant": task.variant,
            "seed": task.seed,
            "key": task.key,
            "status": "lost",
            "error": f"worker: {type(exc).__name__}: {exc}{hint}",
            "wall_s": float("nan"),
            "gigawatt_version": _version(),
        }

    def finished() -> Iterator[dict[str, Any]]:
        if pool.executor is None:
            for t in tasks:
                yield _run_task(t)
            return
        futures.extend(pool.executor.submit(_run_task, t) for t in tasks)
        by_future = dict(zip(futures, tasks, strict=True))
        for fut in cf.as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # a worker died or the cluster lost the task
                yield failed_row(by_future[fut], exc)

    try:
        for row in finished():
            out.append(row)
            pending.append(row)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"failed {sum(r['status'] != 'ok' for r in out)}", refresh=False)
            if time.monotonic() - last_flush >= flush_every_s:
                flush()
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    finally:
        flush()  # whatever finished is kept, also on Ctrl-C
        if bar is not None:
            bar.close()
        pool.close()
    for r in out:
        r.pop("_timeseries", None)
    return out


def _progress_bar(total: int, progress: bool | None) -> Any:
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="gigawatt sweep", unit="run", file=sys.stderr)


# ------------------------------------------------------------------------------------------- results
@dataclass
class SweepResult:
    """The rows of a sweep (one per variant × seed) and what they varied.

    Attributes
    ----------
    table
        Tidy DataFrame: ``variant``, one column per axis (its dotted path), ``seed``, ``status``
        (``ok``; ``failed``: the run raised; ``invalid``: the variant is not a valid scenario; ``lost``: its
        worker died, not stored, rerun next time), ``error``, every KPI, ``wall_s``, ``gigawatt_version``, ``key``.
    axes
        The axis paths (design axes, then derived ones).
    store
        The parquet store the rows stream to, when one was given.
    """

    table: pd.DataFrame
    axes: list[str]
    store: Path | None = None
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> pd.DataFrame:
        """Rows that ran."""
        return self.table[self.table["status"] == "ok"]

    @property
    def failed(self) -> pd.DataFrame:
        """Rows that failed or were invalid, with their error."""
        cols = ["variant", *self.axes, "seed", "status", "error"]
        return self.table.loc[self.table["status"] != "ok", cols]

    def kpi_names(self) -> list[str]:
        skip = {*ROW_COLUMNS, *self.axes}
        return [
            c for c in self.table.columns if c not in skip and pd.api.types.is_numeric_dtype(self.table[c])
        ]

    def summary(self, kpis: Sequence[str] | None = None, *, confidence: float = 0.95) -> pd.DataFrame:
        """Per variant, over its seeds: mean, std, n and a Student-t confidence interval of each KPI.

        The interval is ``mean ± t_{(1+c)/2, n-1} · std/√n`` (NaN when n < 2); columns are a MultiIndex
        ``(kpi, statistic)``, the index the axis values (or ``variant`` without axes).
        """
        from scipy import stats

        ok = self.ok
        kpis = list(kpis) if kpis is not None else self.kpi_names()
        keys = ["variant", *self.axes]
        g = ok.groupby(keys, sort=True, dropna=False)[kpis]
        mean, std, n = g.mean(), g.std(ddof=1), g.count()
        t = stats.t.ppf(0.5 + confidence / 2, np.maximum(n.to_numpy() - 1, 1))
        half_width = pd.DataFrame(t, index=n.index, columns=n.columns) * std / np.sqrt(n)
        half = pd.DataFrame(half_width).where(n >= 2)
        parts = {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half}
        out = pd.concat(parts, axis=1).swaplevel(0, 1, axis=1)
        out = out.reindex(columns=pd.MultiIndex.from_product([kpis, list(parts)]))
        return out.droplevel("variant") if self.axes else out

    def filter(self, **equals: Any) -> SweepResult:
        """Rows whose axes equal the given values: ``res.filter(**{"horizon_h": 24})``."""
        mask = pd.Series(True, index=self.table.index)
        for k, v in equals.items():
            if k not in self.table.columns:
                raise KeyError(f"no column {k!r}; axes: {self.axes}")
            mask &= self.table[k] == v
        return SweepResult(self.table[mask].reset_index(drop=True), self.axes, self.store, self.spec)

    def timeseries(self, variant: int, seed: int | None = None) -> pd.DataFrame:
        """The downsampled time series kept for one variant (``timeseries_every`` was given)."""
        if self.store is None:
            raise ValueError("time series are kept only in a store (sweep(..., store=DIR))")
        rows = self.table[(self.table["variant"] == variant) & (self.table["status"] == "ok")]
        if seed is not None:
            rows = rows[rows["seed"] == seed]
        if rows.empty:
            raise KeyError(f"no finished row for variant {variant}" + (f", seed {seed}" if seed else ""))
        ts = _Store(self.store).timeseries(str(rows["key"].iloc[0]))
        if ts is None:
            raise KeyError("no time series stored for that row (give timeseries_every)")
        return ts

    def to_dir(self, path: str | Path) -> Path:
        """Write ``table.parquet`` and ``sweep.json`` (axes and spec) to ``path``."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(p / "table.parquet", index=False)
        meta = {"axes": self.axes, "spec": self.spec, "store": str(self.store) if self.store else None}
        (p / "result.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        return p

    @classmethod
    def from_dir(cls, path: str | Path) -> SweepResult:
        """Read what :meth:`to_dir` wrote."""
        p = Path(path)
        meta = json.loads((p / "result.json").read_text(encoding="utf-8"))
        store = Path(meta["store"]) if meta.get("store") else None
        return cls(pd.read_parquet(p / "table.parquet"), list(meta["axes"]), store, meta.get("spec", {}))

    def __repr__(self) -> str:
        n_ok = int((self.table["status"] == "ok").sum())
        return (
            f"SweepResult({self.table['variant'].nunique()} variants × {self.table['seed'].nunique()} seeds, "
            f"{n_ok} ok, {len(self.table) - n_ok} failed; axes: {', '.join(self.axes) or 'none'})"
        )


# ------------------------------------------------------------------------------------------- sweep()
def sweep(
    base: Scenario | str | Path | Mapping[str, Any],
    axes: Mapping[str, Sequence[Any] | Range] | None = None,
    *,
    design: str = "grid",
    samples: int | None = None,
    derived: Mapping[str, Callable[[Mapping[str, Any]], Any]] | None = None,
    seeds: int | Sequence[int] | None = None,
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    kpis: KpiFunction | None = None,
    timeseries_every: str | None = None,
    timeseries_columns: Sequence[str] | None = None,
    progress: bool | None = None,
    retry_failed: bool = False,
) -> SweepResult:
    """Run a scenario over a design of field changes × seeds.

    Parameters
    ----------
    base
        The scenario to vary (object, file, bundled name or mapping).
    axes
        ``{dotted path: [values]}`` (grid, zip) or ``{dotted path: Range}`` (lhs, sobol).
    design, samples, derived
        See :func:`design_variants`.
    seeds
        ``None`` (the scenario's seed), a count ``n`` (seeds ``seed … seed+n-1``) or a list.
    executor, workers, scheduler
        Local processes (``workers``, default: every core; 1 runs in this process), any
        ``concurrent.futures.Executor``, a ``distributed.Client``, or a Dask scheduler address.
    store
        Folder of a resumable parquet store (rows stream there as they finish).
    kpis
        Extra KPI function ``f(result) -> {name: value}`` run in the worker (picklable).
    timeseries_every, timeseries_columns
        Keep each run's time series downsampled to this pandas frequency (``"1h"``, ``"1D"``) in the
        store, optionally only these columns.
    progress
        A tqdm bar (notebook bar in Jupyter); default: when stderr is a terminal.
    retry_failed
        Run failed rows again instead of taking them from the store.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> res = gw.sweep("reference", {"horizon_h": [24, 48]}, seeds=3, workers=2)  # doctest: +SKIP
    >>> res.summary(["pue"])                                                         # doctest: +SKIP
    """
    sc = load_scenario(base)
    variants = design_variants(axes or {}, design=design, samples=samples, seed=sc.seed, derived=derived)
    seed_list = _seed_list(sc, seeds)
    axis_names = list(dict.fromkeys(k for v in variants for k in v))
    spec = {
        "base": sc.name,
        "axes": {k: (v if not isinstance(v, Range) else v.__dict__) for k, v in (axes or {}).items()},
        "design": design,
        "samples": samples,
        "derived": sorted((derived or {}).keys()),
        "seeds": seed_list,
        "n_variants": len(variants),
    }
    if store is not None:
        _Store(store).write_spec({**spec, "base_scenario": sc.model_dump(mode="json")})
    table = run_variants(
        sc,
        variants,
        seed_list,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        store=store,
        kpis=kpis,
        timeseries_every=timeseries_every,
        timeseries_columns=timeseries_columns,
        progress=progress,
        retry_failed=retry_failed,
    )
    return SweepResult(table, axis_names, Path(store) if store is not None else None, spec)


# ------------------------------------------------------------------------------------ sweep files
class _RangeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float
    integer: bool = False
    log: bool = False

    @model_validator(mode="after")
    def _order(self) -> _RangeSpec:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high < self.low:
            raise ValueError(f"a range needs finite low <= high (got low={self.low}, high={self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class _DerivedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    scale: float = 1.0
    offset: float = 0.0


class _TimeseriesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: str = "1h"
    columns: list[str] | None = None


class SweepSpec(BaseModel):
    """A sweep described in YAML/JSON (``gigawatt sweep SWEEP.yaml``).

    .. code-block:: yaml

        base: reference                   # a bundled name or a scenario file (relative to this file)
        set: {horizon_h: 720}             # edits applied to the base before the design
        design: grid                      # grid | zip | lhs | sobol
        axes:
          sites[ashburn].grid.import_capacity_mw: [60, 80, 100]
          sites[ashburn].energy.battery.energy_mwh: [0, 50, 100]
        derived:                          # axis = scale × another axis + offset
          sites[ashburn].energy.battery.power_mw: {source: sites[ashburn].energy.battery.energy_mwh, scale: 0.25}
        seeds: 3
        timeseries: {every: 1D, columns: [facility_power_mw]}
    """

    model_config = ConfigDict(extra="forbid")

    base: str
    set: dict[str, Any] = Field(default_factory=dict)
    design: Literal["grid", "zip", "lhs", "sobol"] = "grid"
    axes: dict[str, list[Any] | _RangeSpec] = Field(default_factory=dict)
    samples: int | None = Field(None, ge=1, le=1_000_000)
    derived: dict[str, _DerivedSpec] = Field(default_factory=dict)
    seeds: int | list[int] | None = None
    timeseries: _TimeseriesSpec | None = None


def load_sweep_spec(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; every problem is reported at once as a ScenarioError."""
    import yaml
    from pydantic import ValidationError

    p = Path(path)
    if not p.is_file():
        raise ScenarioError([(str(p), "sweep file not found")], str(p))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError([(str(p), f"cannot read the sweep file: {exc}")], str(p)) from None
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(x) for x in e["loc"]), str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
        raise ScenarioError(problems, str(p)) from None
    return spec, p.resolve().parent


def sweep_from_spec(
    spec: SweepSpec,
    base_dir: Path | None = None,
    *,
    store: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Run what a :class:`SweepSpec` describes."""
    base_path = Path(spec.base)
    if base_dir is not None and not base_path.is_absolute() and (base_dir / base_path).exists():
        base_path = base_dir / base_path
    sc = load_scenario(str(base_path) if base_path.suffix else spec.base)
    if spec.set:
        sc = sc.updated(spec.set)
    axes: dict[str, Sequence[Any] | Range] = {
        k: (Range(v.low, v.high, v.integer, v.log) if isinstance(v, _RangeSpec) else v)
        for k, v in spec.axes.items()
    }
    derived = {k: Derived(v.source, v.scale, v.offset) for k, v in spec.derived.items()}
    ts = spec.timeseries
    return sweep(
        sc,
        axes,
        design=spec.design,
        samples=spec.samples,
        derived=derived,
        seeds=spec.seeds,
        workers=workers,
        scheduler=scheduler,
        store=store,
        timeseries_every=ts.every if ts else None,
        timeseries_columns=ts.columns if ts else None,
        progress=progress,
    )
