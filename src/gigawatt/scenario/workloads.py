"""Workloads: what runs on the GPUs. A list discriminated by ``kind``.

Each kind has a model here (or in its own module) and an engine handler in ``gigawatt.engine.workloads``.
To add a kind: define its model with ``kind: Literal["<kind>"]``, add it to :data:`Workload`, register a
handler.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel
from gigawatt.scenario.inference import InferenceWorkload
from gigawatt.scenario.targets import GpuTarget
from gigawatt.scenario.training import TrainingWorkload

__all__ = [
    "ConstantProfile",
    "DailyProfile",
    "TraceProfile",
    "UtilizationProfile",
    "UtilizationWorkload",
    "Workload",
]


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


Workload = Annotated[UtilizationWorkload | TrainingWorkload | InferenceWorkload, Field(discriminator="kind")]
