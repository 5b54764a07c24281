import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.physics.capping import LoadBlock, cube_root_throughput_frac, solve_power_cap

PUE = 1.25


def linear_facility(it, idx):
    return PUE * it.sum(axis=1)


def _setup(n=200):
    rng = np.random.default_rng(0)
    base = np.column_stack([np.full(n, 10.0), np.full(n, 5.0)])
    train = LoadBlock(0, "training", 1, rng.uniform(30, 50, n), "pretrain")
    train_lo = LoadBlock(1, "training", 0, np.full(n, 20.0), "experiments")
    infer = LoadBlock(1, "inference", 5, np.full(n, 25.0), "chat")
    return base, [train, train_lo, infer]


def test_no_action_when_supply_suffices():
    base, blocks = _setup()
    r = solve_power_cap(base, blocks, np.full(200, np.inf), linear_facility)
    assert not r.capped.any()
    assert_allclose(r.hall_throughput_frac, 1.0)
    assert_allclose(r.power_frac, 1.0)


def test_dvfs_stage_matches_analytic_curve():
    base, blocks = _setup()
    dyn = sum(b.dynamic_mw for b in blocks)
    full = PUE * (base.sum(axis=1) + dyn)
    avail = full - PUE * 0.3 * dyn  # needs p = 0.7 of dynamic power, above the 0.5 floor
    r = solve_power_cap(base, blocks, avail, linear_facility, min_power_frac=0.5)
    assert np.all(r.facility_power_mw <= avail + 1e-9)
    assert_allclose(r.power_frac, 0.7, atol=1e-9)
    assert_allclose(r.block_throughput_frac, np.cbrt(0.7), atol=1e-9)
    assert_allclose(r.paused_frac, 0.0, atol=1e-9)
    assert_allclose(r.unserved_mw, 0.0, atol=1e-9)


def test_pause_lowest_priority_training_first_then_shed_inference():
    base, blocks = _setup()
    dyn = [b.dynamic_mw for b in blocks]
    floor = 0.5
    # after DVFS to the floor, remove exactly the low-priority training block and 40 % of the high one
    it_target = base.sum(axis=1) + floor * (0.6 * dyn[0] + dyn[2])
    r = solve_power_cap(base, blocks, PUE * it_target, linear_facility, min_power_frac=floor)
    assert_allclose(r.power_frac, floor, atol=1e-9)
    assert_allclose(r.paused_frac[:, 1], 1.0, atol=1e-9)  # priority 0 paused first
    assert_allclose(r.paused_frac[:, 0], 0.4, atol=1e-9)
    assert_allclose(r.paused_frac[:, 2], 0.0, atol=1e-9)  # inference untouched
    assert_allclose(r.block_throughput_frac[:, 0], cube_root_throughput_frac(floor) * 0.6, atol=1e-9)
    # below everything: shed inference too, rest unserved
    tiny = np.full(200, PUE * 12.0)
    r2 = solve_power_cap(base, blocks, tiny, linear_facility, min_power_frac=floor)
    assert_allclose(r2.paused_frac, 1.0)
    assert_allclose(r2.unserved_mw, PUE * 15.0 - tiny)
    assert_allclose(r2.hall_throughput_frac, 0.0, atol=1e-9)


