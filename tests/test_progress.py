"""Progress display of ``simulate(progress=True)``: mode choice and the notebook fallback."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from gigawatt import _progress
from gigawatt._progress import SimProgress, make_progress


def test_mode_follows_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "_in_notebook", lambda: False)
    assert not SimProgress(pd.Timestamp("2026-01-01"), file=io.StringIO()).bar_mode  # a pipe/file: lines
    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    assert SimProgress(pd.Timestamp("2026-01-01"), file=io.StringIO()).bar_mode  # a notebook: a bar


def test_notebook_without_ipywidgets_falls_back_to_the_text_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from tqdm.std import tqdm as text_bar

    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ipywidgets" else real(n, *a))
    assert _progress._tqdm_class() is text_bar
    buf = io.StringIO()
    p = SimProgress(pd.Timestamp("2026-01-01"), "nb", file=buf)
    p(1800.0, 3600.0)
    p(3600.0, 3600.0)
    assert "nb: 100%" in buf.getvalue() and "1/1 sim h" in buf.getvalue()


def test_make_progress() -> None:
    assert make_progress(False, pd.Timestamp("2026-01-01"), "x") is None
    assert make_progress(None, pd.Timestamp("2026-01-01"), "x") is None
    assert isinstance(make_progress(True, pd.Timestamp("2026-01-01"), "x"), SimProgress)

    def hook(s: float, h: float) -> None:
        return None

    assert make_progress(hook, pd.Timestamp("2026-01-01"), "x") is hook
