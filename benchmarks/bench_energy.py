"""Benchmark: supply dispatch of one site over a year at 5-minute steps (105,120 steps), every source on.

Target (issue 6): under 0.1 s per site-year for the dispatch kernel (solar, wind, SMR, two gas units, a
battery, grid cap with events), and block-by-block dispatch in 12-step blocks (the worst case: the
controller's look-ahead windows usually span days) under 0.5 s per site-year. Also: power-capping solve for a year with a binding cap.

Baseline measured in the same run: the same merit-order recurrence written as a plain Python loop (the
naive implementation the numba kernel replaces), on the first 10,000 steps, extrapolated. Ratios printed.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of

from gigawatt.physics import dispatch as dsp
from gigawatt.physics.capping import LoadBlock, solve_power_cap
from gigawatt.physics.generation import GasUnit
from gigawatt.physics.storage import Battery

N = 105_120
STEP_H = 5 / 60


def inputs() -> dict:
    rng = np.random.default_rng(0)
    h = np.arange(N) * STEP_H
    return {
        "demand": 120 + 15 * np.sin(2 * np.pi * (h - 9) / 24) + rng.normal(0, 2, N).clip(-5, 5),
        "cap": np.where(rng.random(N) < 0.001, 0.0, 125.0),
        "mr": {
            "solar": 50 * np.clip(np.sin(2 * np.pi * (h - 6) / 24), 0, None),
            "wind": 30 * rng.beta(2, 3, N),
            "smr": np.full(N, 20.0),
        },
        "gas": [GasUnit("a", 40.0, 0.3, 600.0, fuel_price_usd_per_mmbtu=9.0), GasUnit("b", 30.0, 0.2, 300.0)],
        "battery": Battery(200.0, 50.0),
        "price": 60 + 30 * np.sin(2 * np.pi * (h - 14) / 24),
    }


def python_loop(demand: np.ndarray, cap: np.ndarray, mr: np.ndarray, b: Battery, n: int) -> float:
    """Grid + must-run + battery (backup) merit order, one step at a time in Python."""
    soc, e, dt = b.initial_soc_frac, b.energy_mwh, STEP_H
    unserved = 0.0
    for t in range(n):
        need = max(demand[t] - mr[t], 0.0)
        grid = min(need, cap[t])
        need -= grid
        dis = min(need, b.power_mw, (soc - b.soc_min_frac) * e * b.eta_discharge / dt)
        need -= dis
        ch = 0.0
        if dis == 0.0:
            ch = min(b.power_mw, (b.soc_max_frac - soc) * e / (b.eta_charge * dt), max(cap[t] - grid, 0.0))
        soc += (ch * b.eta_charge - dis / b.eta_discharge) * dt / e
        unserved += need
    return unserved


def main() -> None:
    x = inputs()

    supply = dsp.DispatchInputs(
        step_h=STEP_H,
        grid_cap_mw=x["cap"],
        export_cap_mw=5.0,
        must_run_mw=x["mr"],
        gas_units=x["gas"],
        battery=x["battery"],
        policy="price_arbitrage",
        price_usd_per_mwh=x["price"],
    )

    def one_pass() -> dsp.DispatchResult:
        return dsp.dispatch(x["demand"], supply)

    one_pass()  # compile (numba cache)
    t_one, res = best_of(one_pass)
    ch, dis = dsp.daily_signal_masks(x["price"], 288, 48, 48)

    prepared = dsp.prepare_dispatch(N, dataclasses.replace(supply, charge_mask=ch, discharge_mask=dis))

    def blocks() -> None:
        soc, online, countdown = prepared._initial(None)
        for s0 in range(0, N, 12):
            out = prepared.run_raw(x["demand"][s0 : s0 + 12], s0, soc, online, countdown)
            soc, online, countdown = float(out[8]), out[9], out[10]

    blocks()  # compile the block specialisation
    t_blocks, _ = best_of(blocks, repeat=1)
    mr_total = sum(x["mr"].values())
    n_py = 10_000
    t_py, _ = best_of(lambda: python_loop(x["demand"], x["cap"], mr_total, x["battery"], n_py), repeat=1)
    t_py_year = t_py * N / n_py

    base = np.full((N, 1), 30.0)
    dyn = x["demand"] / 1.2 - 30.0
    avail = np.minimum(x["demand"], 125.0)

    def capping() -> None:
        solve_power_cap(base, [LoadBlock(0, "training", 0, dyn)], avail, lambda it, i: 1.2 * it.sum(axis=1))

    t_cap, _ = best_of(capping, repeat=1)
    print(f"dispatch, one pass, 1 site-year @5 min:   {t_one * 1e3:8.1f} ms   (target < 100 ms)")
    print(
        f"dispatch, 8,760 blocks of 12 steps:       {t_blocks * 1e3:8.1f} ms   ({t_blocks / t_one:5.1f}x one pass)"
    )
    print(
        f"python-loop baseline (grid+battery only): {t_py_year * 1e3:8.1f} ms   (numba kernel {t_py_year / t_one:5.1f}x faster)"
    )
    print(f"power-capping solve, capped steps: {int((avail < x['demand']).sum()):6d}  {t_cap * 1e3:8.1f} ms")
    print(f"balance residual max: {np.abs(res.balance_residual_mw()).max():.2e} MW")


if __name__ == "__main__":
    main()