def test_pause_training_takes_the_lowest_priority_block_whole_before_the_next():
    n = 24
    base = np.full((n, 1), 10.0)
    hi = LoadBlock(0, "training", 3, np.full(n, 40.0), "hi")
    lo = LoadBlock(0, "training", 1, np.full(n, 40.0), "lo")
    infer = LoadBlock(0, "inference", 0, np.full(n, 20.0), "chat")
    shortfall = np.linspace(0.0, 1.0, n)  # share of the training load (80 MW) that must be paused
    avail = PUE * (110.0 - 80.0 * shortfall)
    r = solve_power_cap(base, [hi, lo, infer], avail, linear_facility, order=("pause_training", "dvfs"))
    assert_allclose(r.paused_frac[:, 1], np.minimum(2 * shortfall, 1.0), atol=1e-9)  # low priority first
    assert_allclose(r.paused_frac[:, 0], np.maximum(2 * shortfall - 1.0, 0.0), atol=1e-9)
    half = np.isclose(shortfall, 0.5) | (shortfall < 0.5)
    assert_allclose(r.paused_frac[half, 0], 0.0, atol=1e-9)  # high priority untouched up to half
    assert_allclose(r.paused_frac[:, 2], 0.0, atol=1e-9)
    assert_allclose(r.power_frac, 1.0)
    assert np.all(r.facility_power_mw <= avail + 1e-9)


def test_custom_order_sheds_inference_before_dvfs():
    base, blocks = _setup()
    dyn = [b.dynamic_mw for b in blocks]
    it_target = base.sum(axis=1) + dyn[0] + dyn[1] + 0.5 * dyn[2]
    r = solve_power_cap(
        base,
        blocks,
        PUE * it_target,
        linear_facility,
        order=("shed_inference", "dvfs"),
        throughput_of_power_frac=lambda p: p,
    )
    assert_allclose(r.paused_frac[:, 2], 0.5, atol=1e-9)
    assert_allclose(r.power_frac, 1.0)
    assert_allclose(r.paused_frac[:, :2], 0.0, atol=1e-9)


def test_nonlinear_facility_and_validation():
    base, blocks = _setup(50)

    def quad(it, idx):  # cooling grows faster than linear, step-dependent
        s = it.sum(axis=1)
        return s + 0.002 * s**2 + 0.01 * idx

    full = quad(base + 0.0, np.arange(50)) + 0.0
    avail = 0.85 * (
        quad(
            base + np.column_stack([blocks[0].dynamic_mw, blocks[1].dynamic_mw + blocks[2].dynamic_mw]),
            np.arange(50),
        )
    )
    r = solve_power_cap(base, blocks, avail, quad)
    assert np.all(r.facility_power_mw <= avail + 1e-9)
    assert np.all(r.facility_power_mw >= avail - 1e-6)
    assert np.all(full <= avail)
    with pytest.raises(ValueError, match="order"):
        solve_power_cap(base, blocks, avail, quad, order=("dvfs", "dvfs"))
    with pytest.raises(ValueError, match="hall"):
        solve_power_cap(base, [LoadBlock(3, "training", 0, np.ones(50))], avail, quad)


def test_root_finder_is_tight_feasible_and_cheap_on_a_nonlinear_plant():
    """A convex, weather-dependent facility model (cooling power rising with the square of the heat): the
    solution sits on the feasible side within 1e-10 relative of the supply, like a 200-step bisection, with
    far fewer facility evaluations."""
    base, blocks = _setup()
    n = base.shape[0]
    temp = np.linspace(0.0, 1.0, n)
    calls = []

    def convex(it, idx):
        calls.append(len(idx))
        q = it.sum(axis=1)
        return q + (0.05 + 0.2 * temp[idx]) * q + 1e-3 * q**2

    dyn = sum(b.dynamic_mw for b in blocks)
    full = convex(base + np.column_stack([blocks[0].dynamic_mw, dyn - blocks[0].dynamic_mw]), np.arange(n))
    calls.clear()
    avail = full * np.linspace(0.55, 0.98, n)  # every step capped, through DVFS and the pauses
    r = solve_power_cap(base, blocks, avail, convex, order=["dvfs", "pause_training", "shed_inference"])
    assert np.all(r.facility_power_mw <= avail)  # never above the supply
    feasible = r.unserved_mw <= 0
    assert feasible.sum() > n // 2
    assert_allclose(r.facility_power_mw[feasible], avail[feasible], rtol=1e-9)
    evaluations = len(calls) - 2  # the full-load and the all-actions evaluations
    assert evaluations <= 40, evaluations  # a plain bisection needs 60
