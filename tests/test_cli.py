"""The command line, run as a user would (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.buildout._plans import fleet_with_plan
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


def test_check_exit_2_without_traceback_for_broken_files(tmp_path: Path) -> None:
    cases = {
        "inf.yaml": yaml.safe_dump(small_scenario_dict()).replace("horizon_h: 48", "horizon_h: .inf"),
        "date.yaml": yaml.safe_dump(small_scenario_dict()).replace(
            "start: '2026-07-01T00:00:00'", "start: 2026-13-45"
        ),
        "deep.yaml": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "dup.yaml": yaml.safe_dump(small_scenario_dict()).replace("seed: 7\n", "seed: 7\nseed: 8\n"),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    (tmp_path / "dir.yaml").mkdir()
    for name in [*cases, "latin1.yaml", "dir.yaml"]:
        r = run("check", str(tmp_path / name))
        assert r.returncode == 2, (name, r.stderr)
        assert "Traceback" not in r.stderr and "problem(s)" in r.stderr, (name, r.stderr)


def test_check_reports_bad_trace_file_contents(tmp_path: Path) -> None:
    (tmp_path / "u.csv").write_text("timestamp,utilization_frac\n2026-07-01,0.5\n2026-07-02,7\n")
    d = small_scenario_dict()
    d["workloads"][0]["profile"] = {"kind": "trace", "path": "u.csv"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    r = run("check", str(tmp_path / "s.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "workloads[0].profile.path: u.csv line 3, column 'utilization_frac'" in r.stderr


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in-process (faster than a subprocess for checks that never simulate)."""
    from gigawatt.cli import main

    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_seed_and_out_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=1)))
    code, _, err = _main(capsys, "run", str(sc), "--seed", "-5")
    assert code == 2 and "--seed" in err and "Traceback" not in err
    code, _, err = _main(capsys, "run", str(sc), "--out", "")
    assert code == 2 and "--out" in err and "Traceback" not in err


def test_unusable_out_fails_before_simulating(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=1)))
    (tmp_path / "file").write_text("x")
    code, out, err = _main(capsys, "run", str(sc), "--out", str(tmp_path / "file" / "run"))
    assert code == 2 and "--out" in err and "Simulating" not in out
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    code, out, err = _main(capsys, "run", str(sc), "--out", str(tmp_path / "mine"))
    assert code == 2 and "not empty" in err and "Simulating" not in out


def test_limits_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict()))  # 576 steps
    code, _, err = _main(capsys, "check", str(sc), "--limit", "max_steps=100")
    assert code == 2 and "max_steps=100" in err and "coarser step_s" in err
    assert _main(capsys, "check", str(sc), "--limit", "max_steps=1000")[0] == 0
    assert _main(capsys, "check", str(sc), "--limit", "max_steps=100", "--no-limits")[0] == 0
    code, _, err = _main(capsys, "check", str(sc), "--limit", "max_stepz=1")
    assert code == 2 and "unknown limit" in err


def test_run_with_a_raised_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=2)))  # 24 steps
    monkeypatch.setenv("GIGAWATT_LIMITS", "max_steps=10")
    assert _main(capsys, "check", str(sc))[0] == 2
    code, out, err = _main(capsys, "run", str(sc), "--limit", "max_steps=100")
    assert code == 0, err
    assert "facility_energy_mwh" in out


def test_sweep_command_runs_a_sweep_file_and_resumes(tmp_path: Path) -> None:
    scen = tmp_path / "small.yaml"
    scen.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=6)))
    spec = {
        "base": "small.yaml",  # relative to the sweep file
        "axes": {"sites[site-a].grid.energy_price_usd_per_mwh": [40.0, 80.0]},
        "seeds": 2,
    }
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump(spec))
    out = tmp_path / "store"
    r = run("sweep", str(sweep_file), "--out", str(out), "--workers", "1")
    assert r.returncode == 0, r.stderr
    assert "4 runs (2 variants × seeds): 4 ok" in r.stdout and "Traceback" not in r.stderr
    table = pd.read_parquet(out / "table.parquet")
    assert len(table) == 4 and (table["status"] == "ok").all()
    summary = pd.read_csv(out / "summary.csv", header=[0, 1], index_col=0)
    assert len(summary) == 2
    parts = sorted((out / "rows").glob("part-*.parquet"))
    r2 = run("sweep", str(sweep_file), "--out", str(out), "--workers", "1")
    assert r2.returncode == 0 and sorted((out / "rows").glob("part-*.parquet")) == parts  # nothing re-run
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"base": "small.yaml", "axes": {"x": [1]}, "desing": "grid"}))
    r3 = run("sweep", str(bad), "--out", str(tmp_path / "s2"))
    assert r3.returncode == 2 and "desing" in r3.stderr and "Traceback" not in r3.stderr


def test_costs_and_buildout_commands(tmp_path: Path) -> None:
    scen = tmp_path / "small.yaml"
    scen.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=6)))
    r = run("costs", str(scen), "--out", str(tmp_path / "costs"))
    assert r.returncode == 0, r.stderr
    assert "tco_usd_per_gpu_hour" in r.stdout and any((tmp_path / "costs").iterdir())
    repo = Path(__file__).resolve().parents[1]
    r = run(
        "buildout",
        str(repo / "examples" / "buildout" / "campus_1gw.yaml"),
        "--draws",
        "500",
        "--out",
        str(tmp_path / "bo"),
    )
    assert r.returncode == 0, r.stderr
    assert "500 draws of 6 phase(s)" in r.stdout and (tmp_path / "bo" / "draws.parquet").exists()
    for what in ("costs", "cloud", "providers", "lead_times"):
        r = run("catalog", what)
        assert r.returncode == 0 and len(r.stdout.splitlines()) > 3, what


