"""An inference service placed on several sites: placements, user regions and the routing policy.

``InferenceWorkload.placements`` lists where replicas may run; ``InferenceWorkload.routing`` says how demand is
split between them, when it spills over and how it fails over. See ``docs/models/inference.md`` §9 and
:mod:`gigawatt.perf.routing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from gigawatt.scenario.base import ScopeName, StrictModel
from gigawatt.scenario.targets import GpuTarget

if TYPE_CHECKING:
    pass

__all__ = ["Placement", "RoutingSpec", "UserRegion"]

#: Tolerance on shares that must sum to 1.
SUM_TOL = 1e-6


class Placement(StrictModel):
    """Where some of the service's replicas run: a GPU target (hall, rack group, GPUs) in one site."""

    target: GpuTarget
    name: ScopeName | None = None
    """Label of the placement in result columns (``<service>@<name>:served_rps``); default the site's name
    (``<site>-<hall>`` when the service has several placements in one site)."""
    weight_frac: float | None = Field(None, ge=0, le=1)
    """Share of the demand sent here with ``routing.policy: weighted`` (the weights sum to 1)."""


class UserRegion(StrictModel):
    """Where the service's users are: a point with a share of the demand."""

    name: str = Field(min_length=1, max_length=100)
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    share_frac: float = Field(gt=0, le=1)
    """Share of the service's demand from this region (the shares sum to 1)."""


class RoutingSpec(StrictModel):
    """How a service with several placements routes its demand (per control step)."""

    policy: Literal["nearest", "lowest_latency", "lowest_price", "lowest_carbon", "weighted"] = "nearest"
    """``nearest``: each user region to the placement with the shortest great-circle distance;
    ``lowest_latency``: the lowest network round trip + idle prefill time on the placement's hardware;
    ``lowest_price``: the site with the lowest grid energy price in the step; ``lowest_carbon``: the lowest grid
    carbon intensity in the step; ``weighted``: fixed shares (``placements[].weight_frac``). Every policy is
    capacity-aware: demand beyond a placement's capacity spills to the next choice."""
    users: list[UserRegion] = Field(default_factory=list, max_length=1000)
    """User regions (needed by ``nearest`` and ``lowest_latency``; with the other policies they give the
    network latency added to TTFT). Empty: no network latency."""
    failover_delay_s: float = Field(60.0, ge=0, le=86_400)
    """Time from a placement losing service (dark hall, or power capping below ``failover_below_frac``) until
    the router sends its traffic elsewhere [s] (health-check detection + DNS/anycast update; 60 s is an
    estimate). Demand sent there meanwhile is lost."""
    failover_below_frac: float = Field(0.5, ge=0, le=1)
    """A placement counts as down while its hall's throughput × running fraction is below this (power capping
    shedding its replicas); a dark hall is always down."""
    capacity_utilization_frac: float | None = Field(None, gt=0, le=1)
    """Utilisation of a placement's largest replica count at which the router spills to the next choice;
    default ``autoscaling.target_utilization_frac``."""
    route_factor: float = Field(2.1, ge=1, le=10)
    """Network path length / great-circle distance [-] (2.1: Bozkurt et al. 2018, from Internet latency
    measurements)."""
    fibre_speed_km_per_s: float = Field(2.0e5, gt=1e4, le=3e5)
    """Propagation speed in fibre [km/s] (≈ 2.0e5: 4.9-5 µs/km, ITU-T G.652 group index ≈ 1.47)."""
    network_overhead_s: float = Field(0.01, ge=0, le=10)
    """Fixed time added to each round trip [s] (gateways, load balancers, access network; an estimate)."""

    @model_validator(mode="after")
    def _shares(self) -> RoutingSpec:
        if self.users:
            total = sum(u.share_frac for u in self.users)
            if abs(total - 1.0) > SUM_TOL:
                raise ValueError(f"users[].share_frac must sum to 1 (they sum to {total:g})")
            names = [u.name for u in self.users]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"users[].name must be unique; repeated: {', '.join(twice)}")
        if self.policy in ("nearest", "lowest_latency") and not self.users:
            raise ValueError(f"policy {self.policy!r} needs users (regions with latitude, longitude, share)")
        return self
