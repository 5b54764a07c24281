"""Tests for gigawatt.physics.weather."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import psychrometrics as psy
from gigawatt.physics import weather as w
from gigawatt.physics.timebase import hour_of_year_h


def test_registry_spans_climate_types_with_sources() -> None:
    table = w.climate_table()
    assert len(table) >= 6
    assert {"hot-humid", "hot-dry", "temperate", "cold"} <= set(table["category"])
    assert table["source"].str.len().min() > 20
    assert set(table["kind"]) <= {"tmy", "normals"}
    assert (table["kind"] == "tmy").sum() >= 3  # the real NREL files shipped with their source
    # every shipped file exists in the package data, with its source note; nothing is read from pvlib's folder
    import importlib.resources

    root = importlib.resources.files("gigawatt") / "data" / "climates"
    for rel in table.loc[table["kind"] == "tmy", "file"]:
        assert root.joinpath(*rel.split("/")).is_file(), rel
    assert "NREL" in root.joinpath("tmy", "SOURCE.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", w.climate_names())
def test_every_climate_loads_with_canonical_columns(name: str) -> None:
    df, meta = w.load_climate(name)
    assert list(df.columns) == list(w.CANONICAL_COLUMNS)
    assert len(df) == 8760
    assert not df.isna().any().any()
    assert (df["wet_bulb_c"] <= df["dry_bulb_c"] + 1e-9).all()
    assert df["relative_humidity_frac"].between(0, 1).all()
    assert df["pressure_pa"].between(60_000, 110_000).all()
    assert (df["ghi_w_per_m2"] >= 0).all()
    assert {"latitude", "longitude", "tz_offset_h", "source", "category"} <= set(meta)


def test_greensboro_tmy3_matches_file_statistics() -> None:
    # Greensboro TMY3 (NREL, shipped in gigawatt/data/climates/tmy): annual mean dry bulb 14.4 °C, max 35.6 °C, min -16.7 °C.
    df, meta = w.load_climate("greensboro")
    assert_allclose(df["dry_bulb_c"].mean(), 14.42, atol=0.01)
    assert_allclose(df["dry_bulb_c"].max(), 35.6, atol=1e-9)
    assert meta["tz_offset_h"] == -5.0


def test_tmy2_units_converted() -> None:
    # Miami TMY2 stores 0.1 °C and mbar; converted means must be physical.
    df, _ = w.load_climate("miami")
    assert 22 < df["dry_bulb_c"].mean() < 27
    assert 100_000 < df["pressure_pa"].mean() < 103_000
    assert 2 < df["wind_speed_m_per_s"].mean() < 6


@pytest.mark.parametrize("name", ["phoenix", "singapore", "dublin", "frankfurt", "stockholm"])
def test_synthesized_climates_keep_their_monthly_normals(name: str) -> None:
    df, meta = w.load_climate(name)
    assert meta["source_format"] == "synthesized-from-normals"
    normals = w._normals_table().loc[[name]].set_index("month")
    centred = df["dry_bulb_c"].set_axis(df.index - pd.Timedelta(minutes=30))  # interval-ending -> centre
    daily = centred.resample("D").agg(["max", "min"])
    monthly = daily.groupby(daily.index.month).mean()
    # monthly mean of daily max/min within 0.3 °C of the normals (hourly sampling of the diurnal shape
    # misses the exact extremes slightly)
    assert_allclose(monthly["max"].to_numpy(), normals["tmax_c"].to_numpy(), atol=0.3)
    assert_allclose(monthly["min"].to_numpy(), normals["tmin_c"].to_numpy(), atol=0.3)


def test_synthesis_is_deterministic() -> None:
    a, _ = w.load_climate("dublin")
    w._load_climate_cached.cache_clear()
    b, _ = w.load_climate("dublin")
    pd.testing.assert_frame_equal(a, b)


def test_unknown_climate_suggests() -> None:
    with pytest.raises(KeyError, match="did you mean 'phoenix'"):
        w.climate_info("pheonix")


def test_to_simulation_clock_interpolates_and_repeats() -> None:
    df, meta = w.load_climate("greensboro")
    # on the hour-centres of a non-leap year the interpolation returns the file values
    centres = pd.date_range("2026-01-01 00:30", periods=8760, freq="h")
    out = w.to_simulation_clock(df, centres, meta["tz_offset_h"])
    order = np.argsort(hour_of_year_h(df.index.tz_localize(None)) % 8760)
    assert_allclose(np.sort(out["dry_bulb_c"].to_numpy()), np.sort(df["dry_bulb_c"].to_numpy()), atol=1e-9)
    assert order.size == 8760
    # 5-minute steps over two years (incl. leap 2028): periodic, bounded by the hourly extremes
    t = pd.date_range("2027-06-01", "2028-12-31", freq="5min")
    out = w.to_simulation_clock(df, t, meta["tz_offset_h"])
    assert not out.isna().any().any()
    assert out["dry_bulb_c"].max() <= df["dry_bulb_c"].max() + 1e-9
    same = w.to_simulation_clock(df, pd.DatetimeIndex(["2027-07-15 14:00", "2028-07-15 14:00"]), -5)
    assert_allclose(same["dry_bulb_c"].iloc[0], same["dry_bulb_c"].iloc[1])


def test_tz_aware_times_are_converted_to_local_standard_time() -> None:
    df, _ = w.load_climate("greensboro")
    local = w.to_simulation_clock(df, pd.DatetimeIndex(["2026-07-01 14:00"]), -5)
    utc = w.to_simulation_clock(df, pd.DatetimeIndex(["2026-07-01 19:00"], tz="UTC"), -5)
    assert_allclose(local.to_numpy(), utc.to_numpy())


def test_synthetic_weather_shape_and_cycles() -> None:
    t = pd.date_range("2026-01-01", periods=365 * 24, freq="h")
    df = w.synthetic_weather(t, mean_dry_bulb_c=15, annual_amplitude_c=10, diurnal_amplitude_c=5)
    assert_allclose(df["dry_bulb_c"].mean(), 15.0, atol=0.2)
    assert_allclose(df["dry_bulb_c"].max() - df["dry_bulb_c"].min(), 30.0, atol=0.5)
    hourly = df["dry_bulb_c"].groupby(df.index.hour).mean()
    assert hourly.idxmax() == 15 and hourly.idxmin() == 6
    assert (df["wet_bulb_c"] <= df["dry_bulb_c"]).all()


def test_read_weather_rejects_unknown_suffix(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_text("")
    with pytest.raises(ValueError, match="unknown weather file suffix"):
        w.read_weather(p)


def test_read_epw(tmp_path: Path) -> None:
    # Write a minimal EPW from the Greensboro TMY3 data with pvlib's column layout and read it back.
    df, _ = w.load_climate("greensboro")
    header = [
        "LOCATION,Greensboro,NC,USA,TMY3,723170,36.10,-79.95,-5.0,273.0",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        "COMMENTS 1,test",
        "COMMENTS 2,test",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    rows = []
    starts = pd.date_range("2001-01-01 00:00", periods=8760, freq="h")  # hour h+1 covers [start, start+1h)
    for start, r in zip(starts, df.itertuples(), strict=True):
        month, day, hour = start.month, start.day, start.hour + 1
        dew = r.dry_bulb_c - 5
        fields = [
            2001,
            month,
            day,
            hour,
            60,
            "?",
            round(r.dry_bulb_c, 1),
            round(dew, 1),
            round(r.relative_humidity_frac * 100),
            round(r.pressure_pa),
            0,
            0,
            300,
            round(r.ghi_w_per_m2),
            round(r.dni_w_per_m2),
            round(r.dhi_w_per_m2),
            0,
            0,
            0,
            0,
            180,
            round(r.wind_speed_m_per_s, 1),
            5,
            5,
            10,
            1000,
            9,
            999999999,
            10,
            0.1,
            0,
            88,
            0.2,
            0,
            0,
        ]
        rows.append(",".join(str(f) for f in fields))
    p = tmp_path / "gso.epw"
    p.write_text("\n".join(header + rows) + "\n")
    out, meta = w.read_weather(p)
    assert meta["source_format"] == "EPW"
    assert list(out.columns) == list(w.CANONICAL_COLUMNS)
    assert_allclose(out["dry_bulb_c"].mean(), df["dry_bulb_c"].mean(), atol=0.05)
    assert_allclose(out["pressure_pa"].mean(), df["pressure_pa"].mean(), rtol=1e-3)


# A hot semi-arid site stated by its monthly normals (rounded New Delhi-like values, for testing only).
DELHI_LIKE = {
    "dry_bulb_mean_c": [14.0, 17.5, 23.0, 29.0, 33.0, 33.5, 31.0, 30.0, 29.0, 26.0, 20.5, 15.5],
    "daily_range_c": [13.0, 13.0, 13.5, 14.0, 13.0, 10.0, 7.0, 6.5, 7.5, 12.0, 14.0, 13.5],
    "relative_humidity_frac": [0.7, 0.6, 0.45, 0.3, 0.3, 0.45, 0.7, 0.75, 0.65, 0.5, 0.55, 0.65],
}


def test_custom_monthly_normals_any_site_keep_their_normals() -> None:
    df = w.typical_year_from_monthly_normals(**DELHI_LIKE, latitude=28.6, longitude=77.2, tz_offset_h=5.5)
    assert list(df.columns) == list(w.CANONICAL_COLUMNS) and len(df) == 8760
    centred = df["dry_bulb_c"].set_axis(df.index - pd.Timedelta(minutes=30))
    daily = centred.resample("D").agg(["max", "min", "mean"])
    monthly = daily.groupby(daily.index.month).mean()
    t = np.array(DELHI_LIKE["dry_bulb_mean_c"])
    r = np.array(DELHI_LIKE["daily_range_c"])
    # same method as the bundled normals: monthly means and daily ranges within 0.3 °C (hourly sampling)
    assert_allclose(monthly["mean"].to_numpy(), t, rtol=0, atol=0.3)
    assert_allclose((monthly["max"] - monthly["min"]).to_numpy(), r, rtol=0, atol=0.4)
    # humidity: the monthly dew point is the one of the mean RH at the mean dry bulb (within the anomaly noise)
    dew = psy.dew_point_c(df["dry_bulb_c"].to_numpy(), df["relative_humidity_frac"].to_numpy())
    dew_monthly = pd.Series(dew, index=centred.index).groupby(centred.index.month).mean().to_numpy()
    target = psy.dew_point_c(t, np.array(DELHI_LIKE["relative_humidity_frac"]))
    assert_allclose(dew_monthly, target, rtol=0, atol=0.5)
    assert np.all(df["wet_bulb_c"] <= df["dry_bulb_c"] + 1e-9)
    # half-hour time zone: the sun peaks near 12:20 local solar-corrected (hour ending 13:00 is the brightest)
    ghi_by_hour = df["ghi_w_per_m2"].groupby(df.index.hour).mean()
    assert int(ghi_by_hour.idxmax()) == 13
    # deterministic for a seed, different for another
    again = w.typical_year_from_monthly_normals(**DELHI_LIKE, latitude=28.6, longitude=77.2, tz_offset_h=5.5)
    pd.testing.assert_frame_equal(df, again)
    other = w.typical_year_from_monthly_normals(
        **DELHI_LIKE, latitude=28.6, longitude=77.2, tz_offset_h=5.5, seed=1
    )
    assert not np.allclose(other["dry_bulb_c"], df["dry_bulb_c"])


def test_custom_monthly_normals_bounds_report_every_problem() -> None:
    bad = {
        "dry_bulb_mean_c": [-300.0] + [10.0] * 11,  # below absolute zero
        "daily_range_c": [10.0] * 11 + [-2.0],  # negative range
        "dew_point_c": [5.0] * 6 + [40.0] + [5.0] * 5,  # dew point above the mean dry bulb in July
        "wind_speed_m_per_s": [3.0] * 11,  # 11 values
    }
    with pytest.raises(ValueError) as info:
        w.typical_year_from_monthly_normals(**bad, latitude=0.0, longitude=0.0)
    msg = str(info.value)
    for part in (
        "dry_bulb_mean_c: month(s) 1 outside",
        "daily_range_c: month(s) 12",
        "dew_point_c: month(s) 1, 7 above",
    ):
        assert part in msg
    assert "wind_speed_m_per_s: give 12 monthly values" in msg
    assert w.check_monthly_normals(dry_bulb_mean_c=[10.0] * 12, daily_range_c=[8.0] * 12) == [
        "dew_point_c / relative_humidity_frac: give one of them (12 monthly values)"
    ]
    # a mean daily minimum below the bound is caught even when the mean itself is within it
    low = w.check_monthly_normals(
        dry_bulb_mean_c=[-85.0] * 12, daily_range_c=[20.0] * 12, dew_point_c=[-90.0] * 12
    )
    assert any("mean daily minimum" in p for p in low)


@pytest.mark.parametrize("name", ["greensboro", "phoenix"])
def test_clock_interpolation_is_numpy_periodic_interp(name: str) -> None:
    """The precomputed interpolation gives numpy.interp(period=8760 h) of every column on a clock that wraps
    the year, at sub-hourly steps (equal to rounding; in practice bit for bit: the same operations)."""
    df, meta = w.load_climate(name)
    times = (
        pd.date_range("2025-12-30", periods=3 * 24 * 60 + 5, freq="67s") + pd.Timedelta(seconds=7)
    ).tz_localize("UTC")
    interp = w.ClockInterpolation(pd.DatetimeIndex(df.index), times, meta["tz_offset_h"])
    assert interp.n_times == len(times)
    xp = np.mod(hour_of_year_h(pd.DatetimeIndex(df.index).tz_localize(None)) - 0.5, w.HOURS_PER_YEAR)
    order = np.argsort(xp, kind="stable")
    x = hour_of_year_h(times.tz_convert("UTC").tz_localize(None) + pd.Timedelta(hours=meta["tz_offset_h"]))
    for col in w.CANONICAL_COLUMNS:
        fp = df[col].to_numpy(dtype=float)
        ref = np.interp(x, xp[order], fp[order], period=w.HOURS_PER_YEAR)
        assert_allclose(interp.column(fp), ref, rtol=1e-13, atol=1e-12, err_msg=col)
    frame = w.to_simulation_clock(df, times, meta["tz_offset_h"])
    assert_allclose(frame["dry_bulb_c"].to_numpy(), interp.column(df["dry_bulb_c"]), rtol=1e-15, atol=0)


def test_clock_interpolation_rejects_bad_input() -> None:
    df, _ = w.load_climate("greensboro")
    times = pd.date_range("2026-01-01", periods=10, freq="h")
    with pytest.raises(ValueError, match="empty weather"):
        w.ClockInterpolation(pd.DatetimeIndex([]), times)
    interp = w.ClockInterpolation(pd.DatetimeIndex(df.index), times)
    with pytest.raises(ValueError, match="one per weather row"):
        interp.column(np.zeros(5))
