"""Validation: water usage effectiveness of hyperscale evaporative designs.

Meta reports a data-center WUE of 0.26 L/kWh (2023 sustainability report, 2022 data) and Microsoft 0.30 L/kWh
(FY23), both for fleets cooled mainly by outside air with direct evaporative cooling on hot days. A fleet of
our direct-evaporative design (``air_evaporative``) spread over US climates where such fleets operate
(Greensboro NC ~ Forest City NC, Miami FL ~ the humid South-East, Phoenix AZ ~ Mesa AZ) must land in
0.2-0.5 L/kWh (asserted: a loose bound, since three sites are a crude proxy for a fleet); it is recorded against
the published 0.26-0.30 L/kWh and is outside it. Cooling-tower plants use several times more (~1.6-1.9 L/kWh:
all heat is evaporated; a physics estimate). Greensboro and Miami are real TMY files; Phoenix is a typical year
SYNTHESIZED from monthly climate normals. No per-site published WUE is compared yet (see docs/validation.md).
"""

import numpy as np
import pandas as pd

from gigawatt.physics import facility as fm
from gigawatt.physics import weather as w

TIMES = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")


def annual_wue(climate: str) -> np.ndarray:
    df, meta = w.load_climate(climate)
    wx = w.to_simulation_clock(df, TIMES, meta["tz_offset_h"])
    db = wx["dry_bulb_c"].to_numpy()[:, None]
    wb = wx["wet_bulb_c"].to_numpy()[:, None]
    plant = fm.build_facility_plant(
        cooling_presets=["air_evaporative", "air", "dlc_dry"],
        design_it_kw=np.full(3, 10_000.0),
        redundancy=["N+1"] * 3,
        ups_kind=["ups_eco"] * 3,
    )
    it = np.full((len(TIMES), 3), 7_500.0)
    out = fm.facility_flows(plant, 0.3 * it, 0.7 * it, db, wb, step_s=3600.0)
    return out["water_l"].sum(axis=0) / out["it_power_kw"].sum(axis=0)  # L per kWh (hourly steps)


def test_hyperscale_evaporative_fleet_wue(validation, regression_band, climate_label) -> None:
    climates = ("greensboro", "miami", "phoenix")
    fleet = np.array([annual_wue(c) for c in climates])
    evaporative = fleet[:, 0].mean()
    validation(
        "Annual WUE of a direct-evaporative (outside air) fleet, mean over Greensboro, Miami, Phoenix "
        "(SYNTHESIZED), 75 % IT load [L/kWh]",
        model=round(float(evaporative), 3),
        reference="0.26-0.30 (Meta 0.26, Microsoft 0.30)",
        tolerance="0.2-0.5 asserted (three sites as a proxy for a fleet); within = inside 0.26-0.30",
        source="Meta 2023 sustainability report: 0.26 L/kWh (2022 data); Microsoft: 0.30 L/kWh (FY23)",
        kind="independent",
        within=bool(0.26 <= evaporative <= 0.30),
    )
    for c, (evap, tower, dry) in zip(climates, fleet, strict=True):
        regression_band(
            f"{climate_label(c)}: annual WUE, direct evaporative [L/kWh]",
            model=round(float(evap), 3),
            band="< 0.9",
            reason="sanity bound per site; no published per-site figure is compared",
        )
        validation(
            f"{climate_label(c)}: annual WUE, cooling towers + water-side economizer [L/kWh]",
            model=round(float(tower), 3),
            reference="~1.6 (1.3 L/kWh evaporated × 1.25 blowdown at 5 cycles)",
            tolerance="1.5-2.0",
            source="latent heat of water and cycles of concentration (hand calculation, module docstring)",
            kind="theory",
        )
        validation(
            f"{c}: annual WUE, dry coolers [L/kWh]",
            model=float(dry),
            reference=0.0,
            tolerance="exactly 0",
            source="no evaporation (by construction)",
            kind="invariant",
        )
    assert 0.2 <= evaporative <= 0.5  # Meta 0.26 L/kWh (2022), Microsoft 0.30 L/kWh (FY23)
    assert np.all(fleet[:, 0] < 0.9)
    # cooling towers evaporate all the heat: ~1.3 L/kWh evaporation x 1.25 (blowdown at 5 cycles)
    assert np.all((fleet[:, 1] > 1.5) & (fleet[:, 1] < 2.0))
    assert np.all(fleet[:, 2] == 0.0)  # dry coolers: no water
