"""The command line, run as a user would (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from tests.conftest import small_scenario_dict


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gigawatt", *args], capture_output=True, text=True, timeout=300
    )


def test_check_valid_and_invalid(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(small_scenario_dict()))
    r = run("check", str(good))
    assert r.returncode == 0 and r.stdout.startswith("OK:")
    d = small_scenario_dict()
    d["sites"][0]["halls"][0]["racks"][0]["count"] = -1
    d["sites"][0]["halls"][1]["racks"][0]["server"]["accelerator"] = "h200x"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(d))
    r = run("check", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("2 problem(s)")
    assert any(line.startswith("sites[0].halls[0].racks[0].count: must be > 0") for line in lines)
    assert any("did you mean H200?" in line for line in lines)


def test_check_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [\n")
    r = run("check", str(bad))
    assert r.returncode == 2 and "YAML syntax error" in r.stderr and "Traceback" not in r.stderr
    r = run("check", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "file not found" in r.stderr


def test_run_writes_results(tmp_path: Path) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict()))
    out = tmp_path / "out"
    r = run("run", str(sc), "--out", str(out), "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "facility_energy_mwh" in r.stdout and "pue" in r.stdout
    assert (out / "summary.csv").exists() and (out / "timeseries.parquet").exists()
    assert (out / "plots" / "power.png").exists()
    assert pd.read_csv(out / "summary.csv").shape[1] == 2
    assert yaml.safe_load((out / "scenario.yaml").read_text())["name"] == "small"


def test_schema_and_catalog() -> None:
    r = run("schema")
    assert r.returncode == 0
    assert json.loads(r.stdout)["title"] == "gigawatt scenario"
    r = run("catalog", "accelerators")
    assert r.returncode == 0 and "H100-SXM" in r.stdout and "MI300X" in r.stdout
    r = run("catalog", "cooling")
    assert r.returncode == 0 and "immersion" in r.stdout
    r = run("catalog", "scenarios")
    assert r.returncode == 0 and "reference" in r.stdout


def test_usage_error_exit_code() -> None:
    r = run("frobnicate")
    assert r.returncode == 2 and "Traceback" not in r.stderr
