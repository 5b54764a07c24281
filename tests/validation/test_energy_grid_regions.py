"""Correlated outages: a grid region's emergency takes out every site of the region at once (energy model §8).

Three sites over 30 days: ``site-a`` and ``site-b`` share the grid region ``ERCOT`` (whose stochastic
disconnections are drawn once, from the region's random stream), ``site-c`` lies in ``PJM``. None has a battery
or generation, so a disconnection leaves a site without supply. The checks are invariants of the model:
during every regional event both sites of the region import nothing, outside events both import, and the
third site's events are not the region's.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from tests.conftest import small_scenario_dict

import gigawatt

SRC = "grid.region: one Poisson draw per region applied to each of its sites; model invariant"


def _run(seed: int = 7) -> gigawatt.Result:
    d = small_scenario_dict(horizon_h=24 * 30, seed=seed)
    for name in ("site-b", "site-c"):
        s = copy.deepcopy(d["sites"][0])
        s["name"] = name
        d["sites"].append(s)
    for s, region in zip(d["sites"], ("ERCOT", "ERCOT", "PJM"), strict=True):
        s["grid"].update(
            import_capacity_mw=5.0,
            region=region,
            stochastic_curtailment={"rate_per_year": 120, "mean_duration_h": 3.0, "cap_frac": 0.0},
        )
    d["workloads"] = [
        {
            "kind": "utilization",
            "name": f"load-{s['name']}",
            "target": {"hall": f"{s['name']}/liquid"},
            "profile": {"kind": "constant", "utilization_frac": 0.8},
        }
        for s in d["sites"]
    ]
    return gigawatt.simulate(d)


def _event_steps(r: gigawatt.Result, site: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps wholly inside one of ``site``'s grid events, and steps touching none."""
    idx = r.timeseries.index
    step = idx[1] - idx[0]
    inside = np.zeros(len(idx), dtype=bool)
    touched = np.zeros(len(idx), dtype=bool)
    ev = r.events[(r.events["kind"] == "grid_curtailment") & (r.events["site"] == site)]
    for t0, dur in zip(ev["time"], ev["duration_s"], strict=True):
        t1 = pd.Timestamp(t0) + pd.Timedelta(seconds=float(dur))
        inside |= (idx >= t0) & (idx + step <= t1)
        touched |= (idx < t1) & (idx + step > t0)
    return inside, ~touched


def test_regional_event_removes_supply_at_all_its_sites_at_once(validation):
    r = _run()
    ts = r.timeseries
    ev = r.events[r.events["kind"] == "grid_curtailment"]
    ta = ev.loc[ev["site"] == "site-a", "time"].to_numpy()
    tb = ev.loc[ev["site"] == "site-b", "time"].to_numpy()
    tc = ev.loc[ev["site"] == "site-c", "time"].to_numpy()
    assert len(ta) >= 3  # ≈ 10 expected in 30 days
    assert np.array_equal(ta, tb)
    assert not np.array_equal(ta[: min(len(ta), len(tc))], tc[: min(len(ta), len(tc))])
    inside, clear = _event_steps(r, "site-a")
    assert inside.sum() >= 3
    imports = np.stack([ts[f"{s}:grid_import_mw"].to_numpy() for s in ("site-a", "site-b")])
    worst = float(imports[:, inside].max())
    validation(
        "30 days, region-wide Poisson disconnections of two sites: largest grid import of either site during "
        "a regional event [MW]",
        model=worst,
        reference=0.0,
        tolerance="≤ 1e-9 MW",
        source=SRC,
        kind="invariant",
    )
    assert worst <= 1e-9
    # both sites lose their whole demand in those steps, and import again outside the region's events
    for s in ("site-a", "site-b"):
        unserved = ts[f"{s}:unserved_mw"].to_numpy()[inside]
        assert (unserved > 0.1).all()
    assert (imports[:, clear] > 0.1).all()
    # same seed, same events; the third site's own region draws elsewhere
    again = _run()
    assert np.array_equal(
        again.events.loc[again.events["kind"] == "grid_curtailment", "time"].to_numpy(), ev["time"].to_numpy()
    )