def _training_yaml(tmp_path: Path, horizon_h: float) -> Path:
    """The small scenario with a training job that checkpoints every half hour."""
    d = small_scenario_dict(horizon_h=horizon_h)
    d["workloads"][0] = {
        "kind": "training",
        "name": "train",
        "target": {"hall": "liquid"},
        "jobs": [{"name": "j", "gpus": 72, "duration_h": 20, "checkpoint_interval_s": 1800}],
    }
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(d))
    return sc


def test_run_progress_lines_and_written_files(tmp_path: Path) -> None:
    sc = _training_yaml(tmp_path, 12)
    out = tmp_path / "out"
    r = run("run", str(sc), "--out", str(out), "--no-plots")
    assert r.returncode == 0, r.stderr
    # stderr is a pipe, not a terminal: a few plain progress lines, no bar
    lines = [ln for ln in r.stderr.splitlines() if "simulated (up to" in ln]
    assert len(lines) == 4 and "100% simulated" in lines[-1] and "ETA" in lines[0]
    assert "\r" not in r.stderr
    assert "Wrote results to" in r.stdout and "timeseries.parquet" in r.stdout
    assert (out / "jobs.parquet").exists() and not (out / "jobs.csv").exists()
    r = run("run", str(sc), "--out", str(out), "--no-plots", "--no-progress", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert "simulated (up to" not in r.stderr
    assert (out / "jobs.csv").exists() and not (out / "jobs.parquet").exists()


def test_run_events_all_and_summary(tmp_path: Path) -> None:
    sc = _training_yaml(tmp_path, 24)
    r = run("-q", "run", str(sc), "--out", str(tmp_path / "summary"), "--no-plots")
    assert r.returncode == 0, r.stderr
    r = run("run", "-q", str(sc), "--out", str(tmp_path / "all"), "--no-plots", "--events", "all")
    assert r.returncode == 0, r.stderr
    summ = pd.read_parquet(tmp_path / "summary" / "events.parquet")
    full = pd.read_parquet(tmp_path / "all" / "events.parquet")
    n_ck = int((full["kind"] == "checkpoint").sum())
    assert n_ck >= 10 and "checkpoint" not in set(summ["kind"])
    assert int(summ.loc[summ["kind"] == "checkpoints", "n_events"].sum()) == n_ck
    assert len(summ) == len(full) - n_ck + 1


def test_quiet_and_verbose(tmp_path: Path) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=6)))
    q = run("run", str(sc), "-q", "--out", str(tmp_path / "q"))
    assert q.returncode == 0, q.stderr
    assert q.stdout == "" and q.stderr == ""  # only errors, and there are none
    assert (tmp_path / "q" / "summary.csv").exists()
    v = run("-v", "run", str(sc), "--no-plots", "--out", str(tmp_path / "v"))
    assert v.returncode == 0, v.stderr
    assert "INFO gigawatt.engine.core: simulating 'small'" in v.stderr
    assert "INFO gigawatt.result: wrote timeseries.parquet" in v.stderr
    assert "facility_energy_mwh" in v.stdout
    plain = run("run", str(sc), "--no-progress")
    assert "INFO" not in plain.stderr and plain.stderr == ""
    bad = run("run", str(tmp_path / "missing.yaml"), "-q")
    assert bad.returncode == 2 and bad.stderr  # errors still print with -q
    both = run("run", str(sc), "-q", "-v")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_warnings_are_one_line_and_quiet_silences_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from gigawatt import cli
    from gigawatt.errors import GigawattWarning

    def warn(args: object) -> int:
        warnings.warn("pool p misses its SLO share", GigawattWarning, stacklevel=1)
        cli._say("done")
        return 0

    monkeypatch.setattr(cli, "_cmd_check", warn)
    assert cli.main(["check", "x.yaml"]) == 0
    out, err = capsys.readouterr()
    assert err == "warning: pool p misses its SLO share\n" and out == "done\n"
    assert cli.main(["-q", "check", "x.yaml"]) == 0
    assert capsys.readouterr() == ("", "")


def test_run_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")  # POSIX pseudo-terminals
    import os

    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(small_scenario_dict(horizon_h=12)))
    master, slave = pty.openpty()  # a terminal without a size, as in some containers: still drawn
    proc = subprocess.Popen(
        [sys.executable, "-m", "gigawatt", "run", str(sc)], stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=300) == 0
    text = b"".join(chunks).decode("utf-8", errors="replace")
    assert "small: 100%" in text and "12/12 sim h" in text and text.count("\r") > 5
    assert "simulated (up to" not in text  # the bar, not the plain lines


def test_run_and_buildout_of_a_scenario_with_a_plan(tmp_path: Path) -> None:
    d = fleet_with_plan()
    d["horizon_h"] = 24 * 7 * 70
    scen = tmp_path / "planned.yaml"
    scen.write_text(yaml.safe_dump(d, sort_keys=False))
    r = run("buildout", str(scen), "--draws", "100")
    assert r.returncode == 0, r.stderr
    assert "100 draws of 3 phase(s)" in r.stdout
    r = run("run", str(scen), "--buildout", "p90", "--no-progress")
    assert r.returncode == 0, r.stderr
    r = run("run", str(scen), "--buildout", "draw:1000", "--no-progress")
    assert r.returncode == 2 and "--buildout" in r.stderr and "Traceback" not in r.stderr
    r = run("run", str(scen), "--buildout", "p9x", "--no-progress")
    assert r.returncode == 2 and "unknown outcome" in r.stderr
