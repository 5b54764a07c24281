"""An inference service on three sites (Virginia, Oregon, Frankfurt) with users in New York, San Francisco and
London (inference model §9): requests are conserved through routing and serving, the network round trip added
to TTFT is the hand-computed one for known city pairs, and when Virginia's grid is disconnected (no backup, its
hall dark for 2 h) all its traffic moves to the other sites within the failover delay.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from tests.multisite_case import OUTAGE, three_sites_dict

import gigawatt

DELAY_S = 120.0
ROUTE = "Bozkurt et al. 2018 (arXiv:1811.10737): one-way latency ≈ distance × 2.1 / speed of light in fibre"


@pytest.fixture(scope="module")
def outage() -> gigawatt.Result:
    return gigawatt.simulate(three_sites_dict("nearest", outage=True, failover_delay_s=DELAY_S))


@pytest.fixture(scope="module")
def free() -> gigawatt.Result:
    return gigawatt.simulate(three_sites_dict("nearest"))


def _hand_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great circle by the spherical law of cosines (an independent formula from the model's haversine)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))


def test_requests_are_conserved_through_routing_failover_and_serving(
    outage: gigawatt.Result, validation
) -> None:
    ts = outage.timeseries
    resid = float(np.abs(ts["chat:served_rps"] + ts["chat:dropped_rps"] - ts["chat:demand_rps"]).max())
    routed = (
        sum(ts[f"chat@{n}:demand_rps"] for n in ("virginia", "oregon", "frankfurt")) + ts["chat:unrouted_rps"]
    )
    resid_r = float(np.abs(routed - ts["chat:demand_rps"]).max())
    validation(
        "3 sites, nearest, 2 h grid outage at one site: max |served + dropped − demand| per step [1/s]",
        model=resid,
        reference=0.0,
        tolerance="≤ 1e-9 × peak demand",
        source="conservation of requests (model invariant)",
        kind="invariant",
    )
    validation(
        "Same run: max |Σ routed to placements + unrouted − demand| per step [1/s]",
        model=resid_r,
        reference=0.0,
        tolerance="≤ 1e-9 × peak demand",
        source="conservation of requests in the router (model invariant)",
        kind="invariant",
    )
    peak = float(ts["chat:demand_rps"].max())
    assert resid <= 1e-9 * peak and resid_r <= 1e-9 * peak


@pytest.mark.parametrize(
    ("placement", "user", "site"),
    [
        ("frankfurt", (51.51, -0.13), (50.11, 8.68)),  # London -> Frankfurt
        ("virginia", (40.71, -74.01), (39.04, -77.49)),  # New York -> Ashburn, Virginia
        ("oregon", (37.77, -122.42), (45.60, -121.18)),  # San Francisco -> The Dalles, Oregon
    ],
)
def test_network_round_trip_matches_the_hand_calculation(
    placement: str, user: tuple, site: tuple, validation
) -> None:
    r = gigawatt.simulate(three_sites_dict("nearest"))
    ts = r.timeseries
    model = float(ts[f"chat@{placement}:network_rtt_s"].iloc[0])
    d_km = _hand_km(*user, *site)
    hand = 2.0 * d_km * 2.1 / 2.0e5 + 0.01
    validation(
        f"RTT to {placement} from its nearest user region ({d_km:.0f} km great circle) [s]",
        model=model,
        reference=hand,
        tolerance="rtol 1e-6",
        source=f"hand calculation: 2 d × 2.1 / 2.0e5 km/s + 10 ms; {ROUTE}",
        kind="theory",
    )
    assert_allclose(model, hand, rtol=1e-6)
    # TTFT percentiles at the site include the round trip (p50 above it; p99 above p50)
    served = ts[f"chat@{placement}:served_rps"] > 0
    assert (ts.loc[served, f"chat@{placement}:ttft_p50_s"] > model).all()


def test_new_york_london_round_trip_is_the_rule_of_thumb(validation) -> None:
    from gigawatt.perf.routing import great_circle_km, network_rtt_s

    d = float(great_circle_km(40.71, -74.01, 51.51, -0.13))
    validation(
        "Great circle New York - London [km]",
        model=d,
        reference=5570.0,
        tolerance="±15 km (city-centre coordinates)",
        source="published great-circle distance NYC-London ≈ 5,570 km (3,461 mi); hand calculation",
        kind="theory",
    )
    assert abs(d - 5570.0) < 15.0
    rtt = float(network_rtt_s(d))
    validation(
        "RTT New York - London without overhead [s]",
        model=rtt,
        reference=2 * 5570.0 * 2.1 / 2.0e5,
        tolerance="rtol 0.003 (distance)",
        source=ROUTE,
        kind="theory",
    )
    assert_allclose(rtt, 2 * 5570.0 * 2.1 / 2.0e5, rtol=3e-3)


def test_a_site_outage_moves_all_its_traffic_within_the_failover_delay(
    outage: gigawatt.Result, free: gigawatt.Result, validation
) -> None:
    ts = outage.timeseries
    step_s = 300.0
    t0, t1 = pd.Timestamp(OUTAGE[0]), pd.Timestamp(OUTAGE[1])
    k0 = int(ts.index.get_loc(t0))
    k1 = int(ts.index.get_loc(t1))
    vir = ts["chat@virginia:demand_rps"].to_numpy()
    # from the first step entirely after the delay until the outage ends, nothing is sent to Virginia
    k_moved = k0 + math.ceil(DELAY_S / step_s)
    sent_after = float(np.abs(vir[k_moved:k1]).max())
    validation(
        "2 h outage of Virginia, failover delay 120 s: largest demand still sent there after the delay [1/s]",
        model=sent_after,
        reference=0.0,
        tolerance="≤ 1e-12",
        source="failover (model invariant)",
        kind="invariant",
    )
    assert sent_after <= 1e-12
    # in the step of the outage start, Virginia keeps exactly the share of the step before detection
    nominal = float(free.timeseries["chat@virginia:demand_rps"].iloc[k0])
    kept = float(vir[k0])
    validation(
        "Same: demand sent to Virginia in the outage's first step / nominal",
        model=kept / nominal,
        reference=DELAY_S / step_s,
        tolerance="rtol 1e-9",
        source="failover delay / step (model invariant)",
        kind="invariant",
    )
    assert_allclose(kept / nominal, DELAY_S / step_s, rtol=1e-9)
    # what is lost is only that: the others take the rest (nothing dropped there in the outage)
    lost = float(ts["chat:dropped_rps"].iloc[k0:k1].sum() * step_s)
    assert_allclose(lost, kept * step_s, rtol=1e-6)
    s = outage.summary()
    assert_allclose(s["chat:failover_time_s_max"], DELAY_S, rtol=1e-12)
    ev = outage.events
    fo = ev[ev["kind"] == "failover"]
    assert len(fo) == 1 and fo["placement"].iloc[0] == "virginia"
    assert_allclose(fo["duration_s"].iloc[0], (t1 - t0).total_seconds(), rtol=1e-12)
    others = ts["chat@oregon:served_rps"] + ts["chat@frankfurt:served_rps"]
    assert (others.iloc[k_moved:k1] > free.timeseries["chat@oregon:served_rps"].iloc[k_moved:k1]).all()
