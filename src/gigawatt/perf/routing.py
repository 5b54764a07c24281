"""Routing an inference service's demand across sites: distances, network latency, policies, failover.

Pure functions of numpy arrays, vectorised over control steps (the loops run over users and placements,
a handful each, never over steps or requests).

Network latency
---------------
Round-trip time between a user region and a site from the great-circle distance :math:`d` [km]:

.. math:: RTT = 2 \\, d \\, f_{route} / v_{fibre} + t_{overhead}

with :math:`v_{fibre} ≈ 2.0·10^5` km/s (light in silica fibre, group index ≈ 1.47-1.5: 4.9-5.0 µs/km one way)
and the route-inflation factor :math:`f_{route} = 2.1`: the rule of thumb from Internet latency measurements
(one-way latency ≈ line-of-sight distance × 2.1 / speed of light in fibre; Bozkurt et al. 2018, summarising
the measurement campaigns of Singla et al. 2014). :math:`t_{overhead}` (default 10 ms, an estimate) covers
load balancers, gateways and last-mile access.

Routing
-------
Each user region :math:`u` (share :math:`s_u` of the demand :math:`D_t`) ranks the placements by the policy's
cost (distance, latency, site energy price or grid carbon intensity at the step; ``weighted`` splits by fixed
shares first). Capacity-aware water-filling: in round :math:`r` every user offers its pending demand to its
:math:`r`-th choice; a placement accepts up to its remaining capacity, shared pro rata between the users
offering; what is refused moves to each user's next choice. Demand left after every round (all placements
full) goes to the user's first *available* choice, where the fleet model drops or queues it as for one site;
demand with no available placement at all is dropped at routing (``unrouted``). Hence per step, exactly:

.. math:: \\sum_{u,p} a_{t,u,p} + \\text{unrouted}_t = D_t

References
----------
- Bozkurt, I. N., Aqeel, W., Bhattacherjee, D., et al. (2018). Dissecting Latency in the Internet's Fiber
  Infrastructure. arXiv:1811.10737 (rule of thumb: distance × 2.1 / speed of light in fibre).
- Singla, A., Chandrasekaran, B., Godfrey, P. B., Maggs, B. (2014). The Internet at the speed of light.
  ACM HotNets 2014 (latency inflation over the c-latency of the great-circle path).
- ITU-T G.652 (2016) single-mode fibre; group index ≈ 1.467 at 1550 nm → 2.04·10^5 km/s.
- Moritz, H. (2000). Geodetic Reference System 1980. J. Geodesy 74, 128-133 (mean Earth radius 6371.0 km).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_KM",
    "FIBRE_SPEED_KM_PER_S",
    "ROUTE_FACTOR",
    "RoutingResult",
    "failover_fraction",
    "great_circle_km",
    "network_rtt_s",
    "outage_stretches",
    "preference_rank",
    "route_demand",
]

FloatArray = npt.NDArray[np.float64]

#: Mean Earth radius [km] (GRS 80 / IUGG; Moritz 2000).
EARTH_RADIUS_KM = 6371.0
#: Speed of light in single-mode fibre [km/s]: c / n_g with group index ≈ 1.47-1.5 (ITU-T G.652): 4.9-5.0 µs/km.
FIBRE_SPEED_KM_PER_S = 2.0e5
#: Route inflation of Internet paths over the great-circle distance [-] (Bozkurt et al. 2018, rule of thumb
#: from earlier measurement campaigns incl. Singla et al. 2014).
ROUTE_FACTOR = 2.1


def great_circle_km(
    lat1_deg: npt.ArrayLike, lon1_deg: npt.ArrayLike, lat2_deg: npt.ArrayLike, lon2_deg: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance [km] between points (haversine formula on a sphere of :data:`EARTH_RADIUS_KM`).

    .. math:: d = 2R \\arcsin\\sqrt{\\sin^2(Δφ/2) + \\cos φ_1 \\cos φ_2 \\sin^2(Δλ/2)}

    Arguments broadcast against each other.
    """
    p1, p2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2_deg, dtype=float) - np.asarray(lon1_deg, dtype=float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=float)


def network_rtt_s(
    distance_km: npt.ArrayLike,
    route_factor: float = ROUTE_FACTOR,
    fibre_speed_km_per_s: float = FIBRE_SPEED_KM_PER_S,
    overhead_s: float = 0.0,
) -> FloatArray:
    """Network round-trip time [s]: :math:`2 d f_{route} / v_{fibre} + t_{overhead}` (module docstring).

    Parameters
    ----------
    distance_km
        Great-circle distance [km].
    route_factor
        Path length / great-circle distance [-] (default 2.1, Bozkurt et al. 2018).
    fibre_speed_km_per_s
        Propagation speed in fibre [km/s] (default 2.0e5).
    overhead_s
        Fixed extra time per round trip [s] (gateways, access network).
    """
    d = np.asarray(distance_km, dtype=float)
    return np.asarray(2.0 * d * route_factor / fibre_speed_km_per_s + overhead_s, dtype=float)


