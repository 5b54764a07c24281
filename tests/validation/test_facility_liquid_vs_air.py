"""Validation: cooling energy of direct-to-chip liquid cooling versus air at the same heat load.

Industry sources report that liquid cooling cuts cooling energy by 20-40 % against air (issue #3; e.g. the
Vertiv/NVIDIA study "Quantifying the impact on PUE and energy consumption when introducing liquid cooling
into an air-cooled data center", 2023). Our model brackets that band, and says why:

* **Retrofit**: cold plates on the *same* 18 °C chilled-water plant as the air hall. Only the CRAH fan energy
  for the captured 80 % of the heat goes away, CDU pumps are added and the chillers run as before:
  savings 5-25 % asserted (measured 12-21 %: at or below the band's lower edge; Dublin 21 % is inside).
* **Warm water** (W32, towers, trim chillers): chillers almost never run and CRAH fans serve only the residual
  20 % of the heat: savings 45-75 %, above the band.

Industry averages mix both (and older chilled-water-heavy baselines), which is where 20-40 % comes from.
"""

import numpy as np
import pandas as pd
import pytest

from gigawatt.physics import cooling as co
from gigawatt.physics import facility as fm
from gigawatt.physics import weather as w

TIMES = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")
RETROFIT = {"liquid_loop": {**co.COOLING_PRESETS["air"]["air_loop"], "pump_kw_per_kw": 0.035}}


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


@pytest.mark.parametrize("climate", ["greensboro", "dublin", "frankfurt", "phoenix"])
def test_liquid_cooling_savings_bracket_the_industry_band(climate: str, validation) -> None:
    retrofit, warm = cooling_savings(climate)
    src = "Industry band 20-40 % (issue #3; Vertiv/NVIDIA 2023 liquid-cooling study, see module doc)"
    validation(
        f"{climate}: cooling-energy saving of DLC retrofit on the same 18 °C chilled-water plant vs air, "
        "same heat, typical year [%]",
        model=f"{100 * retrofit:.1f} %",
        reference="20-40 %",
        tolerance="5-25 % asserted: at or below the band's lower edge by design (only CRAH fans saved, chillers unchanged)",
        source=src,
    )
    validation(
        f"{climate}: cooling-energy saving of warm-water DLC (W32, towers, trim chillers) vs air, "
        "same heat, typical year [%]",
        model=f"{100 * warm:.1f} %",
        reference="20-40 %",
        tolerance="45-75 % asserted: above the band by design (chiller-free warm water)",
        source=src,
    )
    assert 0.05 <= retrofit <= 0.25  # below the 20-40 % band: same chillers, only fans saved (see module doc)
    assert 0.45 <= warm <= 0.75  # above the band: chiller-free warm water (see module doc)
