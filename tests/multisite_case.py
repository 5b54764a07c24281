"""A three-site inference case shared by the multi-site routing tests (Virginia, Oregon, Frankfurt)."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import small_scenario_dict

#: (name, latitude, longitude, country, price USD/MWh, carbon gCO2/kWh): illustrative values.
SITES = (
    ("virginia", 39.04, -77.49, "US", 60.0, 380.0),
    ("oregon", 45.60, -121.18, "US", 75.0, 120.0),
    ("frankfurt", 50.11, 8.68, "DE", 110.0, 330.0),
)
#: User regions: New York, San Francisco, London.
USERS = (
    {"name": "new-york", "latitude_deg": 40.71, "longitude_deg": -74.01, "share_frac": 0.5},
    {"name": "san-francisco", "latitude_deg": 37.77, "longitude_deg": -122.42, "share_frac": 0.2},
    {"name": "london", "latitude_deg": 51.51, "longitude_deg": -0.13, "share_frac": 0.3},
)


#: A grid disconnection of Virginia (no backup): 10:00-12:00 UTC on the first day.
OUTAGE = ("2026-07-01T10:00:00", "2026-07-01T12:00:00")


def three_sites_dict(
    policy: str = "nearest", peak_rps: float = 20.0, outage: bool = False, **routing: Any
) -> dict[str, Any]:
    """Three sites with one air-cooled H100 hall each (320 GPUs) and a chat service placed on all three
    (160 GPUs each); ``outage``: Virginia's grid is disconnected during :data:`OUTAGE`."""
    d = small_scenario_dict(horizon_h=24)
    hall = copy.deepcopy(d["sites"][0]["halls"][1])  # "air": 10 racks x 4 servers x 8 H100
    sites = []
    for name, lat, lon, cc, price, co2 in SITES:
        s = copy.deepcopy(d["sites"][0])
        s.update(
            name=name,
            location={"latitude_deg": lat, "longitude_deg": lon, "country_code": cc},
            grid={"energy_price_usd_per_mwh": price, "carbon_intensity_gco2_per_kwh": co2},
            halls=[copy.deepcopy(hall)],
        )
        sites.append(s)
    if outage:
        sites[0]["grid"]["import_capacity_mw"] = 50.0
        sites[0]["grid"]["curtailment_windows"] = [
            {"start": OUTAGE[0], "end": OUTAGE[1], "cap_frac": 0.0, "reason": "grid outage"}
        ]
    d["sites"] = sites
    r: dict[str, Any] = {"policy": policy, "users": [dict(u) for u in USERS]}
    r.update(routing)
    d["workloads"] = [
        {
            "kind": "inference",
            "name": "chat",
            "placements": [{"target": {"hall": f"{n}/air", "gpus": 160}} for n, *_ in SITES],
            "routing": r,
            "model": "Llama-3-70B",
            "serving": {"tensor_parallel": 4},
            "slo": {"ttft_s": 1.5, "tpot_s": 0.1},
            "autoscaling": {"scale_up_delay_s": 300},
            "demand": {"kind": "profile", "peak_rps": peak_rps, "daily_trough_frac": 0.3},
        }
    ]
    return d
