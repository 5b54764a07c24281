"""Checks that need the whole scenario or the files it names, run by :func:`gigawatt.load_scenario`.

* references: workload targets, GPU claims, pools (:mod:`gigawatt.checks.targets`), spare nodes, climates
  that must supply what on-site generation needs;
* climates from monthly normals: physically possible values (:func:`normals_problems`);
* file contents: utilisation traces, price series, weather files and Azure LLM traces are read and checked
  row by row, so that a bad file is reported at ``gigawatt check`` with its file, line and column instead of
  failing the run;
* resources: the work and memory the scenario implies (:mod:`gigawatt.checks.limits`).

Each check returns ``(path, message)`` pairs; :func:`scenario_problems` gathers them all.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.catalog import suggest
from gigawatt.checks.buildout import plan_link_problems
from gigawatt.checks.fleet_time import fleet_time_problems
from gigawatt.checks.jurisdictions import site_jurisdictions
from gigawatt.checks.limits import ResourceLimits, resource_problems
from gigawatt.checks.routing import routing_problems
from gigawatt.checks.targets import target_problems
from gigawatt.physics import weather as wx
from gigawatt.scenario.resolve import resolve_hall, target_capacity_gpus, target_groups
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.site import NamedClimate, NormalsClimate

__all__ = [
    "azure_trace_problems",
    "climate_problems",
    "normals_problems",
    "price_series_problems",
    "scenario_problems",
    "utilization_trace_problems",
    "weather_file_problems",
]

#: Bounds of values read from files (the same bounds the scenario fields carry).
PRICE_BOUNDS_USD_PER_MWH = (-1000.0, 10000.0)
MAX_TOKENS_PER_REQUEST = 2_000_000


# ------------------------------------------------------------------------------------------ CSV helpers
def _read_csv(p: Path) -> tuple[pd.DataFrame | None, str | None]:
    """A CSV as strings (nothing converted yet), or the reason it cannot be read."""
    if not p.exists():
        return None, f"file not found: {p}"
    if p.is_dir():
        return None, f"{p} is a directory, not a CSV file"
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError:
        return None, f"{p.name}: not UTF-8 text"
    except pd.errors.EmptyDataError:
        return None, f"{p.name}: the file is empty; need a header line and data rows"
    except pd.errors.ParserError as exc:
        return None, f"{p.name}: not a valid CSV file ({str(exc).strip()})"
    except (OSError, ValueError) as exc:
        return None, f"{p.name}: cannot read ({exc})"
    df.columns = [str(c).strip() for c in df.columns]
    return df, None


def _need_columns(df: pd.DataFrame, name: str, cols: tuple[str, ...], min_rows: int = 1) -> str | None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        return f"{name}: missing column(s) {missing}; need {','.join(cols)} (found {list(df.columns)})"
    if len(df) < min_rows:
        return f"{name}: needs at least {min_rows} data row(s), has {len(df)}"
    return None


def _line(i: int) -> int:
    """File line of data row ``i`` (the header is line 1)."""
    return int(i) + 2


def _times(
    df: pd.DataFrame, col: str, name: str, *, iso: bool = False
) -> tuple[np.ndarray | None, str | None]:
    """Naive-UTC nanosecond timestamps of a column, or a message naming the first bad row."""
    raw = df[col].astype(str).str.strip()
    try:
        ts = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601" if iso else None)
    except (ValueError, TypeError, OverflowError):
        ts = pd.Series([pd.to_datetime(v, utc=True, errors="coerce") for v in raw])
    bad = np.flatnonzero(ts.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        return None, (
            f"{name} line {_line(i)}, column {col!r}: not a date/time in the format of the first row "
            f"({raw.iloc[i]!r}); use one ISO 8601 format throughout"
        )
    ns = ts.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return ns, None


def _numbers(
    df: pd.DataFrame, col: str, name: str, lo: float, hi: float, *, integer: bool = False
) -> tuple[np.ndarray | None, str | None]:
    """Finite numbers of a column within [lo, hi], or a message naming the first bad row."""
    raw = df[col].astype(str).str.strip()
    x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        i = int(bad[0])
        return None, f"{name} line {_line(i)}, column {col!r}: not a finite number ({raw.iloc[i]!r})"
    bad = np.flatnonzero((x < lo) | (x > hi))
    if bad.size:
        i = int(bad[0])
        return None, f"{name} line {_line(i)}, column {col!r}: {x[i]:g} is outside [{lo:g}, {hi:g}]"
    if integer:
        bad = np.flatnonzero(x != np.round(x))
        if bad.size:
            i = int(bad[0])
            return None, f"{name} line {_line(i)}, column {col!r}: {x[i]:g} is not a whole number"
    return x, None


def _file_key(p: Path) -> tuple[str, int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return (str(p.resolve()), st.st_mtime_ns, st.st_size)


# ----------------------------------------------------------------------------------------- file kinds
@lru_cache(maxsize=64)
def _utilization_trace(key: tuple[str, int, int]) -> str | None:
    p = Path(key[0])
    df, err = _read_csv(p)
    if df is None:
        return err
    err = _need_columns(df, p.name, ("timestamp", "utilization_frac"))
    if err:
        return err
    _, err = _times(df, "timestamp", p.name)
    if err:
        return err
    _, err = _numbers(df, "utilization_frac", p.name, 0.0, 1.0)
    return err


def utilization_trace_problems(p: Path) -> str | None:
    """Problem with a utilisation trace CSV (``timestamp,utilization_frac``), or ``None``."""
    key = _file_key(p)
    return f"trace file not found: {p}" if key is None else _utilization_trace(key)


@lru_cache(maxsize=64)
def _price_series(key: tuple[str, int, int]) -> str | None:
    p = Path(key[0])
    df, err = _read_csv(p)
    if df is None:
        return err
    err = _need_columns(df, p.name, ("time", "price_usd_per_mwh"))
    if err:
        return err
    _, err = _times(df, "time", p.name)
    if err:
        return err
    _, err = _numbers(df, "price_usd_per_mwh", p.name, *PRICE_BOUNDS_USD_PER_MWH)
    return err


def price_series_problems(p: Path) -> str | None:
    """Problem with a price series CSV (``time,price_usd_per_mwh``), or ``None``."""
    key = _file_key(p)
    return f"price series file not found: {p}" if key is None else _price_series(key)


@lru_cache(maxsize=64)
def _azure_trace(key: tuple[str, int, int], need_times: bool) -> tuple[str | None, float]:
    p = Path(key[0])
    df, err = _read_csv(p)
    if df is None:
        return err, math.nan
    cols = (
        ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
        if need_times
        else ("ContextTokens", "GeneratedTokens")
    )
    err = _need_columns(df, p.name, cols, min_rows=2 if need_times else 1)
    if err:
        return err, math.nan
    for col in ("ContextTokens", "GeneratedTokens"):
        _, err = _numbers(df, col, p.name, 0, MAX_TOKENS_PER_REQUEST, integer=True)
        if err:
            return err, math.nan
    rate = math.nan
    if "TIMESTAMP" in df.columns:
        ns, err = _times(df, "TIMESTAMP", p.name, iso=True)
        if err or ns is None:
            return err, math.nan
        span_s = float(ns.max() - ns.min()) / 1e9
        if need_times and span_s <= 0:
            return f"{p.name}: all requests share one TIMESTAMP; a trace needs a time span", math.nan
        rate = len(df) / span_s if span_s > 0 else math.nan
    return None, rate


def azure_trace_problems(p: Path, *, need_times: bool = True) -> tuple[str | None, float]:
    """Problem with an Azure LLM trace CSV (or ``None``) and its mean request rate [1/s]."""
    key = _file_key(p)
    return (f"trace file not found: {p}", math.nan) if key is None else _azure_trace(key, need_times)


@lru_cache(maxsize=16)
def _weather_file(key: tuple[str, int, int]) -> tuple[str | None, bool]:
    p = Path(key[0])
    try:
        # derived columns (wet bulb) of impossible values warn; the values are checked right below
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            df, meta = wx.read_weather(p)
    except Exception as exc:  # pvlib raises many kinds on malformed files; all mean "not a weather file"
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return f"{p.name}: cannot read as a {p.suffix} weather file ({detail})", False
    if len(df) < 8760:
        return f"{p.name}: a typical-year weather file needs 8760 hourly rows, this one has {len(df)}", False
    checks = {
        "dry_bulb_c": (-90.0, 70.0),
        "relative_humidity_frac": (0.0, 1.0 + 1e-9),
        "pressure_pa": (30_000.0, 110_000.0),
    }
    for col, (lo, hi) in checks.items():
        x = df[col].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(x) | (x < lo) | (x > hi))
        if bad.size:
            i = int(bad[0])
            return (
                f"{p.name}: data row {i + 1} ({df.index[i]}): {col} = {x[i]:g} is missing or outside [{lo:g}, {hi:g}]",
                False,
            )
    tz: Any = meta.get("tz_offset_h")
    try:
        tz_ok = math.isfinite(float(tz)) and abs(float(tz)) <= 14
    except (TypeError, ValueError):
        tz_ok = False
    if not tz_ok:
        return f"{p.name}: header time zone {tz!r} is not a UTC offset within ±14 h", False
    try:
        times = pd.DatetimeIndex([pd.Timestamp("2026-01-01T00:30")]).tz_localize("UTC")
        wx.to_simulation_clock(df, times, float(tz))
    except Exception as exc:  # the same mapping the run uses
        return f"{p.name}: cannot map onto the simulation clock ({type(exc).__name__}: {exc})", False
    wind = "wind_speed_m_per_s" in df.columns and bool(np.all(np.isfinite(df["wind_speed_m_per_s"])))
    return None, wind


def weather_file_problems(p: Path) -> tuple[str | None, bool]:
    """Problem with a TMY2/TMY3/EPW weather file (or ``None``) and whether it has usable wind speeds."""
    key = _file_key(p)
    return (f"weather file not found: {p}", False) if key is None else _weather_file(key)


# --------------------------------------------------------------------------------------------- checks
def _file_problems(sc: Scenario) -> tuple[list[tuple[str, str]], dict[str, float]]:
    """Problems with every file the scenario names, and mean request rates of demand traces by path."""
    problems: list[tuple[str, str]] = []
    rates: dict[str, float] = {}
    for si, site in enumerate(sc.sites):
        tariff = site.grid.tariff
        if getattr(tariff, "kind", None) == "series":
            msg = price_series_problems(sc.resolve_path(tariff.path))  # type: ignore[union-attr]
            if msg:
                problems.append((f"sites[{si}].grid.tariff.path", msg))
        clim = site.climate
        if getattr(clim, "kind", None) == "file":
            msg, _ = weather_file_problems(sc.resolve_path(clim.path))  # type: ignore[union-attr]
            if msg:
                problems.append((f"sites[{si}].climate.path", msg))
    for wi, wl in enumerate(sc.workloads):
        prof = getattr(wl, "profile", None)
        if getattr(prof, "kind", None) == "trace":
            msg = utilization_trace_problems(sc.resolve_path(prof.path))  # type: ignore[union-attr]
            if msg:
                problems.append((f"workloads[{wi}].profile.path", msg))
        demand = getattr(wl, "demand", None)
        if getattr(demand, "kind", None) == "trace":
            msg, rate = azure_trace_problems(sc.resolve_path(demand.path))  # type: ignore[union-attr]
            if msg:
                problems.append((f"workloads[{wi}].demand.path", msg))
            else:
                rates[demand.path] = rate  # type: ignore[union-attr]
        tokens = getattr(demand, "tokens", None)
        if getattr(tokens, "trace_path", None) is not None:
            msg, _ = azure_trace_problems(sc.resolve_path(tokens.trace_path), need_times=False)  # type: ignore[union-attr]
            if msg:
                problems.append((f"workloads[{wi}].demand.tokens.trace_path", msg))
    return problems, rates


def _climate_has_wind(sc: Scenario, si: int) -> bool | None:
    """Whether site ``si``'s climate supplies wind speed (``None``: unknown because its file is bad)."""
    site = sc.sites[si]
    if getattr(site.climate, "kind", None) == "file":
        msg, wind = weather_file_problems(sc.resolve_path(site.climate.path))  # type: ignore[union-attr]
        return None if msg else wind
    # the weather a run builds from a climate (gigawatt.engine.weather.site_weather): named and normals climates
    # yield every canonical column (wind included), synthetic and constant ones temperature and humidity only
    if isinstance(site.climate, NormalsClimate) and normals_problems(site.climate):
        return None  # reported by the climate's own check
    if isinstance(site.climate, NamedClimate | NormalsClimate):
        return "wind_speed_m_per_s" in wx.CANONICAL_COLUMNS
    return False


