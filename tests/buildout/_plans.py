"""Small build-out plans shared by the build-out tests."""

from __future__ import annotations

from typing import Any


def fixed(weeks: float) -> dict[str, Any]:
    return {"distribution": "fixed", "mode_weeks": weeks}


def tri(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"distribution": "triangular", "low_weeks": low, "mode_weeks": mode, "high_weeks": high}


def two_hall_plan(**over: Any) -> dict[str, Any]:
    """Grid (fixed 100 weeks) feeding two halls; hall-b waits for hall-a; fixed lead times throughout."""
    d: dict[str, Any] = {
        "start_date": "2026-01-05",
        "seed": 3,
        "draws": 200,
        "phases": [
            {
                "name": "grid",
                "items": [{"name": "interconnection", "lead_time": fixed(100), "order_week": -20}],
            },
            {
                "name": "hall-a",
                "gpus": 1000,
                "it_power_mw": 2.0,
                "after": ["grid"],
                "target_online_week": 90,
                "items": [
                    {"name": "transformer", "lead_time": fixed(60), "order_week": 10},
                    {"name": "gpus", "lead_time": fixed(20), "order_week": 50},
                    {"name": "commissioning", "lead_time": fixed(5), "after": ["transformer", "gpus"]},
                ],
            },
            {
                "name": "hall-b",
                "gpus": 500,
                "it_power_mw": 1.0,
                "after": ["hall-a"],
                "decommission_week": 300,
                "items": [
                    {"name": "gpus", "lead_time": fixed(30), "order_week": 0, "after": ["hall-a/gpus"]}
                ],
            },
        ],
    }
    d.update(over)
    return d


def _racks(name: str, count: int = 2, **over: Any) -> dict[str, Any]:
    return {
        "name": name,
        "count": count,
        "servers_per_rack": 4,
        "server": {"accelerator": "H100-SXM", "host_overhead_w": 4600},
        **over,
    }


#: The target dates of :func:`fleet_with_plan` (start 2026-01-05 + 60 and 100 weeks).
HALL_A_TARGET = "2027-03-01"
HALL_B_TARGET = "2027-12-06"


def fleet_with_plan() -> dict[str, Any]:
    """A scenario whose ``buildout`` brings its fleet online: phase ``hall-a`` brings hall ``hall-a`` online
    (target week 60), phase ``hall-b`` refreshes rack group ``old`` of the existing hall ``hall-b`` onto B300
    (the new group ``old-refresh1``, target week 100, at the refresh date). Three years at 1-day steps."""
    return {
        "name": "fleet-with-plan",
        "start": "2026-01-05T00:00:00",
        "horizon_h": 24 * 365 * 3,
        "step_s": 86400,
        "sites": [
            {
                "name": "campus",
                "location": {"latitude_deg": 32.0, "longitude_deg": -97.0, "country_code": "US"},
                "climate": {"kind": "constant", "dry_bulb_c": 20.0},
                "halls": [
                    {"name": "hall-a", "cooling": {"technology": "dlc"}, "racks": [_racks("a1")]},
                    {
                        "name": "hall-b",
                        "cooling": {"technology": "dlc"},
                        "racks": [
                            _racks("old", refresh={"date": HALL_B_TARGET, "accelerator": "B300"}),
                            _racks("keep", count=1),
                        ],
                    },
                ],
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": f"load-{h}",
                "target": {"hall": f"hall-{h}"},
                "profile": {"kind": "constant", "utilization_frac": 0.8},
            }
            for h in ("a", "b")
        ],
        "buildout": {
            "name": "campus-plan",
            "start_date": "2026-01-05",
            "seed": 11,
            "draws": 400,
            "phases": [
                {"name": "grid", "items": [{"name": "interconnection", "lead_time": tri(20, 30, 45)}]},
                {
                    "name": "hall-a",
                    "gpus": 64,
                    "after": ["grid"],
                    "target_online_week": 60,
                    "brings_online": ["hall-a"],
                    "items": [
                        {"name": "transformer", "lead_time": tri(30, 40, 60), "order_week": 5},
                        {"name": "gpus", "lead_time": fixed(10), "order_week": 40},
                        {"name": "commissioning", "lead_time": fixed(2), "after": ["transformer", "gpus"]},
                    ],
                },
                {
                    "name": "hall-b",
                    "gpus": 64,
                    "after": ["hall-a"],
                    "target_online_week": 100,
                    "brings_online": ["hall-b/old-refresh1"],
                    "items": [{"name": "gpus", "lead_time": tri(10, 15, 30), "order_week": 60}],
                },
            ],
        },
    }
