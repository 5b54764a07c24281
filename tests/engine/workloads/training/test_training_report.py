"""Tests for gigawatt.engine.workloads.training.report (jobs and events tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from tests.engine.workloads.training.helpers import POOL, fail_config, run

from gigawatt.engine.workloads.training import TrainingJobSpec, progress, report
from gigawatt.engine.workloads.training.specs import GROUP_COLUMNS
from gigawatt.engine.workloads.training.state import NO_GROUPS, NO_INTERRUPTIONS, JobState
from gigawatt.physics.phases import Phase


def test_jobs_table_without_jobs_has_the_columns():
    """An engine without jobs reports an empty jobs table with the same columns as one with jobs."""
    _, _, empty, _ = run([POOL], [], until=100.0)
    _, _, one, _ = run([POOL], [TrainingJobSpec("a", "p", n_gpus=8, work_s=10.0)], until=100.0)
    assert len(empty) == 0 and list(empty.columns) == list(one.columns)


def _busy_run(monkeypatch, chunk):
    """A pool with failures and many short jobs, its records moved into arrays every ``chunk`` records."""
    monkeypatch.setattr(report, "RECORD_CHUNK", chunk)
    jobs = [
        TrainingJobSpec(f"j{i}", "p", n_gpus=8 * (1 + i % 4), work_s=600.0 + 97.0 * i, submit_s=50.0 * i)
        for i in range(60)
    ]
    until = 40_000.0
    eng, _, jt, ev = run([POOL], jobs, fail_config(x=2000.0), until=until, step_s=300.0, seed=1)
    return eng, jt, ev


def test_tables_do_not_depend_on_record_chunks(monkeypatch):
    """Records moved into column arrays every few records give the same jobs and events tables and counters
    as records kept as tuples to the end (chunk larger than the run), columns and dtypes included."""
    eng_a, jobs_a, ev_a = _busy_run(monkeypatch, 1 << 30)
    eng_b, jobs_b, ev_b = _busy_run(monkeypatch, 7)
    assert len(eng_b._ev_chunks) > 3  # the small chunks were used
    assert len(ev_a) > 100 and set(ev_a["kind"]) >= {"submit", "start", "finish", "restart"}
    pd.testing.assert_frame_equal(ev_a, ev_b, check_exact=True)
    pd.testing.assert_frame_equal(jobs_a, jobs_b, check_exact=True)
    for key, arr in eng_a.samples.items():
        np.testing.assert_array_equal(arr, eng_b.samples[key])
        assert arr.dtype == np.int64


def test_jobs_table_columns_keep_their_types():
    """Counts are int64, times and GPU-hours float64, names and states strings, ``deadline_met`` a flag per job
    with a deadline (None without), ``goodput_frac`` NaN for a job that never ran."""
    jobs = [
        TrainingJobSpec("a", "p", n_gpus=8, work_s=100.0, deadline_s=1000.0),
        TrainingJobSpec("b", "p", n_gpus=8, work_s=100.0),
        TrainingJobSpec("c", "p", n_gpus=64, work_s=5000.0, submit_s=10.0),
        TrainingJobSpec("d", "p", n_gpus=64, work_s=100.0, submit_s=20.0),  # queued behind c at the end
    ]
    _, _, jt, _ = run([POOL], jobs, until=3000.0)
    for col in ("n_gpus", "n_nodes", "priority", "n_checkpoints", "n_interruptions", "span_halls"):
        assert jt[col].dtype == np.int64, col
    for col in ("submit_s", "gpu_hours", "useful_gpu_hours", "goodput_frac", "deadline_s", "comm_factor"):
        assert jt[col].dtype == np.float64, col
    assert list(jt["state"]) == ["finished", "finished", "running", "queued"]
    assert jt["deadline_met"].tolist() == [True, None, None, None]
    assert math.isnan(jt["goodput_frac"].iloc[3]) and math.isnan(jt["deadline_s"].iloc[1])
    assert jt["spanned"].tolist() == [""] * 4
    assert jt["comm_factor"].tolist() == [1.0] * 4


def test_consumed_records_cannot_be_read_twice():
    """The run's outputs free the records as they build the tables (``consume=True``): the table is the same as
    without it, and a second read raises instead of returning a table without the events."""
    jobs = [TrainingJobSpec(f"j{i}", "p", n_gpus=8, work_s=500.0, submit_s=10.0 * i) for i in range(5)]
    eng, _, _, ev = run([POOL], jobs, until=5000.0)
    times = np.arange(10) * 500.0
    counts = eng.counter_samples(times)
    pd.testing.assert_frame_equal(eng.events_table(consume=True), ev, check_exact=True)
    for key, arr in eng.counter_samples(times, consume=True).items():
        np.testing.assert_array_equal(arr, counts[key])
    with pytest.raises(RuntimeError, match="event records were consumed"):
        eng.events_table()
    with pytest.raises(RuntimeError, match="counter records were consumed"):
        eng.counter_samples(times)


def _log_every_change(self):
    """The counter log before same-time rows were merged: one row per change."""
    self._count_buf.extend(
        (
            self._now,
            self.n_submitted,
            self.n_queued,
            self.n_running,
            self.n_finished,
            self.n_failed,
            self._alloc_gpus,
        )
    )


def test_counter_log_keeps_one_row_per_instant(monkeypatch):
    """Changes at one instant share one counter row (the last state at that time), and the samples are those of
    a log with a row per change."""
    eng_a, _, _ = _busy_run(monkeypatch, 1 << 30)
    rows_a = np.frombuffer(eng_a._count_buf).reshape(-1, 7)
    assert rows_a.shape[0] > 50 and (np.diff(rows_a[:, 0]) > 0).all()
    monkeypatch.setattr(report.Reporting, "_log_counts", _log_every_change)
    eng_b, _, _ = _busy_run(monkeypatch, 1 << 30)
    rows_b = np.frombuffer(eng_b._count_buf).reshape(-1, 7)
    assert rows_b.shape[0] > rows_a.shape[0]  # the run has several changes at one instant
    for key, arr in eng_a.samples.items():
        np.testing.assert_array_equal(arr, eng_b.samples[key])
    t = np.linspace(0.0, 40_000.0, 997)
    for key, arr in eng_a.counter_samples(t).items():
        np.testing.assert_array_equal(arr, eng_b.counter_samples(t)[key])
    consumed = eng_a.counter_samples(t, consume=True)
    for key, arr in eng_b.counter_samples(t).items():
        np.testing.assert_array_equal(arr, consumed[key])


def test_finished_jobs_keep_only_what_the_jobs_table_reads(monkeypatch):
    """A job in a final state holds the shared empty group mappings and no queue key; the shared mapping
    refuses changes."""
    eng, jt, _ = _busy_run(monkeypatch, 1 << 30)
    final = [j for j in eng.jobs if j.state in (JobState.DONE, JobState.FAILED)]
    assert len(final) > 10 and (jt["state"] == "finished").sum() > 10
    for j in final:
        assert j.nodes_by_group is NO_GROUPS and j.gpus_by_group is NO_GROUPS and j.key == ()
    assert len(NO_GROUPS) == 0
    with pytest.raises(RuntimeError, match="shared empty"):
        NO_GROUPS[0] = 1
    # the interruption columns: each job's own counts, zeros for those never interrupted
    assert 0 < sum(j.n_int is not NO_INTERRUPTIONS for j in eng.jobs) < len(eng.jobs)
    for c in GROUP_COLUMNS:
        assert jt[f"n_interruptions_{c}"].tolist() == [j.n_int[c] for j in eng.jobs]
    assert jt["n_interruptions"].sum() > 0


def test_checkpoint_records_do_not_depend_on_merging(monkeypatch):
    """Checkpoint records merged every few segments (phase log and checkpoint completions) give the same
    events table and phase occupancy as records never merged."""
    out = {}
    for merge in (2, 1 << 30):
        monkeypatch.setattr(progress, "_PL_MERGE", merge)
        eng, _, ev = _busy_run(monkeypatch, 1 << 30)
        out[merge] = (eng, ev)
    (eng_a, ev_a), (eng_b, ev_b) = out[2], out[1 << 30]
    assert any(isinstance(c[1], np.ndarray) for c in eng_a._ev_ck)  # some merged
    assert (ev_a["kind"] == "checkpoint").sum() > 10
    pd.testing.assert_frame_equal(ev_a, ev_b, check_exact=True)
    occ_a, occ_b = eng_a.phase_occupancy(300.0, 130), eng_b.phase_occupancy(300.0, 130)
    for key, arr in occ_a.items():
        np.testing.assert_array_equal(arr, occ_b[key])


def test_consuming_jobs_table_frees_the_job_records(monkeypatch):
    """``jobs_table(consume=True)`` gives the same table, frees the job records, and the events table built
    afterwards is the same; a second jobs table raises."""
    _, jobs_a, ev_a = _busy_run(monkeypatch, 1 << 30)
    eng_b, _, _ = _busy_run(monkeypatch, 1 << 30)
    jobs_b = eng_b.jobs_table(consume=True)
    pd.testing.assert_frame_equal(jobs_a, jobs_b, check_exact=True)
    assert eng_b.jobs == [] and eng_b._sub_jobs == []
    assert (ev_a["kind"] == "checkpoint").sum() > 10
    pd.testing.assert_frame_equal(ev_a, eng_b.events_table(consume=True), check_exact=True)
    with pytest.raises(RuntimeError, match="consumed"):
        eng_b.jobs_table()


def test_consuming_phase_occupancy_gives_the_same_averages_once(monkeypatch):
    """``phase_occupancy(consume=True)`` gives the averages of a plain call and frees the phase log; a later
    call raises."""
    eng, _, _ = _busy_run(monkeypatch, 1 << 30)
    plain = eng.phase_occupancy(300.0, 130)
    assert plain[Phase.TRAIN_COMPUTE].max() > 0 and plain[Phase.TRAIN_STALL].max() > 0
    consumed = eng.phase_occupancy(300.0, 130, consume=True)
    for key, arr in plain.items():
        np.testing.assert_array_equal(arr, consumed[key])
    assert len(eng._plt) == 0 and eng._plchunks == []
    with pytest.raises(RuntimeError, match="consumed"):
        eng.phase_occupancy(300.0, 130)
