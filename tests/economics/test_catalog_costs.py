"""Integrity of the shipped cost and cloud-price catalogs: a source, an estimate flag and a price date on every
row, plausible ranges that contain the value, units in the item names."""

from __future__ import annotations

import re

import pandas as pd

from gigawatt import catalog
from gigawatt.economics import cloud_prices, cloud_providers, cost_catalog

UNIT_SUFFIX = {
    "USD/GPU": "_usd_per_gpu",
    "USD/rack": "_usd_per_rack",
    "USD/MW": "_usd_per_mw",
    "USD/kW": ("_usd_per_kw", "_usd_per_kw_dc"),
    "USD/kWh": "_usd_per_kwh",
    "USD/acre": "_usd_per_acre",
    "USD/m3": "_usd_per_m3",
    "years": "_years",
}


def test_cost_catalog_rows() -> None:
    t = cost_catalog()
    assert t["name"].is_unique
    assert t["source"].str.len().gt(10).all()
    assert t["is_estimate"].isin([True, False]).all()
    assert t["price_year"].between(2015, 2026).all()
    assert (t["currency"] == "USD").all()
    assert ((t["low"] <= t["value"]) & (t["value"] <= t["high"])).all(), t.loc[t["value"] > t["high"], "name"]
    assert set(t["category"]) <= {"capex", "opex", "finance"}
    for _, r in t.iterrows():  # the unit is in the name: no silent mixing of $/kW and $/MW
        suffix = UNIT_SUFFIX.get(r["unit"])
        if suffix is not None:
            assert r["name"].endswith(suffix), (r["name"], r["unit"])
        if r["unit"] in ("frac", "frac/year"):
            assert "_frac" in r["name"] and 0 <= r["value"] <= 1
    # estimates say so in the source or notes
    est = t[t["is_estimate"]]
    assert (
        est["source"].str.contains("estimate", case=False) | est["notes"].fillna("").str.contains("stimate")
    ).all()


def test_cloud_price_rows() -> None:
    p = cloud_prices()
    assert p["source"].str.len().gt(10).all()
    assert p["pricing"].isin(["on_demand", "commit_1y", "commit_3y", "spot"]).all()
    assert p["usd_per_gpu_hour"].between(0.5, 20.0).all()  # 2023-2026 public range ~ $1.5-12 per GPU-hour
    assert p["price_date"].map(lambda s: bool(re.fullmatch(r"20\d\d-\d\d", str(s)))).all()
    assert set(p["accelerator"]) <= set(catalog.accelerator_names())
    assert (p.loc[p["pricing"] == "spot", "interruption_rate_per_hour"] > 0).all()
    assert (p.loc[p["pricing"] != "spot", "interruption_rate_per_hour"] == 0).all()
    assert not p.duplicated(["provider", "accelerator", "pricing"]).any()
    assert set(p["provider"]) <= set(cloud_providers().index)
    # commitments are cheaper than on-demand at the same provider
    wide = p.pivot_table(index=["provider", "accelerator"], columns="pricing", values="usd_per_gpu_hour")
    for col in ("commit_1y", "commit_3y", "spot"):
        both = wide[["on_demand", col]].dropna() if col in wide else pd.DataFrame()
        assert (both[col] < both["on_demand"]).all()


def test_cloud_provider_rows() -> None:
    pr = cloud_providers()
    assert pr["source"].str.len().gt(5).all()
    assert (pr["outage_rate_per_year"] > 0).all() and (pr["mean_outage_h"] > 0).all()
    assert (pr["capacity_gpus"] > 0).all()
