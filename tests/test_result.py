"""Result: summary, scopes, files, HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
    pd.testing.assert_frame_equal(
        ts, res.timeseries, check_freq=False, check_dtype=False, rtol=1e-6, atol=1e-9
    )
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


# ---------------------------------------------------------------------------- storage, round trip, event levels
def _training_scenario() -> dict[str, object]:
    d = small_scenario_dict()
    d["workloads"] = [
        d["workloads"][1],
        {
            "kind": "training",
            "name": "pre",
            "target": {"hall": "liquid"},
            "jobs": [{"name": "big", "gpus": 216, "model_params": 8e9, "tokens": 2e11, "submit_h": 1}],
            "mix": {"jobs_per_day": 40, "gpu_counts": [1, 8, 72], "gpu_count_probs": [0.5, 0.3, 0.2]},
            "reliability": {"rate_scale": 30.0},
        },
    ]
    return d


@pytest.fixture(scope="module")
def train_res() -> gw.Result:
    return gw.simulate(_training_scenario())


def test_written_timeseries_dtypes_keep_totals_in_float64(res: gw.Result, tmp_path: Path) -> None:
    assert (res.timeseries.dtypes == "float64").all()  # in memory: full precision
    ts = pd.read_parquet(res.to_dir(tmp_path / "run", plots=False) / "timeseries.parquet")
    for col in ("it_power_mw", "facility_power_mw", "energy_cost_usd", "emissions_kgco2", "pue"):
        assert ts[col].dtype == "float64", col
    for col in ("gpu_utilization_frac", "throughput_frac", "ambient_dry_bulb_c", "wue_l_per_kwh"):
        assert ts[col].dtype == "float32", col
    hall_cols = [c for c in ts.columns if c.startswith("site-a/air:")]
    assert ts["site-a/air:it_power_mw"].dtype == "float64" and len(hall_cols) > 5
    # the power balance stays exact to float64 rounding
    parts = ts[["it_power_mw", "cooling_power_mw", "electrical_loss_mw", "other_power_mw"]].sum(axis=1)
    np.testing.assert_allclose(parts, ts["facility_power_mw"], rtol=1e-12, atol=1e-12)


def test_compact_timeseries_rules() -> None:
    from gigawatt.result import compact_timeseries

    df = pd.DataFrame(
        {
            "a:x_frac": [0.5],
            "y_c": [20.0],
            "chat:ttft_p99_s": [0.2],
            "price_usd_per_mwh": [50.0],
            "p_mw": [1.0],
            "chat:served_rps": [3.0],
            "chat:tokens_per_s": [9.0],
            "n": [1],
        }
    )
    out = compact_timeseries(df)
    assert [str(t) for t in out.dtypes] == ["float32"] * 4 + ["float64"] * 3 + ["int64"]


def test_from_dir_round_trip(res: gw.Result, tmp_path: Path) -> None:
    from gigawatt.result import compact_timeseries

    out = res.to_dir(tmp_path / "run", plots=False)
    back = gw.load_result(out)
    np.testing.assert_allclose(back.summary(), res.summary(), rtol=1e-12, atol=1e-12)
    assert list(back.summary().index) == list(res.summary().index)
    pd.testing.assert_frame_equal(back.timeseries, compact_timeseries(res.timeseries), check_freq=False)
    full = gw.load_result(res.to_dir(tmp_path / "full", plots=False, compact=False))
    pd.testing.assert_frame_equal(full.timeseries, res.timeseries, check_freq=False)
    assert back.scenario.model_dump() == res.scenario.model_dump()
    assert back.seed == res.seed and back.n_accelerators == res.n_accelerators
    with pytest.raises(FileNotFoundError, match="no complete gigawatt result"):
        gw.Result.from_dir(tmp_path)


@pytest.mark.parametrize("compact", [True, False])
def test_timeseries_written_a_block_of_rows_at_a_time(res: gw.Result, tmp_path: Path, compact: bool) -> None:
    import pyarrow.parquet as pq

    from gigawatt.result import compact_timeseries, write_timeseries_parquet

    ts = res.timeseries.copy()
    ts["label"] = pd.array(["x"] * len(ts), dtype="string")  # an extension column goes through as well
    row_bytes = ts.memory_usage(index=True).sum() / len(ts)
    path = write_timeseries_parquet(
        ts, tmp_path / "ts.parquet", compact=compact, chunk_bytes=int(100 * row_bytes)
    )
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == -(-len(ts) // 100) and meta.num_rows == len(ts)  # blocks of 100 rows
    whole = tmp_path / "whole.parquet"
    (compact_timeseries(ts) if compact else ts).to_parquet(whole)  # what one conversion of the frame gives
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(whole), check_freq=False)
    back = pd.read_parquet(path)
    assert isinstance(back.index, pd.DatetimeIndex) and back.index.name == "time"
    assert (back["gpu_utilization_frac"].dtype == "float32") is compact
    empty = write_timeseries_parquet(ts.iloc[:0], tmp_path / "empty.parquet")
    assert (
        list(pd.read_parquet(empty).columns) == list(ts.columns)
        and pq.ParquetFile(empty).metadata.num_rows == 0
    )


@pytest.mark.parametrize("layout", ["one hall", "two halls", "two sites"])
def test_assembling_consumes_the_flows_without_changing_a_column(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gigawatt.engine import core
    from gigawatt.result import timeseries_columns

    d = small_scenario_dict(horizon_h=12)
    if layout == "one hall":
        d["sites"][0]["halls"] = d["sites"][0]["halls"][:1]
        d["workloads"] = d["workloads"][:1]
    elif layout == "two sites":
        second = {**d["sites"][0], "name": "site-b"}
        second["location"] = {**second["location"], "latitude_deg": 52.0}
        d["sites"].append(second)
        d["workloads"][0]["target"] = {"hall": "site-a/liquid"}
    seen: dict[str, object] = {}
    assemble = core._assemble

    def spy(sc, seed, clock, fleet, flows, outputs):  # type: ignore[no-untyped-def]
        seen.update(clock=clock, fleet=fleet, flows=dict(flows))
        return assemble(sc, seed, clock, fleet, flows, outputs)

    monkeypatch.setattr(core, "_assemble", spy)
    res = gw.simulate(d)
    flows = seen["flows"]
    assert isinstance(flows, dict)
    want = timeseries_columns(seen["clock"], seen["fleet"], dict(flows))  # type: ignore[arg-type]
    mine = dict(flows)
    got = timeseries_columns(seen["clock"], seen["fleet"], mine, consume=True)  # type: ignore[arg-type]
    assert list(got) == list(want)
    for col in want:
        np.testing.assert_array_equal(got[col], want[col], err_msg=col)
    used = {"it_power_kw", "cooling_power_kw", "water_l", "throughput_frac", "dry_bulb_c_site"}
    assert not used & set(mine) and len(mine) < len(flows)  # what the columns read is dropped
    for col in want:  # and the run's own frame holds the same numbers
        np.testing.assert_array_equal(res.timeseries[col].to_numpy(), want[col], err_msg=col)


def test_event_levels_and_round_trip_of_tables(train_res: gw.Result, tmp_path: Path) -> None:
    ev = train_res.events
    assert ev is not None and train_res.jobs is not None
    n_ck = int((ev["kind"] == "checkpoint").sum())
    assert n_ck > 20
    summ = train_res.event_summary()
    assert summ is not None and "checkpoint" not in set(summ["kind"])
    ck = summ[summ["kind"] == "checkpoints"]
    # one row per job that checkpointed, with the count and the total write time
    per_job = ev[ev["kind"] == "checkpoint"].groupby("job_idx")["duration_s"].agg(["size", "sum"])
    assert len(ck) == len(per_job)
    got = ck.set_index("job_idx").loc[per_job.index]
    np.testing.assert_array_equal(got["n_events"], per_job["size"])
    np.testing.assert_allclose(got["duration_s"], per_job["sum"], rtol=1e-12, atol=1e-9)
    assert int(summ["n_events"].sum()) == len(ev)  # nothing lost, only aggregated
    assert summ["time_s"].is_monotonic_increasing
    from gigawatt.result import summarize_events

    pd.testing.assert_frame_equal(summarize_events(summ), summ)  # a summary stays as it is

    default = gw.load_result(train_res.to_dir(tmp_path / "summary", plots=False))
    assert default.events is not None and len(default.events) == len(summ)
    assert str(default.events["time"].dtype).startswith("datetime64")
    pd.testing.assert_frame_equal(default.jobs, train_res.jobs)
    np.testing.assert_allclose(default.summary(), train_res.summary(), rtol=1e-12, atol=1e-12)

    full = gw.load_result(train_res.to_dir(tmp_path / "all", plots=False, events="all"))
    pd.testing.assert_frame_equal(full.events, ev)
    with pytest.raises(ValueError, match="events must be one of"):
        train_res.to_dir(tmp_path / "bad", events="some")


def _summary_by_frames(events: pd.DataFrame) -> pd.DataFrame:
    """The checkpoint summary written the plain pandas way (mask, groupby, concat, sort): the reference."""
    is_ck = (events["kind"] == "checkpoint").to_numpy()
    rest = events[~is_ck].assign(n_events=1)
    ck = events[is_ck]
    grouped = ck.groupby(["workload", "job_idx"], sort=False)
    agg = grouped.head(1).copy().set_index(["workload", "job_idx"])
    agg["kind"] = "checkpoints"
    agg["n_events"] = grouped.size()
    agg["duration_s"] = grouped["duration_s"].sum()
    agg["last_time_s"] = grouped["time_s"].max()
    agg = agg.reset_index()[[*events.columns, "n_events", "last_time_s"]]
    out = pd.concat([rest, agg], ignore_index=True).sort_values("time_s", kind="stable", ignore_index=True)
    out["n_events"] = out["n_events"].astype(np.int64)
    return out


def test_event_summary_matches_the_plain_pandas_aggregation(train_res: gw.Result) -> None:
    from gigawatt.result import summarize_events

    ev = train_res.events
    assert ev is not None
    # two workloads with overlapping job numbers and ties in time between checkpoints and other events
    other = ev.assign(workload="other", time_s=ev["time_s"].round(-3))
    both = pd.concat([ev, other], ignore_index=True).sort_values("time_s", kind="stable", ignore_index=True)
    assert both["time_s"].duplicated().sum() > 100
    got, want = summarize_events(both), _summary_by_frames(both)
    assert got is not None
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    np.testing.assert_array_equal(got["n_events"], want["n_events"])
    assert (got["kind"] == "checkpoints").sum() == 2 * ev.loc[ev["kind"] == "checkpoint", "job_idx"].nunique()
    assert summarize_events(ev.iloc[:0]) is not None and len(summarize_events(ev.iloc[:0])) == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_tables_written_in_blocks_read_back_whole(
    train_res: gw.Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    import gigawatt.result as result_mod
    from gigawatt.result import iter_event_summary, summarize_events

    ev = train_res.events
    assert ev is not None
    blocks = list(iter_event_summary(ev, rows=7))
    assert len(blocks) > 3 and all(len(b) <= 7 for b in blocks)
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), summarize_events(ev))
    whole = gw.load_result(train_res.to_dir(tmp_path / "whole", plots=False, format=fmt))
    monkeypatch.setattr(result_mod, "WRITE_CHUNK_BYTES", 6_000)  # a few dozen rows per block
    assert result_mod.chunk_rows(ev) < len(ev) // 5
    for level in ("summary", "all"):
        back = gw.load_result(train_res.to_dir(tmp_path / level, plots=False, format=fmt, events=level))
        if level == "summary":
            pd.testing.assert_frame_equal(back.events, whole.events)
        else:
            assert back.events is not None and len(back.events) == len(ev)
        pd.testing.assert_frame_equal(back.jobs, whole.jobs)
        pd.testing.assert_frame_equal(back.timeseries, whole.timeseries, check_freq=False)


def test_csv_format_round_trip(train_res: gw.Result, tmp_path: Path) -> None:
    out = train_res.to_dir(tmp_path / "csv", plots=False, format="csv")
    assert (out / "jobs.csv").exists() and (out / "events.csv").exists()
    assert not list(out.glob("jobs.parquet")) and (out / "timeseries.parquet").exists()
    back = gw.load_result(out)
    assert back.jobs is not None and back.events is not None
    assert str(back.jobs["start_time"].dtype).startswith("datetime64")
    assert str(back.events["time"].dtype).startswith("datetime64")
    np.testing.assert_allclose(back.jobs["gpu_hours"], train_res.jobs["gpu_hours"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back.summary(), train_res.summary(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="format must be one of"):
        train_res.to_dir(tmp_path / "bad", format="xlsx")


def test_to_dir_logs_what_it_writes(res: gw.Result, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="gigawatt"):
        res.to_dir(tmp_path / "run", plots=False)
    text = caplog.text
    assert "wrote timeseries.parquet" in text and "wrote summary.csv" in text and "result written to" in text


def test_progress_hook_gives_the_same_result(tmp_path: Path) -> None:
    d = small_scenario_dict(horizon_h=12)
    calls: list[tuple[float, float]] = []
    a = gw.simulate(d)
    b = gw.simulate(d, progress=lambda s, h: calls.append((s, h)))
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, rtol=1e-12, atol=1e-12)
    sim = [s for s, _ in calls]
    assert len(calls) > 10 and sim == sorted(sim)
    assert sim[-1] == pytest.approx(12 * 3600.0, rel=1e-12)
    with pytest.raises(TypeError, match="progress must be"):
        gw.simulate(d, progress="yes")  # type: ignore[arg-type]


def test_plain_progress_lines() -> None:
    import io

    from gigawatt._progress import SimProgress

    buf = io.StringIO()
    p = SimProgress(pd.Timestamp("2026-01-01"), "demo", file=buf)  # not a terminal: plain lines
    for k in range(1, 101):
        p(k * 36.0, 3600.0)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("demo: 100% simulated (up to 2026-01-01 01:00)")
    assert "ETA" in lines[0]


def test_frame_from_columns_keeps_the_arrays_and_copies_a_repeat() -> None:
    """The time series is made from its column arrays without a copy (each its own block); an array given for
    two columns is copied for the second, so that writing one column never changes another."""
    from gigawatt.result import frame_from_columns

    idx = pd.date_range("2026-01-01", periods=5, freq="15s", name="time")
    a, b = np.arange(5.0), np.ones(5)
    ro = np.zeros(5)
    ro.flags.writeable = False
    df = frame_from_columns({"a_mw": a, "b_frac": b, "c_frac": b, "n": np.arange(5), "r_mw": ro}, idx)
    assert list(df.columns) == ["a_mw", "b_frac", "c_frac", "n", "r_mw"]
    assert df.index.equals(idx)
    assert np.shares_memory(df["a_mw"].to_numpy(), a)
    assert not np.shares_memory(df["c_frac"].to_numpy(), df["b_frac"].to_numpy())
    assert df["a_mw"].dtype == np.float64 and df["n"].dtype == np.int64
    np.testing.assert_allclose(df["c_frac"], 1.0)
    df.loc[df.index[1], "r_mw"] = 2.0  # every column can be written in place
    df.loc[df.index[1], "c_frac"] = 3.0
    np.testing.assert_allclose(df["r_mw"], [0.0, 2.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(df["b_frac"], 1.0)


def test_frame_from_columns_takes_string_columns_as_they_are() -> None:
    """A pandas extension array (a ``"str"`` column of the events table) becomes a column of the same dtype and
    values, next to numeric columns; the frame equals the one ``pd.DataFrame`` builds from the same columns."""
    from gigawatt.result import frame_from_columns

    names = pd.array(["a", "b", "", "a"], dtype="str")
    cols = {"t_s": np.arange(4.0), "job": names, "idx": np.array([0, 1, -1, 0])}
    df = frame_from_columns(cols, pd.RangeIndex(4))
    assert df["job"].dtype == names.dtype and df["job"].tolist() == ["a", "b", "", "a"]
    pd.testing.assert_frame_equal(df, pd.DataFrame(cols))


def test_release_free_heap_is_bound_on_glibc() -> None:
    """On glibc (Linux) the helper calls ``malloc_trim``; it changes no data (a frame is the same after it)."""
    import platform

    from gigawatt import result as result_mod

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert result_mod._MALLOC_TRIM is not None
    df = pd.DataFrame({"a": np.arange(1000.0)})
    big = [np.ones(1 << 18) for _ in range(8)]  # freed below: heap pages to hand back
    del big
    result_mod.release_free_heap()
    assert df["a"].sum() == pytest.approx(999 * 1000 / 2, rel=1e-12)
