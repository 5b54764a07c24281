"""The validation report's bookkeeping (tests/validation/conftest.py): kinds, outcomes and the headline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

CONFTEST = Path(__file__).resolve().parent / "validation" / "conftest.py"


@pytest.fixture
def book() -> ModuleType:
    """A private copy of the validation conftest (its record lists start empty)."""
    spec = importlib.util.spec_from_file_location("validation_bookkeeping_copy", CONFTEST)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    return mod


def _add(book: ModuleType, **kw):
    args = dict(model=1.0, reference=1.0, tolerance="± 1 %", source="test", kind="independent") | kw
    return book.add_record("t::x", "a check", **args)


def test_kind_is_required_and_checked(book: ModuleType) -> None:
    with pytest.raises(ValueError, match="kind='measured'"):
        _add(book, kind="measured")
    with pytest.raises(TypeError):
        book.add_record("t::x", "c", model=1, reference=1, tolerance="", source="")
    with pytest.raises(ValueError, match="within"):
        _add(book, within=1)
    for kind in ("independent", "calibrated", "fitted", "theory", "cross-tier", "invariant"):
        _add(book, kind=kind)
    assert len(book._RECORDS) == 6


@pytest.mark.parametrize(
    ("within", "test_outcome", "expected"),
    [
        (True, "passed", "passed"),
        (None, "passed", "passed"),
        (False, "passed", "outside reference"),
        (False, "failed", "failed"),
        (True, "failed", "failed"),
    ],
)
def test_outcome_from_within_and_test_result(book: ModuleType, within, test_outcome, expected) -> None:
    rec = _add(book, within=within)
    book.settle_outcome(rec, test_outcome)
    assert rec.outcome == expected


def test_headline_counts_per_kind_and_outcome(book: ModuleType) -> None:
    for within, outcome in ((True, "passed"), (False, "passed"), (None, "failed")):
        book.settle_outcome(_add(book, within=within), outcome)
    book.settle_outcome(_add(book, kind="invariant"), "passed")
    text = "\n".join(book._headline())
    assert "4 recorded comparisons: 2 passed, 1 outside reference, 1 failed" in text
    assert "| **independent** | 1 | 1 | 1 | 3 |" in text
    assert "| **invariant** | 1 | 0 | 0 | 1 |" in text
    assert "Checks outside their reference or failed" in text
