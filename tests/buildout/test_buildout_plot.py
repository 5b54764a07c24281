"""Build-out plots return Axes and draw what they say."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from gigawatt.buildout import (
    capacity_gap,
    load_buildout,
    plot_capacity_fan,
    plot_online_probability,
    plot_unmet_demand,
    run_buildout,
)


def test_plots() -> None:
    plan = load_buildout("examples/buildout/campus_1gw.yaml")
    r = run_buildout(plan, draws=500)
    ax = plot_online_probability(r)
    assert len(ax.get_lines()) >= len(r.phase_names)
    _fig, axes = plt.subplots(2)
    assert plot_capacity_fan(r, ax=axes[0]) is axes[0]
    assert "GPUs" in axes[0].get_ylabel()
    assert plot_capacity_fan(r, what="it_power_mw", ax=axes[1]).get_ylabel().endswith("[MW]")
    ax3 = plot_unmet_demand(capacity_gap(r))
    assert "GPU-h" in ax3.get_ylabel()
    from gigawatt.buildout import plot_driving_items

    ax4 = plot_driving_items(r, ["hall-1", "hall-3"])
    labels = [t.get_text() for t in ax4.get_xticklabels()]
    assert "turbines/gas-turbines" in labels and "grid/interconnection" in labels
    plt.close("all")
