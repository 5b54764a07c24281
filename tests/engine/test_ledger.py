"""The load ledger's exact time weighting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gigawatt.engine.clock import Clock
from gigawatt.engine.ledger import LoadLedger, pulse_step_average
from gigawatt.physics.phases import N_PHASES, Phase


def _clock(n: int = 10, step_s: float = 100.0) -> Clock:
    return Clock(pd.Timestamp("2026-01-01"), step_s, n)


def test_change_inside_step_is_time_weighted() -> None:
    led = LoadLedger(_clock(), 2)
    led.change(250.0, 1, Phase.TRAIN_COMPUTE, 8)  # half of step 2
    led.change(730.0, 1, Phase.TRAIN_COMPUTE, -8)  # 30 % of step 7
    occ = led.occupancy()
    assert occ.shape == (10, 2, N_PHASES)
    expected = np.array([0, 0, 4, 8, 8, 8, 8, 0.3 * 8, 0, 0])
    assert_allclose(occ[:, 1, Phase.TRAIN_COMPUTE], expected, atol=1e-12)
    assert_allclose(occ[:, 0].sum(), 0.0, atol=1e-9)
    # GPU-seconds are exact: 8 GPUs x 480 s
    assert occ[:, 1, Phase.TRAIN_COMPUTE].sum() * 100.0 == pytest.approx(8 * 480.0)


def test_boundaries_and_after_horizon() -> None:
    led = LoadLedger(_clock(), 1)
    led.change(0.0, 0, Phase.DECODE, 3)
    led.change(500.0, 0, Phase.DECODE, 2)
    led.change(5000.0, 0, Phase.DECODE, -5)  # after the horizon: no effect
    occ = led.occupancy()[:, 0, Phase.DECODE]
    assert_allclose(occ, [3, 3, 3, 3, 3, 5, 5, 5, 5, 5])


def test_profiles_add_and_predict_uses_current_level() -> None:
    led = LoadLedger(_clock(), 2)
    prof = np.linspace(0, 9, 10)
    led.add_profile(0, Phase.UTIL, prof)
    led.change(120.0, 0, Phase.UTIL, 1)
    assert_allclose(led.predict(3, 6)[:, 0, Phase.UTIL], prof[3:6] + 1)
    assert_allclose(led.occupancy()[:, 0, Phase.UTIL], prof + np.r_[0, 0.8, np.ones(8)])
    with pytest.raises(ValueError, match="shape"):
        led.add_profile(0, Phase.UTIL, np.ones(3))


def test_negative_occupancy_is_a_bug() -> None:
    led = LoadLedger(_clock(), 1)
    with pytest.raises(RuntimeError, match="negative"):
        led.change(10.0, 0, Phase.PREFILL, -1)


def test_range_queries_moving_forward_fold_the_past_and_match_the_whole_horizon() -> None:
    """The controller's queries move forward: changes before a query's start are folded once (whole GPUs only),
    and every answer equals the same slice of the whole-horizon occupancy, including changes recorded late
    (time-stamped before a folded step), fractional changes (never folded) and a query going back in time."""
    rng = np.random.default_rng(7)
    n, step_s = 200, 60.0
    led = LoadLedger(_clock(n, step_s), 3)
    reference = LoadLedger(_clock(n, step_s), 3)
    for s0 in range(0, n - 10, 10):
        for _ in range(25):
            t = float(
                rng.uniform(max(0.0, (s0 - 30) * step_s), (s0 + 10) * step_s)
            )  # some before folded steps
            g, ph = int(rng.integers(3)), int(rng.integers(N_PHASES))
            d = float(rng.integers(1, 9)) if rng.random() < 0.8 else float(rng.uniform(0.1, 3.0))
            for lg in (led, reference):
                lg.change(t, g, ph, d)
        if s0 % 40 == 0:  # batched changes too
            tb = rng.uniform(s0 * step_s, (s0 + 10) * step_s, 5)
            gb, pb, db = (
                rng.integers(3, size=5),
                rng.integers(N_PHASES, size=5),
                rng.integers(1, 5, 5).astype(float),
            )
            for lg in (led, reference):
                lg.change_many(tb, gb, pb, db)
        got = led.occupancy_range(s0, s0 + 10)
        assert_allclose(got, reference.occupancy()[s0 : s0 + 10], rtol=1e-12, atol=1e-9)
    assert led._fold_step > 0 and led._folded.sum() > 0  # the past was folded, not re-read
    assert_allclose(
        led.occupancy_range(5, 25), reference.occupancy()[5:25], rtol=1e-12, atol=1e-9
    )  # back in time
    assert_allclose(led.occupancy(), reference.occupancy(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("block_steps", [1, 3, 7, 40, 1000])
def test_occupancy_blocks_equal_the_whole_horizon(block_steps: int) -> None:
    """Blocks of any size give the whole-horizon occupancy: the same additions in the same order (the level
    carried into each block starts its running sum), with changes before the start, inside and past the
    horizon, fractional GPU counts, several at one time and a profile."""
    rng = np.random.default_rng(3)
    clock = _clock(40, 15.0)
    led = LoadLedger(clock, 3)
    for _ in range(30):
        n = int(rng.integers(1, 20))
        t = np.sort(rng.uniform(-20.0, 40 * 15.0 * 1.1, n))
        led.change_many(
            t, rng.integers(0, 3, n), rng.integers(0, N_PHASES, n), rng.uniform(0.5, 4.0, n).round(2)
        )
    led.change(150.0, 1, Phase.DECODE, 2.0)
    led.change(150.0, 1, Phase.DECODE, 0.3)
    led.add_profile(2, Phase.UTIL, rng.uniform(0.0, 5.0, 40))
    blocks = list(led.occupancy_blocks(block_steps))
    assert [b[0] for b in blocks] == list(range(0, 40, block_steps))
    assert blocks[-1][1] == 40
    got = np.concatenate([occ for _, _, occ in blocks])
    assert_allclose(got, led.occupancy(), rtol=1e-15, atol=0)  # bit for bit in practice
    assert got[-1].sum() > 100.0  # the changes add up (not an empty ledger)


def test_occupancy_blocks_without_changes() -> None:
    led = LoadLedger(_clock(5), 2)
    assert_allclose(np.concatenate([o for _, _, o in led.occupancy_blocks(2)]), np.zeros((5, 2, N_PHASES)))


def test_many_small_chunks_are_merged_without_changing_the_occupancy(monkeypatch: pytest.MonkeyPatch) -> None:
    """change_many merges its small chunks (every 4 here) into one: the chunk count stays small and the
    occupancy and range queries between the calls are those of the unmerged changes."""
    import gigawatt.engine.ledger as ledger_mod

    rng = np.random.default_rng(5)
    clock = _clock(60, 10.0)
    calls = []
    for k in range(40):
        n = int(rng.integers(1, 5))
        t = np.sort(rng.uniform(k * 15.0, (k + 1) * 15.0, n))
        calls.append((t, rng.integers(0, 2, n), rng.integers(0, N_PHASES, n), rng.integers(1, 4, n) * 1.0))

    def fill(led: LoadLedger) -> list[np.ndarray]:
        ranges = []
        for k, c in enumerate(calls):
            led.change_many(*c)
            if k % 7 == 6:  # the controller's range queries move forward between the calls
                s0 = int(c[0][0] // 10.0)
                ranges.append(led.occupancy_range(s0, min(s0 + 5, 60)))
        return ranges

    merged = LoadLedger(clock, 2)
    monkeypatch.setattr(ledger_mod, "_MERGE_CHUNKS", 4)
    got = fill(merged)
    monkeypatch.setattr(ledger_mod, "_MERGE_CHUNKS", 10**9)
    plain = LoadLedger(clock, 2)
    ref = fill(plain)
    assert len(merged._chunks) < len(plain._chunks) / 2
    assert merged.n_changes == plain.n_changes
    for a, b in zip(got, ref, strict=True):
        assert_allclose(a, b, rtol=1e-15, atol=0)
    assert_allclose(merged.occupancy(), plain.occupancy(), rtol=1e-15, atol=0)


def _four_changes(s: np.ndarray, e: np.ndarray, g: np.ndarray, n: np.ndarray, frm: int, to: int) -> tuple:
    """The explicit rows of pulses: at the start ``from −n, to +n``, at the end ``to −n, from +n``."""
    k = s.size
    return (
        np.concatenate([s, s, e, e]),
        np.tile(g, 4),
        np.repeat([frm, to, to, frm], k),
        np.concatenate([-n, n, -n, n]),
    )


def _random_pulses(
    rng: np.random.Generator, k: int, t0: float, t1: float, step_s: float, n_groups: int
) -> tuple:
    """Pulses inside one step, across one boundary, across many and of zero length, some past ``t1``."""
    s = rng.uniform(t0, t1, k)
    dur = rng.choice([0.0, 0.1, 0.4, 1.0, 3.5], k) * step_s * rng.uniform(0.5, 1.0, k)
    return s, s + dur, rng.integers(0, n_groups, k), rng.integers(1, 9, k).astype(float)


@pytest.mark.parametrize("block_steps", [1, 4, 7, 1000])
def test_pulses_give_the_occupancy_of_their_four_changes(block_steps: int) -> None:
    """A pulse equals its four explicit changes: whole horizon and blocks, several groups and phase pairs,
    alongside ordinary changes (an open checkpoint's start among them), past the horizon, and profiles."""
    rng = np.random.default_rng(11)
    n, step_s = 50, 30.0
    led, ref = LoadLedger(_clock(n, step_s), 3), LoadLedger(_clock(n, step_s), 3)
    for lg in (led, ref):  # GPUs computing in every group, so no phase level goes negative
        lg.change_many([0.0] * 3, [0, 1, 2], [Phase.TRAIN_COMPUTE] * 3, [100.0] * 3)
        lg.add_profile(1, Phase.UTIL, np.linspace(0.0, 3.0, n))
    for _ in range(6):
        s, e, g, gpus = _random_pulses(rng, 20, 0.0, n * step_s * 1.05, step_s, 3)
        led.pulse_many(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
        ref.change_many(*_four_changes(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL))
        s, e, g, gpus = _random_pulses(rng, 5, 0.0, n * step_s, step_s, 3)
        led.pulse_many(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.PREFILL)
        ref.change_many(*_four_changes(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.PREFILL))
        t_open = float(rng.uniform(0.0, n * step_s))  # a checkpoint still being written: its start only
        for lg in (led, ref):
            lg.change_many([t_open, t_open], [2, 2], [Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL], [-4.0, 4.0])
    assert led.n_pulses == 150 and ref.n_pulses == 0
    assert_allclose(led.level, ref.level, rtol=0, atol=1e-12)  # a pulse is over: the level is unchanged
    expected = ref.occupancy()
    assert expected[:, :, Phase.TRAIN_STALL].max() > 8.0  # pulses overlap (not a trivial ledger)
    got = np.concatenate([occ for _, _, occ in led.occupancy_blocks(block_steps)])
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert_allclose(led.occupancy(), expected, rtol=1e-12, atol=1e-12)


def test_pulse_range_queries_moving_forward_drop_finished_pulses_and_see_late_ones() -> None:
    """Range queries moving forward see every pulse recorded so far, including pulses recorded late (before
    steps already queried) and ones spanning a query's start; pulses over before a query's start are dropped
    (they add nothing later) and read again only by a query going back in time."""
    rng = np.random.default_rng(5)
    n, step_s = 120, 20.0
    led, ref = LoadLedger(_clock(n, step_s), 2), LoadLedger(_clock(n, step_s), 2)
    for lg in (led, ref):
        lg.change_many([0.0, 0.0], [0, 1], [Phase.TRAIN_COMPUTE] * 2, [200.0, 200.0])
    for s0 in range(0, n - 8, 8):
        # late pulses: up to 20 steps before this query's start (some before steps already queried)
        s, e, g, gpus = _random_pulses(rng, 15, max(0.0, (s0 - 20) * step_s), (s0 + 8) * step_s, step_s, 2)
        led.pulse_many(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
        ref.change_many(*_four_changes(s, e, g, gpus, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL))
        t, g0 = float(rng.uniform(s0 * step_s, (s0 + 8) * step_s)), int(rng.integers(2))
        for lg in (led, ref):  # and ordinary changes between the queries
            lg.change(t, g0, Phase.UTIL, 1.0)
        got = led.occupancy_range(s0, s0 + 8)
        assert_allclose(got, ref.occupancy()[s0 : s0 + 8], rtol=1e-12, atol=1e-12)
    assert led._pfold_step > 0  # finished pulses dropped
    assert led._pulses[(Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)].pending[0][0].size < led.n_pulses
    assert_allclose(led.occupancy_range(3, 40), ref.occupancy()[3:40], rtol=1e-12, atol=1e-12)  # going back
    assert_allclose(led.occupancy(), ref.occupancy(), rtol=1e-12, atol=1e-12)


def test_many_pulse_chunks_are_merged_without_changing_the_occupancy(monkeypatch: pytest.MonkeyPatch) -> None:
    import gigawatt.engine.ledger as ledger_mod

    rng = np.random.default_rng(2)
    calls = [
        _random_pulses(rng, int(rng.integers(1, 4)), k * 15.0, (k + 1) * 15.0, 10.0, 2) for k in range(40)
    ]

    def fill(led: LoadLedger) -> list[np.ndarray]:
        ranges = []
        for k, c in enumerate(calls):
            led.pulse_many(*c, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
            if k % 7 == 6:
                s0 = int(c[0][0] // 10.0)
                ranges.append(led.occupancy_range(s0, min(s0 + 5, 60)))
        return ranges

    monkeypatch.setattr(ledger_mod, "_MERGE_CHUNKS", 4)
    merged = LoadLedger(_clock(60, 10.0), 2)
    got = fill(merged)
    monkeypatch.setattr(ledger_mod, "_MERGE_CHUNKS", 10**9)
    plain = LoadLedger(_clock(60, 10.0), 2)
    ref = fill(plain)
    pair = (Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
    assert len(merged._pulses[pair].chunks) < len(plain._pulses[pair].chunks) / 2
    assert merged.n_changes == plain.n_changes == merged.n_pulses
    for a, b in zip(got, ref, strict=True):
        assert_allclose(a, b, rtol=1e-15, atol=0)
    assert_allclose(merged.occupancy(), plain.occupancy(), rtol=1e-15, atol=0)


def test_pulse_step_average_matches_the_changes() -> None:
    rng = np.random.default_rng(4)
    s, e, _, gpus = _random_pulses(rng, 200, 0.0, 1000.0, 15.0, 1)
    n_steps = 60  # some pulses past the horizon
    led = LoadLedger(_clock(n_steps, 15.0), 1)
    led.change_many(
        *_four_changes(s, e, np.zeros(s.size, dtype=np.int64), gpus, Phase.UTIL, Phase.TRAIN_STALL)
    )
    want = led.occupancy()[:, 0, Phase.TRAIN_STALL]
    assert_allclose(pulse_step_average(s, e, gpus, 15.0, n_steps), want, rtol=1e-12, atol=1e-12)


def test_pulses_outside_the_horizon_count_only_inside() -> None:
    """A pulse from before the start holds from step 0; one past the end counts up to the end."""
    led = LoadLedger(_clock(6, 100.0), 1)
    led.pulse_many(
        [-250.0, 480.0], [420.0, 900.0], [0, 0], [2.0, 3.0], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL
    )
    want = np.array([2.0, 2.0, 2.0, 2.0, 0.4 + 3.0 * 0.2, 3.0])
    for occ in (led.occupancy(), np.concatenate([o for _, _, o in led.occupancy_blocks(4)])):
        assert_allclose(occ[:, 0, Phase.TRAIN_STALL], want, rtol=1e-12)
        assert_allclose(occ[:, 0, Phase.TRAIN_COMPUTE], -want, rtol=1e-12)
    assert_allclose(led.occupancy_range(1, 6)[:, 0, Phase.TRAIN_STALL], want[1:], rtol=1e-12)
    assert_allclose(
        pulse_step_average(
            np.array([-250.0, 480.0]), np.array([420.0, 900.0]), np.array([2.0, 3.0]), 100.0, 6
        ),
        want,
        rtol=1e-12,
    )


def test_pulse_many_rejects_bad_input() -> None:
    led = LoadLedger(_clock(), 2)
    with pytest.raises(ValueError, match="same length"):
        led.pulse_many([1.0, 2.0], [3.0], [0, 0], [1.0, 1.0], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
    with pytest.raises(ValueError, match="end_s"):
        led.pulse_many([5.0], [3.0], [0], [1.0], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
    with pytest.raises(ValueError, match="group"):
        led.pulse_many([1.0], [3.0], [2], [1.0], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
    led.pulse_many([], [], [], [], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)
    assert led.n_changes == 0
    led.pulse_many(150.0, 250.0, 1, 4.0, Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)  # scalars: one pulse
    led.pulse_many([350.0], [350.0], [1], [4.0], Phase.TRAIN_COMPUTE, Phase.TRAIN_STALL)  # of zero length
    assert led.n_changes == led.n_pulses == 2
    assert_allclose(led.occupancy()[:4, 1, Phase.TRAIN_STALL], [0.0, 2.0, 2.0, 0.0], rtol=1e-12)


@pytest.mark.parametrize("n", [4, 200])  # one change at a time (small batches) and np.add.at (large ones)
def test_change_many_levels_and_negative_check_in_small_and_large_batches(n: int) -> None:
    """A batch may dip below zero on the way and end at zero (the level is checked after the batch); a batch
    that ends below zero raises; small and large batches give the levels of one ``change`` at a time."""
    rng = np.random.default_rng(3)
    g = rng.integers(0, 3, n)
    p = rng.integers(0, 2, n)
    d = rng.integers(1, 9, n).astype(float)
    led, ref = LoadLedger(_clock(), 3), LoadLedger(_clock(), 3)
    led.change_many(np.zeros(n), g, p, d / 3)
    for gi, pi, di in zip(g, p, d / 3, strict=True):
        ref.change(0.0, int(gi), int(pi), float(di))
    np.testing.assert_array_equal(led.level, ref.level)
    # out twice, back in once: below zero in between, zero at the end
    led.change_many(np.ones(3 * n), np.r_[g, g, g], np.r_[p, p, p], np.r_[-d, -d, d] / 3)
    assert np.abs(led.level).max() < 1e-12
    with pytest.raises(RuntimeError, match="negative"):
        led.change_many(np.ones(n), g, p, -d)


@pytest.mark.parametrize("n", [5, 100])
def test_change_lists_records_what_change_many_records(n: int) -> None:
    """``change_lists`` (Python lists) gives the records, levels and occupancy of ``change_many`` (arrays), and
    checks the level and the lengths the same way."""
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 1000, n))
    g, p = rng.integers(0, 3, n), rng.integers(0, 2, n)
    d = rng.integers(1, 9, n).astype(float)
    a, b = LoadLedger(_clock(), 3), LoadLedger(_clock(), 3)
    a.change_many(t, g, p, d)
    b.change_lists(t.tolist(), g.tolist(), [Phase(int(x)) for x in p], d.astype(int).tolist())
    np.testing.assert_array_equal(a.level, b.level)
    np.testing.assert_array_equal(a.occupancy(), b.occupancy())
    assert a.n_changes == b.n_changes == n
    b.change_lists([], [], [], [])
    assert b.n_changes == n
    with pytest.raises(ValueError, match="same length"):
        b.change_lists([1.0], [0, 1], [0], [1.0])
    with pytest.raises(RuntimeError, match="negative"):
        b.change_lists(t.tolist(), g.tolist(), p.tolist(), (-2 * d).tolist())


@pytest.mark.parametrize("n", [5, 300])
def test_record_lists_after_the_writer_updated_the_level(n: int) -> None:
    """A writer that updates :attr:`level` at each change and hands the records over later (``record_lists``)
    leaves the records, levels and occupancy of ``change_lists``; the records it holds back count in
    ``n_changes`` meanwhile (``attach_pending``)."""
    rng = np.random.default_rng(11)
    t = np.sort(rng.uniform(0, 1000, n))
    g, p = rng.integers(0, 3, n), rng.integers(0, 2, n)
    d = rng.integers(1, 9, n).astype(float)
    a, b = LoadLedger(_clock(), 3), LoadLedger(_clock(), 3)
    a.change_lists(t.tolist(), g.tolist(), p.tolist(), d.tolist())
    held = [0]
    b.attach_pending(lambda: held[0])
    for gk, pk, dk in zip(g.tolist(), p.tolist(), d.tolist(), strict=True):
        b.level[gk, pk] += dk
        held[0] += 1
    assert b.n_changes == n
    b.record_lists(t.tolist(), g.tolist(), p.tolist(), d.tolist())
    held[0] = 0
    assert b.n_changes == a.n_changes == n
    np.testing.assert_array_equal(a.level, b.level)
    np.testing.assert_array_equal(a.occupancy(), b.occupancy())
    b.record_lists([], [], [], [])
    assert b.n_changes == n
    with pytest.raises(ValueError, match="same length"):
        b.record_lists([1.0], [0, 1], [0], [1.0])


def test_release_frees_the_records_and_later_queries_raise() -> None:
    """``release`` drops the changes and pulses (level and counts stay); occupancy queries then raise."""
    led = LoadLedger(_clock(), 2)
    led.change_many(np.array([10.0, 70.0]), np.array([0, 1]), np.array([1, 1]), np.array([4.0, 2.0]))
    led.pulse_many(np.array([100.0]), np.array([200.0]), np.array([0]), np.array([1.0]), 1, 2)
    led.change(130.0, 0, 1, 1)
    level, n = led.level.copy(), led.n_changes
    assert led.occupancy()[:, :, 1].sum() > 0
    led.release()
    assert led._chunks == [] and led._pulses == {} and led._t == []
    np.testing.assert_array_equal(led.level, level)
    assert led.n_changes == n and led.n_pulses == 1
    for query in (led.occupancy, lambda: led.occupancy_range(0, 3), lambda: next(led.occupancy_blocks(4))):
        with pytest.raises(RuntimeError, match="released"):
            query()
