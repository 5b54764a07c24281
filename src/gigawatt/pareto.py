"""Pareto fronts of result tables (sweeps, per-variant summaries): which rows no other row beats.

A pure function of a table, used by :func:`gigawatt.plot.plot_pareto` and offered as ``gigawatt.pareto_front``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["pareto_front"]


def pareto_front(table: pd.DataFrame, objectives: Mapping[str, str]) -> pd.DataFrame:
    """The non-dominated rows of ``table`` for ``{column: "min" | "max"}``.

    A row is dominated when another is at least as good in every objective and strictly better in one.
    O(n²) comparisons, vectorised per row (fine for the thousands of rows of a sweep).
    """
    cols = list(objectives)
    for c, s in objectives.items():
        if c not in table.columns:
            raise KeyError(f"no column {c!r} to optimise")
        if s not in ("min", "max"):
            raise ValueError(f"objective {c!r}: sense must be 'min' or 'max'")
    data = table[cols].to_numpy(dtype=float)
    sign = np.array([1.0 if objectives[c] == "min" else -1.0 for c in cols])
    v = data * sign
    finite = np.isfinite(v).all(axis=1)
    keep = np.zeros(len(v), dtype=bool)
    for i in np.flatnonzero(finite):
        others = v[finite]
        dominated = np.any(np.all(others <= v[i], axis=1) & np.any(others < v[i], axis=1))
        keep[i] = not dominated
    return table[keep].sort_values(cols[0]).copy()
