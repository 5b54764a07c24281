"""Workload targets: which GPUs a workload runs on (a hall or rack group, or a training pool of halls)."""

from __future__ import annotations

from pydantic import Field, model_validator

from gigawatt.scenario.base import StrictModel

__all__ = ["GpuTarget", "PoolTarget"]


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
    """A training pool over several halls: ``halls`` (hall references), ``site`` (every hall of the site) or
    ``sites`` (every hall of each site), optionally only a number of GPUs. Every hall must hold the same
    accelerator type. Halls of several sites need the workload's ``cross_site`` link (bandwidth, latency and
    the job's synchronisation method across sites; ``docs/models/training.md`` §4)."""

    halls: list[str] | None = Field(None, min_length=1)
    """Hall references (``"<site>/<hall>"`` or a unique ``"<hall>"``); halls of several sites need the
    workload's ``cross_site``."""
    site: str | None = None
    """Site name: the pool spans every hall of the site."""
    sites: list[str] | None = Field(None, min_length=1)
    """Site names: the pool spans every hall of each site (needs the workload's ``cross_site``)."""
    gpus: int | None = Field(None, gt=0, le=100_000_000)
    """Number of GPUs used; default all GPUs of the halls."""

    @model_validator(mode="after")
    def _one_way(self) -> PoolTarget:
        given = [n for n in ("halls", "site", "sites") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "name the pool's halls (halls: [...]), its site (site: ...) or its sites (sites: [...]), one of "
                f"the three (got {given or 'none'})"
            )
        if self.halls is not None and len(set(self.halls)) != len(self.halls):
            raise ValueError("halls must not repeat")
        if self.sites is not None and len(set(self.sites)) != len(self.sites):
            raise ValueError("sites must not repeat")
        return self
