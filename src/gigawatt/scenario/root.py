"""The root :class:`Scenario` model."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from gigawatt._html import scenario_html
from gigawatt.scenario.base import LATEST_DATE, StrictModel, UtcDatetime
from gigawatt.scenario.economics import Economics
from gigawatt.scenario.energy import GridRegion
from gigawatt.scenario.site import Site
from gigawatt.scenario.update import value_at
from gigawatt.scenario.workloads import Workload

__all__ = ["Scenario", "set_updater"]

#: What :meth:`Scenario.updated` runs: :func:`gigawatt.checks.load.updated_scenario`, which validates the edited
#: scenario like a loaded file (fields, then the whole-scenario checks of the checks layer above this one). The
#: checks layer sets it when it is imported, which ``import gigawatt`` (run before any ``gigawatt.*`` module)
#: does; the model declares the entry point, the layer above provides the validation.
_UPDATER: Callable[..., Scenario] | None = None


def set_updater(updater: Callable[..., Scenario]) -> None:
    """Install the validated update behind :meth:`Scenario.updated` (called by :mod:`gigawatt.checks.load`)."""
    global _UPDATER
    _UPDATER = updater


class Scenario(StrictModel):
    """A complete simulation input: sites (with halls, racks, cooling, grid), workloads, time frame, seed.

    Load one with :func:`gigawatt.load_scenario` (YAML/JSON file, bundled name, or dict); every problem is
    reported at once as a :class:`gigawatt.ScenarioError`.
    """

    name: str
    description: str = ""
    start: UtcDatetime = dt.datetime(2026, 1, 1)
    """Start of the simulated period (UTC; a timezone, if given, is converted to UTC)."""
    horizon_h: float = Field(24.0 * 365, gt=0, le=24.0 * 365 * 100)
    """Simulated duration [h]; a whole number of control steps."""
    step_s: float = Field(300.0, ge=1.0, le=86400.0)
    """Control step of the facility physics and recorded time series [s] (default 5 min)."""
    wall_clock: Literal["site_local", "utc"] = "site_local"
    """Clock of every hour-of-day, weekday and month rule: daily/weekly demand profiles of inference
    services, daily utilisation profiles, time-of-use tariff periods and PPA hours. ``site_local``: the
    local standard time of the site the rule belongs to (``sites[].location.utc_offset_h``); ``utc``: UTC.
    Absolute timestamps (``start``, events, trace and price files) are UTC whatever this says."""
    seed: int = Field(0, ge=0)
    """Root seed: every random stream is spawned from ``numpy.random.SeedSequence(seed)``."""
    sites: list[Site] = Field(min_length=1)
    workloads: list[Workload] = Field(default_factory=list)
    grid_regions: list[GridRegion] = Field(default_factory=list)
    """Scheduled grid events shared by the sites of a region (``sites[].grid.region``); see
    ``docs/models/energy.md`` §8."""
    economics: Economics | None = None
    """Prices and finance assumptions for :func:`gigawatt.economics.costs` (``None``: catalog defaults). Not
    used by the simulation: costs are computed from the Result afterwards."""

    _base_dir: Path | None = PrivateAttr(default=None)
    """Folder of the file the scenario was loaded from (relative paths in it resolve against it)."""

    @model_validator(mode="after")
    def _time_frame(self) -> Scenario:
        n = self.horizon_h * 3600.0 / self.step_s
        if abs(n - round(n)) > 1e-6:
            raise ValueError(
                f"horizon_h ({self.horizon_h} h) must be a whole number of control steps (step_s={self.step_s} s);"
                f" e.g. horizon_h: {math.ceil(n) * self.step_s / 3600:g}"
            )
        end = self.start + dt.timedelta(hours=self.horizon_h)
        if end > LATEST_DATE:
            raise ValueError(
                f"horizon_h: the simulated period ends {end:%Y-%m-%d}, after the supported "
                f"{LATEST_DATE:%Y-%m-%d}; shorten horizon_h or move start"
            )
        names = [s.name for s in self.sites]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise ValueError(f"site names must be unique; duplicated: {', '.join(dup)}")
        rn = [r.name for r in self.grid_regions]
        dup = sorted({x for x in rn if rn.count(x) > 1})
        if dup:
            raise ValueError(f"grid_regions names must be unique; duplicated: {', '.join(dup)}")
        wl = [w.name for w in self.workloads]
        dup = sorted({x for x in wl if wl.count(x) > 1})
        if dup:
            raise ValueError(f"workload names must be unique; duplicated: {', '.join(dup)}")
        return self

    def updated(self, updates: Mapping[str, Any], *, limits: Any = None) -> Scenario:
        """A new, validated scenario with fields changed by dotted path; this one is left unchanged.

        >>> sc.updated({"horizon_h": 720, "sites[ashburn].grid.import_capacity_mw": 60})  # doctest: +SKIP

        Paths name list elements by ``name`` or position (``workloads[chat].target.gpus``,
        ``sites[0].halls[1].cooling.technology``); the whole result is validated like a loaded file, so a bad
        path or value raises one :class:`~gigawatt.ScenarioError` listing every problem. Prefer this to
        pydantic's ``model_copy(update=...)``, which neither validates nor reaches nested fields. See
        :mod:`gigawatt.scenario.update` (paths) and :func:`gigawatt.checks.load.updated_scenario`.
        """
        if _UPDATER is None:  # pragma: no cover - set when gigawatt is imported, before any scenario exists
            raise RuntimeError("Scenario.updated needs gigawatt.checks; import gigawatt first")
        return _UPDATER(self, updates, limits=limits)

    def value_at(self, path: str) -> Any:
        """The value of the field at a dotted path (same syntax as :meth:`updated`), defaults included."""
        return value_at(self, path)

    def resolve_path(self, path: str) -> Path:
        """A path from the scenario, resolved against the scenario file's folder when relative."""
        p = Path(path).expanduser()
        if p.is_absolute() or self._base_dir is None:
            return p
        return self._base_dir / p

    @property
    def n_steps(self) -> int:
        return round(self.horizon_h * 3600.0 / self.step_s)

    @property
    def n_accelerators(self) -> int:
        return sum(s.n_accelerators for s in self.sites)

    def hall_keys(self) -> list[str]:
        """``"<site>/<hall>"`` for every hall, in order."""
        return [f"{s.name}/{h.name}" for s in self.sites for h in s.halls]

    def _repr_html_(self) -> str:
        return scenario_html(self)
