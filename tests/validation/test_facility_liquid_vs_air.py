"""Validation: cooling energy of direct-to-chip liquid cooling versus air at the same heat load.

Industry sources report that liquid cooling cuts cooling energy by 20-40 % against air (issue #3; e.g. the
Vertiv/NVIDIA study "Quantifying the impact on PUE and energy consumption when introducing liquid cooling
into an air-cooled data center", 2023). Each design and climate is recorded against that published band
(independent: no cooling constant was fitted to it); a result outside 20-40 % is recorded as
"outside reference". Most are outside:

* **Retrofit**: cold plates on the *same* 18 °C chilled-water plant as the air hall. Only the CRAH fan energy
  for the captured 80 % of the heat goes away, CDU pumps are added and the chillers run as before, so the
  model saves less than the band (12-21 %; only Dublin, a synthesized climate, is inside).
* **Warm water** (W32, towers, trim chillers): chillers almost never run and CRAH fans serve only the residual
  20 % of the heat: the model saves 51-64 %, above the band.

The model's explanation (industry averages mix both designs and chilled-water-heavy baselines) is a
hypothesis, not a validated result. The bands 5-25 % and 45-75 % that the test asserts were drawn around the
model's own results: they are regression guards, listed separately, not evidence.
"""

import numpy as np
import pandas as pd
import pytest

from gigawatt.physics import facility as fm
from gigawatt.physics import weather as w
from gigawatt.physics.cooling_designs import cooling_design

TIMES = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")
RETROFIT = {"liquid_loop": {**cooling_design("air").air_loop.plant_params(), "pump_kw_per_kw": 0.035}}


def cooling_savings(climate: str) -> tuple[float, float]:
    df, meta = w.load_climate(climate)
    wx = w.to_simulation_clock(df, TIMES, meta["tz_offset_h"])
    db = wx["dry_bulb_c"].to_numpy()[:, None]
    wb = wx["wet_bulb_c"].to_numpy()[:, None]
    plant = fm.build_facility_plant(
        cooling_presets=["air", "dlc", "dlc"],
        design_it_kw=np.full(3, 10_000.0),
        cooling_overrides=[{}, RETROFIT, {}],
        redundancy=["N+1"] * 3,
    )
    # same heat: identical IT load in all three halls (throughput not limited in these climates)
    it = np.full((len(TIMES), 3), 7_500.0)
    out = fm.facility_flows(plant, 0.3 * it, 0.7 * it, db, wb, step_s=3600.0)
    assert np.all(out["throughput_frac"] > 0.999)
    cool = out["cooling_power_kw"].sum(axis=0)
    return float(1 - cool[1] / cool[0]), float(1 - cool[2] / cool[0])


BAND = (0.20, 0.40)  # industry band (issue #3; Vertiv/NVIDIA 2023)


@pytest.mark.parametrize("climate", ["greensboro", "dublin", "frankfurt", "phoenix"])
def test_liquid_cooling_savings_against_the_industry_band(
    climate: str, validation, regression_band, climate_label
) -> None:
    retrofit, warm = cooling_savings(climate)
    src = "Industry band 20-40 % (issue #3; Vertiv/NVIDIA 2023 liquid-cooling study, see module doc)"
    site = climate_label(climate)
    designs = (
        ("DLC retrofit on the same 18 °C chilled-water plant", retrofit),
        ("warm-water DLC (W32, towers, trim chillers)", warm),
    )
    for design, saving in designs:
        validation(
            f"{site}: cooling-energy saving of {design} vs air, same heat, typical year [%]",
            model=f"{100 * saving:.1f} %",
            reference="20-40 %",
            tolerance="within reference = inside 20-40 % (recorded, not asserted; the asserted band is a regression guard)",
            source=src,
            kind="independent",
            within=bool(BAND[0] <= saving <= BAND[1]),
        )
    regression_band(
        f"{climate}: saving of the DLC retrofit on the same chilled-water plant",
        model=f"{100 * retrofit:.1f} %",
        band="5-25 %",
        reason="drawn around the model's 12-21 % (only CRAH fans saved, chillers unchanged)",
    )
    regression_band(
        f"{climate}: saving of warm-water DLC",
        model=f"{100 * warm:.1f} %",
        band="45-75 %",
        reason="drawn around the model's 51-64 % (chiller-free warm water)",
    )
    assert 0.05 <= retrofit <= 0.25  # regression band around the model's own results (see module doc)
    assert 0.45 <= warm <= 0.75  # regression band around the model's own results (see module doc)
