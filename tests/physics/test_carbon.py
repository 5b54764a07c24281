import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import carbon as cb


def test_table_has_sources_and_sane_values():
    t = cb.grid_carbon_table()
    assert {"region", "gco2_per_kwh", "year", "basis", "source"} <= set(t.columns)
    assert t["region"].is_unique
    assert t["source"].str.len().min() > 10
    assert t["gco2_per_kwh"].between(5, 1200).all()
    for code in (
        "ERCT",
        "CAMX",
        "NWPP",
        "RFCE",
        "SRVC",
        "IE",
        "DE",
        "FR",
        "SE",
        "NO",
        "GB",
        "US",
        "SG",
        "JP",
        "IN",
        "CN",
        "AU",
    ):
        assert code in set(t["region"])
    # orderings every energy engineer knows
    g = cb.annual_grid_intensity_gco2_per_kwh
    assert g("NO") < g("FR") < g("GB") < g("DE") < g("IN")
    assert g("camx") < g("ERCT")


def test_unknown_region_suggests():
    with pytest.raises(KeyError, match="did you mean ERCT"):
        cb.annual_grid_intensity_gco2_per_kwh("ERCO")


def test_synthetic_profile_mean_and_shape():
    t = pd.date_range("2025-01-01", "2025-12-31 23:55", freq="5min")
    i = cb.synthetic_intensity_gco2_per_kwh(t, 350.0)
    assert_allclose(i.mean(), 350.0, rtol=1e-12)
    s = pd.Series(i, index=t)
    by_hour = s.groupby(s.index.hour).mean()
    assert by_hour.idxmin() in (11, 12, 13)  # solar dip at noon
    assert by_hour.idxmax() in (18, 19, 20, 21, 22, 23, 0)  # evening peak / night
    by_month = s.groupby(s.index.month).mean()
    assert by_month[1] > by_month[7]  # northern winter higher
    south = pd.Series(cb.synthetic_intensity_gco2_per_kwh(t, 350.0, latitude_deg=-33.9), index=t)
    assert south.groupby(south.index.month).mean()[7] > south.groupby(south.index.month).mean()[1]
    flat = cb.synthetic_intensity_gco2_per_kwh(t, 100.0, 0.0, 0.0, 0.0)
    assert_allclose(flat, 100.0)
    ghi = np.clip(np.sin(np.pi * (t.hour - 6) / 12), 0, None) * 900
    assert_allclose(cb.synthetic_intensity_gco2_per_kwh(t, 50.0, ghi_w_per_m2=ghi).mean(), 50.0)


def test_location_and_market_based():
    p = np.array([100.0, 100.0, 50.0, 0.0])
    i = np.array([400.0, 300.0, 200.0, 100.0])
    loc = cb.location_based_emissions_kgco2(p, i, 1.0)
    assert_allclose(loc, [40000.0, 30000.0, 10000.0, 0.0])  # MWh x g/kWh = kg
    ppa = np.array([0.0, 50.0, 100.0, 100.0])  # 250 MWh contracted vs 250 MWh imported
    annual = cb.market_based_emissions_kgco2(p, 1.0, i, ppa, matching="annual")
    assert_allclose(annual, 0.0, atol=1e-9)
    hourly = cb.market_based_emissions_kgco2(p, 1.0, i, ppa, matching="hourly")
    assert_allclose(hourly, [40000.0, 15000.0, 0.0, 0.0])  # surplus PPA hours do not count
    half_cert = cb.market_based_emissions_kgco2(p, 1.0, 500.0, None, certificates_mwh=125.0)
    assert_allclose(half_cert.sum(), 250 * 500 / 2)
    with pytest.raises(ValueError, match="matching"):
        cb.market_based_emissions_kgco2(p, 1.0, i, matching="monthly")


def test_embodied():
    # 1 year of a 5-year life: one fifth of (1000 x 150 + 125 x 2500) kg  (Luccioni et al. 2023 estimates)
    assert_allclose(cb.embodied_emissions_kgco2(1000, 125, 8760.0), (150_000 + 312_500) / 5)
