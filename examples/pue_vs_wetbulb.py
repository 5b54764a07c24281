"""PUE versus ambient wet-bulb temperature for every cooling design (the figure in docs/models/facility.md).

Each design runs a typical year of Greensboro NC and Miami FL weather (NREL TMY3/TMY2 shipped with gigawatt) and of
Phoenix AZ and Singapore (synthesized from 1991-2020 normals) at 75 % of its design IT load; hourly PUE is binned by wet bulb and
the bin medians are plotted. Writes ``pue_vs_wetbulb.png`` and ``pue_vs_wetbulb.csv`` into the directory given
as the first argument (default ``out/``).

Run: ``python examples/pue_vs_wetbulb.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gigawatt.physics import facility, weather
from gigawatt.physics.cooling_designs import cooling_design, cooling_designs

DESIGNS = list(cooling_designs())  # every design, in catalog order
CLIMATES = ["greensboro", "phoenix", "miami", "singapore"]
LOAD_FRAC = 0.75


def hourly_pue() -> pd.DataFrame:
    """Hourly PUE of every design in every climate (long table)."""
    times = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")
    n = len(DESIGNS)
    legacy = [d == "air_legacy" for d in DESIGNS]
    plant = facility.build_facility_plant(
        cooling_presets=DESIGNS,
        design_it_kw=np.full(n, 10_000.0),
        redundancy=["2N" if x else "N+1" for x in legacy],
        ups_kind=["ups_double_conversion" if x else "ups_modern" for x in legacy],
        pdu_kind=["pdu_legacy" if x else "pdu" for x in legacy],
    )
    frames = []
    for name in CLIMATES:
        df, meta = weather.load_climate(name)
        wx = weather.to_simulation_clock(df, times, meta["tz_offset_h"])
        db = wx["dry_bulb_c"].to_numpy()[:, None]
        wb = wx["wet_bulb_c"].to_numpy()[:, None]
        it = np.full((len(times), n), LOAD_FRAC * 10_000.0)
        out = facility.facility_flows(plant, 0.3 * it, 0.7 * it, db, wb, step_s=3600.0)
        for i, d in enumerate(DESIGNS):
            frames.append(
                pd.DataFrame(
                    {
                        "climate": name,
                        "design": d,
                        "wet_bulb_c": wb[:, 0],
                        "dry_bulb_c": db[:, 0],
                        "pue": out["pue"][:, i],
                        "throughput_frac": out["throughput_frac"][:, i],
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def binned(table: pd.DataFrame, width_c: float = 2.0, min_hours: int = 20) -> pd.DataFrame:
    """Median PUE per design in wet-bulb bins of ``width_c`` (bins with fewer than ``min_hours`` dropped)."""
    t = table.assign(wet_bulb_bin_c=(np.floor(table["wet_bulb_c"] / width_c) + 0.5) * width_c)
    g = t.groupby(["design", "wet_bulb_bin_c"])["pue"]
    out = g.median().to_frame("pue_median")
    out["hours"] = g.size()
    return out[out["hours"] >= min_hours].reset_index()


def main(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = binned(hourly_pue())
    table.to_csv(out_dir / "pue_vs_wetbulb.csv", index=False)
    fig, ax = plt.subplots(figsize=(8, 5))
    for d in DESIGNS:
        sub = table[table["design"] == d]
        liquid = cooling_design(d).liquid_capture_frac > 0.5
        ax.plot(
            sub["wet_bulb_bin_c"], sub["pue_median"], marker="o", ms=3, ls="-" if liquid else "--", label=d
        )
    ax.set_xlabel("Ambient wet-bulb temperature [°C]")
    ax.set_ylabel("PUE (median of hours) [-]")
    ax.set_title(f"PUE vs wet bulb at {LOAD_FRAC:.0%} IT load (Greensboro, Phoenix, Miami, Singapore)")
    ax.grid(alpha=0.3)
    ax.legend(ncol=2, fontsize=8)
    fig.tight_layout()
    path = out_dir / "pue_vs_wetbulb.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out")))
