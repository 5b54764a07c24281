"""Workloads: what runs on the GPUs. A list discriminated by ``kind``.

Each kind has a model here (or in its own module) and an engine handler in ``gigawatt.engine.workloads``.
To add a kind: define its model with ``kind: Literal["<kind>"]``, add it to :data:`Workload`, register a
handler.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel

__all__ = [
    "ConstantProfile",
    "DailyProfile",
    "GpuTarget",
    "PoolTarget",
    "TraceProfile",
    "UtilizationProfile",
    "UtilizationWorkload",
    "Workload",
]


class GpuTarget(StrictModel):
    """Which GPUs a workload uses: a hall (``site/hall``, or ``hall`` when unique), optionally one rack group,
    optionally only part of it."""

    hall: str
    """Hall reference: ``"<site>/<hall>"`` or just ``"<hall>"`` when the name is unique in the scenario."""
    rack_group: str | None = None
    """Restrict to one rack group of the hall (by name)."""
    gpus: int | None = Field(None, gt=0, le=100_000_000)
    """Number of GPUs used; default all GPUs of the target."""


class PoolTarget(StrictModel):
    """A training pool over several halls of one site: ``halls`` (hall references) or ``site`` (every hall of
    the site), optionally only a number of GPUs. Every hall must hold the same accelerator type."""

    halls: list[str] | None = Field(None, min_length=1)
    """Hall references (``"<site>/<hall>"`` or a unique ``"<hall>"``), all in one site."""
    site: str | None = None
    """Site name: the pool spans every hall of the site."""
    gpus: int | None = Field(None, gt=0, le=100_000_000)
    """Number of GPUs used; default all GPUs of the halls."""

    @model_validator(mode="after")
    def _one_way(self) -> PoolTarget:
        if (self.halls is None) == (self.site is None):
            raise ValueError("name the pool's halls (halls: [...]) or its site (site: ...), one of the two")
        if self.halls is not None and len(set(self.halls)) != len(self.halls):
            raise ValueError("halls must not repeat")
        return self


class ConstantProfile(StrictModel):
    """Constant utilisation."""

    kind: Literal["constant"] = "constant"
    utilization_frac: float = Field(ge=0, le=1)


class DailyProfile(StrictModel):
    """A daily utilisation shape repeated every day: values evenly spaced over 24 h (e.g. 24 hourly values),
    linearly interpolated (periodic) to the control step. Hours and weekends are read on the scenario's
    ``wall_clock`` (default: the local standard time of the target's site)."""

    kind: Literal["daily"] = "daily"
    utilization_frac: list[Annotated[float, Field(ge=0, le=1)]] = Field(min_length=1)
    weekend_scale_frac: float = Field(1.0, ge=0, le=1)
    """Multiplier applied on Saturdays and Sundays."""


class TraceProfile(StrictModel):
    """Measured utilisation telemetry from a CSV file with columns ``timestamp,utilization_frac``.

    The trace is interpolated to the control step; outside its time range it repeats (``repeat: true``)
    or holds its edge values.
    """

    kind: Literal["trace"] = "trace"
    path: str
    """CSV path, relative to the scenario file's folder when not absolute."""
    repeat: bool = True
    time_shift_h: float = Field(0.0, ge=-87_600, le=87_600)
    """Shift applied to the trace timestamps [h]."""


UtilizationProfile = Annotated[ConstantProfile | DailyProfile | TraceProfile, Field(discriminator="kind")]


class UtilizationWorkload(StrictModel):
    """A GPU group running at a given utilisation (constant, daily profile or measured trace).

    Power per GPU is ``idle + u · (TDP − idle)`` at utilisation ``u``.
    """

    kind: Literal["utilization"] = "utilization"
    name: ScopeName
    """Workload name (no ``/`` or ``:``; it prefixes the workload's result columns)."""
    target: GpuTarget
    profile: UtilizationProfile
    allowed_jurisdictions: list[Jurisdiction] | None = Field(None, min_length=1)
    """Data residency / sovereignty: the jurisdictions whose sites may run this workload (a site's
    ``jurisdiction``, its ``location.country_code``, or ``EU`` for a site in an EU member state); ``None``: any.
    ``gigawatt check`` rejects a target outside them."""

    @model_validator(mode="after")
    def _name_ok(self) -> UtilizationWorkload:
        if not self.name:
            raise ValueError("name must not be empty")
        return self


from gigawatt.scenario.inference import InferenceWorkload  # noqa: E402  (needs GpuTarget above)
from gigawatt.scenario.training import TrainingWorkload  # noqa: E402  (needs GpuTarget above)

Workload = Annotated[UtilizationWorkload | TrainingWorkload | InferenceWorkload, Field(discriminator="kind")]
