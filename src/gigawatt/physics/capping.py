"""Power-capping policy: fit a site's facility power under the supply available, at least cost to work.

When the supply (grid cap, on-site generation, battery) cannot meet the facility demand at full throughput,
the operator removes IT load in a configurable order of *actions*:

``dvfs``
    cap accelerator power (DVFS) on every running block: the dynamic power (above idle) is scaled by
    ``power_frac`` from 1 down to ``min_power_frac``; throughput follows ``throughput_of_power_frac``
    (the facility physics' DVFS curve);
``pause_training``
    pause training blocks, lowest priority first (a paused fraction of a block draws idle power only);
``shed_inference``
    shed inference capacity, lowest priority first;
``shed_other``
    shed other (generic utilisation) load, lowest priority first — the engine always appends it last.

All actions are folded into one scalar *reduction level* ``x`` per step (action after action in the
configured order, each contributing a unit interval per block, or one interval for DVFS); IT power, and
hence facility power, is non-increasing in ``x``. A vectorised root finder over all capped steps finds the
smallest ``x`` whose facility power fits under the supply:

.. math:: x^* = \\min\\{x : F(IT(x)) \\le S\\}

A safeguarded regula falsi (Illinois) finds it to within ``1e-10`` of the supply in power (or ``1e-12`` of
the level range in ``x``). The returned state is always on the feasible side (facility power ≤ supply); if
even the last action is not enough, the rest is ``unserved_mw`` (a blackout of that part of the load).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = ["ACTIONS", "CapResult", "LoadBlock", "cube_root_throughput_frac", "solve_power_cap"]

ACTIONS = ("dvfs", "pause_training", "shed_inference", "shed_other")

FacilityModel = Callable[[FloatArray, NDArray[np.int64]], FloatArray]


def cube_root_throughput_frac(power_frac: ArrayLike) -> FloatArray:
    """Placeholder DVFS curve: throughput ∝ (dynamic power fraction)^(1/3).

    From dynamic power ∝ f·V² with voltage scaling with frequency (P ∝ f³) and throughput ∝ f in
    compute-bound work. An estimate; the engine passes the facility physics' measured-curve instead.
    """
    p = np.clip(np.asarray(power_frac, dtype=float), 0.0, 1.0)
    return np.asarray(np.cbrt(p), dtype=float)


@dataclass(frozen=True)
class LoadBlock:
    """A reducible block of IT load (a workload's accelerators in one hall).

    Attributes
    ----------
    hall : int
        Column of the hall in the IT-power arrays.
    kind : {"training", "inference", "other"}
        Which pause/shed action applies (``pause_training``, ``shed_inference``, ``shed_other``).
    priority : int
        Lower priority is paused/shed first.
    dynamic_mw : ndarray, shape (n,)
        IT power above idle at full throughput [MW] (accelerators' dynamic power and anything that scales
        with it); the block's idle power belongs in ``base_it_mw``.
    name : str
    """

    hall: int
    kind: str
    priority: int
    dynamic_mw: FloatArray
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("training", "inference", "other"):
            raise ValueError(f"LoadBlock {self.name!r}.kind: use 'training', 'inference' or 'other'")


@dataclass
class CapResult:
    """Outcome of :func:`solve_power_cap` (per step; blocks in the order given)."""

    it_power_mw: FloatArray  # (n, n_halls)
    facility_power_mw: FloatArray  # (n,)
    power_frac: FloatArray  # (n,) DVFS dynamic-power fraction applied
    paused_frac: FloatArray  # (n, n_blocks) fraction of each block paused or shed
    block_throughput_frac: FloatArray  # (n, n_blocks)
    hall_throughput_frac: FloatArray  # (n, n_halls) dynamic-power-weighted block throughput (1 if no block)
    unserved_mw: FloatArray  # (n,) facility power above supply after every action
    capped: NDArray[np.bool_]  # (n,) steps where any action was taken


def _it_at_level(
    x: FloatArray,
    base: FloatArray,
    dyn: FloatArray,
    halls: NDArray[np.int64],
    stage_of_block: list[tuple[int, int]],
    dvfs_offset: float | None,
    min_power_frac: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """IT power [m, h], DVFS power fraction [m] and paused fractions [m, b] at reduction levels x [m]."""
    if dvfs_offset is None:
        pf = np.ones_like(x)
    else:
        pf = 1.0 - np.minimum(np.maximum(x - dvfs_offset, 0.0), 1.0) * (1.0 - min_power_frac)  # clip
    paused = np.zeros((x.size, dyn.shape[1]))
    for b, (offset, active) in enumerate(stage_of_block):
        if active:
            paused[:, b] = np.minimum(np.maximum(x - offset, 0.0), 1.0)  # clip, as two ufuncs (less overhead)
    block_power = dyn * pf[:, None] * (1.0 - paused)
    it = base.copy()
    for b in range(dyn.shape[1]):
        it[:, halls[b]] += block_power[:, b]
    return it, pf, paused


def _illinois_level(
    facility_at: Callable[[FloatArray, NDArray[np.int64]], FloatArray],
    g_lo: FloatArray,
    g_hi: FloatArray,
    supply_mw: FloatArray,
    level_max: float,
    feasible: NDArray[np.bool_],
    iterations: int,
) -> tuple[FloatArray, FloatArray]:
    """Smallest level x with facility power ≤ supply, per row: a safeguarded regula falsi (Illinois).

    Along the level axis the facility power F(x) is continuous and non-increasing; ``g = F − S`` is > 0 at
    x = 0 (the step is capped) and ≤ 0 at ``level_max`` where the step is feasible. Each iteration evaluates
    F once, on the rows not yet converged, at the false-position point of the bracket, halving the stale
    end's g when the same end moves twice (Illinois: superlinear convergence), and bisects every fourth
    iteration so the bracket at least halves every four evaluations whatever the shape of F. A row stops
    when its feasible end is within ``tol = 1e-10·max(S, 1 MW)`` below the supply or the bracket is
    narrower than ``1e-12·level_max``. The feasible end ``hi`` is returned, so the answer never exceeds the
    supply. Typically 6-12 evaluations of F instead of the 60 of a plain bisection.

    References
    ----------
    Dowell & Jarratt (1971), "A modified regula falsi method for computing the root of an equation",
    BIT 11, 168-174.
    """
    m = g_lo.size
    lo = np.zeros(m)
    hi = np.full(m, level_max)
    g_lo = g_lo.astype(float).copy()
    g_hi = g_hi.astype(float).copy()
    tol = 1e-10 * np.maximum(supply_mw, 1.0)
    side = np.zeros(m, dtype=np.int8)  # +1: hi moved last, -1: lo moved last
    for k in range(max(4 * iterations, 8)):
        active = feasible & (g_hi < -tol) & (hi - lo > 1e-12 * max(level_max, 1.0))
        if not active.any():
            break
        rows = np.flatnonzero(active)
        a_lo, a_hi, ga, gb = lo[rows], hi[rows], g_lo[rows], g_hi[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = a_lo + ga * (a_hi - a_lo) / (ga - gb)
        bisect = (k % 4 == 3) | ~np.isfinite(x) | (x <= a_lo) | (x >= a_hi)
        x = np.where(bisect, 0.5 * (a_lo + a_hi), x)
        gx = facility_at(x, rows) - supply_mw[rows]
        ok = gx <= 0.0
        # move the bracket; Illinois: halve the g of the end that stayed when the same end moves twice
        r_hi, r_lo = rows[ok], rows[~ok]
        g_lo[r_hi] = np.where(side[r_hi] == 1, 0.5 * g_lo[r_hi], g_lo[r_hi])
        g_hi[r_lo] = np.where(side[r_lo] == -1, 0.5 * g_hi[r_lo], g_hi[r_lo])
        hi[r_hi], g_hi[r_hi], side[r_hi] = x[ok], gx[ok], 1
        lo[r_lo], g_lo[r_lo], side[r_lo] = x[~ok], gx[~ok], -1
    return lo, hi


def solve_power_cap(
    base_it_mw: ArrayLike,
    blocks: Sequence[LoadBlock],
    available_mw: ArrayLike,
    facility_power_mw: FacilityModel,
    order: Sequence[str] = ACTIONS,
    min_power_frac: float = 0.5,
    throughput_of_power_frac: Callable[[FloatArray], FloatArray] = cube_root_throughput_frac,
    iterations: int = 60,
) -> CapResult:
    """Find the least IT reduction, following ``order``, that fits facility power under the supply.

    Parameters
    ----------
    base_it_mw : array_like, shape (n, n_halls)
        IT power no action removes (idle accelerators, hosts, network, storage) [MW].
    blocks : sequence of LoadBlock
        Reducible load.
    available_mw : array_like, shape (n,)
        Supply available to the facility per step [MW] (``inf`` where unconstrained).
    facility_power_mw : callable ``(it_mw[m, n_halls], step_idx[m]) -> facility_mw[m]``
        Facility model: total facility power for given per-hall IT power at the given steps (weather-
        dependent cooling allowed); must be non-decreasing in IT power.
    order : sequence of {"dvfs", "pause_training", "shed_inference", "shed_other"}
        Actions in the order they are taken (any subset).
    min_power_frac : float
        DVFS floor on the dynamic power fraction (0–1].
    throughput_of_power_frac : callable
        DVFS curve: throughput fraction (0–1) for a dynamic power fraction (0–1).
    iterations : int
        Bound on the root finder's work: at most ``4·iterations`` evaluations per capped step (it usually
        converges in 6-12; see :func:`_illinois_level`).

    Returns
    -------
    CapResult
    """
    base = np.asarray(base_it_mw, dtype=float)
    if base.ndim != 2:
        raise ValueError("base_it_mw: must be 2-D (steps × halls)")
    n, n_halls = base.shape
    avail = np.asarray(available_mw, dtype=float)
    if avail.shape != (n,):
        raise ValueError(f"available_mw: must have shape ({n},)")
    if not 0.0 < min_power_frac <= 1.0:
        raise ValueError("min_power_frac: must be within (0, 1]")
    bad = [a for a in order if a not in ACTIONS]
    if bad or len(set(order)) != len(order):
        raise ValueError(f"order: actions must be distinct and among {ACTIONS}, got {list(order)}")
    nb = len(blocks)
    dyn = np.zeros((n, nb))
    halls = np.zeros(nb, dtype=np.int64)
    for b, blk in enumerate(blocks):
        d = np.asarray(blk.dynamic_mw, dtype=float)
        if d.shape != (n,) or np.any(d < 0):
            raise ValueError(f"blocks[{b}].dynamic_mw: must be >= 0 with shape ({n},)")
        if not 0 <= blk.hall < n_halls:
            raise ValueError(f"blocks[{b}].hall: must be within 0..{n_halls - 1}")
        dyn[:, b] = d
        halls[b] = blk.hall
    # lay the actions out on the level axis
    offset = 0.0
    dvfs_offset: float | None = None
    stage_of_block: list[tuple[int, int]] = [(0, 0)] * nb
    for action in order:
        if action == "dvfs":
            dvfs_offset = offset
            offset += 1.0
            continue
        kind = {"pause_training": "training", "shed_inference": "inference", "shed_other": "other"}[action]
        members = sorted((blk.priority, b) for b, blk in enumerate(blocks) if blk.kind == kind)
        for _, b in members:
            stage_of_block[b] = (int(offset), 1)
            offset += 1.0
    level_max = offset

    all_idx = np.arange(n, dtype=np.int64)
    full_it, _, _ = _it_at_level(np.zeros(n), base, dyn, halls, stage_of_block, dvfs_offset, min_power_frac)
    fac_full = np.asarray(facility_power_mw(full_it, all_idx), dtype=float)
    capped = fac_full > avail
    it = full_it
    fac = fac_full.copy()
    pf = np.ones(n)
    paused = np.zeros((n, nb))
    unserved = np.zeros(n)
    idx = np.flatnonzero(capped).astype(np.int64)
    if idx.size and level_max > 0:
        bsub, dsub, a = base[idx], dyn[idx], avail[idx]
        hi = np.full(idx.size, level_max)
        it_hi, _, _ = _it_at_level(hi, bsub, dsub, halls, stage_of_block, dvfs_offset, min_power_frac)
        f_hi = np.asarray(facility_power_mw(it_hi, idx), dtype=float)
        feasible = f_hi <= a
        _lo, hi = _illinois_level(
            lambda x, rows: np.asarray(
                facility_power_mw(
                    _it_at_level(
                        x, bsub[rows], dsub[rows], halls, stage_of_block, dvfs_offset, min_power_frac
                    )[0],
                    idx[rows],
                ),
                dtype=float,
            ),
            fac_full[idx] - a,
            f_hi - a,
            a,
            level_max,
            feasible,
            iterations,
        )
        it_s, pf_s, p_s = _it_at_level(hi, bsub, dsub, halls, stage_of_block, dvfs_offset, min_power_frac)
        f_s = np.asarray(facility_power_mw(it_s, idx), dtype=float)
        it = it.copy()
        it[idx], pf[idx], paused[idx], fac[idx] = it_s, pf_s, p_s, f_s
        unserved[idx] = np.where(feasible, 0.0, f_s - a)
    elif idx.size:
        unserved[idx] = fac_full[idx] - avail[idx]
    thr_dvfs = np.asarray(throughput_of_power_frac(pf), dtype=float)
    block_thr = thr_dvfs[:, None] * (1.0 - paused)
    hall_thr = np.ones((n, n_halls))
    for h in range(n_halls):
        members = halls == h
        if members.any():
            w = dyn[:, members]
            wsum = w.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                avg = (w * block_thr[:, members]).sum(axis=1) / wsum
            hall_thr[:, h] = np.where(wsum > 0, avg, thr_dvfs)
    return CapResult(
        it_power_mw=it,
        facility_power_mw=fac,
        power_frac=pf,
        paused_frac=paused,
        block_throughput_frac=block_thr,
        hall_throughput_frac=hall_thr,
        unserved_mw=unserved,
        capped=capped,
    )
