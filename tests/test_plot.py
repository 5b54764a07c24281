"""Plots return Axes with unit labels and draw on a given Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import gigawatt as gw
from gigawatt import plot
from gigawatt.units import label, unit_of
from tests.conftest import small_scenario_dict


def test_plots_compose_on_given_axes() -> None:
    res = gw.simulate(small_scenario_dict())
    fig, axes = plt.subplots(2, 1)
    ax0 = plot.plot_power(res, ax=axes[0])
    ax1 = plot.plot_pue(res, ax=axes[1], scope="site-a/air")
    assert ax0 is axes[0] and ax1 is axes[1]
    assert ax0.get_ylabel() == "Facility power [MW]"
    assert ax1.get_ylabel() == "PUE [-]"
    assert len(ax0.collections) == 4  # four stacked components
    plt.close(fig)
    ax = plot.plot_power(res)
    assert ax.figure is not fig
    plt.close(ax.figure)


def test_labels_from_registry() -> None:
    assert label("it_power_mw") == "IT power [MW]"
    assert label("site/hall:it_power_mw") == "IT power [MW]"
    assert unit_of("chat:served_rps") == "requests/s"
    assert label("gpu_utilization_frac") == "GPU utilisation [0-1]"


def test_energy_supply_plot() -> None:
    d = small_scenario_dict()
    d["sites"][0]["grid"]["import_capacity_mw"] = 1.0
    d["sites"][0]["energy"] = {
        "generation": [{"kind": "gas", "name": "gt", "capacity_mw": 0.5, "start_time_s": 0}],
        "battery": {"energy_mwh": 1.0, "power_mw": 0.5},
    }
    res = gw.simulate(d)
    ax = plot.plot_energy_supply(res)
    assert ax.get_ylabel() == "Power [MW]"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Grid import" in labels and "Facility power" in labels
    assert any(stem == "energy_supply" and applies(res) for stem, _, applies in plot.DEFAULT_PLOTS)
    plt.close(ax.figure)


def test_planning_plots() -> None:
    import matplotlib.pyplot as plt

    from gigawatt.plot import plot_pareto, plot_sobol, plot_tornado

    t = pd.DataFrame(
        {
            "energy_cost_usd": [1.0, 2.0, 3.0, 2.5, 1.5],
            "pue": [1.5, 1.2, 1.1, 1.3, 1.6],
            "battery_mwh": [0, 10, 20, 30, 40],
        }
    )
    ax = plot_pareto(t, {"energy_cost_usd": "min", "pue": "min"}, color="battery_mwh")
    front_line = ax.get_lines()[0]
    assert len(front_line.get_xdata()) == 3  # rows 0, 1, 2 are non-dominated
    tor = pd.DataFrame(
        {
            "input": ["a", "b"],
            "low": [1, 2],
            "high": [3, 4],
            "x_mwh_at_low": [9.0, 9.5],
            "x_mwh_at_high": [12.0, 10.5],
            "base": [10.0, 10.0],
            "swing": [3.0, 1.0],
        }
    )
    ax = plot_tornado(tor)
    assert [t.get_text().split()[0] for t in ax.get_yticklabels()] == ["b", "a"]  # largest swing on top
    ax = plot_sobol(
        pd.DataFrame({"input": ["a", "b"], "first_order": [0.7, 0.2], "total_order": [0.75, 0.25]})
    )
    assert len(ax.patches) == 4
    plt.close("all")


def test_long_series_are_resampled_column_by_column_to_the_same_means() -> None:
    from gigawatt.plot import _readable

    idx = pd.date_range("2026-01-01", periods=24 * 4 * 40, freq="15min", name="time")
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {"it_power_mw": rng.random(idx.size), "site/hall:pue": 1 + rng.random(idx.size)}, index=idx
    )
    got, note = _readable(df, None)  # 40 days: hourly means
    assert note == " (1h means)" and len(got) == 40 * 24
    pd.testing.assert_frame_equal(got, df.resample("1h").mean(), check_freq=False, rtol=1e-12)
    same, none = _readable(df, "")
    assert same is df and none == ""
