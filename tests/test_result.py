"""Result: summary, scopes, files, HTML."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import gigawatt as gw
from tests.conftest import small_scenario_dict


@pytest.fixture(scope="module")
def res() -> gw.Result:
    return gw.simulate(small_scenario_dict())


def test_to_dir_writes_everything(res: gw.Result, tmp_path: Path) -> None:
    out = res.to_dir(tmp_path / "run")
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["metric", "value"]
    assert summary.set_index("metric")["value"]["pue"] == pytest.approx(res.summary()["pue"])
    ts = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(ts, res.timeseries, check_freq=False)
    again = gw.load_scenario(out / "scenario.yaml")
    assert again.model_dump() == res.scenario.model_dump()
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert {"power.png", "pue.png"} <= set(pngs)
    assert all((out / "plots" / p).stat().st_size > 5000 for p in pngs)


def test_scope_and_errors(res: gw.Result) -> None:
    hall = res.scope("site-a/air")
    assert "it_power_mw" in hall.columns and ":" not in "".join(hall.columns)
    site = res.scope("site-a")  # single site: campus columns
    assert "facility_power_mw" in site.columns
    with pytest.raises(KeyError, match="scopes"):
        res.scope("nope")


def test_html_reprs(res: gw.Result) -> None:
    h = res._repr_html_()
    assert "<table>" in h and "facility_energy_mwh" in h
    s = res.scenario._repr_html_()
    assert "GB200" in s and "dlc" in s
    assert "PUE" in repr(res)


def test_multi_site_columns() -> None:
    d = small_scenario_dict()
    site_b = {**d["sites"][0], "name": "site-b"}
    site_b["location"] = {"latitude_deg": 53.3, "longitude_deg": -6.3, "country_code": "IE"}
    d["sites"].append(site_b)
    d["workloads"][0]["target"]["hall"] = "site-a/liquid"
    d["workloads"][1]["target"]["hall"] = "site-b/air"
    r = gw.simulate(d)
    ts = r.timeseries
    assert "site-a:facility_power_mw" in ts and "site-b:ambient_dry_bulb_c" in ts
    assert "site-b/air:it_power_mw" in ts
    pd.testing.assert_series_equal(
        ts["site-a:facility_power_mw"] + ts["site-b:facility_power_mw"],
        ts["facility_power_mw"],
        check_names=False,
    )
    assert "ambient_dry_bulb_c" not in ts  # ambiguous across sites: only per site


def test_grid_cap_reports_unserved() -> None:
    d = small_scenario_dict()
    d["sites"][0]["grid"]["import_capacity_mw"] = 0.5
    r = gw.simulate(d)
    ts = r.timeseries
    assert (ts["grid_import_mw"] <= 0.5 + 1e-12).all()
    # unserved = demand at full throughput not supplied (power capping removes it from the facility power;
    # what no capping action can remove is a blackout: halls go dark; the overdraw is the feedback lag)
    pd.testing.assert_series_equal(
        ts["grid_import_mw"] + ts["unserved_mw"], ts["facility_demand_mw"], check_names=False
    )
    pd.testing.assert_series_equal(
        ts["facility_power_mw"] - ts["overdraw_mw"], ts["grid_import_mw"], check_names=False
    )
    assert ts["throughput_frac"].min() < 1.0  # power capping acted
    s = r.summary()
    assert s["energy_cost_usd"] == pytest.approx(s["grid_import_energy_mwh"] * 50.0)
    assert s["emissions_tco2"] == pytest.approx(s["grid_import_energy_mwh"] * 400.0 / 1e3)


# ------------------------------------------------------------------------------ output folders (to_dir)
def test_to_dir_interrupted_leaves_no_partial_result(
    res: gw.Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gigawatt import plot

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plot, "save_default_plots", boom)
    with pytest.raises(KeyboardInterrupt):
        res.to_dir(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # neither the result nor its temporary folder


def test_to_dir_replaces_an_earlier_result_whole(tmp_path: Path) -> None:
    from gigawatt.result import RESULT_MARKER

    d = small_scenario_dict(horizon_h=6)
    d["workloads"][1]["target"]["gpus"] = 160
    d["workloads"].append(
        {
            "kind": "training",
            "name": "train",
            "target": {"hall": "air", "gpus": 64},
            "jobs": [{"name": "j", "gpus": 8, "duration_h": 1}],
        }
    )
    out = gw.simulate(d).to_dir(tmp_path / "run", plots=False)
    assert (out / "jobs.parquet").exists() and (out / RESULT_MARKER).exists()
    gw.simulate(small_scenario_dict(horizon_h=6)).to_dir(out, plots=False)
    assert not (out / "jobs.parquet").exists()  # no stale table from the earlier run
    assert (out / RESULT_MARKER).exists() and (out / "summary.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_to_dir_refuses_a_foreign_folder_and_a_file(res: gw.Result, tmp_path: Path) -> None:
    from gigawatt.result import check_output_dir

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        res.to_dir(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        check_output_dir(tmp_path / "f" / "run")
    with pytest.raises(ValueError, match="empty"):
        check_output_dir("")
    (tmp_path / "empty").mkdir()
    assert (res.to_dir(tmp_path / "empty", plots=False) / "summary.csv").exists()


def test_saved_scenario_with_relative_paths_reruns_from_anywhere(tmp_path: Path) -> None:
    import yaml

    src = tmp_path / "project"
    src.mkdir()
    (src / "util.csv").write_text("timestamp,utilization_frac\n2026-07-01,0.5\n2026-07-02,0.7\n")
    d = small_scenario_dict(horizon_h=6)
    d["workloads"][0]["profile"] = {"kind": "trace", "path": "util.csv"}
    (src / "s.yaml").write_text(yaml.safe_dump(d))
    out = gw.simulate(src / "s.yaml").to_dir(tmp_path / "elsewhere" / "run", plots=False)
    saved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert Path(saved["workloads"][0]["profile"]["path"]).is_absolute()
    again = gw.simulate(out / "scenario.yaml")
    assert again.summary()["it_energy_mwh"] == pytest.approx(
        pd.read_csv(out / "summary.csv").set_index("metric")["value"]["it_energy_mwh"], rel=1e-9
    )
