"""Validation: a tight-cooling hall shows Llama 3's 1-2 % diurnal throughput variation.

"The Llama 3 Herd of Models" (Meta, 2024), §3.3.4: "we observe diurnal 1-2 % throughput variation based on
time-of-day. This fluctuation is the result of higher mid-day temperatures impacting GPU dynamic voltage and
frequency scaling." We model a hall whose accelerator coolant floats with the weather: direct-to-chip liquid
on dry coolers without chillers (``dlc_dry``), in the humid-subtropical Greensboro NC typical year, running its
design training load at 5-minute steps through the summer. The coolant supply rises above its design set
point on warm afternoons and the chip derate (:data:`gigawatt.physics.it_power.CHIP_DERATE_PER_C`) lowers
throughput; the mean daily max-min throughput swing over the summer lands in 1-2 %. The chip derate was
calibrated on this very figure, so the swing is not independent evidence; the timing of the dip (afternoon)
is not calibrated. Greensboro is a real TMY3 file (NREL NSRDB).
"""

import numpy as np
import pandas as pd

from gigawatt.physics import facility as fm
from gigawatt.physics import weather as w


def test_tight_cooling_diurnal_throughput_variation(validation) -> None:
    times = pd.date_range("2026-06-01", "2026-08-31 23:55", freq="5min")
    df, meta = w.load_climate("greensboro")
    wx = w.to_simulation_clock(df, times, meta["tz_offset_h"])
    db = wx["dry_bulb_c"].to_numpy()[:, None]
    wb = wx["wet_bulb_c"].to_numpy()[:, None]
    # tight: cooling sized exactly for the design heat (no spare units), the cluster runs at its design IT load
    plant = fm.build_facility_plant(
        cooling_presets=["dlc_dry"], design_it_kw=[10_000.0], redundancy=["N+1"], cooling_capacity_frac=1.0
    )
    fixed = np.full((len(times), 1), 2_800.0)
    dyn = np.full((len(times), 1), 7_200.0)
    out = fm.facility_flows(plant, fixed, dyn, db, wb, step_s=300.0)
    x = pd.Series(out["throughput_frac"][:, 0], index=times)
    swing = x.resample("D").max() - x.resample("D").min()
    hours = x.groupby(x.index.date).idxmin().map(lambda t: t.hour)
    src = "Llama 3 Herd of Models (arXiv:2407.21783) §3.3.4"
    validation(
        "Mean daily max-min throughput swing [%], dlc_dry hall at design load, Greensboro NC (real TMY3), "
        "Jun-Aug, 5-min steps",
        model=f"{100 * swing.mean():.2f} %",
        reference="1-2 %",
        tolerance="1-2 % asserted. CALIBRATED: the chip derate (0.25 %/K) was chosen to reproduce this "
        "figure, so this is not independent evidence",
        source=src + ": 'diurnal 1-2 % throughput variation based on time-of-day'",
        kind="calibrated",
        within=bool(0.01 <= swing.mean() <= 0.02),
    )
    validation(
        "Share of summer days whose lowest throughput falls between 12:00 and 19:00 local time",
        model=round(float(((hours >= 12) & (hours <= 19)).mean()), 3),
        reference="mid-day",
        tolerance="> 0.6 (shape only: the paper gives no share)",
        source=src + ": 'higher mid-day temperatures impacting GPU dynamic voltage and frequency scaling'",
        kind="independent",
        within=bool(((hours >= 12) & (hours <= 19)).mean() > 0.6),
    )
    validation(
        "Largest thermal overload over the summer [fraction of heat load] (the dip is DVFS, not lack of "
        "cooling capacity)",
        model=float((out["thermal_overload_kw"] / out["heat_load_kw"]).max()),
        reference=0.0,
        tolerance="≤ 1e-6",
        source="condition of the set-up (cooling sized for the design heat): the dip must come from the derate",
        kind="invariant",
    )
    assert 0.01 <= swing.mean() <= 0.02  # Llama 3 §3.3.4: 1-2 % diurnal throughput variation
    # the loss happens in the afternoon: lowest throughput between 12:00 and 19:00 local time on most days
    assert ((hours >= 12) & (hours <= 19)).mean() > 0.6
    # and it is driven by the coolant temperature, not by running out of capacity
    assert np.all(out["thermal_overload_kw"] <= 1e-6 * out["heat_load_kw"])
