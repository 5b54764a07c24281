"""The root :class:`Scenario` model."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from gigawatt._html import scenario_html
from gigawatt.scenario.base import LATEST_DATE, StrictModel, UtcDatetime
from gigawatt.scenario.buildout import BuildoutPlan, plan_links, planned_datetime, planned_week
from gigawatt.scenario.economics import Economics
from gigawatt.scenario.energy import GridRegion
from gigawatt.scenario.site import Site
from gigawatt.scenario.update import _walk, parse_path, value_at
from gigawatt.scenario.workloads import Workload

__all__ = ["Scenario", "set_buildout_runner", "set_updater"]

#: What :meth:`Scenario.updated` runs: :func:`gigawatt.checks.load.updated_scenario`, which validates the edited
#: scenario like a loaded file (fields, then the whole-scenario checks of the checks layer above this one). The
#: checks layer sets it when it is imported, which ``import gigawatt`` (run before any ``gigawatt.*`` module)
#: does; the model declares the entry point, the layer above provides the validation.
_UPDATER: Callable[..., Scenario] | None = None


def set_updater(updater: Callable[..., Scenario]) -> None:
    """Install the validated update behind :meth:`Scenario.updated` (called by :mod:`gigawatt.checks.load`)."""
    global _UPDATER
    _UPDATER = updater


#: What :meth:`Scenario.with_buildout` runs: :func:`gigawatt.buildout.scenario.with_buildout` (the Monte Carlo of
#: the planning layer). Set when ``gigawatt.buildout`` is imported, which ``import gigawatt`` does.
_BUILDOUT_RUNNER: Callable[..., Scenario] | None = None


def set_buildout_runner(runner: Callable[..., Scenario]) -> None:
    """Install the build-out outcome behind :meth:`Scenario.with_buildout` (called by
    :mod:`gigawatt.buildout.scenario`)."""
    global _BUILDOUT_RUNNER
    _BUILDOUT_RUNNER = runner


def _plain(x: Any) -> Any:
    """Input data with every model written out as the fields it was given."""
    if isinstance(x, BaseModel):
        return x.model_dump(mode="python", exclude_unset=True, by_alias=True)
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def _planned(data: Mapping[str, Any]) -> list[tuple[str, dt.datetime, bool]] | None:
    """``(path, planned date, whether the path may create its parent)`` of every field a valid ``buildout``
    plan in raw scenario input sets: online dates at the phases' targets, offline dates at their decommission
    weeks; ``None`` when there is no (valid) plan. Only a grid connection may be created (it has defaults)."""
    raw = data.get("buildout")
    if raw is None:
        return None
    try:
        plan = raw if isinstance(raw, BuildoutPlan) else BuildoutPlan.model_validate(raw)
    except (ValidationError, TypeError, ValueError):
        return None  # reported with the fields
    links, _ = plan_links(plan, data.get("sites"))
    out = []
    for ln in links:
        ph = plan.phases[ln.phase]
        week = planned_week(ph)
        if week is not None:
            out.append((ln.online_path, planned_datetime(plan, week), ln.kind == "grid"))
        if ph.decommission_week is not None and ln.offline_path is not None:
            out.append((ln.offline_path, planned_datetime(plan, ph.decommission_week), False))
    return out


def _model_at(root: Any, path: str) -> tuple[Any, str] | None:
    """The model holding the field at ``path`` and the field's name, or ``None``."""
    keys = parse_path(path)
    cur = root
    for key in keys[:-1]:
        if isinstance(key, int) and isinstance(cur, list):
            cur = cur[key] if -len(cur) <= key < len(cur) else None
        elif isinstance(cur, list):
            cur = next((x for x in cur if getattr(x, "name", None) == key), None)
        else:
            cur = getattr(cur, str(key), None)
        if cur is None:
            return None
    return (cur, str(keys[-1])) if isinstance(cur, BaseModel) else None


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
    buildout: BuildoutPlan | None = None
    """Build-out plan of this fleet (phases, long-lead items, lead times; ``docs/models/buildout.md``): its
    phases name the halls, rack groups, grid connections and plant they bring online (``brings_online``).
    Loading sets their dates from the plan's targets (``target_online_week``, ``decommission_week``; a date
    written in the scenario must agree), so a simulation runs the planned build-out; ``with_buildout`` gives
    the scenario of a drawn outcome (a quantile or one Monte Carlo draw), ``gigawatt.buildout.run_buildout``
    the Monte Carlo."""

    _base_dir: Path | None = PrivateAttr(default=None)
    """Folder of the file the scenario was loaded from (relative paths in it resolve against it)."""

    @model_validator(mode="before")
    @classmethod
    def _planned_dates(cls, data: Any) -> Any:
        """Give every object the plan brings online the plan's date where the input gives none (a date the
        input gives is kept: ``gigawatt check`` reports it when it disagrees)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("sites"), list):
            return data
        planned = _planned(data)
        if not planned:
            return data
        data = {**data, "sites": _plain(data.get("sites"))}
        for path, when, create in planned:
            try:
                container, key = _walk(data, parse_path(path), cls, create=create)
            except (KeyError, ValueError, TypeError):
                continue  # a rack group added by a refresh (dated by the refresh), or a broken input
            if isinstance(container, dict) and container.get(key) is None:
                container[key] = when
        return data

    @model_validator(mode="after")
    def _plan_owns_planned_dates(self) -> Scenario:
        """Dates equal to the plan's are the plan's: not part of the input (so an update of a target moves
        them, and a saved scenario's input is the plan)."""
        if self.buildout is None:
            return self
        links, _ = plan_links(self.buildout, self.sites)
        for ln in links:
            ph = self.buildout.phases[ln.phase]
            for path, week in (
                (ln.online_path, planned_week(ph)),
                (ln.offline_path, ph.decommission_week),
            ):
                if path is None or week is None:
                    continue
                at = _model_at(self, path)
                when = planned_datetime(self.buildout, week)
                if at is None or getattr(at[0], at[1], None) != when:
                    continue
                if ln.kind == "rack_group" and ln.hall_path is not None:
                    hall = _model_at(self, ln.hall_path + ".racks")
                    if hall is not None and any(rg.decommission_date == when for rg in hall[0].racks):
                        continue  # a refresh: the old group retires at this date too; the date stays written
                at[0].__pydantic_fields_set__.discard(at[1])
        return self

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

    def with_buildout(
        self,
        outcome: str | float | None = None,
        *,
        draw: int | None = None,
        draws: int | None = None,
        seed: int | None = None,
    ) -> Scenario:
        """The scenario of one build-out outcome: every object the plan brings online dated by that outcome.

        >>> sc.with_buildout("p90")     # each phase online at its 90th-percentile date   # doctest: +SKIP
        >>> sc.with_buildout(draw=17)   # one Monte Carlo draw (a consistent joint outcome)  # doctest: +SKIP

        ``outcome``: ``"target"`` (the plan's target dates: what :func:`gigawatt.simulate` of this scenario
        uses), ``"pNN"`` or a fraction in (0, 1) (each phase at that quantile of its online date over the
        draws), or ``"mean"``; or ``draw=i``. ``draws``/``seed`` override the plan's. The returned scenario
        has the dates written in and no ``buildout`` (its description names the outcome). See
        :func:`gigawatt.buildout.scenario.with_buildout`.
        """
        if _BUILDOUT_RUNNER is None:  # pragma: no cover - set when gigawatt is imported
            raise RuntimeError("Scenario.with_buildout needs gigawatt.buildout; import gigawatt first")
        return _BUILDOUT_RUNNER(self, outcome, draw=draw, draws=draws, seed=seed)

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