def preference_rank(cost: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Placements in order of preference along the last axis (lowest cost first; ties keep declaration order)."""
    return np.argsort(np.asarray(cost, dtype=float), axis=-1, kind="stable").astype(np.int64)


@dataclass(frozen=True)
class RoutingResult:
    """Demand routed per step, user region and placement."""

    assigned_rps: FloatArray
    """(T, U, P) request rate sent by user region ``u`` to placement ``p`` [1/s]."""
    unrouted_rps: FloatArray
    """(T,) demand with no available placement [1/s] (dropped at routing)."""
    overflow_rps: FloatArray
    """(T,) demand beyond every placement's capacity, sent to a first available choice anyway [1/s]."""

    @property
    def placement_rps(self) -> FloatArray:
        """(T, P) request rate per placement [1/s]."""
        return np.asarray(self.assigned_rps.sum(axis=1))


def route_demand(
    demand_rps: npt.ArrayLike,
    user_share_frac: npt.ArrayLike,
    rank: npt.ArrayLike,
    capacity_rps: npt.ArrayLike,
    available: npt.ArrayLike | None = None,
) -> RoutingResult:
    """Capacity-aware routing of demand by preference (module docstring: water-filling by rounds).

    Parameters
    ----------
    demand_rps
        (T,) total demand [1/s].
    user_share_frac
        (U,) share of the demand from each user region (sums to 1).
    rank
        Placement indices in order of preference, broadcast to (T, U, P): (P,), (U, P), (T, 1, P) (the same
        for every user) or (T, U, P).
    capacity_rps
        (T, P) or (P,) demand each placement can take [1/s] (``inf``: unlimited).
    available
        (T, P) or (P,) bool: placements that can take demand at all (default all). An unavailable placement
        takes nothing, not even overflow.

    Returns
    -------
    RoutingResult
        ``assigned_rps.sum((1, 2)) + unrouted_rps == demand_rps`` per step.
    """
    D = np.asarray(demand_rps, dtype=float)
    T = D.size
    share = np.asarray(user_share_frac, dtype=float)
    U = share.size
    cap = np.asarray(capacity_rps, dtype=float)
    P = cap.shape[-1]
    cap = np.broadcast_to(cap, (T, P)).astype(float)
    avail = np.ones((T, P), dtype=bool) if available is None else np.broadcast_to(available, (T, P))
    cap = np.where(avail, np.maximum(cap, 0.0), 0.0)
    rk = np.broadcast_to(np.asarray(rank, dtype=np.int64), (T, U, P))
    pending = D[:, None] * share[None, :]  # (T, U)
    assigned = np.zeros((T, U, P))
    remaining = cap.copy()
    places = np.arange(P)
    for r in range(P):
        onehot = rk[:, :, r, None] == places  # (T, U, P)
        offered = pending[:, :, None] * onehot
        total = offered.sum(axis=1)  # (T, P)
        frac = np.ones_like(total)
        np.divide(remaining, total, out=frac, where=total > remaining)
        acc = offered * np.clip(frac, 0.0, 1.0)[:, None, :]
        assigned += acc
        remaining = np.maximum(remaining - acc.sum(axis=1), 0.0)
        pending = np.maximum(pending - acc.sum(axis=2), 0.0)
    # demand beyond all capacity: each user's first available choice (dropped or queued there)
    first = np.full((T, U), -1, dtype=np.int64)
    for r in range(P - 1, -1, -1):
        choice = rk[:, :, r]
        ok = np.take_along_axis(avail, choice, axis=1)
        first = np.where(ok, choice, first)
    has = first >= 0
    over = np.where(has, pending, 0.0)
    ui, ti = np.meshgrid(np.arange(U), np.arange(T))
    np.add.at(assigned, (ti[has], ui[has], first[has]), over[has])
    unrouted = np.where(has, 0.0, pending).sum(axis=1)
    return RoutingResult(assigned, unrouted, over.sum(axis=1))


def outage_stretches(down: npt.ArrayLike) -> list[tuple[int, int]]:
    """``(first, end)`` step indices (end exclusive) of each stretch of ``True`` in a (T,) bool array."""
    d = np.asarray(down, dtype=bool).astype(np.int8)
    edges = np.diff(np.concatenate([[0], d, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def failover_fraction(
    down: npt.ArrayLike, step_s: float, delay_s: float, recovery_s: float = 0.0
) -> FloatArray:
    """Share of each step during which the router sends nothing to a placement that lost service.

    An outage stretch of steps ``[a, b)`` (``down``, (T,) or (T, P) bool) is detected ``delay_s`` after it
    starts; from then until ``recovery_s`` after it ends (replicas cold-starting) the placement is excluded.
    Step ``k`` [k·Δ, (k+1)·Δ) is excluded for the share of it after ``a·Δ + delay_s`` and before
    ``b·Δ + recovery_s``.

    Returns
    -------
    ndarray
        Same shape as ``down``, in [0, 1].
    """
    d = np.asarray(down, dtype=bool)
    two_d = d.reshape(d.shape[0], -1)
    out = np.zeros(two_d.shape)
    T = two_d.shape[0]
    starts = np.arange(T) * step_s
    for p in range(two_d.shape[1]):
        for a, b in outage_stretches(two_d[:, p]):
            t0 = a * step_s + delay_s
            t1 = b * step_s + recovery_s
            if t1 <= t0:
                continue
            k0 = a
            k1 = min(T, int(np.ceil(t1 / step_s - 1e-9)))
            s = starts[k0:k1]
            cover = np.clip(np.minimum(s + step_s, t1) - np.maximum(s, t0), 0.0, step_s) / step_s
            out[k0:k1, p] = np.maximum(out[k0:k1, p], cover)
    return out.reshape(d.shape)
