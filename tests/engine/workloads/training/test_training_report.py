"""Tests for gigawatt.engine.workloads.training.report (jobs and events tables)."""

from __future__ import annotations

from tests.engine.workloads.training.helpers import POOL, run

from gigawatt.engine.workloads.training import TrainingJobSpec


def test_jobs_table_without_jobs_has_the_columns():
    """An engine without jobs reports an empty jobs table with the same columns as one with jobs."""
    _, _, empty, _ = run([POOL], [], until=100.0)
    _, _, one, _ = run([POOL], [TrainingJobSpec("a", "p", n_gpus=8, work_s=10.0)], until=100.0)
    assert len(empty) == 0 and list(empty.columns) == list(one.columns)
