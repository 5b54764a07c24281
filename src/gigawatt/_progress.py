"""Progress of a simulation on stderr: a tqdm bar on a terminal or in a notebook, a few plain lines otherwise.

The engine calls a hook ``hook(sim_s, horizon_s)`` after each chunk of simulated time
(:data:`PROGRESS_CHUNKS` chunks per run, see :func:`gigawatt.engine.core.simulate`); this module turns that into
what a person sees: simulated time, wall time and the estimated time left.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import pandas as pd

__all__ = ["PROGRESS_CHUNKS", "ProgressHook", "SimProgress", "make_progress"]

#: Chunks of simulated time per run when progress is shown (each ends with one ``env.run(until=t)``).
PROGRESS_CHUNKS = 100
#: Plain-line mode (no terminal, no notebook): a line at every quarter of the horizon.
PLAIN_LINE_FRACS = (0.25, 0.5, 0.75, 1.0)

ProgressHook = Callable[[float, float], None]


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where ``tqdm.auto`` draws a widget)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - IPython without a shell
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _columns(file: IO[str]) -> int | None:
    """Width of the terminal ``file`` is attached to (0 for a terminal without a size), None if not one."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _tqdm_class() -> Any:
    """``tqdm.auto.tqdm`` (a widget in a notebook with ipywidgets), else the text bar ``tqdm.std.tqdm``."""
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is None:
        # lazy: tqdm (and its notebook widgets) only when a progress bar is drawn
        from tqdm.std import tqdm as text_bar  # a notebook without ipywidgets: the widget bar would fail

        return text_bar
    # lazy: tqdm (and its notebook widgets) only when a progress bar is drawn
    from tqdm.auto import tqdm as auto_bar

    return auto_bar


def _hms(seconds: float) -> str:
    s = round(max(seconds, 0.0))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


class SimProgress:
    """Shows the progress of one simulation run.

    Parameters
    ----------
    start : pandas.Timestamp
        Start of the simulated horizon (shown as the simulated date reached).
    label : str
        Shown before the bar (the scenario name).
    bar : bool or None
        ``True``: a ``tqdm.auto`` bar; ``False``: plain lines at 25/50/75/100 % of the horizon; ``None``: a bar
        when ``file`` is a terminal or in a notebook, plain lines otherwise.
    file : file-like, optional
        Where to write (default ``sys.stderr``).
    """

    def __init__(
        self, start: pd.Timestamp, label: str = "", *, bar: bool | None = None, file: IO[str] | None = None
    ) -> None:
        self.file = file if file is not None else sys.stderr
        self.start = pd.Timestamp(start)
        self.label = label
        if bar is None:
            bar = bool(getattr(self.file, "isatty", lambda: False)()) or _in_notebook()
        self.bar_mode = bar
        self._t0 = time.perf_counter()
        self._bar: Any = None
        self._next_line = 0
        self._last_sim_s = 0.0

    def __call__(self, sim_s: float, horizon_s: float) -> None:
        """Hook: ``sim_s`` of ``horizon_s`` simulated seconds are done."""
        frac = sim_s / horizon_s if horizon_s > 0 else 1.0
        sim_date = (self.start + pd.Timedelta(seconds=sim_s)).strftime("%Y-%m-%d %H:%M")
        if self.bar_mode:
            if self._bar is None:
                tqdm = _tqdm_class()
                sized = _columns(self.file) != 0  # a terminal without a size (0 x 0) hides tqdm's bar
                self._bar = tqdm(
                    ncols=None if sized else 100,
                    nrows=None if sized else 24,
                    total=round(horizon_s / 3600.0, 3),
                    unit="sim h",
                    desc=self.label or "simulating",
                    file=self.file,
                    dynamic_ncols=sized,
                    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} sim h "
                    "[{elapsed}<{remaining}]{postfix}",
                )
            self._bar.update(round((sim_s - self._last_sim_s) / 3600.0, 3))
            self._bar.set_postfix_str(sim_date, refresh=True)
        else:
            while (
                self._next_line < len(PLAIN_LINE_FRACS) and frac >= PLAIN_LINE_FRACS[self._next_line] - 1e-9
            ):
                self._next_line += 1
                wall = time.perf_counter() - self._t0
                eta = wall * (1.0 - frac) / frac if frac > 0 else float("nan")
                print(
                    f"{self.label + ': ' if self.label else ''}{frac:4.0%} simulated (up to {sim_date}), "
                    f"wall {_hms(wall)}, ETA {_hms(eta)}",
                    file=self.file,
                    flush=True,
                )
        self._last_sim_s = sim_s
        if frac >= 1.0:
            self.close()

    def close(self) -> None:
        """Finish the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_progress(
    progress: bool | ProgressHook | None, start: pd.Timestamp, label: str
) -> ProgressHook | None:
    """The hook for ``simulate(progress=...)``: None for ``False``/``None``, a :class:`SimProgress` for ``True``,
    the callable itself otherwise."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return SimProgress(start, label)
    if callable(progress):
        return progress
    raise TypeError(
        f"progress must be a bool or a callable hook(sim_s, horizon_s) (got {type(progress).__name__})"
    )
