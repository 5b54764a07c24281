"""Benchmark: a fleet that changes over time — 5 years of a 1 GW campus at 1-hour steps.

Target (issue "Capacity over time"): ``simulate`` in at most 60 s on the 2-core reference machine.

The campus: four 250 MW halls of GB200 NVL72 racks (≈ 132 kW per rack, NVIDIA 2024; 1,875 racks and 135,000
GPUs per hall) commissioned in two phases each over the first three years; one hall starts with an H100
rack group refreshed onto B300 at the end of year 3 (the H100 group decommissioned and the B300 group
commissioned at the same date). A grid connection energised before the first hall, synthetic climate, one
daily utilisation profile per hall (rack groups that do not exist yet draw nothing; the profile applies to
the installed GPUs). 43,848 control steps, 4 halls, 9 rack groups, 568,800 accelerators.

Measured on the shared 2-core machine (December 2026, other jobs running): 1.7-3.7 s with the dates,
1.6-3.5 s for the same campus with every rack installed throughout (the dates cost ≈ 5 %).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

import gigawatt as gw

YEARS = 5


def nvl72(name: str, count: int, **dates: str) -> dict[str, Any]:
    return {
        "name": name,
        "count": count,
        "servers_per_rack": 18,
        "server": {
            "accelerator": "GB200",
            "accelerators_per_server": 4,
            "host_overhead_w": 2200,
            "cooling_variant": "liquid",
        },
        **dates,
    }


def campus_1gw(years: int = YEARS, step_s: float = 3600.0) -> dict[str, Any]:
    """The phased 1 GW campus described in the module docstring, as a scenario mapping."""
    halls = []
    for h in range(4):
        y0 = 2026 + h // 2  # halls 1-2 in 2026/27, halls 3-4 a year later
        m = 3 + 6 * (h % 2)
        racks = [
            nvl72("phase-1", 938, commission_date=f"{y0}-{m:02d}-01"),
            nvl72("phase-2", 937, commission_date=f"{y0 + 1}-{m:02d}-01"),
        ]
        if h == 0:  # an H100 air-cooled build refreshed onto B300 at the end of year 3
            racks[1]["commission_date"] = "2028-12-31"
            racks.append(
                {
                    "name": "h100",
                    "count": 900,
                    "servers_per_rack": 4,
                    "server": {"accelerator": "H100-SXM", "host_overhead_w": 4600},
                    "commission_date": "2026-03-01",
                    "decommission_date": "2028-12-31",
                }
            )
        halls.append(
            {
                "name": f"hall-{h + 1}",
                "cooling": {"technology": "dlc"},
                "commission_date": f"{y0}-{m:02d}-01",
                "design_it_capacity_mw": 260,
                "racks": racks,
            }
        )
    return {
        "name": "campus-1gw-5y",
        "start": "2026-01-01T00:00:00",
        "horizon_h": 24 * 365 * years + 24 * (years // 4 + 1),
        "step_s": step_s,
        "seed": 1,
        "sites": [
            {
                "name": "campus",
                "location": {"latitude_deg": 32.0, "longitude_deg": -97.0, "country_code": "US"},
                "climate": {"kind": "synthetic", "annual_mean_dry_bulb_c": 19.0},
                "grid": {"import_capacity_mw": 1500, "energisation_date": "2026-02-01"},
                "halls": halls,
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": f"load-{h + 1}",
                "target": {"hall": f"hall-{h + 1}"},
                "profile": {"kind": "daily", "utilization_frac": [0.6, 0.7, 0.9, 0.8]},
            }
            for h in range(4)
        ],
    }


def main() -> None:
    sc = gw.load_scenario(campus_1gw())
    print(
        f"{sc.name}: {sc.n_steps:,} steps, {len(sc.sites[0].halls)} halls, {sc.n_accelerators:,} accelerators"
    )
    t, res = best_of(lambda: gw.simulate(sc), repeat=2)
    s = res.summary()
    print(f"simulate: {t:.1f} s (target <= 60 s)")
    flat = campus_1gw()
    for hall in flat["sites"][0]["halls"]:
        hall.pop("commission_date")
        hall["racks"] = [
            {k: v for k, v in rg.items() if not k.endswith("commission_date")} for rg in hall["racks"][:2]
        ]
    t0, _ = best_of(lambda: gw.simulate(flat), repeat=2)
    print(f"same campus with every rack installed throughout (no dates): {t0:.1f} s")
    print(
        f"peak installed {s['peak_installed_gpus']:,.0f} GPUs, {s['peak_installed_it_capacity_mw']:.0f} MW; "
        f"facility energy {s['facility_energy_mwh'] / 1e6:.2f} TWh"
    )


if __name__ == "__main__":
    main()
