"""One wall clock for hour-of-day rules (Scenario.wall_clock, Location.utc_offset_h)."""

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

import gigawatt
from gigawatt.engine.clock import Clock, site_utc_offset_h, wall_clock_offset_h
from gigawatt.engine.workloads.utilization import utilization_profile
from gigawatt.scenario.site import Site
from gigawatt.scenario.workloads import DailyProfile


def _site(**location):
    d = gigawatt.load_scenario("reference").sites[0].model_dump(mode="json")
    d["location"].update(location)
    return Site.model_validate(d)


def test_site_offset_explicit_named_climate_or_longitude():
    assert site_utc_offset_h(_site(utc_offset_h=9.5)) == 9.5
    assert site_utc_offset_h(_site()) == -5.0  # Greensboro TMY3 station zone
    d = _site().model_dump(mode="json")
    d["climate"] = {"kind": "constant", "dry_bulb_c": 20.0}
    d["location"]["longitude_deg"] = 121.0
    assert site_utc_offset_h(Site.model_validate(d)) == 8.0  # round(121/15)
    # a weather file states its station's zone in its header (Sand Point AK TMY3: UTC-9)
    import importlib.resources

    tmy = importlib.resources.files("gigawatt") / "data" / "climates" / "tmy" / "703165TY.csv"
    d["climate"] = {"kind": "file", "path": str(tmy)}
    assert site_utc_offset_h(Site.model_validate(d)) == -9.0
    assert wall_clock_offset_h("utc", _site()) == 0.0
    assert wall_clock_offset_h("site_local", _site(utc_offset_h=2)) == 2.0


def test_daily_utilisation_profile_follows_the_wall_clock():
    clock = Clock(pd.Timestamp("2026-07-04"), 3600.0, 24 * 3)  # Saturday 00:00 UTC
    prof = DailyProfile(kind="daily", utilization_frac=[0.2] * 12 + [1.0] * 12, weekend_scale_frac=0.5)
    utc = utilization_profile(prof, clock)
    local = utilization_profile(prof, clock, utc_offset_h=-5.0)
    # the local-time profile is the UTC one 5 h later (the same local hours map to UTC + 5 h)
    assert_allclose(local[5 + 48 : 24 + 48], utc[48 : 19 + 48], rtol=0, atol=1e-12)
    # Monday 00:00-04:00 UTC is Sunday evening in UTC-5: the weekend-scaled daytime value there, while the
    # UTC clock reads a weekday night
    assert_allclose(local[48:52], 0.5, rtol=0, atol=1e-12)
    assert_allclose(utc[48:52], 0.2, rtol=0, atol=1e-12)
    assert np.all(local[48:52] > utc[48:52])
