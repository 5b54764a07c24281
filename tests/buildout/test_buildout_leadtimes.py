"""Lead-time distributions and the shipped catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.buildout.leadtimes import LeadTimeDist, lead_time, lead_time_names, lead_times
from gigawatt.catalog import data_path
from gigawatt.scenario.buildout import LeadTime

SHAPES = [
    LeadTime(distribution="triangular", low_weeks=10, mode_weeks=14, high_weeks=30),
    LeadTime(distribution="pert", low_weeks=10, mode_weeks=14, high_weeks=30),
    LeadTime(distribution="uniform", low_weeks=5, high_weeks=9),
    LeadTime(distribution="lognormal", median_weeks=100, p90_weeks=150),
    LeadTime(distribution="slip", low_weeks=13, high_weeks=26, prob_frac=0.36),
]


def test_catalog_rows_are_valid_and_cited() -> None:
    with data_path("lead_times.csv").open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh)
    assert raw["name"].is_unique
    assert raw["source"].notna().all() and (raw["source"].str.len() > 20).all()
    assert raw["is_estimate"].isin([True, False]).all()
    assert raw["as_of"].notna().all()
    for name in lead_time_names():
        d = lead_time(name)
        spec = {k: v for k, v in d.__dict__.items() if k in LeadTime.model_fields and v is not None}
        LeadTime.model_validate(spec)  # every row is a valid distribution
        assert d.mean_weeks > 0 or d.distribution == "slip"
    for required in (
        "gpu-servers",
        "utility-transformer",
        "mv-switchgear",
        "standby-generator",
        "grid-interconnection",
        "construction-slip",
    ):
        assert required in lead_times().index


def test_catalog_central_figures() -> None:
    """Spot checks of the published central values (a typo in the CSV fails here)."""
    assert_allclose(
        lead_time("datacenter-equipment").mean_weeks, 33.0, rtol=1e-12, atol=1e-9
    )  # JLL (via SecondWatt 2026)
    assert_allclose(
        lead_time("utility-transformer").mode_weeks, 120.0, rtol=0, atol=1e-9
    )  # Wood Mackenzie 2024
    assert_allclose(
        float(lead_time("grid-interconnection").ppf(0.5)), 208.0, rtol=1e-9, atol=1e-9
    )  # JLL: > 4 years
    assert_allclose(
        1 - float(lead_time("construction-slip").cdf(0.0)), 0.36, rtol=1e-12, atol=1e-12
    )  # Sightline


@pytest.mark.parametrize("spec", SHAPES, ids=lambda s: s.distribution)
def test_sampling_matches_cdf_and_moments(spec: LeadTime) -> None:
    d = LeadTimeDist.from_spec(spec)
    x = d.sample(np.random.default_rng(1), 40_000)
    grid = np.quantile(x, np.linspace(0.02, 0.98, 25))
    emp = np.searchsorted(np.sort(x), grid, side="right") / x.size
    assert np.max(np.abs(emp - d.cdf(grid))) < 0.015  # DKW bound at alpha = 1e-3 for n = 40,000 is 0.0098
    assert_allclose(x.mean(), d.mean_weeks, rtol=0.02, atol=0.05)
    assert_allclose(x.var(), d.var_weeks2, rtol=0.05, atol=0.05)
    assert x.min() >= d.min_weeks - 1e-12
    q = np.array([0.7, 0.8, 0.95])  # above the atom at 0 of a slip (1 - 0.36 = 0.64)
    assert_allclose(d.cdf(d.ppf(q)), q, rtol=1e-6, atol=1e-6)
    assert d.cdf(d.ppf(0.3)) >= 0.3 - 1e-9


def test_lognormal_p90_and_fixed() -> None:
    d = lead_time(LeadTime(distribution="lognormal", median_weeks=80, p90_weeks=120))
    assert_allclose(float(d.ppf(0.9)), 120.0, rtol=1e-9, atol=1e-9)
    f = lead_time(LeadTime(distribution="fixed", mode_weeks=7))
    assert_allclose(f.sample(np.random.default_rng(0), 5), np.full(5, 7.0), rtol=0, atol=0)
    assert f.var_weeks2 == pytest.approx(0.0, abs=1e-12)
    assert_allclose(f.cdf([6.9, 7.0]), [0.0, 1.0], rtol=0, atol=0)


def test_unknown_name_suggests() -> None:
    with pytest.raises(KeyError, match="utility-transformer"):
        lead_time("utility-transfomer")


def test_bad_inline_distributions_name_the_fix() -> None:
    with pytest.raises(ValueError, match="reorder"):
        LeadTime(distribution="triangular", low_weeks=10, mode_weeks=5, high_weeks=20)
    with pytest.raises(ValueError, match="median_weeks is required"):
        LeadTime(distribution="lognormal", p90_weeks=3)
    with pytest.raises(ValueError, match="not used by distribution"):
        LeadTime(distribution="uniform", low_weeks=1, high_weeks=2, mode_weeks=1.5)
