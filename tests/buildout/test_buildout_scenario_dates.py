"""A build-out draw's online dates, written into a scenario by dotted path, simulate (fleet over time)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from numpy.testing import assert_allclose

import gigawatt as gw
from gigawatt.buildout import load_buildout, run_buildout


def _campus(n_halls: int = 4) -> dict[str, Any]:
    """A small stand-in for the 1 GW campus of ``examples/buildout/campus_1gw.yaml`` (same site and hall
    names), 8 years at 1-day steps, one utilisation workload per hall."""
    halls = [
        {
            "name": f"hall-{h + 1}",
            "cooling": {"technology": "dlc"},
            "racks": [
                {
                    "name": "nvl72",
                    "count": 2,
                    "servers_per_rack": 18,
                    "server": {
                        "accelerator": "GB200",
                        "accelerators_per_server": 4,
                        "host_overhead_w": 2200,
                        "cooling_variant": "liquid",
                    },
                }
            ],
        }
        for h in range(n_halls)
    ]
    return {
        "name": "campus",
        "start": "2026-01-05T00:00:00",
        "horizon_h": 24 * 7 * 52 * 8,
        "step_s": 86400,
        "sites": [
            {
                "name": "campus",
                "location": {"latitude_deg": 32.0, "longitude_deg": -97.0, "country_code": "US"},
                "climate": {"kind": "constant", "dry_bulb_c": 20.0},
                "halls": halls,
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": f"u{h + 1}",
                "target": {"hall": f"hall-{h + 1}"},
                "profile": {"kind": "constant", "utilization_frac": 0.8},
            }
            for h in range(n_halls)
        ],
    }


def test_scenario_updates_of_a_draw_simulate() -> None:
    plan = load_buildout("examples/buildout/campus_1gw.yaml")
    draws = run_buildout(plan, draws=20, seed=1)
    ups = draws.scenario_updates(0)
    assert set(ups) == {f"sites[campus].halls[hall-{h}].commission_date" for h in range(1, 5)}
    sc = gw.load_scenario(_campus()).updated(ups)
    dates = {h.name: h.commission_date for h in sc.sites[0].halls}
    assert all(d is not None for d in dates.values())
    ts = gw.simulate(sc).timeseries
    for h in range(1, 5):
        on = pd.Timestamp(dates[f"hall-{h}"])
        col = ts[f"campus/hall-{h}:installed_gpus"]
        assert_allclose(col[col.index < on - pd.Timedelta(days=1)], 0.0, rtol=0, atol=1e-12)
        assert_allclose(col[col.index >= on], 144.0, rtol=0, atol=1e-12)
        p = ts[f"campus/hall-{h}:facility_power_mw"]
        assert_allclose(p[p.index < on - pd.Timedelta(days=1)], 0.0, rtol=0, atol=1e-12)
        assert (p[p.index >= on] > 0).all()
