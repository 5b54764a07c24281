"""Validation: annual PUE of hyperscale and legacy designs, and the shape of PUE vs wet bulb and load.

Each check runs a typical year (bundled climates, hourly) through the facility model at a constant IT load.
Greensboro is a real TMY3 file; Dublin and Frankfurt are typical years SYNTHESIZED from monthly climate
normals (an estimate of the climate, not measured weather).

The annual-PUE references are *fleet* averages (Google, Meta) or a survey average (Uptime) over many sites and
climates, compared here with one design in one climate: a weak, indirect comparison. The bands asserted
around them (1.08-1.15, 1.4-1.7) come from the project's issue #3, not from the publications; "within"
means inside that band (Meta: within ±0.02 of 1.08). One published per-site figure is compared: Meta's
Forest City NC (outside air + direct evaporative), with the nearby Greensboro TMY3 as its climate. More
per-site figures (Google publishes a trailing-twelve-month PUE per campus) would be stronger evidence.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import facility as fm
from gigawatt.physics import weather as w

TIMES = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")


def run_year(climate: str, presets: list[str], load_frac: float, **kw: object) -> dict[str, np.ndarray]:
    df, meta = w.load_climate(climate)
    wx = w.to_simulation_clock(df, TIMES, meta["tz_offset_h"])
    db = wx["dry_bulb_c"].to_numpy()[:, None]
    wb = wx["wet_bulb_c"].to_numpy()[:, None]
    n = len(presets)
    plant = fm.build_facility_plant(cooling_presets=presets, design_it_kw=np.full(n, 10_000.0), **kw)
    it = np.full((len(TIMES), n), 10_000.0 * load_frac)
    out = fm.facility_flows(plant, 0.3 * it, 0.7 * it, db, wb, step_s=3600.0)
    out["wet_bulb_c"] = np.broadcast_to(wb, it.shape)
    return out


def annual_pue(out: dict[str, np.ndarray]) -> np.ndarray:
    return out["facility_power_kw"].sum(axis=0) / out["it_power_kw"].sum(axis=0)


HYPERSCALE = {"redundancy": ["N+1"] * 2, "ups_kind": ["ups_eco"] * 2, "other_frac": 0.015}


@pytest.mark.parametrize("climate", ["greensboro", "dublin", "frankfurt"])
def test_hyperscale_temperate_annual_pue(climate: str, validation, climate_label) -> None:
    # Google-style: evaporative towers, water-side economizer, chillers for the hottest hours, 18 °C water.
    # Meta-style: 100 % outside air with direct evaporative cooling, a DX trim for the few hours whose wet bulb +
    # approach exceeds the 24 °C supply (none to ~600 h/yr in these climates).
    out = run_year(climate, ["air", "air_evaporative"], 0.75, **HYPERSCALE)
    google, meta = annual_pue(out)
    site = climate_label(climate)
    validation(
        f"{site}: annual PUE, hyperscale towers + water-side economizer, 18 °C water, 75 % IT load",
        model=round(float(google), 3),
        reference="1.09 fleet (band 1.08-1.15)",
        tolerance="1.08-1.15 (project band, issue #3; a fleet average vs one climate)",
        source="Google fleet trailing-twelve-month PUE 1.09 (2025); band from issue #3",
        kind="independent",
        within=bool(1.08 <= google <= 1.15),
    )
    validation(
        f"{site}: annual PUE, hyperscale outside air + direct evaporative with DX trim, 75 % IT load",
        model=round(float(meta), 3),
        reference="1.08 fleet",
        tolerance="± 0.02 (a fleet average vs one climate)",
        source="Meta 2023 sustainability report: fleet PUE 1.08",
        kind="independent",
        within=bool(abs(meta - 1.08) <= 0.02),
    )
    assert 1.08 <= google <= 1.15  # Google fleet trailing-twelve-month PUE 1.09 (2025); issue band 1.08-1.15
    assert_allclose(meta, 1.08, atol=0.02)  # Meta 2023 sustainability report: fleet PUE 1.08


@pytest.mark.parametrize("climate", ["greensboro", "dublin", "frankfurt"])
def test_legacy_enterprise_air_hall_annual_pue(climate: str, validation, climate_label) -> None:
    # Legacy enterprise hall: constant-speed CRACs, 7 °C chilled water, no economizer, 2N double-conversion UPS,
    # transformer-based PDUs, 60 % loaded.
    out = run_year(
        climate,
        ["air_legacy"],
        0.6,
        redundancy=["2N"],
        ups_kind=["ups_double_conversion"],
        pdu_kind=["pdu_legacy"],
        other_frac=0.02,
    )
    pue = float(annual_pue(out)[0])
    validation(
        f"{climate_label(climate)}: annual PUE, legacy enterprise air hall (constant-speed CRACs, 7 °C chillers, no "
        "economizer, 2N double-conversion UPS), 60 % IT load",
        model=round(pue, 3),
        reference="1.54 survey average (band 1.4-1.7)",
        tolerance="1.4-1.7 (project band, issue #3; a survey average over all site types vs one design)",
        source="Uptime Institute Global Data Center Survey 2025: average PUE 1.54; band from issue #3",
        kind="independent",
        within=bool(1.4 <= pue <= 1.7),
    )
    assert (
        1.4 <= pue <= 1.7
    )  # Uptime Institute Global Data Center Survey 2025: average 1.54; issue band 1.4-1.7


def test_pue_rises_with_wet_bulb(validation) -> None:
    # J. Gao, "Machine learning applications for data center optimization" (Google, 2014), Fig. 5: PUE rises
    # with outside wet-bulb temperature. Bin a year of hourly PUE by wet bulb: the bin medians must rise.
    out = run_year("greensboro", ["air", "dlc"], 0.75, **HYPERSCALE)
    wb = out["wet_bulb_c"][:, 0]
    bins = np.arange(-10, 30, 5)
    idx = np.digitize(wb, bins)
    for h, hall in enumerate(("air, towers + economizer", "direct-to-chip liquid")):
        med = [np.median(out["pue"][idx == i, h]) for i in np.unique(idx) if np.sum(idx == i) > 50]
        validation(
            f"Greensboro (real TMY3), {hall}, 75 % load: median hourly PUE in the lowest -> highest 5 °C wet-bulb bin "
            f"({len(med)} bins with > 50 h); largest fall between neighbouring bins",
            model=f"{med[0]:.3f} -> {med[-1]:.3f} (rise {med[-1] - med[0]:.3f}); "
            f"largest fall {max(0.0, -float(np.min(np.diff(med)))):.3f}",
            reference="PUE rises with wet bulb",
            tolerance="no fall between bins (1e-9); rise > 0.02 (shape only)",
            source="J. Gao, 'Machine learning applications for data center optimization', Google 2014, Fig. 5",
            kind="independent",
            within=bool(np.all(np.diff(med) >= -1e-9) and med[-1] - med[0] > 0.02),
        )
        assert np.all(np.diff(med) >= -1e-9), med
        assert med[-1] - med[0] > 0.02  # a visible rise over the year's wet-bulb range


def test_pue_vs_load_falls_steeply_then_flattens(validation) -> None:
    # Gao (2014), Fig. 4: PUE falls steeply from low IT load to ~70 % and then flattens.
    plant = fm.build_facility_plant(
        cooling_presets=["air"],
        design_it_kw=[10_000.0],
        **{k: v[:1] if isinstance(v, list) else v for k, v in HYPERSCALE.items()},
    )
    load = np.linspace(0.1, 1.0, 10)[:, None] * 10_000.0
    pue = fm.evaluate_it_power(plant, load, np.full_like(load, 18.0), np.full_like(load, 12.0))["pue"][:, 0]
    steep = pue[0] - pue[6]  # 10 % -> 70 %
    flat = np.abs(pue[6:] - pue[6]).max()  # 70 % -> 100 %
    src = "J. Gao, 'Machine learning applications for data center optimization', Google 2014, Fig. 4"
    validation(
        f"PUE fall from 10 % to 70 % IT load (air hall, 18 °C dry bulb): {pue[0]:.3f} -> {pue[6]:.3f}",
        model=round(float(steep), 3),
        reference="steep fall",
        tolerance="> 0.15 (shape only)",
        source=src,
        kind="independent",
        within=bool(steep > 0.15),
    )
    validation(
        "Largest PUE change from 70 % to 100 % IT load",
        model=round(float(flat), 4),
        reference="flat",
        tolerance=f"< 1/5 of the 10->70 % fall (< {steep / 5:.3f})",
        source=src,
        kind="independent",
        within=bool(flat < steep / 5),
    )
    assert steep > 0.15
    assert flat < steep / 5


def test_forest_city_site_annual_pue(validation) -> None:
    # One real site of the design the `air_evaporative` preset follows (Open Compute / Meta: 100 % outside air,
    # direct evaporative cooling, no chillers): Forest City NC. Its climate is represented by the Greensboro NC
    # TMY3 (real; ~150 km east, same Koppen Cfa, elevation 273 m vs ~300 m). The IT load of the site is not
    # published; 75 % as in the fleet checks.
    out = run_year(
        "greensboro",
        ["air_evaporative"],
        0.75,
        redundancy=["N+1"],
        ups_kind=["ups_eco"],
        other_frac=0.015,
    )
    pue = float(annual_pue(out)[0])
    validation(
        "Forest City NC (Meta, outside air + direct evaporative): annual PUE, model at 75 % IT load with the "
        "Greensboro NC real TMY3 as the site's climate",
        model=round(pue, 3),
        reference="1.08 (trailing 12 months to end of Q4 2015)",
        tolerance="± 0.02 (published to 0.01; site load and vintage unknown)",
        source="Open Compute Project, 'Energy Efficiency' page (opencompute.org/about/energy-efficiency, "
        "2016): Forest City PUE 1.08, previous 12 months, end of Q4 2015 (1.09 at end of Q4 2013)",
        kind="independent",
        within=bool(abs(pue - 1.08) <= 0.02),
    )
    assert 1.0 < pue < 1.2  # plausibility only; the comparison with the site is recorded above
