"""Property-based tests (hypothesis): generated valid scenarios keep the model's invariants; generated invalid
ones raise only :class:`gigawatt.ScenarioError`, and whatever loads, runs.

Deterministic (``derandomize=True``, no example database) and bounded (small fleets, horizons of hours, coarse
steps, a few dozen examples) so the file runs in well under a minute.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gigawatt as gw
from gigawatt.checks.limits import ResourceLimits

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # absurd generated inputs may warn

_SETTINGS = dict(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Small runs only: a mutated scenario that loads under these limits is simulated.
_SMALL = ResourceLimits(max_steps=400, max_memory_gb=0.5, max_training_jobs=2000, max_failure_events=2000)


# ---------------------------------------------------------------------------------------------- valid
@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid scenario: one site, one or two halls, utilisation and training workloads, optional
    grid cap, battery, gas and solar."""
    step_s = draw(st.sampled_from([900.0, 1800.0, 3600.0]))
    horizon_h = draw(st.integers(2, 12)) * step_s / 3600.0 * 2
    climate = draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "kind": st.just("synthetic"),
                    "annual_mean_dry_bulb_c": st.floats(-20, 35),
                    "annual_amplitude_c": st.floats(0, 15),
                    "diurnal_amplitude_c": st.floats(0, 10),
                    "relative_humidity_frac": st.floats(0.05, 1.0),
                }
            ),
            st.fixed_dictionaries(
                {
                    "kind": st.just("constant"),
                    "dry_bulb_c": st.floats(-30, 45),
                    "relative_humidity_frac": st.floats(0.05, 1),
                }
            ),
        )
    )
    halls = [
        {
            "name": "air",
            "cooling": {"technology": draw(st.sampled_from(["air", "rdhx", "dlc"]))},
            "racks": [
                {
                    "name": "dgx",
                    "count": draw(st.integers(1, 6)),
                    "servers_per_rack": draw(st.integers(1, 4)),
                    "server": {"accelerator": "H100-SXM"},
                }
            ],
        }
    ]
    if draw(st.booleans()):
        halls.append(
            {
                "name": "liquid",
                "cooling": {"technology": draw(st.sampled_from(["dlc", "immersion"]))},
                "racks": [
                    {
                        "name": "nvl72",
                        "count": draw(st.integers(1, 2)),
                        "servers_per_rack": 18,
                        "server": {"accelerator": "GB200", "accelerators_per_server": 4},
                    }
                ],
            }
        )
    grid: dict[str, Any] = {
        "energy_price_usd_per_mwh": draw(st.floats(0, 300)),
        "carbon_intensity_gco2_per_kwh": draw(st.floats(0, 900)),
    }
    if draw(st.booleans()):
        grid["import_capacity_mw"] = draw(st.floats(0.05, 2.0))
    energy: dict[str, Any] = {"generation": []}
    if draw(st.booleans()):
        energy["battery"] = {
            "energy_mwh": draw(st.floats(0.1, 4)),
            "power_mw": draw(st.floats(0.1, 2)),
            "policy": draw(st.sampled_from(["backup_only", "peak_shaving", "price_arbitrage"])),
        }
    if draw(st.booleans()):
        energy["generation"].append({"kind": "gas", "name": "gas", "capacity_mw": draw(st.floats(0.1, 1.5))})
    if draw(st.booleans()):
        energy["generation"].append(
            {"kind": "solar", "name": "pv", "capacity_dc_mw": draw(st.floats(0.1, 2))}
        )
    n_air = halls[0]["racks"][0]["count"] * halls[0]["racks"][0]["servers_per_rack"] * 8
    workloads: list[dict[str, Any]] = [
        {
            "kind": "utilization",
            "name": "util",
            "target": {"hall": "air", "gpus": max(1, n_air // 2)},
            "profile": draw(
                st.one_of(
                    st.fixed_dictionaries({"kind": st.just("constant"), "utilization_frac": st.floats(0, 1)}),
                    st.fixed_dictionaries(
                        {
                            "kind": st.just("daily"),
                            "utilization_frac": st.lists(st.floats(0, 1), min_size=1, max_size=6),
                        }
                    ),
                )
            ),
        }
    ]
    if n_air - n_air // 2 >= 8 and draw(st.booleans()):
        pool = n_air - n_air // 2
        workloads.append(
            {
                "kind": "training",
                "name": "train",
                "target": {"hall": "air", "gpus": pool},
                "jobs": [{"name": "j", "gpus": 8, "duration_h": draw(st.floats(0.5, 6))}],
                "mix": {
                    "jobs_per_day": draw(st.floats(0, 200)),
                    "gpu_counts": [1, 8],
                    "gpu_count_probs": [0.5, 0.5],
                },
                "reliability": {"rate_scale": draw(st.floats(0, 50))},
            }
        )
    if len(halls) == 2:
        workloads.append(
            {
                "kind": "utilization",
                "name": "liq",
                "target": {"hall": "liquid"},
                "profile": {"kind": "constant", "utilization_frac": draw(st.floats(0, 1))},
            }
        )
    return {
        "name": "generated",
        "start": draw(st.sampled_from(["2026-01-15T00:00:00", "2026-07-01T06:00:00", "2027-03-30T23:00:00"])),
        "horizon_h": horizon_h,
        "step_s": step_s,
        "seed": draw(st.integers(0, 2**31)),
        "sites": [
            {
                "name": "site",
                "location": {
                    "latitude_deg": draw(st.floats(-60, 70)),
                    "longitude_deg": draw(st.floats(-180, 180)),
                    "country_code": "US",
                },
                "climate": climate,
                "grid": grid,
                "energy": energy,
                "halls": halls,
            }
        ],
        "workloads": workloads,
    }


def _supply_residual_mw(ts: Any) -> np.ndarray:
    gen = sum((ts[c] for c in ts.columns if c.startswith("generation_") and c.endswith("_mw")), 0.0)
    get = lambda c: ts[c] if c in ts.columns else 0.0  # noqa: E731
    supplied = get("grid_import_mw") + gen + get("battery_discharge_mw")
    used = (
        ts["facility_power_mw"]
        - get("blackout_mw")
        + get("battery_charge_mw")
        + get("grid_export_mw")
        + get("curtailed_mw")
    )
    return np.asarray(supplied - used, dtype=float)


@settings(max_examples=25, **_SETTINGS)  # type: ignore[arg-type]
@given(d=scenarios())
def test_generated_valid_scenarios_keep_the_invariants(d: dict[str, Any]) -> None:
    res = gw.simulate(d)
    ts = res.timeseries
    power_cols = [
        "it_power_mw",
        "cooling_power_mw",
        "electrical_loss_mw",
        "other_power_mw",
        "facility_power_mw",
    ]
    p = ts[power_cols].to_numpy()
    assert np.all(np.isfinite(p)), "NaN/inf power"
    assert np.all(p >= -1e-9), "negative power"
    np.testing.assert_allclose(
        ts["facility_power_mw"], ts[power_cols[:4]].sum(axis=1), rtol=1e-9, atol=1e-9
    )  # facility = IT + cooling + losses + other
    np.testing.assert_allclose(_supply_residual_mw(ts), 0.0, rtol=0, atol=1e-6)  # supply balance
    for c in ("grid_import_mw", "battery_charge_mw", "battery_discharge_mw", "unserved_mw"):
        if c in ts.columns:
            assert np.all(ts[c].to_numpy() >= -1e-9), c
    bat = d["sites"][0]["energy"].get("battery")
    if bat is not None:
        soc = ts["battery_soc_frac"].to_numpy()
        assert np.all(soc >= 0.05 - 1e-9) and np.all(soc <= 0.95 + 1e-9)  # the model's default SoC window
    if any(w["kind"] == "training" for w in d["workloads"]):
        c = {
            k: ts[f"train:{k}_jobs"].to_numpy()
            for k in ("submitted", "finished", "running", "queued", "failed")
        }
        np.testing.assert_array_equal(
            c["submitted"], c["finished"] + c["running"] + c["queued"] + c["failed"]
        )
        assert res.jobs is not None
    s = res.summary()
    assert math.isfinite(s["facility_energy_mwh"]) and s["facility_energy_mwh"] >= 0
    np.testing.assert_allclose(
        s["facility_energy_mwh"],
        s["it_energy_mwh"]
        + s["cooling_energy_mwh"]
        + s["electrical_loss_energy_mwh"]
        + s["other_energy_mwh"],
        rtol=1e-9,
        atol=1e-9,
    )


# -------------------------------------------------------------------------------------------- invalid
_BASE: dict[str, Any] = {
    "name": "m",
    "start": "2026-07-01T00:00:00",
    "horizon_h": 4,
    "step_s": 1800,
    "sites": [
        {
            "name": "s",
            "location": {"latitude_deg": 40.0, "longitude_deg": -80.0, "country_code": "US"},
            "climate": {"kind": "synthetic"},
            "grid": {"import_capacity_mw": 1.0, "energy_price_usd_per_mwh": 50.0},
            "energy": {"battery": {"energy_mwh": 1.0, "power_mw": 0.5}},
            "halls": [
                {
                    "name": "h",
                    "cooling": {"technology": "air"},
                    "racks": [
                        {
                            "name": "r",
                            "count": 2,
                            "servers_per_rack": 2,
                            "server": {"accelerator": "H100-SXM"},
                        }
                    ],
                }
            ],
        }
    ],
    "workloads": [
        {
            "kind": "utilization",
            "name": "u",
            "target": {"hall": "h", "gpus": 16},
            "profile": {"kind": "daily", "utilization_frac": [0.2, 0.8]},
        },
        {
            "kind": "training",
            "name": "t",
            "target": {"hall": "h", "gpus": 16},
            "jobs": [{"name": "j", "gpus": 8, "duration_h": 1}],
            "mix": {"jobs_per_day": 20, "gpu_counts": [1, 8], "gpu_count_probs": [0.5, 0.5]},
        },
        {
            "kind": "inference",
            "name": "i",
            "target": {"hall": "h", "gpus": 16},
            "model": "Llama-3-8B",
            "demand": {"kind": "profile", "peak_rps": 5},
        },
    ],
}
_BASE["workloads"][0]["target"]["gpus"] = 8
_BASE["workloads"][2]["target"]["gpus"] = 8
_BASE["workloads"][1]["target"]["gpus"] = 16


def _paths(x: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(x, dict):
        for k, v in x.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += _paths(v, (*prefix, i))
    return out


_ALL_PATHS = _paths(_BASE)
_WEIRD = st.one_of(
    st.sampled_from(
        [1e-6, 1e-3, 0.5, 2, 7.5, 1e3, 1e6, 1e9, 1e12, 1e15, 8760, 86400, 604800, 876000, 2_000_000, 100_000]
    ),
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            -float("inf"),
            1e300,
            -1e300,
            -1,
            0,
            10**20,
            "",
            "x/y:z",
            "2026-13-45",
            "1500-01-01",
            None,
            True,
            [],
            {},
            [[[[[]]]]],
            {"kind": "nope"},
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=8),
)


@settings(max_examples=40, **_SETTINGS)  # type: ignore[arg-type]
@given(edits=st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _WEIRD, st.booleans()), min_size=1, max_size=3))
def test_mutated_scenarios_raise_only_scenario_errors_and_what_loads_runs(
    edits: list[tuple[tuple[Any, ...], Any, bool]],
) -> None:
    d = copy.deepcopy(_BASE)
    for path, value, delete in edits:
        cur: Any = d
        try:
            for k in path[:-1]:
                cur = cur[k]
            if delete and isinstance(cur, dict):
                cur.pop(path[-1], None)
            else:
                cur[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the parent
    try:
        sc = gw.load_scenario(d, limits=_SMALL)
    except gw.ScenarioError as exc:
        assert exc.problems and all(isinstance(m, str) and m for _, m in exc.problems)
        return
    res = gw.simulate(sc)  # whatever loads, runs
    assert np.all(np.isfinite(res.timeseries["facility_power_mw"].to_numpy()))


_YAML_TEXT = __import__("yaml").safe_dump(_BASE, sort_keys=False)
_JSON_TEXT = __import__("json").dumps(_BASE, indent=1)
_SNIPPETS = [
    *":-[]{}&*!|>'\"%@`#,?\n \t0123456789.eE+",
    "\x00",
    "\ufeff",
    "é",
    "\\",
    "<<: *a",
    "&a ",
    "!!binary ",
]
_SNIPPETS += [
    "!!python/object:os.system",
    "!!timestamp ",
    "!!bool ",
    "2026-02-30",
    ".nan",
    ".inf",
    "~",
    "1e400",
]


@settings(max_examples=60, **_SETTINGS)  # type: ignore[arg-type]
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(_SNIPPETS)), min_size=1, max_size=4),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_corrupted_files_raise_only_scenario_errors(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, str]], suffix: str
) -> None:
    text = _YAML_TEXT if suffix == ".yaml" else _JSON_TEXT
    for pos, snippet in edits:
        i = pos % len(text)
        text = text[:i] + snippet + text[i + 1 :]
    p = tmp_path_factory.mktemp("fuzz") / f"s{suffix}"
    p.write_text(text, encoding="utf-8")
    try:
        gw.load_scenario(p, limits=_SMALL)
    except gw.ScenarioError as exc:
        assert exc.problems