def normals_problems(climate: NormalsClimate) -> list[str]:
    """Problems with the monthly normals of a ``kind: normals`` climate (empty: physically possible), the same
    check :func:`gigawatt.physics.weather.typical_year_from_monthly_normals` makes before synthesizing."""
    return wx.check_monthly_normals(
        dry_bulb_mean_c=climate.dry_bulb_mean_c,
        daily_range_c=climate.daily_range_c,
        dew_point_c=climate.dew_point_c,
        relative_humidity_frac=climate.relative_humidity_frac,
        wind_speed_m_per_s=climate.wind_speed_m_per_s,
        clearness_index_frac=climate.clearness_index_frac,
    )


def climate_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Problems of the sites' climates that field validation cannot see: monthly normals out of physics."""
    return [
        (f"sites[{si}].climate", "; ".join(msgs))
        for si, site in enumerate(sc.sites)
        if isinstance(site.climate, NormalsClimate) and (msgs := normals_problems(site.climate))
    ]


def _site_problems(sc: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for si, site in enumerate(sc.sites):
        needs = [
            (f"sites[{si}].energy.generation[{gi}]", g.name)
            for gi, g in enumerate(site.energy.generation)
            if g.kind == "wind"
        ] + [
            (f"sites[{si}].grid.ppas[{pi}]", p.name)
            for pi, p in enumerate(site.grid.ppas)
            if p.kind == "wind"
        ]
        if needs and _climate_has_wind(sc, si) is False:
            kind = getattr(site.climate, "kind", "?")
            for path, name in needs:
                problems.append(
                    (
                        path,
                        f"wind {name!r} needs wind speeds, which the site's {kind!r} climate does not supply; "
                        "use a named climate or a weather file (climate.kind: named | file)",
                    )
                )
    return problems


def _jurisdiction_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Data residency: every hall or site a workload targets must lie in one of its allowed jurisdictions."""
    problems: list[tuple[str, str]] = []
    for wi, wl in enumerate(sc.workloads):
        allowed = getattr(wl, "allowed_jurisdictions", None)
        if allowed is None:
            continue
        refs: list[tuple[str, int]] = []  # (field path, site index)
        targets = [("target", getattr(wl, "target", None))]
        dis = getattr(getattr(wl, "serving", None), "disaggregation", None)
        if dis is not None:
            targets.append(("serving.disaggregation.prefill_target", dis.prefill_target))
        names = [s.name for s in sc.sites]
        for field, t in targets:
            try:
                if getattr(t, "site", None) is not None:
                    if t.site in names:  # type: ignore[union-attr]
                        refs.append((f"workloads[{wi}].{field}.site", names.index(t.site)))  # type: ignore[union-attr]
                elif getattr(t, "sites", None) is not None:  # a pool over several sites: every one of them
                    for k, site in enumerate(t.sites):  # type: ignore[union-attr]
                        if site in names:
                            refs.append((f"workloads[{wi}].{field}.sites[{k}]", names.index(site)))
                elif getattr(t, "halls", None) is not None:
                    for k, ref in enumerate(t.halls):  # type: ignore[union-attr]
                        refs.append((f"workloads[{wi}].{field}.halls[{k}]", resolve_hall(sc, ref)[0]))
                elif getattr(t, "hall", None) is not None:
                    refs.append((f"workloads[{wi}].{field}.hall", resolve_hall(sc, t.hall)[0]))  # type: ignore[union-attr]
            except KeyError:
                continue  # reported with the target
        for path, si in refs:
            site = sc.sites[si]
            have = site_jurisdictions(site)
            if not have & set(allowed):
                problems.append(
                    (
                        path,
                        f"site {site.name!r} is in jurisdiction {site.jurisdiction or site.location.country_code!r}"
                        f", outside the workload's allowed_jurisdictions {list(allowed)}: target a site in one of "
                        "them, or widen allowed_jurisdictions",
                    )
                )
    return problems


def _grid_region_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Sites sharing a grid region draw one set of stochastic events: their rate and durations must agree;
    every ``grid_regions[]`` entry names a region some site is in."""
    problems: list[tuple[str, str]] = []
    used = sorted({s.grid.region for s in sc.sites if s.grid.region is not None})
    for ri, region in enumerate(sc.grid_regions):
        if region.name not in used:
            hint = suggest(region.name, used) if used else None
            problems.append(
                (
                    f"grid_regions[{ri}].name",
                    f"no site is in grid region {region.name!r}"
                    + (f"; did you mean {hint!r}?" if hint else f"; sites' grid.region values: {used}")
                    + " (set sites[].grid.region)",
                )
            )
    windows = {r.name: r.curtailment_windows for r in sc.grid_regions}
    for si, site in enumerate(sc.sites):
        g = site.grid
        partial = [w.cap_frac for w in [*g.curtailment_windows, *windows.get(g.region or "", [])]]
        if g.stochastic_curtailment is not None:
            partial.append(g.stochastic_curtailment.cap_frac)
        if g.import_capacity_mw is None and any(c > 0 for c in partial):
            problems.append(
                (
                    f"sites[{si}].grid.import_capacity_mw",
                    "a partial curtailment (cap_frac > 0, of the site's own or of its grid region's events) "
                    "needs a finite import_capacity_mw; set it, or use cap_frac: 0 (disconnection)",
                )
            )
    first: dict[str, tuple[int, Any]] = {}
    for si, site in enumerate(sc.sites):
        g = site.grid
        if g.region is None or g.stochastic_curtailment is None:
            continue
        sc_ = g.stochastic_curtailment
        key = (sc_.rate_per_year, sc_.mean_duration_h, sc_.fixed_duration)
        if g.region not in first:
            first[g.region] = (si, key)
            continue
        fi, fkey = first[g.region]
        if key != fkey:
            problems.append(
                (
                    f"sites[{si}].grid.stochastic_curtailment",
                    f"sites {sc.sites[fi].name!r} and {site.name!r} share grid region {g.region!r}, whose events "
                    f"are drawn once, but differ in (rate_per_year, mean_duration_h, fixed_duration): {fkey} vs "
                    f"{key}; make them equal (cap_frac and reason may differ) or use different regions",
                )
            )
    return problems


def _node_gpus(group: Any, override: int | None) -> int:
    """Placement unit of a training pool [GPUs], as the training engine chooses it."""
    if override is not None:
        return int(override)
    rack_gpus = group.servers_per_rack * group.server.accelerators_per_server
    return 72 if rack_gpus == 72 else int(group.server.accelerators_per_server)


def _pool_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Training pools: one node size, at least one whole node, spare nodes below the pool's node count."""
    problems: list[tuple[str, str]] = []
    for wi, wl in enumerate(sc.workloads):
        if getattr(wl, "kind", None) != "training":
            continue
        path = f"workloads[{wi}]"
        try:
            groups = target_groups(sc, wl.target)
        except KeyError:
            continue  # reported with the target
        rgs = [sc.sites[s].halls[h].racks[g] for s, h, g in groups]
        accels = sorted({a if isinstance(a := rg.server.accelerator, str) else a.name for rg in rgs})
        if len(accels) > 1:
            problems.append(
                (
                    f"{path}.target",
                    f"the pool mixes accelerators {accels}; a training pool has one accelerator type: target "
                    "one rack_group or halls of one accelerator",
                )
            )
            continue
        sizes = {_node_gpus(rg, wl.scheduler.node_gpus) for rg in rgs}  # type: ignore[union-attr]
        if len(sizes) > 1:
            problems.append(
                (f"{path}.scheduler.node_gpus", f"groups differ in node size {sorted(sizes)}; set it")
            )
            continue
        gpn = sizes.pop()
        budget = wl.target.gpus if wl.target.gpus is not None else sum(rg.n_accelerators for rg in rgs)
        nodes = 0
        for rg in rgs:
            n = min(rg.n_accelerators // gpn, budget // gpn)
            nodes += n
            budget -= n * gpn
        if nodes == 0:
            problems.append((f"{path}.target", f"the pool holds no whole node of {gpn} GPUs"))
        elif wl.scheduler.spare_nodes >= nodes:  # type: ignore[union-attr]
            problems.append(
                (
                    f"{path}.scheduler.spare_nodes",
                    f"{wl.scheduler.spare_nodes} spare nodes leave nothing to run on: the pool has {nodes} "  # type: ignore[union-attr]
                    f"nodes of {gpn} GPUs; use fewer spare nodes",
                )
            )
    return problems


def _replica_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Inference autoscaling: the minimum replica count must fit the service's GPUs."""
    problems: list[tuple[str, str]] = []
    for wi, wl in enumerate(sc.workloads):
        if getattr(wl, "kind", None) != "inference":
            continue
        try:
            gpus = wl.target.gpus or target_capacity_gpus(sc, wl.target)
        except KeyError:
            continue  # reported with the target
        a = wl.autoscaling  # type: ignore[union-attr]
        tp = wl.serving.tensor_parallel  # type: ignore[union-attr]
        max_r = a.max_replicas if a.max_replicas is not None else gpus // tp
        if a.min_replicas > max_r:
            problems.append(
                (
                    f"workloads[{wi}].autoscaling.min_replicas",
                    f"{a.min_replicas} replicas of {tp} GPU(s) do not fit the service's {gpus} GPUs "
                    f"(at most {max_r}); lower min_replicas",
                )
            )
    return problems


def scenario_problems(sc: Scenario, limits: Any = None) -> list[tuple[str, str]]:
    """Every whole-scenario problem: references, files, sites, pools and resource limits.

    Parameters
    ----------
    sc
        A field-validated scenario.
    limits
        :class:`gigawatt.checks.limits.ResourceLimits`; ``None``: the defaults with environment overrides;
        ``False``: no resource limits.
    """
    problems = climate_problems(sc) + target_problems(sc)
    files, rates = _file_problems(sc)
    have = {p for p, _ in problems}
    problems += [p for p in files if p[0] not in have]
    problems += _site_problems(sc)
    problems += fleet_time_problems(sc)
    problems += plan_link_problems(sc)
    problems += _jurisdiction_problems(sc)
    problems += routing_problems(sc)
    problems += _grid_region_problems(sc)
    problems += _pool_problems(sc)
    problems += _replica_problems(sc)
    if limits is not False:
        lim = limits if isinstance(limits, ResourceLimits) else ResourceLimits.from_env()
        problems += resource_problems(sc, lim, trace_rates_rps=rates)
    return problems
