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
