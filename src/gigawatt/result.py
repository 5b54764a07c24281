"""Simulation results: time-indexed DataFrames, a KPI summary, files.

Column scheme of :attr:`Result.timeseries` (DatetimeIndex at the control step, named ``time``):

* campus totals, unprefixed: ``it_power_mw``, ``cooling_power_mw``, ``electrical_loss_mw``,
  ``other_power_mw``, ``facility_power_mw``, ``pue``, ``accelerator_power_mw`` and ``server_fan_power_mw``
  (parts of IT power), ``gpu_utilization_frac``, ``throughput_frac``, ``grid_import_mw``, ``unserved_mw``,
  ``energy_cost_usd``, ``emissions_kgco2``, ``it_emissions_scope2_location_kgco2`` (IT's share of the
  location-based Scope 2 emissions), ``water_use_m3`` (per step),
  ``wue_l_per_kwh``, ``thermal_overload_mw``; for a single-site scenario ``ambient_dry_bulb_c`` and ``ambient_wet_bulb_c``; for a
  single-hall scenario ``coolant_supply_c``, ``server_inlet_c``, ``cooling_capacity_mw``;
* per site (when there are several sites): ``"<site>:<column>"``;
* per hall (when there are several halls): ``"<site>/<hall>:<column>"`` (power block, ``throughput_frac``,
  ``water_use_m3``, ``wue_l_per_kwh``, ``coolant_supply_c``, ``server_inlet_c``, ``cooling_capacity_mw``);
* per workload: ``"<workload>:<column>"`` (added by the workload kinds).

Use :meth:`Result.scope` to get one site's or hall's columns under their plain names.

Storage (:func:`compact_timeseries`, applied when :meth:`Result.to_dir` writes ``timeseries.parquet``; in
memory every column is float64): intensive columns that nothing sums into a total are float32 (7
significant digits, far finer than any model input): fractions (``_frac``), temperatures (``_c``), per-energy
ratios (``wue_l_per_kwh``, ``energy_price_usd_per_mwh``, ``carbon_intensity_gco2_per_kwh``) and latency
percentiles (``_p50_s``, ``_p99_s``). Everything else stays float64, in particular the columns that
:meth:`Result.summary`, the workloads' KPIs and the economics integrate into energies, costs, emissions, water,
GPU-hours, requests or tokens (``_mw``, ``_usd``, ``_kgco2``, ``_m3``, ``_gpus``, ``_rps``, ``_per_s``, counts),
and ``pue``, so that the totals and the power balance (facility = IT + cooling + losses + other) stay exact.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gigawatt import plot
from gigawatt._html import result_html
from gigawatt.checks.load import load_scenario
from gigawatt.scenario.io import save_scenario
from gigawatt.scenario.root import Scenario

try:  # pandas >= 2.3: a DataFrame from existing blocks, without consolidating (copying) them
    from pandas.api.internals import create_dataframe_from_blocks as _create_dataframe_from_blocks
except ImportError:  # pragma: no cover - pandas < 2.3
    _create_dataframe_from_blocks = None

if TYPE_CHECKING:
    from gigawatt.engine.clock import Clock
    from gigawatt.engine.fleet import Fleet

__all__ = [
    "EVENT_LEVELS",
    "POWER_COLUMNS",
    "RESULT_FORMATS",
    "RESULT_MARKER",
    "Result",
    "build_timeseries",
    "check_output_dir",
    "chunk_rows",
    "compact_timeseries",
    "frame_from_columns",
    "iter_event_summary",
    "load_result",
    "release_free_heap",
    "summarize_events",
    "timeseries_columns",
    "write_csv_chunks",
    "write_parquet_chunks",
    "write_timeseries_parquet",
]

log = logging.getLogger(__name__)

#: Event levels written by :meth:`Result.to_dir`: ``"summary"`` aggregates checkpoints per job, ``"all"`` keeps
#: every event.
EVENT_LEVELS = ("summary", "all")
#: Table formats written by :meth:`Result.to_dir` (the time series is always parquet).
RESULT_FORMATS = ("parquet", "csv")
#: Tables of a result besides the time series.
_TABLES = ("jobs", "events", "services", "requests")
#: Column-name endings of intensive quantities, stored float32 by :func:`compact_timeseries` (never summed).
_FLOAT32_SUFFIXES = ("_frac", "_c", "_per_kwh", "_per_mwh")
#: Latency percentiles (``ttft_p99_s``), also float32.
_PERCENTILE_S = re.compile(r".*_p\d+(\.\d+)?_s")

#: The four parts of facility power: facility = IT + cooling + electrical losses + other, exactly.
POWER_COLUMNS = ["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]


#: File written last into a result folder by :meth:`Result.to_dir`: its presence means the folder is a
#: complete gigawatt result (and may be replaced by a later run).
RESULT_MARKER = ".gigawatt-result"


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None on other C libraries)."""
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # pragma: no cover - not glibc (macOS, musl, Windows)
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


