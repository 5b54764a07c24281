"""Site weather on the simulation clock: climates from user-stated monthly normals."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import gigawatt
from gigawatt.engine.clock import Clock
from gigawatt.engine.weather import ClockWeather, site_weather
from gigawatt.physics import weather as pw

NORMALS = {
    "kind": "normals",
    "dry_bulb_mean_c": [14.0, 17.5, 23.0, 29.0, 33.0, 33.5, 31.0, 30.0, 29.0, 26.0, 20.5, 15.5],
    "daily_range_c": [13.0, 13.0, 13.5, 14.0, 13.0, 10.0, 7.0, 6.5, 7.5, 12.0, 14.0, 13.5],
    "dew_point_c": [7.0, 8.0, 9.0, 8.5, 12.0, 20.0, 25.0, 25.0, 22.0, 14.0, 10.0, 8.0],
    "wind_speed_m_per_s": [2.0] * 12,
}


def _scenario(climate: dict, **location) -> dict:
    d = gigawatt.load_scenario("reference").model_dump(mode="json")
    d["sites"][0]["climate"] = climate
    d["sites"][0]["location"].update(location)
    return d


def test_normals_climate_on_the_simulation_clock():
    sc = gigawatt.load_scenario(_scenario(NORMALS, latitude_deg=28.6, longitude_deg=77.2, utc_offset_h=5.5))
    clock = Clock(pd.Timestamp("2026-01-01"), 3600.0, 8760)
    wx = site_weather(sc.sites[0], clock)
    for key in ("dry_bulb_c", "wet_bulb_c", "relative_humidity_frac", "wind_speed_m_per_s", "ghi_w_per_m2"):
        assert wx[key].shape == (8760,) and np.all(np.isfinite(wx[key])), key
    monthly = pd.Series(wx["dry_bulb_c"], index=clock.times).groupby(clock.times.month).mean().to_numpy()
    assert_allclose(monthly, NORMALS["dry_bulb_mean_c"], rtol=0, atol=0.5)
    assert_allclose(wx["wind_speed_m_per_s"], 2.0, rtol=0, atol=1e-9)
    # local clock: the afternoon maximum falls near 15:00 local = 09:30 UTC
    by_hour = pd.Series(wx["dry_bulb_c"], index=clock.times).groupby(clock.times.hour).mean()
    assert 8 <= int(by_hour.idxmax()) <= 11


def test_normals_climate_bounds_are_scenario_errors():
    bad = {**NORMALS, "dry_bulb_mean_c": [-300.0, *NORMALS["dry_bulb_mean_c"][1:]]}
    bad["daily_range_c"] = [*NORMALS["daily_range_c"][:11], 50.0]
    with pytest.raises(gigawatt.ScenarioError) as info:
        gigawatt.load_scenario(_scenario(bad))
    msg = str(info.value)
    assert "climate" in msg and "dry_bulb_mean_c" in msg and "daily_range_c" in msg
    short = {**NORMALS, "dry_bulb_mean_c": [10.0] * 11}
    with pytest.raises(gigawatt.ScenarioError, match="dry_bulb_mean_c"):
        gigawatt.load_scenario(_scenario(short))
    both = {**NORMALS, "relative_humidity_frac": [0.5] * 12}
    with pytest.raises(gigawatt.ScenarioError, match="give only one of them"):
        gigawatt.load_scenario(_scenario(both))


def test_named_climate_builds_only_the_columns_read() -> None:
    """A named climate's weather interpolates a column when it is first read (and keeps it); its numbers are
    those of mapping the whole typical year with ``to_simulation_clock`` (equal to rounding)."""
    sc = gigawatt.load_scenario("reference")
    clock = Clock(pd.Timestamp("2026-03-01"), 15.0, 4 * 24 * 240)
    wx = site_weather(sc.sites[0], clock)
    assert isinstance(wx, ClockWeather)
    assert list(wx) == list(pw.CANONICAL_COLUMNS) and len(wx) == len(pw.CANONICAL_COLUMNS)
    assert wx.built_columns == ()
    db = wx["dry_bulb_c"]
    assert wx["dry_bulb_c"] is db and "ghi_w_per_m2" in wx and "nope" not in wx
    assert wx.built_columns == ("dry_bulb_c",)
    df, meta = pw.load_climate(sc.sites[0].climate.name)
    times = (clock.times + pd.Timedelta(seconds=7.5)).tz_localize("UTC")
    whole = pw.to_simulation_clock(df, times, float(meta["tz_offset_h"]))
    for col in ("dry_bulb_c", "wet_bulb_c", "ghi_w_per_m2"):
        assert_allclose(wx[col], whole[col].to_numpy(), rtol=1e-13, atol=1e-12, err_msg=col)
    assert wx.built_columns == ("dry_bulb_c", "wet_bulb_c", "ghi_w_per_m2")
