"""Pareto fronts of result tables."""

from __future__ import annotations

import pandas as pd
import pytest

from gigawatt.pareto import pareto_front


def test_pareto_front() -> None:
    t = pd.DataFrame({"cost": [1.0, 2.0, 3.0, 2.5, 1.5], "goodput": [0.5, 0.8, 0.9, 0.7, 0.4]})
    front = pareto_front(t, {"cost": "min", "goodput": "max"})
    assert front.index.tolist() == [0, 1, 2]  # 3 is dominated by 1, 4 by 0
    with pytest.raises(KeyError):
        pareto_front(t, {"x": "min"})