_MALLOC_TRIM = _malloc_trim()


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the operating system (glibc ``malloc_trim(0)``; a no-op elsewhere).

    glibc serves arrays up to its dynamic mmap threshold (which grows to 32 MB once such an array is freed)
    from its heap, and keeps their pages when they are freed: after the run's state is freed, a job-heavy year
    at 15-s steps otherwise holds about 0.7 GB of free heap pages, which later, larger allocations (the
    result's tables, their writing) cannot reuse. Called where large state has just been freed; it changes no
    number, only the resident memory.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def check_output_dir(path: str | Path) -> Path:
    """Check that results can be written to ``path`` before anything is simulated; return it as a Path.

    Usable: a path that does not exist yet (its first existing parent must be a writable folder), an empty
    folder, or a folder holding an earlier gigawatt result (it has :data:`RESULT_MARKER`; it will be replaced).

    Raises
    ------
    ValueError
        Empty path.
    NotADirectoryError
        ``path`` or one of its parents is a file.
    FileExistsError
        ``path`` is a folder with other content (nothing is overwritten or mixed into it).
    PermissionError
        The folder that would hold ``path`` is not writable.
    """
    if str(path).strip() == "":
        raise ValueError("the output folder path is empty")
    out = Path(path).expanduser().absolute()
    if out.exists():
        if not out.is_dir():
            raise NotADirectoryError(f"{out} exists and is not a folder")
        entries = [p.name for p in out.iterdir()]
        if entries and RESULT_MARKER not in entries:
            raise FileExistsError(
                f"{out} is not empty and holds no earlier gigawatt result ({RESULT_MARKER} missing); "
                "choose a new or empty folder"
            )
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{parent} is a file, so {out} cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to {parent}")
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=np.asarray(den) > 0)
    return out


