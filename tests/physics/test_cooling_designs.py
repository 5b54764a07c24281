"""Tests for gigawatt.physics.cooling_designs (cooling plant designs read from data/cooling_designs.yaml).

The numbers of every design are the ones the physics had as code literals before they moved to the data file;
the end-to-end check of that is the golden run (every KPI of the reference scenarios within 1e-9). Here: the
loader's invariants, the inheritance rules, a few cited values, and errors of a bad file.
"""

import dataclasses
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.testing import assert_allclose

from gigawatt import catalog
from gigawatt.physics import cooling as co
from gigawatt.physics.cooling_designs import (
    SINKS,
    cooling_design,
    cooling_designs,
    default_loop,
    parse_cooling_designs,
)
from gigawatt.scenario.hardware import COOLING_DESIGNS, DEFAULT_COOLING_DESIGN


def _raw() -> dict[str, Any]:
    with catalog.data_path("cooling_designs.yaml").open("r", encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


def _loops(d: Any) -> list[Any]:
    return [lp for lp in (d.air_loop, d.liquid_loop) if lp is not None]


def test_designs_match_the_scenario_choices_in_order() -> None:
    designs = cooling_designs()
    assert list(designs) == list(_raw()["designs"])  # data-file order ("catalog order")
    by_tech: dict[str, set[str]] = {}
    for d in designs.values():
        by_tech.setdefault(d.technology, set()).add(d.name)
    assert by_tech == {tech: set(names) for tech, names in COOLING_DESIGNS.items()}
    assert co.preset_names() == sorted(designs)


def test_every_value_group_has_a_source() -> None:
    for d in cooling_designs().values():
        groups = [d, d.air, *_loops(d), *[lp.chiller for lp in _loops(d) if lp.chiller is not None]]
        for g in groups:
            assert len(g.source.strip()) > 10, (d.name, type(g).__name__)


def test_design_invariants() -> None:
    for d in cooling_designs().values():
        assert 0.0 <= d.liquid_capture_frac <= 1.0, d.name
        # a liquid loop exactly when liquid takes heat
        assert (d.liquid_loop is not None) == (d.liquid_capture_frac > 0), d.name
        assert d.air.door_fan_kw_per_kw == 0.0 or d.technology == "rdhx", d.name
        for lp in _loops(d):
            assert lp.supply_max_c > lp.supply_c, d.name
            assert lp.sink in SINKS, d.name
            assert lp.chiller is not None or lp.economizer, d.name  # a loop must be able to cool somehow
            assert (lp.sink == "outside_air") == (lp.evaporative_effectiveness_frac > 0), d.name
            assert 0.0 < lp.fan_min_speed_frac <= 1.0 and lp.flow_limit_frac >= 1.0, d.name
            if lp.chiller is not None:
                assert 0.3 <= lp.chiller.chiller_carnot_frac <= 0.7, d.name  # Gordon & Ng 2000 range
                assert lp.chiller.chiller_max_condensing_c > lp.chiller.chiller_rated_condensing_c, d.name
        if d.liquid_loop is not None:
            assert d.liquid_loop.sink != "outside_air", d.name


def test_designs_are_frozen_and_loaded_once() -> None:
    d = cooling_design("air")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.liquid_capture_frac = 0.5  # type: ignore[misc]
    assert cooling_designs() is cooling_designs()
    with pytest.raises(TypeError):
        cooling_designs()["x"] = d  # type: ignore[index]


def test_cited_values() -> None:
    # ASHRAE TC 9.9 (2021) class W32 facility water for the default direct-to-chip design; A1 recommended
    # inlet 18-27 °C for every air side.
    dlc = cooling_design("dlc").liquid_loop
    assert dlc is not None
    assert_allclose(dlc.supply_c, 32.0, rtol=0, atol=1e-12)
    for d in cooling_designs().values():
        assert 18.0 <= d.air.supply_air_c <= 27.0, d.name
    # ASHRAE HVAC Applications 2019 ch. 53: direct evaporative effectiveness 70-95 %.
    evap = cooling_design("air_evaporative").air_loop
    assert 0.70 <= evap.evaporative_effectiveness_frac <= 0.95
    # DX trim: COP ≈ 3.6 at 35 °C outdoor at design load (ASHRAE 90.1-2019 minimum 2.8-2.9, current 3.2-3.5).
    ch = evap.chiller
    assert ch is not None
    cop = co.chiller_cop(
        evap.supply_c - ch.evaporator_approach_c,
        35.0 + ch.condenser_approach_c + ch.condenser_rise_c,
        ch.chiller_carnot_frac,
        ch.chiller_cop_max,
    )
    assert_allclose(cop, 3.6, rtol=0.03)
    # ASHRAE HVAC S&E 2020 ch. 40: cooling-tower approach 3-6 K (plus plate HX/CDU where stated).
    assert 3.0 <= cooling_design("air_legacy").air_loop.approach_c <= 6.0


def test_catalog_capture_equals_default_design() -> None:
    table = catalog.cooling_technologies()
    for tech, design in DEFAULT_COOLING_DESIGN.items():
        assert_allclose(
            table.loc[tech, "liquid_capture_frac"],
            cooling_design(design).liquid_capture_frac,
            rtol=0,
            atol=1e-12,
        )


def test_inheritance_lists_only_differences() -> None:
    raw = _raw()["designs"]
    designs = cooling_designs()

    def leaves(x: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
        if isinstance(x, dict):
            return [leaf for k, v in x.items() for leaf in leaves(v, (*path, k))]
        return [(path, x)]

    def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for k, v in over.items():
            both = isinstance(v, dict) and isinstance(out.get(k), dict)
            out[k] = merge(out[k], v) if both else v
        return out

    def resolved(name: str) -> dict[str, Any]:
        entry = dict(raw[name])
        parent = entry.pop("extends", None)
        return entry if parent is None else merge(resolved(parent), entry)

    for name, entry in raw.items():
        parent = entry.get("extends")
        if parent is None:
            continue
        assert designs[name].extends == parent
        base = resolved(parent)
        for path, v in leaves({k: x for k, x in entry.items() if k != "extends"}):
            node: Any = base
            for k in path:
                node = node.get(k) if isinstance(node, dict) else None
            if path[-1] != "source":
                assert node is None or node != v, (name, path, v)


def test_inherited_groups_equal_the_parent() -> None:
    air, rdhx, dlc = cooling_design("air"), cooling_design("rdhx"), cooling_design("dlc")
    assert rdhx.air_loop == air.air_loop and dlc.air_loop == air.air_loop
    assert cooling_design("air_chillerless").air_loop.chiller is None
    assert cooling_design("air_evaporative").air_loop.chiller is not None
    # a loop without chiller gets the default (unused) chiller numbers and has_chiller = 0
    p = cooling_design("dlc_dry").liquid_loop
    assert p is not None
    params = p.plant_params()
    assert params["has_chiller"] == 0.0
    assert params["chiller_capacity_frac"] == default_loop().plant_params()["chiller_capacity_frac"]
    assert set(params) == {f.name for f in dataclasses.fields(co.LoopPlant)} - {"design_kw"}


def test_liquid_designs_need_less_cooling_power_than_air() -> None:
    # Replaces the fixed design_pue placeholder of cooling.csv: more heat to liquid means less fan and chiller
    # work, computed by the plant physics at a temperate design point (wet bulb 15 °C, dry bulb 22 °C, 80 %).
    per_kw = {}
    for name in ("air_legacy", "air", "rdhx", "dlc", "immersion"):
        plant = co.build_cooling_plant([name], [1000.0])
        out = co.cooling_performance(plant, np.array([[800.0]]), np.array([[22.0]]), np.array([[15.0]]))
        per_kw[name] = float(out["cooling_power_kw"][0, 0]) / 800.0
    assert per_kw["air_legacy"] > per_kw["air"] > per_kw["rdhx"] > max(per_kw["dlc"], per_kw["immersion"])


def test_unknown_design_suggests_the_closest() -> None:
    with pytest.raises(KeyError, match="did you mean 'dlc_dry'"):
        cooling_design("dlc_dryy")


def _doc(**designs: Any) -> dict[str, Any]:
    doc = _raw()
    doc["designs"] = {"air": doc["designs"]["air"], **designs}
    return doc


def test_bad_files_are_rejected_with_the_entry_named() -> None:
    with pytest.raises(ValueError, match=r"designs\.x\.air_loop: unknown keys \['supply_k'\]"):
        parse_cooling_designs(_doc(x={"extends": "air", "air_loop": {"supply_k": 1.0}}))
    with pytest.raises(ValueError, match="circular"):
        parse_cooling_designs(_doc(x={"extends": "y"}, y={"extends": "x"}))
    with pytest.raises(ValueError, match="unknown design 'nope'"):
        parse_cooling_designs(_doc(x={"extends": "nope"}))
    with pytest.raises(ValueError, match="not one of wet_bulb"):
        parse_cooling_designs(_doc(x={"extends": "air", "air_loop": {"sink": "lake"}}))
    ok, _, _ = parse_cooling_designs(_doc(x={"extends": "air", "air": {"supply_air_c": 22}}))
    assert isinstance(ok["x"].air.supply_air_c, float) and ok["x"].air_loop == ok["air"].air_loop
