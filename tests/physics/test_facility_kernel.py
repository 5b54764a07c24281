"""The compiled facility power equals the numpy model (gigawatt.physics.facility_kernel)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics import facility as fm
from gigawatt.physics.cooling_designs import cooling_designs

DESIGNS = list(cooling_designs())


def _plant(**kw: object) -> fm.FacilityPlant:
    rng = np.random.default_rng(3)
    args: dict = dict(
        cooling_presets=DESIGNS,
        design_it_kw=rng.uniform(500.0, 5000.0, len(DESIGNS)),
        redundancy=["N+1"] * len(DESIGNS),
        server_fan_max_kw=120.0,
    )
    args.update(kw)
    return fm.build_facility_plant(**args)


@pytest.mark.parametrize("seed", [0, 1])
def test_compiled_equals_numpy_over_every_design(seed: int) -> None:
    plant = _plant()
    rng = np.random.default_rng(seed)
    n, h = 4000, len(DESIGNS)
    it = rng.uniform(-50.0, 1.6, (n, h)) * plant.design_it_kw  # includes negative and above-design loads
    db = rng.uniform(-30.0, 48.0, (n, h))
    wb = db - rng.uniform(0.0, 25.0, (n, h))
    compiled = fm.facility_power_kw(plant, it, db, wb)
    reference = fm.evaluate_it_power(plant, it, db, wb)["facility_power_kw"]
    # same equations in the same order; only pow may round differently (an ulp)
    assert_allclose(compiled, reference, rtol=1e-12, atol=1e-9)
    assert_allclose(fm.facility_power_kw_numpy(plant, it, db, wb), reference, rtol=0, atol=0)


def test_compiled_broadcasts_like_numpy_and_follows_overrides() -> None:
    plant = _plant(
        cooling_overrides=[
            {"liquid_capture_frac": 0.5, "liquid_loop": {"supply_c": 30.0}} if d == "air" else {}
            for d in DESIGNS
        ],
        cooling_capacity_frac=0.9,
    )
    it = np.linspace(0.0, 1.2, 7)[:, None] * plant.design_it_kw[None, :]
    db, wb = 31.0, 24.0  # scalars broadcast over steps and halls
    assert_allclose(
        fm.facility_power_kw(plant, it, db, wb),
        fm.evaluate_it_power(plant, it, db, wb)["facility_power_kw"],
        rtol=1e-12,
        atol=1e-9,
    )
    one_row = fm.facility_power_kw(plant, it[3], np.full(len(DESIGNS), db), np.full(len(DESIGNS), wb))
    assert one_row.shape == (len(DESIGNS),)
    assert_allclose(one_row, fm.facility_power_kw(plant, it, db, wb)[3], rtol=1e-15, atol=0)


def test_compiled_power_at_given_throughput_equals_facility_flows() -> None:
    plant = _plant()
    rng = np.random.default_rng(7)
    n, h = 3000, len(DESIGNS)
    fixed = rng.uniform(0.0, 0.6, (n, h)) * plant.design_it_kw
    dyn = rng.uniform(0.0, 0.8, (n, h)) * plant.design_it_kw
    x = rng.uniform(0.2, 1.0, (n, h))
    fan_frac = rng.uniform(0.0, 1.0, (n, h))
    db = rng.uniform(-20.0, 45.0, (n, h))
    wb = db - rng.uniform(0.0, 20.0, (n, h))
    flows = fm.facility_flows(plant, fixed, dyn, db, wb, throughput_frac=x, server_fan_frac=fan_frac)
    compiled = fm.facility_power_given_throughput_kw(plant, fixed, dyn, db, wb, x, fan_frac)
    assert_allclose(compiled, flows["facility_power_kw"], rtol=1e-12, atol=1e-9)


def test_one_compiled_signature_whether_or_not_inputs_were_broadcast() -> None:
    """Inputs reach the kernels as read-only C arrays whether they were broadcast (read-only views) or already
    whole arrays (writable): a run compiles one signature per kernel, not one per mix (a fresh machine pays
    each compilation on its first run)."""
    from gigawatt.physics import facility_kernel as fk

    plant = _plant()
    n, h = 5, len(DESIGNS)
    it = np.linspace(0.2, 1.0, n)[:, None] * plant.design_it_kw[None, :]
    whole = fk.facility_power_given_throughput_compiled(
        plant.power_params, it, it * 0.5, np.full((n, h), 10.0), np.full((n, h), 25.0), np.full((n, h), 18.0)
    )
    broadcast = fk.facility_power_given_throughput_compiled(
        plant.power_params, it, it * 0.5, 10.0, 25.0, 18.0
    )
    for a, b in zip(whole, broadcast, strict=True):
        assert_allclose(a, b, rtol=0, atol=0)  # the same elements, the same operations
    assert len(fk._given_throughput_kernel.signatures) == 1
    fm.facility_power_kw(plant, it, 25.0, 18.0)
    fm.facility_power_kw(plant, it, np.full((n, h), 25.0), np.full((n, h), 18.0))
    assert len(fk._facility_power_kernel.signatures) == 1