def _power_block(
    flows: dict[str, np.ndarray], cols: np.ndarray | slice, agg: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Power columns [MW] for halls selected/aggregated by ``agg`` (an (H, K) matrix) or one hall."""

    def pick(key: str) -> np.ndarray:
        a = flows[key]
        return (a @ agg if agg is not None else a[:, cols]) / 1e3

    it, cool = pick("it_power_kw"), pick("cooling_power_kw")
    loss, other = pick("electrical_loss_kw"), pick("other_power_kw")
    fac = it + cool + loss + other
    out = {
        "it_power_mw": it,
        "cooling_power_mw": cool,
        "electrical_loss_mw": loss,
        "other_power_mw": other,
        "facility_power_mw": fac,
        "pue": _ratio(fac, it),
    }
    # parts of IT power: accelerators alone and the server fans the hall's cooling keeps
    for key in ("accelerator_power", "server_fan_power"):
        if f"{key}_kw" in flows:
            out[f"{key}_mw"] = pick(f"{key}_kw")
    return out


def _it_scope2_location_kgco2(fleet: Fleet, flows: dict[str, np.ndarray]) -> np.ndarray | None:
    """Location-based Scope 2 emissions attributed to IT per step and site [kgCO2], (T, S).

    ``E_it = E_scope2,location · P_it / P_facility`` per step and site: the grid import's emissions shared in
    proportion to the power each part of the facility drew in that step (IT's share of the site load).
    """
    if "site_emissions_scope2_location_kgco2" not in flows:
        return None
    h2s = fleet.hall_to_site_matrix()
    it_site = flows["it_power_kw"] @ h2s
    fac_site = flows["facility_power_kw"] @ h2s
    share = np.divide(it_site, fac_site, out=np.zeros_like(it_site), where=fac_site > 0)
    return np.asarray(flows["site_emissions_scope2_location_kgco2"] * share, dtype=float)


def build_timeseries(clock: Clock, fleet: Fleet, flows: dict[str, np.ndarray]) -> pd.DataFrame:
    """Assemble the canonical time-series DataFrame from the controller's arrays."""
    return frame_from_columns(timeseries_columns(clock, fleet, flows), clock.times)


def frame_from_columns(
    columns: Mapping[str, np.ndarray | pd.api.extensions.ExtensionArray], index: pd.Index
) -> pd.DataFrame:
    """A DataFrame holding the given 1-D arrays as its columns without copying them.

    ``pd.DataFrame(columns)`` stacks every column of a dtype into one 2-D block, a copy of the whole time
    series (a year at 15-s steps: about 17 MB per column); here each column stays its own block (a pandas
    extension array, e.g. a ``"str"`` column, as it is). An array
    passed for two columns is copied for the second, so that no two columns share memory, and a read-only
    array is copied, so that every column can be written in place. Falls back to
    ``pd.DataFrame`` where pandas lacks ``pandas.api.internals.create_dataframe_from_blocks`` (before 2.3).
    """
    if _create_dataframe_from_blocks is None:  # pragma: no cover - pandas < 2.3
        return pd.DataFrame(columns, index=index)
    blocks: list[tuple[Any, np.ndarray]] = []
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for i, arr in enumerate(columns.values()):
        if isinstance(arr, pd.api.extensions.ExtensionArray):  # e.g. a string column: its own block as is
            if arr.ndim != 1 or len(arr) != len(index):
                return pd.DataFrame(columns, index=index)
            blocks.append((arr, np.array([i], dtype=np.intp)))
            continue
        a = np.asarray(arr)
        if a.ndim != 1 or a.shape[0] != len(index) or a.dtype == object:
            return pd.DataFrame(columns, index=index)
        key = (a.__array_interface__["data"][0], a.strides)
        if key in seen or not a.flags.writeable:  # (a read-only view, e.g. of a pandas frame: own copy)
            a = a.copy()
        seen.add((a.__array_interface__["data"][0], a.strides))
        blocks.append((a[None, :], np.array([i], dtype=np.intp)))
    return _create_dataframe_from_blocks(blocks, index=index, columns=pd.Index(list(columns)))


def timeseries_columns(
    clock: Clock, fleet: Fleet, flows: dict[str, np.ndarray], *, consume: bool = False
) -> dict[str, np.ndarray]:
    """The columns of :func:`build_timeseries` (name → array (T,)), in order.

    With ``consume``, each flow is dropped from ``flows`` as soon as no later column needs it (its array is
    freed unless a column is a view of it), so that assembling a long run holds about the result's memory
    rather than the result's and all the flows' (a year at 15-s steps: 17 MB a column and a flow).
    """
    cols: dict[str, np.ndarray] = {}
    n_h, n_s = fleet.n_halls, fleet.n_sites
    # flows read again by the per-site and per-hall columns (kept until then when consuming)
    power = {f"{k}_kw" for k in ("it_power", "cooling_power", "electrical_loss", "other_power")}
    power |= {"accelerator_power_kw", "server_fan_power_kw"}
    site_keys = power | {"site_grid_import_kw", "site_unserved_kw", "site_energy_cost_usd", "water_l"}
    site_keys |= {"site_emissions_kgco2", "dry_bulb_c_site", "wet_bulb_c_site"}
    hall_keys = power | {"throughput_frac", "water_l", "coolant_supply_c", "inlet_c", "cooling_capacity_kw"}
    later = (site_keys if n_s > 1 else set()) | (hall_keys if n_h > 1 else set())

    def done(*keys: str) -> None:
        """Drop ``keys`` from the flows (when consuming) unless a later column reads them."""
        if consume:
            for key in keys:
                if key not in later:
                    flows.pop(key, None)

    occ_group = (  # (T, G) active GPU-equivalents
        flows["active_gpus"] if "active_gpus" in flows else flows["occupancy_gpus"].sum(axis=2)
    )
    gpus_hall = fleet.n_gpus @ fleet.group_to_hall_matrix()  # (H,)
    occ_hall = occ_group @ fleet.group_to_hall_matrix()  # (T, H)
    del occ_group
    done("active_gpus", "occupancy_gpus")
    thr = flows["throughput_frac"]
    ones_h = np.ones((n_h, 1))
    if "accel_power_kw" in flows:  # accelerator power per hall (flows carry it per rack group)
        accel_hall = flows["accel_power_kw"] @ fleet.group_to_hall_matrix()
        if consume:
            flows["accelerator_power_kw"] = accel_hall
            done("accel_power_kw")
        else:  # (the caller's flows stay as they are)
            flows = {**flows, "accelerator_power_kw": accel_hall}
        del accel_hall
    campus = _power_block(flows, slice(None), ones_h)
    cols.update({k: v[:, 0] for k, v in campus.items()})
    del campus
    done(*(power - {"it_power_kw"}))
    cols["gpu_utilization_frac"] = occ_hall.sum(axis=1) / max(gpus_hall.sum(), 1)
    cols["throughput_frac"] = thr @ gpus_hall / max(gpus_hall.sum(), 1)
    done("throughput_frac")  # (the per-hall columns read ``thr``)
    for key in ("grid_import", "unserved"):
        cols[f"{key}_mw"] = flows[f"site_{key}_kw"].sum(axis=1) / 1e3
        done(f"site_{key}_kw")
    for key in ("energy_cost_usd", "emissions_kgco2"):
        cols[key] = flows[f"site_{key}"].sum(axis=1)
        done(f"site_{key}")
    it_co2_site = _it_scope2_location_kgco2(fleet, flows)
    if it_co2_site is not None:
        cols["it_emissions_scope2_location_kgco2"] = it_co2_site.sum(axis=1)
    done("facility_power_kw", "site_emissions_scope2_location_kgco2")
    step_h = clock.step_s / 3600.0
    if "water_l" in flows:  # facility physics: water, wet bulb, coolant temperatures
        water_l = flows["water_l"]
        cols["water_use_m3"] = water_l.sum(axis=1) / 1e3
        cols["thermal_overload_mw"] = flows["thermal_overload_kw"].sum(axis=1) / 1e3
        cols["wue_l_per_kwh"] = _ratio(water_l.sum(axis=1), flows["it_power_kw"].sum(axis=1) * step_h)
        del water_l
        done("water_l", "thermal_overload_kw")
        if n_h == 1:
            cols["coolant_supply_c"] = flows["coolant_supply_c"][:, 0]
            cols["server_inlet_c"] = flows["inlet_c"][:, 0]
            cols["cooling_capacity_mw"] = flows["cooling_capacity_kw"][:, 0] / 1e3
            done("coolant_supply_c", "inlet_c", "cooling_capacity_kw")
    if n_s == 1:
        cols["ambient_dry_bulb_c"] = flows["dry_bulb_c_site"][:, 0]
        if "wet_bulb_c_site" in flows:
            cols["ambient_wet_bulb_c"] = flows["wet_bulb_c_site"][:, 0]
        done("dry_bulb_c_site", "wet_bulb_c_site", "it_power_kw")
    else:
        h2s = fleet.hall_to_site_matrix()
        site_blocks = _power_block(flows, slice(None), h2s)
        for si, name in enumerate(fleet.site_names):
            for k, v in site_blocks.items():
                cols[f"{name}:{k}"] = v[:, si]
            in_site = fleet.hall_site == si
            cols[f"{name}:gpu_utilization_frac"] = occ_hall[:, in_site].sum(axis=1) / max(
                gpus_hall[in_site].sum(), 1
            )
            cols[f"{name}:grid_import_mw"] = flows["site_grid_import_kw"][:, si] / 1e3
            cols[f"{name}:unserved_mw"] = flows["site_unserved_kw"][:, si] / 1e3
            cols[f"{name}:energy_cost_usd"] = flows["site_energy_cost_usd"][:, si]
            cols[f"{name}:emissions_kgco2"] = flows["site_emissions_kgco2"][:, si]
            if it_co2_site is not None:
                cols[f"{name}:it_emissions_scope2_location_kgco2"] = it_co2_site[:, si]
            cols[f"{name}:ambient_dry_bulb_c"] = flows["dry_bulb_c_site"][:, si]
            if "wet_bulb_c_site" in flows:
                cols[f"{name}:ambient_wet_bulb_c"] = flows["wet_bulb_c_site"][:, si]
            if "water_l" in flows:
                w_site = flows["water_l"][:, in_site].sum(axis=1)
                cols[f"{name}:water_use_m3"] = w_site / 1e3
                cols[f"{name}:wue_l_per_kwh"] = _ratio(
                    w_site, flows["it_power_kw"][:, in_site].sum(axis=1) * step_h
                )
    if n_s > 1:  # the per-site columns are written: keep what the per-hall ones read
        later = hall_keys if n_h > 1 else set()
        done(*site_keys)
    if n_h > 1:
        for h, key in enumerate(fleet.hall_keys):
            for k, v in _power_block(flows, slice(h, h + 1), None).items():
                cols[f"{key}:{k}"] = v[:, 0]
            cols[f"{key}:gpu_utilization_frac"] = occ_hall[:, h] / max(gpus_hall[h], 1)
            cols[f"{key}:throughput_frac"] = thr[:, h]
            if "water_l" in flows:
                cols[f"{key}:water_use_m3"] = flows["water_l"][:, h] / 1e3
                cols[f"{key}:wue_l_per_kwh"] = _ratio(
                    flows["water_l"][:, h], flows["it_power_kw"][:, h] * step_h
                )
                cols[f"{key}:coolant_supply_c"] = flows["coolant_supply_c"][:, h]
                cols[f"{key}:server_inlet_c"] = flows["inlet_c"][:, h]
                cols[f"{key}:cooling_capacity_mw"] = flows["cooling_capacity_kw"][:, h] / 1e3
    later = set()
    done(*site_keys, *hall_keys)
    return cols


@dataclass
class Result:
    """Outcome of :func:`gigawatt.simulate`.

    :meth:`to_dir` writes a result folder and :meth:`from_dir` (:func:`load_result`) reads it back.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario that was simulated.
    seed : int
        The seed used.
    timeseries : pandas.DataFrame
        Per control step (see the module docstring for the column scheme).
    jobs, events, services, requests : pandas.DataFrame or None
        Per-job, per-event, per-service and per-request tables from the workloads that produce them
        (``events`` holds every event; :meth:`event_summary` aggregates the checkpoints per job).
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    jobs: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    services: pd.DataFrame | None = None
    requests: pd.DataFrame | None = None
    extra_kpis: dict[str, float] = field(default_factory=dict)
    n_accelerators: int = 0

    @property
    def step_h(self) -> float:
        """Control step [h]."""
        return self.scenario.step_s / 3600.0

    def scope(self, name: str) -> pd.DataFrame:
        """Columns of one site (``"<site>"``) or hall (``"<site>/<hall>"``), under their plain names.

        For a single-site scenario, ``scope(<site>)`` returns the campus columns.
        """
        prefix = f"{name}:"
        cols = [c for c in self.timeseries.columns if c.startswith(prefix)]
        if cols:
            return self.timeseries[cols].rename(columns=lambda c: c[len(prefix) :])
        if len(self.scenario.sites) == 1 and name == self.scenario.sites[0].name:
            return self.timeseries[[c for c in self.timeseries.columns if ":" not in c]]
        known = sorted({c.split(":", 1)[0] for c in self.timeseries.columns if ":" in c})
        raise KeyError(f"no columns for scope {name!r}; scopes: {known}")

    def summary(self) -> pd.Series:
        """Key performance indicators (units in the index names).

        ``facility_energy_mwh`` is the sum of ``it_energy_mwh``, ``cooling_energy_mwh``,
        ``electrical_loss_energy_mwh`` and ``other_energy_mwh``; ``pue`` is energy-weighted.
        ``accelerator_energy_mwh`` (accelerators alone) and ``server_fan_energy_mwh`` are parts of
        ``it_energy_mwh``; ``it_emissions_scope2_location_tco2`` is IT's share of the location-based Scope 2
        emissions (grid import × grid intensity, shared per step by IT power / facility power).
        """
        ts, dt_h = self.timeseries, self.step_h
        e = {c: float(ts[c].sum() * dt_h) for c in POWER_COLUMNS}
        it, cool = e["it_power_mw"], e["cooling_power_mw"]
        loss, other = e["electrical_loss_mw"], e["other_power_mw"]
        kpis: dict[str, Any] = {
            "horizon_h": self.scenario.horizon_h,
            "n_accelerators": self.n_accelerators,
            "it_energy_mwh": it,
            "cooling_energy_mwh": cool,
            "electrical_loss_energy_mwh": loss,
            "other_energy_mwh": other,
            "facility_energy_mwh": it + cool + loss + other,
            "peak_facility_power_mw": float(ts["facility_power_mw"].max()),
            "peak_it_power_mw": float(ts["it_power_mw"].max()),
            "pue": (it + cool + loss + other) / it if it > 0 else float("nan"),
            "mean_gpu_utilization_frac": float(ts["gpu_utilization_frac"].mean()),
            "mean_throughput_frac": float(ts["throughput_frac"].mean()),
            **self._facility_kpis(it),
            "grid_import_energy_mwh": float(ts["grid_import_mw"].sum() * dt_h),
            "unserved_energy_mwh": float(ts["unserved_mw"].sum() * dt_h),
            "energy_cost_usd": float(ts["energy_cost_usd"].sum()),
            "emissions_tco2": float(ts["emissions_kgco2"].sum() / 1e3),
        }
        for col, kpi in (
            ("accelerator_power_mw", "accelerator_energy_mwh"),
            ("server_fan_power_mw", "server_fan_energy_mwh"),
        ):
            if col in ts.columns:
                kpis[kpi] = float(ts[col].sum() * dt_h)
        if "it_emissions_scope2_location_kgco2" in ts.columns:
            kpis["it_emissions_scope2_location_tco2"] = float(
                ts["it_emissions_scope2_location_kgco2"].sum() / 1e3
            )
        kpis.update(self.extra_kpis)
        s = pd.Series(kpis, dtype=float, name="value")
        s.index.name = "metric"
        return s

    def _facility_kpis(self, it_energy_mwh: float) -> dict[str, float]:
        """Water and throttling KPIs: ``water_use_m3``, ``wue_l_per_kwh`` (annual, water / IT energy),
        ``thermal_overload_energy_mwh`` (heat the plants could not remove, e.g. even at minimum DVFS clocks or
        within a feedback block after a load jump), ``throttled_h`` (hours in which any hall ran below 99.9 %
        throughput)."""
        ts, dt_h = self.timeseries, self.step_h
        out: dict[str, float] = {}
        if "water_use_m3" in ts.columns:
            water_m3 = float(ts["water_use_m3"].sum())
            out["water_use_m3"] = water_m3
            out["wue_l_per_kwh"] = (
                water_m3 * 1e3 / (it_energy_mwh * 1e3) if it_energy_mwh > 0 else float("nan")
            )
        if "thermal_overload_mw" in ts.columns:
            out["thermal_overload_energy_mwh"] = float(ts["thermal_overload_mw"].sum() * dt_h)
        thr_cols = [c for c in ts.columns if c.endswith(":throughput_frac") and "/" in c.split(":")[0]]
        thr = ts[thr_cols] if thr_cols else ts[["throughput_frac"]]
        out["throttled_h"] = float((thr < 0.999).any(axis=1).sum() * dt_h)
        return out

    def event_summary(self) -> pd.DataFrame | None:
        """:attr:`events` with checkpoints aggregated per job (see :func:`summarize_events`)."""
        return summarize_events(self.events)

    def to_dir(
        self,
        path: str | Path,
        *,
        plots: bool = True,
        events: str = "summary",
        format: str = "parquet",
        compact: bool = True,
    ) -> Path:
        """Write the result to a folder; :meth:`from_dir` reads it back.

        Files: ``summary.csv`` (``metric,value``), ``timeseries.parquet``, ``scenario.yaml`` (resolved, with
        absolute file paths so that it re-runs from anywhere), ``jobs``/``events``/``services``/``requests``
        tables when present (``.parquet``, or ``.csv`` with ``format="csv"``), ``plots/*.png``, and the
        completion marker :data:`RESULT_MARKER` (JSON: scenario name, seed, event level, format).

        Parameters
        ----------
        path
            Output folder: new, empty, or an earlier result (replaced whole).
        plots
            Draw the default plots.
        events : {"summary", "all"}
            ``"summary"`` (default) writes checkpoints as one row per job (:func:`summarize_events`: count in
            ``n_events``, total write time in ``duration_s``) and every other event as is; ``"all"`` writes
            every event (a training-heavy year can hold millions of checkpoints).
        format : {"parquet", "csv"}
            Format of the tables (the time series is always parquet).
        compact : bool
            Store the intensive time-series columns as float32 (:func:`compact_timeseries`; the columns that
            are summed into totals stay float64). ``False`` writes every column as in memory.

        Returns
        -------
        Path
            The folder written.

        Raises
        ------
        ValueError
            Unknown ``events`` or ``format``.
        FileExistsError, NotADirectoryError, PermissionError
            ``path`` is unusable (see :func:`check_output_dir`).

        Notes
        -----
        The files are written to a temporary folder next to ``path`` and moved into place at the end, so an
        interrupted write never leaves a partial result at ``path``. An earlier result at ``path`` (a folder
        with the marker) is replaced whole (no stale ``jobs`` table survives); an empty folder is used; any
        other existing file or folder is refused before anything is written. Each file written is logged at
        INFO level on the ``gigawatt`` logger.
        """

        if events not in EVENT_LEVELS:
            raise ValueError(f"events must be one of {list(EVENT_LEVELS)} (got {events!r})")
        if format not in RESULT_FORMATS:
            raise ValueError(f"format must be one of {list(RESULT_FORMATS)} (got {format!r})")
        out = check_output_dir(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            self.summary().to_csv(tmp / "summary.csv", header=True)
            # zstd on byte-stream-split floats without dictionaries: a year of 5-minute steps compresses
            # to about half the size of the default snappy/dictionary encoding, and writes faster
            write_timeseries_parquet(self.timeseries, tmp / "timeseries.parquet", compact=compact)
            release_free_heap()  # the writer's buffers
            save_scenario(self.scenario, tmp / "scenario.yaml", absolute_paths=True)
            for name in _TABLES:
                df = getattr(self, name)
                if df is None:
                    continue
                rows = chunk_rows(df)
                if name == "events" and events == "summary" and "kind" in df.columns:
                    chunks: Iterator[pd.DataFrame] = iter_event_summary(df, rows)
                else:
                    chunks = (df.iloc[i0 : i0 + rows] for i0 in range(0, max(len(df), 1), rows))
                if format == "csv":
                    write_csv_chunks(chunks, tmp / f"{name}.csv")
                else:
                    write_parquet_chunks(chunks, tmp / f"{name}.parquet", index=False)
                del df, chunks
                release_free_heap()
            if plots:
                plot.save_default_plots(self, tmp / "plots")
            meta = {
                "gigawatt_result": 1,
                "scenario": self.scenario.name,
                "seed": self.seed,
                "n_accelerators": self.n_accelerators,
                "events": events,
                "format": format,
            }
            (tmp / RESULT_MARKER).write_text(json.dumps(meta) + "\n", encoding="utf-8")
            tmp.chmod(0o755)
            if log.isEnabledFor(logging.INFO):
                for f in sorted(tmp.rglob("*")):
                    if f.is_file() and f.name != RESULT_MARKER:
                        log.info("wrote %s (%s)", f.relative_to(tmp), _size(f.stat().st_size))
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                old.rmdir()
                out.rename(old)  # the earlier result (or empty folder) leaves in one step ...
                tmp.rename(out)  # ... and the new one arrives in one step
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info(
            "result written to %s: %s in %.1f s", out, _size(dir_size_bytes(out)), time.perf_counter() - t0
        )
        return out

    @classmethod
    def from_dir(cls, path: str | Path) -> Result:
        """Read a folder written by :meth:`to_dir` back into a Result.

        The time series (float32 where :func:`compact_timeseries` stored it so, float64 otherwise), tables
        (parquet or CSV; time columns as datetimes), the scenario and the summary are the written result's:
        KPIs that the time series gives back to float32 precision (mean utilisation and throughput) or not at
        all (workload KPIs) are taken from ``summary.csv``, so ``summary()`` returns the written values. With
        ``events="summary"`` the events table is the aggregated one. From CSV tables, empty strings read back
        as missing values (parquet keeps them).

        Raises
        ------
        FileNotFoundError
            ``path`` is not a complete gigawatt result (no :data:`RESULT_MARKER`).
        """
        src = Path(path).expanduser()
        marker = src / RESULT_MARKER
        if not marker.is_file():
            raise FileNotFoundError(f"{src} holds no complete gigawatt result ({RESULT_MARKER} missing)")
        try:
            meta = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:  # marker of an older version: plain text
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        sc = load_scenario(src / "scenario.yaml")
        ts = pd.read_parquet(src / "timeseries.parquet")
        tables: dict[str, pd.DataFrame | None] = {}
        for name in _TABLES:
            pq, csv = src / f"{name}.parquet", src / f"{name}.csv"
            if pq.is_file():
                tables[name] = pd.read_parquet(pq)
            elif csv.is_file():
                df = pd.read_csv(csv)
                for col in df.columns:
                    if col == "time" or str(col).endswith("_time"):
                        df[col] = pd.to_datetime(df[col])
                tables[name] = df
            else:
                tables[name] = None
        written = pd.read_csv(src / "summary.csv", index_col=0).iloc[:, 0].astype(float)
        n_acc = int(meta.get("n_accelerators", written.get("n_accelerators", 0)))
        res = cls(
            scenario=sc,
            seed=int(meta.get("seed", sc.seed)),
            timeseries=ts,
            n_accelerators=n_acc,
            **tables,  # type: ignore[arg-type]
        )
        base = res.summary().to_dict()
        res.extra_kpis = {  # what the time series does not give back (workload KPIs, overrides)
            str(k): float(v)
            for k, v in written.to_dict().items()
            if k not in base or not (v == base[k] or (v != v and base[k] != base[k]))
        }
        return res

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<Result {self.scenario.name!r}: {self.scenario.horizon_h:g} h, {self.n_accelerators} accelerators, "
            f"facility {s['facility_energy_mwh']:.1f} MWh, PUE {s['pue']:.3f}, peak {s['peak_facility_power_mw']:.1f} MW>"
        )

    def _repr_html_(self) -> str:
        return result_html(self)


def load_result(path: str | Path) -> Result:
    """Read a result folder written by :meth:`Result.to_dir` (or ``gigawatt run --out``): :meth:`Result.from_dir`."""
    return Result.from_dir(path)


def compact_timeseries(ts: pd.DataFrame) -> pd.DataFrame:
    """Store intensive float columns as float32, keep the others float64 (see the module docstring).

    A float64 column becomes float32 when its plain name (after any ``"<scope>:"`` prefix) ends in ``_frac``,
    ``_c``, ``_per_kwh`` or ``_per_mwh``, or is a latency percentile (``..._p99_s``): quantities that are
    averaged or compared, never integrated into a total.
    """
    to32 = {}
    for col in ts.columns:
        if ts[col].dtype != np.float64:
            continue
        plain = str(col).rsplit(":", 1)[-1]
        if plain.endswith(_FLOAT32_SUFFIXES) or _PERCENTILE_S.fullmatch(plain):
            to32[col] = np.float32
    return ts.astype(to32) if to32 else ts


#: In-memory bytes of a table converted and written at a time by :meth:`Result.to_dir` (one parquet row group,
#: or one CSV append): bounds the writer's extra memory whatever the size of the result.
WRITE_CHUNK_BYTES = 64_000_000


def chunk_rows(df: pd.DataFrame, chunk_bytes: int | None = None) -> int:
    """Rows of ``df`` that hold about ``chunk_bytes`` (default :data:`WRITE_CHUNK_BYTES`) in memory (at least 1;
    shallow sizes, index included)."""
    chunk_bytes = WRITE_CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    row_bytes = int(df.memory_usage(index=True, deep=False).sum()) // max(1, len(df))
    return max(1, int(chunk_bytes) // max(1, row_bytes))


def write_parquet_chunks(
    chunks: Iterable[pd.DataFrame],
    path: str | Path,
    *,
    index: bool,
    float_encoding: bool = False,
    schema: pa.Schema | None = None,
) -> Path:
    """Write frames with the same columns one after the other into one parquet file, one row group each.

    Only one chunk is converted to Arrow at a time, so the extra memory is one chunk's whatever the size of the
    table. The file reads back with :func:`pandas.read_parquet` as the concatenation of the chunks (dtypes and,
    with ``index``, the index restored from the pandas metadata of the first chunk).

    Parameters
    ----------
    chunks : iterable of pandas.DataFrame
        The rows, in order (at least one frame, possibly empty, so that the file has a schema).
    path : str or Path
        File to write.
    index : bool
        Store the index (the time series' ``time``); tables are written without it.
    float_encoding : bool
        Store numbers and times byte-stream-split without dictionaries (floats compress to about half the size
        of the default encoding with zstd: the time series); otherwise parquet's default encodings (tables,
        whose strings repeat).
    schema : pyarrow.Schema, optional
        Arrow schema of every chunk (e.g. ``pa.Schema.from_pandas`` of the whole table, so that a chunk whose
        object column is all missing keeps its type); by default the first chunk's.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    writer: pq.ParquetWriter | None = None
    try:
        for part in chunks:
            table = pa.Table.from_pandas(part, schema=schema, preserve_index=index)
            if writer is None:
                schema = table.schema
                options: dict[str, Any] = {"compression": "zstd"}
                if float_encoding:
                    options["use_dictionary"] = False
                    options["use_byte_stream_split"] = [
                        f.name for f in schema if _byte_stream_splittable(f.type)
                    ]
                writer = pq.ParquetWriter(path, schema, **options)
            writer.write_table(table)
            del table, part
    finally:
        if writer is not None:
            writer.close()
    return path


def write_csv_chunks(chunks: Iterable[pd.DataFrame], path: str | Path) -> Path:
    """Write frames with the same columns one after the other into one CSV file (header once, no index)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as f:
        for k, part in enumerate(chunks):
            part.to_csv(f, index=False, header=k == 0)
    return path


def write_timeseries_parquet(
    ts: pd.DataFrame, path: str | Path, *, compact: bool = True, chunk_bytes: int | None = None
) -> Path:
    """Write a time series to parquet a block of rows at a time (what :meth:`Result.to_dir` writes).

    Each block of about ``chunk_bytes`` (in memory) is made compact (:func:`compact_timeseries`, unless
    ``compact`` is False), converted to Arrow and written as one row group (:func:`write_parquet_chunks`), so the
    extra memory is one block's whatever the horizon (a year at 15-s steps holds about 0.8 GB of float64
    columns; converting it whole took as much again). The file reads back with :func:`pandas.read_parquet` as
    ``compact_timeseries(ts).to_parquet(path)`` would: same columns, dtypes and index. Floats are stored
    byte-stream-split and zstd-compressed without dictionaries (a year of 5-minute steps: about half the size
    of the default snappy/dictionary encoding, and faster to write).

    Parameters
    ----------
    ts : pandas.DataFrame
        The time series (index ``time``).
    path : str or Path
        File to write.
    compact : bool
        Store intensive columns as float32 (:func:`compact_timeseries`).
    chunk_bytes : int, optional
        Target in-memory size of a row group [bytes] (at least one row); default :data:`WRITE_CHUNK_BYTES`.

    Returns
    -------
    Path
        ``path``.
    """
    rows = chunk_rows(ts, chunk_bytes)

    def blocks() -> Iterator[pd.DataFrame]:
        for i0 in range(0, max(len(ts), 1), rows):
            part = ts.iloc[i0 : i0 + rows]
            yield compact_timeseries(part) if compact else part

    return write_parquet_chunks(blocks(), path, index=True, float_encoding=True)


def _byte_stream_splittable(t: pa.DataType) -> bool:
    """Whether parquet's BYTE_STREAM_SPLIT encoding takes an Arrow type (fixed-width numbers and times)."""
    return bool(
        pa.types.is_floating(t)
        or (pa.types.is_integer(t) and t.bit_width in (32, 64))
        or pa.types.is_timestamp(t)
    )


def summarize_events(events: pd.DataFrame | None) -> pd.DataFrame | None:
    """Events with the checkpoints of each job aggregated into one row.

    Every event that is not a checkpoint is kept as is (``n_events`` = 1). The checkpoints of one job (per
    ``workload`` and ``job_idx``) become one row of kind ``"checkpoints"`` at the first checkpoint's time, with
    ``n_events`` = their count and ``duration_s`` = their total write time [s]; ``last_time_s`` is the last
    checkpoint's time [s since start] (NaN on other rows). Rows stay in time order (stable: at equal times the
    other events come before the checkpoint rows).

    The rows kept are chosen by position and copied once (a year of a Frontier-class fleet: 1.5 M events,
    200 MB); the aggregation works on the key and number columns of the checkpoints only.
    :func:`iter_event_summary` gives the same rows in blocks.
    """
    if events is None or "kind" not in events.columns:
        return events
    return next(iter_event_summary(events, rows=max(1, len(events))))


def iter_event_summary(events: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """The rows of :func:`summarize_events` in blocks of ``rows`` rows (at least one block, possibly empty).

    Only the positions of the rows kept and the per-job aggregates are computed for the whole table; each block
    is copied from ``events`` when it is reached, so a writer holds one block at a time.
    """
    plan = _EventSummaryPlan(events)
    n = plan.n_rows
    for i0 in range(0, max(n, 1), max(1, int(rows))):
        yield plan.rows(i0, min(i0 + max(1, int(rows)), n))


class _EventSummaryPlan:
    """Which events :func:`summarize_events` keeps, in which order, and the per-job checkpoint aggregates."""

    def __init__(self, events: pd.DataFrame) -> None:
        self.events = events
        is_ck = (events["kind"] == "checkpoint").to_numpy(dtype=bool, na_value=False)
        ck_pos = np.flatnonzero(is_ck)
        keys = [c for c in ("workload", "job_idx") if c in events.columns] or ["kind"]
        if ck_pos.size:
            # group number of every checkpoint, numbered in order of the job's first checkpoint
            codes = events[keys].take(ck_pos).groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
        else:
            codes = np.zeros(0, dtype=np.int64)
        n_groups = int(codes.max()) + 1 if codes.size else 0
        first = ck_pos[np.unique(codes, return_index=True)[1]]  # position of each job's first checkpoint

        def per_job(col: str, how: str) -> np.ndarray:
            """``how`` ("sum", "max") of ``col`` over each job's checkpoints, by group number."""
            return pd.Series(events[col].to_numpy()[ck_pos]).groupby(codes, sort=True).agg(how).to_numpy()

        self.any_checkpoint = bool(ck_pos.size)
        self.count = np.bincount(codes, minlength=n_groups)
        self.duration_s = per_job("duration_s", "sum") if "duration_s" in events.columns else None
        self.last_time_s = per_job("time_s", "max") if "time_s" in events.columns else None
        rest_pos = np.flatnonzero(~is_ck)
        keep = np.concatenate([rest_pos, first])
        slot = np.concatenate(
            [np.full(rest_pos.size, -1, dtype=np.int64), np.arange(n_groups)]
        )  # job of a row
        order = "time_s" if "time_s" in events.columns else ("time" if "time" in events.columns else None)
        if order is not None and ck_pos.size:
            perm = np.argsort(events[order].to_numpy()[keep], kind="stable")
            keep, slot = keep[perm], slot[perm]
        self.keep, self.slot = keep, slot
        self.n_rows = int(keep.size)

    def rows(self, i0: int, i1: int) -> pd.DataFrame:
        """Rows ``i0..i1`` of the summary (index from 0)."""
        events = self.events
        keep, slot = self.keep[i0:i1], self.slot[i0:i1]
        out = events.take(keep).reset_index(drop=True)
        if not self.any_checkpoint:  # nothing to aggregate (a summary stays as it is)
            return out if "n_events" in out.columns else out.assign(n_events=1)
        agg = slot >= 0
        job = slot[agg]
        out.loc[agg, "kind"] = "checkpoints"
        if self.duration_s is not None:
            dur = out["duration_s"].to_numpy(dtype=float, copy=True)
            dur[agg] = self.duration_s[job]
            out["duration_s"] = dur
        n_events = (
            out["n_events"].to_numpy(dtype=np.int64, copy=True)
            if "n_events" in out.columns
            else np.ones(len(out), dtype=np.int64)
        )
        n_events[agg] = self.count[job]
        last = None
        if self.last_time_s is not None:
            if "last_time_s" in out.columns:  # (a summary with new checkpoints: its rows keep their values)
                last = out["last_time_s"].to_numpy(dtype=float, copy=True)
            else:
                last = np.full(len(out), np.nan)
            last[agg] = self.last_time_s[job]
        out = out.drop(columns=[c for c in ("n_events", "last_time_s") if c in out.columns])
        out["n_events"] = n_events
        if last is not None:
            out["last_time_s"] = last
        return out


def dir_size_bytes(path: str | Path) -> int:
    """Total size of the files under ``path`` [bytes]."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _size(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return f"{n_bytes:.1f} GB"  # pragma: no cover
