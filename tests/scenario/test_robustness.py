"""No input may crash gigawatt: every bad input is one ScenarioError listing every problem with its path and
line, and whatever loads, runs. Each test is an input that once crashed or gave wrong results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tests.conftest import small_scenario_dict

import gigawatt as gw
from gigawatt.checks.limits import ResourceLimits, estimate_resources
from gigawatt.checks.load import load_scenario


def _write(
    tmp_path: Path, d: dict[str, Any] | None = None, text: str | bytes | None = None, name: str = "s.yaml"
) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text if text is not None else yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return p


def _problems(source: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(gw.ScenarioError) as info:
        load_scenario(source, **kw)
    return dict(info.value.problems)


def _one(source: Any, **kw: Any) -> tuple[str, str]:
    probs = _problems(source, **kw)
    assert len(probs) == 1, probs
    return next(iter(probs.items()))


def _pvlib_tmy3() -> Path:
    """The Greensboro NC TMY3 file shipped in the package (NREL, public; see data/climates/tmy/SOURCE.md)."""
    return Path(gw.__file__).resolve().parent / "data" / "climates" / "tmy" / "723170TYA.CSV"


def _with_training(d: dict[str, Any], **training: Any) -> dict[str, Any]:
    d["workloads"][1]["target"]["gpus"] = 160  # leave 160 GPUs of the air hall to the training pool
    wl = {"kind": "training", "name": "train", "target": {"hall": "air", "gpus": 64}}
    wl.update(training)
    d["workloads"].append(wl)
    return d


def _with_inference(d: dict[str, Any], **inference: Any) -> dict[str, Any]:
    d["workloads"][1]["target"]["gpus"] = 160
    wl: dict[str, Any] = {
        "kind": "inference",
        "name": "svc",
        "target": {"hall": "air", "gpus": 64},
        "model": "Llama-3-8B",
        "demand": {"kind": "profile", "peak_rps": 20},
    }
    wl.update(inference)
    d["workloads"].append(wl)
    return d


# ------------------------------------------------------------------------ loading never raises anything else
def test_infinite_horizon_is_a_field_error(tmp_path: Path) -> None:
    text = yaml.safe_dump(small_scenario_dict()).replace("horizon_h: 48", "horizon_h: .inf")
    path, msg = _one(_write(tmp_path, text=text))
    assert path == "horizon_h" and "finite" in msg and "line" in msg


def test_curtailment_window_mixing_zoned_and_naive_times_compares_in_utc() -> None:
    d = small_scenario_dict()
    d["sites"][0]["grid"]["curtailment_windows"] = [
        {"start": "2026-07-01T03:00:00+02:00", "end": "2026-07-01T05:00:00"}
    ]
    w = load_scenario(d).sites[0].grid.curtailment_windows[0]
    assert w.start.tzinfo is None and w.start.hour == 1  # 03:00+02:00 is 01:00 UTC
    d["sites"][0]["grid"]["curtailment_windows"][0]["end"] = "2026-07-01T00:30:00"
    path, msg = _one(d)
    assert path == "sites[0].grid.curtailment_windows[0]" and "after start" in msg


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path, msg = _one(_write(tmp_path, text=b"name: caf\xe9\nsites: []\n"))
    assert "not UTF-8" in msg and path.endswith("s.yaml:1")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deepmap.yaml", "".join(" " * i + "a:\n" for i in range(2000))),
        ("deep150.yaml", "a: " + "[" * 150 + "]" * 150 + "\n"),
    ],
)
def test_deep_nesting_is_reported(tmp_path: Path, name: str, text: str) -> None:
    _, msg = _one(_write(tmp_path, text=text, name=name))
    assert "nest" in msg


def test_directory_named_like_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    _, msg = _one(tmp_path / "x.yaml")
    assert "is a directory" in msg


def test_impossible_date_is_a_field_error(tmp_path: Path) -> None:
    text = yaml.safe_dump(small_scenario_dict(), sort_keys=False).replace(
        "start: '2026-07-01T00:00:00'", "start: 2026-13-45"
    )
    assert "start: 2026-13-45" in text
    path, msg = _one(_write(tmp_path, text=text))
    assert path == "start" and "2026-13-45" in msg and "line 2]" in msg


def test_large_file_is_refused_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    with p.open("w") as f:
        f.write("name: big\nsites: []\nworkloads:\n")
        f.write("  - {kind: utilization, name: w}\n" * 200_000)  # ~6 MB
    _, msg = _one(p)
    assert "MB limit" in msg


def test_yaml_is_parsed_once_with_libyaml() -> None:
    import yaml as _yaml

    from gigawatt.scenario import io

    assert issubclass(io._Loader, getattr(_yaml, "CSafeLoader", _yaml.SafeLoader))


# ------------------------------------------------------------------------ what check accepts, run runs
@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("sites", 0, "grid", "energy_price_usd_per_mwh"), 20_000, "sites[0].grid.energy_price_usd_per_mwh"),
        (
            ("sites", 0, "grid", "carbon_intensity_gco2_per_kwh"),
            float("inf"),
            "sites[0].grid.carbon_intensity_gco2_per_kwh",
        ),
        (("sites", 0, "halls", 1, "racks", 0, "count"), 10**20, "sites[0].halls[1].racks[0].count"),
        (
            ("sites", 0, "halls", 1, "design_it_capacity_mw"),
            float("inf"),
            "sites[0].halls[1].design_it_capacity_mw",
        ),
        (
            ("sites", 0, "halls", 1, "fabric"),
            {"oversubscription": float("inf")},
            "sites[0].halls[1].fabric.oversubscription",
        ),
        (("sites", 0, "climate", "diurnal_amplitude_c"), 300, "sites[0].climate.diurnal_amplitude_c"),
        (("start",), "1500-01-01T00:00:00", "start"),
        (("start",), "2300-01-01T00:00:00", "start"),
        (("horizon_h",), 1e7, "horizon_h"),
        (
            ("workloads", 0, "profile"),
            {"kind": "trace", "path": "t.csv", "time_shift_h": float("nan")},
            "workloads[0].profile.time_shift_h",
        ),
    ],
)
def test_out_of_range_values_are_field_errors(where: tuple[Any, ...], value: Any, path: str) -> None:
    d: Any = small_scenario_dict()
    cur = d
    for k in where[:-1]:
        cur = cur[k]
    cur[where[-1]] = value
    probs = _problems(d)
    assert path in probs, probs


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scale_up_delay_s", 1e300),
        ("scale_down_cooldown_s", float("inf")),
        ("max_queue_s", 1e300),
    ],
)
def test_autoscaler_delays_are_bounded(field: str, value: float) -> None:
    d = _with_inference(small_scenario_dict(), autoscaling={field: value})
    assert f"workloads[2].autoscaling.{field}" in _problems(d)


@pytest.mark.parametrize(
    ("demand", "path"),
    [
        ({"tokens": {"prompt_median_tokens": float("inf")}}, "demand.tokens.prompt_median_tokens"),
        ({"tokens": {"output_median_tokens": 1e7}}, "demand.tokens.output_median_tokens"),
        ({"annual_growth_frac": float("inf")}, "demand.annual_growth_frac"),
        ({"peak_rps": float("inf")}, "demand.peak_rps"),
        ({"burst_factor": float("nan")}, "demand.burst_factor"),
    ],
)
def test_infinite_or_absurd_demand_is_a_field_error(demand: dict[str, Any], path: str) -> None:
    d = _with_inference(small_scenario_dict())
    d["workloads"][2]["demand"].update(demand)
    probs = _problems(d)
    assert f"workloads[2].{path}" in probs, probs  # reported at the field, not at 'demand.profile'


def test_infinite_training_work_and_nan_job_mix_probabilities() -> None:
    d = _with_training(
        small_scenario_dict(),
        jobs=[{"name": "j", "gpus": 8, "model_params": 7e9, "tokens": float("inf")}],
        mix={"gpu_counts": [8, 16], "gpu_count_probs": [float("nan"), 1.0]},
        reliability={"rate_scale": float("inf")},
    )
    probs = _problems(d)
    assert {
        "workloads[2].jobs[0].tokens",
        "workloads[2].mix.gpu_count_probs[0]",
        "workloads[2].reliability.rate_scale",
    } <= set(probs)


def test_air_cooling_with_liquid_capture_is_rejected() -> None:
    d = small_scenario_dict()
    d["sites"][0]["halls"][1]["cooling"]["liquid_capture_frac"] = 0.1
    path, msg = _one(d)
    assert path == "sites[0].halls[1].cooling" and "no liquid loop" in msg


def test_wind_needs_a_climate_with_wind() -> None:
    d = small_scenario_dict()
    d["sites"][0]["energy"] = {"generation": [{"kind": "wind", "name": "w", "n_turbines": 2}]}
    path, msg = _one(d)
    assert path == "sites[0].energy.generation[0]" and "wind speeds" in msg
    d["sites"][0]["climate"] = {"kind": "named", "name": "greensboro"}
    assert load_scenario(d).sites[0].climate.kind == "named"


def test_period_must_end_within_supported_dates() -> None:
    path, msg = _one(small_scenario_dict(start="2199-12-01T00:00:00", horizon_h=24 * 365))
    assert path == "" or "horizon_h" in msg
    assert "shorten horizon_h" in msg


def test_spare_nodes_larger_than_the_pool() -> None:
    d = _with_training(
        small_scenario_dict(),
        jobs=[{"name": "j", "gpus": 8, "duration_h": 1}],
        scheduler={"spare_nodes": 100},
    )
    path, msg = _one(d)
    assert path == "workloads[2].scheduler.spare_nodes" and "8 nodes" in msg


def test_missing_series_tariff_csv(tmp_path: Path) -> None:
    d = small_scenario_dict()
    d["sites"][0]["grid"]["tariff"] = {"kind": "series", "path": "prices.csv"}
    path, msg = _one(_write(tmp_path, d))
    assert path == "sites[0].grid.tariff.path" and "not found" in msg and "line" in msg


def test_values_at_the_bounds_run() -> None:
    """The largest accepted token counts and autoscaler delays simulate (no NaN reaches the tariffs)."""
    d = _with_inference(
        small_scenario_dict(horizon_h=6),
        autoscaling={"policy": "utilization", "scale_up_delay_s": 604_800, "scale_down_cooldown_s": 604_800},
    )
    d["workloads"][2]["demand"]["tokens"] = {
        "prompt_median_tokens": 2e6,
        "output_median_tokens": 2e6,
        "max_prompt_tokens": 2_000_000,
        "max_output_tokens": 2_000_000,
    }
    with pytest.warns(gw.GigawattWarning, match="capped"):  # 2M-token requests: the pool cannot keep up
        ts = gw.simulate(d).timeseries
    power = ts[["it_power_mw", "cooling_power_mw", "facility_power_mw", "energy_cost_usd"]].to_numpy()
    assert np.all(np.isfinite(power)) and np.all(power >= 0)


# --------------------------------------------------------------------------- wrong results without error
def test_synthetic_climate_stays_on_earth() -> None:
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {
        "kind": "synthetic",
        "annual_mean_dry_bulb_c": 40,
        "annual_amplitude_c": 15,
        "diurnal_amplitude_c": 10,
    }
    path, msg = _one(d)
    assert path == "sites[0].climate" and "65" in msg


@pytest.mark.parametrize(
    ("where", "name"),
    [
        (("sites", 0, "name"), "a/b"),
        (("sites", 0, "halls", 1, "name"), "b/c"),
        (("workloads", 0, "name"), "x:y"),
    ],
)
def test_separator_characters_in_names_are_rejected(where: tuple[Any, ...], name: str) -> None:
    """``a`` + ``b/c`` and ``a/b`` + ``c`` would name the same columns."""
    d: Any = small_scenario_dict()
    cur = d
    for k in where[:-1]:
        cur = cur[k]
    cur[where[-1]] = name
    probs = _problems(d)
    key = ".".join(str(k) for k in where).replace(".0.", "[0].").replace(".1.", "[1].")
    assert any("must not contain" in m for m in probs.values()), probs
    assert key.replace("sites.0", "sites[0]").replace("workloads.0", "workloads[0]") in probs


# ------------------------------------------------------------------------------------- file contents
def _csv_case(tmp_path: Path, kind: str, body: str) -> dict[str, Any]:
    d = small_scenario_dict()
    (tmp_path / "f.csv").write_text(body, encoding="utf-8")
    if kind == "utilization":
        d["workloads"][0]["profile"] = {"kind": "trace", "path": "f.csv"}
    elif kind == "tariff":
        d["sites"][0]["grid"]["tariff"] = {"kind": "series", "path": "f.csv"}
    elif kind == "azure":
        d = _with_inference(d, demand={"kind": "trace", "path": "f.csv"})
    elif kind == "tokens":
        d = _with_inference(d)
        d["workloads"][2]["demand"]["tokens"] = {"trace_path": "f.csv"}
    return d


_FIELD = {
    "utilization": "workloads[0].profile.path",
    "tariff": "sites[0].grid.tariff.path",
    "azure": "workloads[2].demand.path",
    "tokens": "workloads[2].demand.tokens.trace_path",
}


@pytest.mark.parametrize(
    ("kind", "body", "expect"),
    [
        ("utilization", "", "empty"),
        ("utilization", "timestamp,util\n2026-07-01,0.5\n", "missing column"),
        (
            "utilization",
            "timestamp,utilization_frac\n2026-07-01,0.5\nyesterday,0.4\n",
            "line 3, column 'timestamp'",
        ),
        (
            "utilization",
            "timestamp,utilization_frac\n2026-07-01,0.5\n2026-07-02,1.5\n",
            "line 3, column 'utilization_frac'",
        ),
        ("utilization", "timestamp,utilization_frac\n2026-07-01,nan\n", "line 2"),
        ("utilization", 'timestamp,utilization_frac\n"2026-07-01,0.5\n', "not a valid CSV"),
        ("utilization", "timestamp,utilization_frac\n", "at least 1 data row"),
        (
            "tariff",
            "time,price_usd_per_mwh\n2026-07-01,50\n2026-07-02,1e9\n",
            "line 3, column 'price_usd_per_mwh'",
        ),
        ("tariff", "time,price_usd_per_mwh\n2026-07-01,50\n2026-07-02,abc\n", "not a finite number"),
        ("tariff", "time,price\n2026-07-01,50\n", "missing column"),
        (
            "azure",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,100,10\n2023-11-16 18:15:47,-5,10\n",
            "line 3, column 'ContextTokens'",
        ),
        (
            "azure",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,100,10\n",
            "at least 2 data row",
        ),
        (
            "azure",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,100,10\n2023-11-16 18:15:46,100,10\n",
            "one TIMESTAMP",
        ),
        (
            "azure",
            "TIMESTAMP,ContextTokens,GeneratedTokens\nnot-a-time,100,10\n2023-11-16 18:15:46,100,10\n",
            "line 2, column 'TIMESTAMP'",
        ),
        ("tokens", "ContextTokens,GeneratedTokens\n100,1.5\n", "not a whole number"),
    ],
)
def test_bad_file_contents_named_with_file_line_and_column(
    tmp_path: Path, kind: str, body: str, expect: str
) -> None:
    d = _csv_case(tmp_path, kind, body)
    probs = _problems(_write(tmp_path, d))
    assert _FIELD[kind] in probs, probs
    msg = probs[_FIELD[kind]]
    assert "f.csv" in msg and expect in msg, msg


def test_good_files_load_and_run(tmp_path: Path) -> None:
    d = _csv_case(tmp_path, "tariff", "time,price_usd_per_mwh\n2026-07-01,50\n2026-07-02,80\n")
    (tmp_path / "u.csv").write_text("timestamp,utilization_frac\n2026-07-01,0.5\n2026-07-02,0.7\n")
    d["workloads"][0]["profile"] = {"kind": "trace", "path": "u.csv"}
    res = gw.simulate(_write(tmp_path, d))
    assert res.summary()["energy_cost_usd"] > 0


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        (".epw", "this is not an EPW file\n1,2,3\n"),
        (".csv", "garbage\n"),
        (".tm2", ""),
    ],
)
def test_bad_weather_file_is_reported_at_check(tmp_path: Path, suffix: str, body: str) -> None:
    (tmp_path / f"w{suffix}").write_text(body)
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {"kind": "file", "path": f"w{suffix}"}
    path, msg = _one(_write(tmp_path, d))
    assert path == "sites[0].climate.path" and f"w{suffix}" in msg and "line" in msg


def test_weather_file_with_impossible_values(tmp_path: Path) -> None:
    lines = _pvlib_tmy3().read_text().splitlines()
    cols = lines[1].split(",")
    row = lines[5].split(",")
    row[cols.index("Dry-bulb (C)")] = "-999"
    lines[5] = ",".join(row)
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {"kind": "file", "path": "w.csv"}
    path, msg = _one(_write(tmp_path, d))
    assert path == "sites[0].climate.path" and "dry_bulb_c" in msg and "row 4" in msg


def test_truncated_weather_file_is_reported(tmp_path: Path) -> None:
    lines = _pvlib_tmy3().read_text().splitlines()
    (tmp_path / "w.csv").write_text("\n".join(lines[:50]) + "\n")
    d = small_scenario_dict()
    d["sites"][0]["climate"] = {"kind": "file", "path": "w.csv"}
    path, msg = _one(_write(tmp_path, d))
    assert path == "sites[0].climate.path" and "8760 hourly rows" in msg and "48" in msg


def test_weather_file_path_resolves_against_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(_pvlib_tmy3(), tmp_path / "data" / "greensboro.csv")
    d = small_scenario_dict(horizon_h=24)
    d["sites"][0]["climate"] = {"kind": "file", "path": "data/greensboro.csv"}
    p = _write(tmp_path, d)
    monkeypatch.chdir(tmp_path / "data")  # a different working directory
    res = gw.simulate(p)
    assert np.all(np.isfinite(res.timeseries["ambient_dry_bulb_c"]))


# ------------------------------------------------------------------------------------- error reporting
def test_profile_demand_field_reported_at_its_path_and_line(tmp_path: Path) -> None:
    d = _with_inference(small_scenario_dict())
    d["workloads"][2]["demand"]["peak_rps"] = -3
    text = yaml.safe_dump(d, sort_keys=False)
    probs = _problems(_write(tmp_path, text=text))
    msg = probs["workloads[2].demand.peak_rps"]
    line = int(msg.rsplit("line ", 1)[1].rstrip("]"))
    assert text.splitlines()[line - 1].strip() == "peak_rps: -3"


def test_reference_problems_reported_together_with_field_errors(tmp_path: Path) -> None:
    d = small_scenario_dict()
    d["step_s"] = -1  # a field error ...
    d["workloads"][0]["target"]["hall"] = "liquidd"  # ... and a bad reference
    d["workloads"][1]["profile"] = {"kind": "trace", "path": "missing.csv"}  # ... and a missing file
    text = yaml.safe_dump(d, sort_keys=False)
    probs = _problems(_write(tmp_path, text=text))
    assert "step_s" in probs
    assert "did you mean 'liquid'?" in probs["workloads[0].target"]
    assert "not found" in probs["workloads[1].profile.path"]
    assert all(" line " in m for m in probs.values()), probs


def test_gpu_claims_checked_when_another_workload_has_field_errors() -> None:
    d = small_scenario_dict()
    d["workloads"][0]["profile"]["utilization_frac"] = 7  # field error in one workload ...
    d["workloads"].append(  # ... and an over-claim by valid ones
        {
            "kind": "utilization",
            "name": "more",
            "target": {"hall": "air", "gpus": 200},
            "profile": {"kind": "constant", "utilization_frac": 0.5},
        }
    )
    probs = _problems(d)
    assert "workloads[0].profile.utilization_frac" in probs
    assert "claim 360 GPUs but the group has 320" in probs["sites[0].halls[1].racks[0]"]


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    text = yaml.safe_dump(small_scenario_dict(), sort_keys=False).replace("seed: 7\n", "seed: 7\nseed: 8\n")
    path, msg = _one(_write(tmp_path, text=text))
    assert path == "seed" and "duplicate key (first given on line 5)" in msg and "line 6]" in msg
    js = json.dumps(small_scenario_dict())[:-1] + ', "seed": 9}'
    _, msg = _one(_write(tmp_path, text=js, name="s.json"))
    assert "duplicate key 'seed'" in msg


# ------------------------------------------------------------------------------------- resource guards
@pytest.mark.parametrize(
    ("make", "limits", "needle"),
    [
        (
            lambda: _with_training(small_scenario_dict(horizon_h=8760), mix={"jobs_per_day": 1e6}),
            None,
            "jobs_per_day",
        ),
        (lambda: small_scenario_dict(horizon_h=24 * 365 * 20, step_s=60), None, "coarser step_s"),
        (
            lambda: _with_inference(
                small_scenario_dict(),
                demand={"kind": "profile", "peak_rps": 1e6},
                request_windows=[{"start_h": 1}],
            ),
            None,
            "shorten",
        ),
        (
            lambda: _with_training(
                small_scenario_dict(horizon_h=24 * 365),
                jobs=[{"name": "j", "gpus": 8, "duration_h": 1}],
                reliability={"rate_scale": 1000},
            ),
            ResourceLimits(max_failure_events=10_000),
            "rate_scale",
        ),
    ],
)
def test_resource_limits_refuse_at_check_with_a_suggestion(
    make: Any, limits: ResourceLimits | None, needle: str
) -> None:
    probs = _problems(make(), limits=limits)
    assert any(needle in m for m in probs.values()), probs


def test_a_scenario_loaded_with_raised_limits_simulates(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario(small_scenario_dict(horizon_h=12, step_s=60), limits=ResourceLimits(max_steps=1000))
    monkeypatch.setenv("GIGAWATT_LIMITS", "max_steps=500")  # 720 steps exceed the default limits now
    assert gw.simulate(sc).timeseries.shape[0] == 720  # checked once, with the limits given then
    sc.horizon_h = 13  # changed since: checked again, with the default (environment) limits
    with pytest.raises(gw.ScenarioError, match="max_steps=500"):
        gw.simulate(sc)


def test_trace_replay_requests_are_estimated_and_limited(tmp_path: Path) -> None:
    d = _csv_case(
        tmp_path,
        "azure",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,100,10\n2023-11-16 18:15:47,100,10\n",
    )
    d["workloads"][2]["demand"].update({"rate_scale": 1e4, "time_scale": 1e-3})
    probs = _problems(_write(tmp_path, d))
    assert any("demand.time_scale" in m for m in probs.values()), probs
    d["workloads"][2]["demand"]["time_scale"] = 1e-6
    assert "workloads[2].demand.time_scale" in _problems(_write(tmp_path, d))


def test_limits_are_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    d = small_scenario_dict(horizon_h=24 * 30, step_s=60)  # 43,200 steps
    lim = ResourceLimits(max_steps=10_000)
    assert "horizon_h" in _problems(d, limits=lim)
    assert load_scenario(d, limits=False).n_steps == 43_200
    monkeypatch.setenv("GIGAWATT_LIMITS", "max_steps=1e4")
    assert "horizon_h" in _problems(d)
    monkeypatch.setenv("GIGAWATT_LIMITS", "off")
    assert load_scenario(d).n_steps == 43_200
    monkeypatch.setenv("GIGAWATT_LIMITS", "max_stepz=1")
    assert "limits.max_stepz" in _problems(d)
    est = estimate_resources(load_scenario(d, limits=False))
    assert est["steps"] == pytest.approx(43_200, rel=1e-12)
    assert 0 < est["memory_gb"] < 8


def test_min_replicas_must_fit_the_service() -> None:
    d = _with_inference(small_scenario_dict(), autoscaling={"min_replicas": 1000})
    path, msg = _one(d)
    assert path == "workloads[2].autoscaling.min_replicas" and "64 GPUs" in msg


@pytest.mark.parametrize("value", ["!!bool maybe", "!!int abc", "!!timestamp x", "2026-02-30"])
def test_values_that_do_not_fit_their_yaml_tag_are_field_errors(tmp_path: Path, value: str) -> None:
    text = yaml.safe_dump(small_scenario_dict(), sort_keys=False).replace("seed: 7", f"seed: {value}")
    path, msg = _one(_write(tmp_path, text=text))
    assert path == "seed" and "line 5]" in msg
