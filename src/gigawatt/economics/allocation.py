"""Multi-cloud allocation: how much capacity to buy from each provider (an LP/MILP solved with HiGHS through
:func:`scipy.optimize.milp`).

Minimise expected cost

``Σ_j (p_j + a_i(j) c_out) x_j + Σ_i F_i y_i + w z``

over GPU-hours per year ``x_j`` of each offer ``j`` (provider ``i(j)``, accelerator ``g(j)``), subject to

* demand per accelerator type: ``Σ_{j: g(j)=g} x_j ≥ D_g``;
* capacity per provider: ``Σ_{j∈i} x_j ≤ 8760 · capacity_gpus_i`` (and per offer when given);
* concentration: ``Σ_{j∈i} x_j ≤ s_max Σ_g D_g``;
* worst single outage: ``z ≥ c_out · d_i / 8760 · Σ_{j∈i} x_j`` (GPU-hours lost in one outage of mean duration
  ``d_i`` of the provider holding them);
* onboarding: ``Σ_{j∈i} x_j ≤ M_i y_i`` with binary ``y_i`` when a fixed cost ``F_i`` is given.

``a_i = outage_rate_i · d_i / 8760`` is the expected unavailable share, ``c_out`` the cost of one GPU-hour of
lost capacity (lost revenue, idle staff, recovery), ``w`` the weight on the worst single-provider outage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Allocation", "allocate", "allocation_sensitivity", "frontier_lab_example"]

HOURS_PER_YEAR = 8760.0


@dataclass
class Allocation:
    """Solution of :func:`allocate`.

    Attributes
    ----------
    offers : pandas.DataFrame
        The offers with ``gpu_hours_per_year`` chosen and ``cost_usd_per_year``.
    providers : pandas.DataFrame
        Per provider: ``gpu_hours_per_year``, ``share_frac``, ``spend_usd_per_year``,
        ``expected_outage_cost_usd_per_year``, ``outage_loss_usd`` (one outage of mean duration), ``used``.
    kpis : pandas.Series
        ``total_cost_usd_per_year`` (objective), ``spend_usd_per_year``, ``expected_outage_cost_usd_per_year``,
        ``worst_outage_loss_usd``, ``fixed_cost_usd``, ``max_share_frac``.
    """

    offers: pd.DataFrame
    providers: pd.DataFrame
    kpis: pd.Series


def allocate(
    demand_gpu_hours: Mapping[str, float],
    offers: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    max_share_frac: float = 1.0,
    outage_cost_usd_per_gpu_hour: float = 0.0,
    risk_weight: float = 0.0,
    fixed_cost_usd: Mapping[str, float] | None = None,
) -> Allocation:
    """Choose GPU-hours per provider and accelerator at least expected cost (module docstring).

    Parameters
    ----------
    demand_gpu_hours : mapping
        Accelerator name → GPU-hours per year needed.
    offers : pandas.DataFrame
        Columns ``provider``, ``accelerator``, ``usd_per_gpu_hour``; optional ``capacity_gpu_hours``.
    providers : pandas.DataFrame
        Indexed by provider: ``outage_rate_per_year``, ``mean_outage_h``, ``capacity_gpus``.
    max_share_frac : float
        Largest share of all GPU-hours one provider may hold (concentration risk), in (0, 1].
    outage_cost_usd_per_gpu_hour : float
        Cost of one GPU-hour of lost capacity [USD/GPU-h].
    risk_weight : float
        Weight ``w`` on the worst single-provider outage loss (0: risk-neutral expected cost only).
    fixed_cost_usd : mapping, optional
        Provider → fixed cost of using it at all [USD/year] (makes the problem a MILP).

    Raises
    ------
    ValueError
        Negative prices or demand, unknown providers, or an infeasible problem (with the binding reason).
    """
    # lazy: scipy.optimize takes ~0.2 s to import; only the solvers need it
    from scipy.optimize import Bounds, LinearConstraint, milp

    problems = []
    if not 0 < max_share_frac <= 1:
        problems.append(f"max_share_frac must be in (0, 1] (got {max_share_frac})")
    if outage_cost_usd_per_gpu_hour < 0 or risk_weight < 0:
        problems.append("outage_cost_usd_per_gpu_hour and risk_weight must be >= 0")
    if (offers["usd_per_gpu_hour"] < 0).any():
        problems.append("offers.usd_per_gpu_hour: prices must be >= 0")
    bad_d = [g for g, v in demand_gpu_hours.items() if not v >= 0]
    if bad_d:
        problems.append(f"demand_gpu_hours must be >= 0: {bad_d}")
    unknown = sorted(set(offers["provider"]) - set(providers.index))
    if unknown:
        problems.append(f"offers name providers missing from the providers table: {unknown}")
    if problems:
        raise ValueError("; ".join(problems))

    off = offers[offers["accelerator"].isin(list(demand_gpu_hours))].reset_index(drop=True)
    prov_names = sorted(set(off["provider"]))
    n_x, n_p = len(off), len(prov_names)
    pidx = np.array([prov_names.index(p) for p in off["provider"]])
    total_d = float(sum(demand_gpu_hours.values()))
    missing = [g for g, v in demand_gpu_hours.items() if v > 0 and not (off["accelerator"] == g).any()]
    if missing:
        raise ValueError(f"no offer for accelerator(s) {missing}: add offers or drop the demand")

    pr = providers.loc[prov_names]
    dur_h = pr["mean_outage_h"].to_numpy(dtype=float)
    avail_loss = pr["outage_rate_per_year"].to_numpy(dtype=float) * dur_h / HOURS_PER_YEAR
    cap_p = pr["capacity_gpus"].to_numpy(dtype=float) * HOURS_PER_YEAR
    fixed = np.array([float((fixed_cost_usd or {}).get(p, 0.0)) for p in prov_names])
    use_y = bool(np.any(fixed > 0))
    use_z = risk_weight > 0 and outage_cost_usd_per_gpu_hour > 0

    # variables: [x (n_x), y (n_p if use_y), z (1 if use_z)]
    n_var = n_x + (n_p if use_y else 0) + (1 if use_z else 0)
    iy, iz = n_x, n_x + (n_p if use_y else 0)
    c = np.zeros(n_var)
    c[:n_x] = off["usd_per_gpu_hour"].to_numpy(dtype=float) + avail_loss[pidx] * outage_cost_usd_per_gpu_hour
    if use_y:
        c[iy : iy + n_p] = fixed
    if use_z:
        c[iz] = risk_weight

    rows: list[np.ndarray] = []
    bounds: list[tuple[float, float]] = []

    def add(r: np.ndarray, low: float, high: float) -> None:
        rows.append(r)
        bounds.append((low, high))

    for g, d in demand_gpu_hours.items():
        r = np.zeros(n_var)
        r[:n_x] = (off["accelerator"] == g).to_numpy(dtype=float)
        add(r, float(d), np.inf)
    member = np.zeros((n_p, n_x))
    member[pidx, np.arange(n_x)] = 1.0
    for i in range(n_p):
        r = np.zeros(n_var)
        r[:n_x] = member[i]
        add(r, -np.inf, min(cap_p[i], max_share_frac * total_d))
        if use_y:
            r2 = r.copy()
            r2[iy + i] = -min(cap_p[i], total_d)
            add(r2, -np.inf, 0.0)
        if use_z:
            r3 = r * (outage_cost_usd_per_gpu_hour * dur_h[i] / HOURS_PER_YEAR)
            r3[iz] = -1.0
            add(r3, -np.inf, 0.0)
    lo = [b[0] for b in bounds]
    hi = [b[1] for b in bounds]
    ub = np.full(n_var, np.inf)
    if "capacity_gpu_hours" in off.columns:
        ub[:n_x] = off["capacity_gpu_hours"].fillna(np.inf).to_numpy(dtype=float)
    integrality = np.zeros(n_var)
    if use_y:
        ub[iy : iy + n_p] = 1.0
        integrality[iy : iy + n_p] = 1
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), ub),
    )
    if res.status != 0 or res.x is None:
        cap_total = float(np.minimum(cap_p, max_share_frac * total_d).sum())
        why = (
            f"total demand {total_d:.4g} GPU-h/year exceeds what the providers may hold under max_share_frac="
            f"{max_share_frac:g} and their capacities ({cap_total:.4g} GPU-h/year)"
            if cap_total < total_d
            else "demand per accelerator type exceeds the capacity of the providers offering it"
        )
        raise ValueError(f"allocation infeasible: {why} (solver: {res.message})")

    x = np.maximum(res.x[:n_x], 0.0)
    out = off.copy()
    out["gpu_hours_per_year"] = x
    out["cost_usd_per_year"] = x * off["usd_per_gpu_hour"].to_numpy(dtype=float)
    gh_p = member @ x
    spend_p = member @ out["cost_usd_per_year"].to_numpy()
    loss_p = outage_cost_usd_per_gpu_hour * dur_h / HOURS_PER_YEAR * gh_p
    used = gh_p > 1e-9 * max(total_d, 1.0)
    prov_df = pd.DataFrame(
        {
            "provider": prov_names,
            "gpu_hours_per_year": gh_p,
            "gpus": gh_p / HOURS_PER_YEAR,
            "share_frac": gh_p / total_d if total_d > 0 else np.zeros(n_p),
            "spend_usd_per_year": spend_p,
            "expected_outage_cost_usd_per_year": avail_loss * outage_cost_usd_per_gpu_hour * gh_p,
            "outage_loss_usd": loss_p,
            "used": used,
        }
    )
    fixed_paid = float(fixed[used].sum())
    kpis = pd.Series(
        {
            "total_cost_usd_per_year": float(res.fun),
            "spend_usd_per_year": float(spend_p.sum()),
            "expected_outage_cost_usd_per_year": float(prov_df["expected_outage_cost_usd_per_year"].sum()),
            "worst_outage_loss_usd": float(loss_p.max()) if n_p else 0.0,
            "fixed_cost_usd": fixed_paid,
            "max_share_frac": float(prov_df["share_frac"].max()) if n_p else math.nan,
        },
        dtype=float,
        name="value",
    )
    return Allocation(out, prov_df, kpis)


def allocation_sensitivity(
    demand_gpu_hours: Mapping[str, float],
    offers: pd.DataFrame,
    providers: pd.DataFrame,
    outage_costs_usd_per_gpu_hour: Sequence[float],
    **kwargs: float,
) -> pd.DataFrame:
    """Provider shares and costs as the outage cost varies: one row per outage cost, columns
    ``share_frac:<provider>``, ``spend_usd_per_year``, ``total_cost_usd_per_year``, ``worst_outage_loss_usd``."""
    rows = []
    for co in outage_costs_usd_per_gpu_hour:
        a = allocate(demand_gpu_hours, offers, providers, outage_cost_usd_per_gpu_hour=co, **kwargs)  # type: ignore[arg-type]
        r = {"outage_cost_usd_per_gpu_hour": co}
        r.update(
            {
                f"share_frac:{p}": s
                for p, s in zip(a.providers["provider"], a.providers["share_frac"], strict=True)
            }
        )
        r.update({str(k): float(v) for k, v in a.kpis.items() if k != "max_share_frac"})
        rows.append(r)
    return pd.DataFrame(rows)


def frontier_lab_example(
    outage_costs_usd_per_gpu_hour: Sequence[float] = (0.0, 50.0, 100.0, 150.0, 250.0, 500.0),
    max_share_frac: float = 0.6,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A frontier lab places 1.2 million GB200-class GPUs for five years (≈ $330 billion) with three providers.

    Illustrative figures (estimates, not quotes): multi-year GB200 commitments at $5.50-6.00 per GPU-hour
    (``data/cloud_prices.csv``), one provider-wide outage per 1-2 years of 6-12 h, capacities of 0.4-0.7
    million GPUs each, no provider above ``max_share_frac``; 2025 press reports of multi-year compute contracts
    of frontier labs ran from tens to ~$300 billion per provider. ``risk_weight = 5`` prices the worst single
    outage as if it happened five times over the contract.

    Returns
    -------
    offers, providers, sensitivity : pandas.DataFrame
        The inputs and :func:`allocation_sensitivity` over ``outage_costs_usd_per_gpu_hour``.
    """
    offers = pd.DataFrame(
        {
            "provider": ["provider_a", "provider_b", "provider_c"],
            "accelerator": ["GB200"] * 3,
            "usd_per_gpu_hour": [5.50, 6.00, 5.75],
        }
    )
    providers = pd.DataFrame(
        {
            "outage_rate_per_year": [1.0, 0.5, 0.8],
            "mean_outage_h": [12.0, 6.0, 8.0],
            "capacity_gpus": [700_000, 600_000, 400_000],
        },
        index=pd.Index(["provider_a", "provider_b", "provider_c"], name="provider"),
    )
    demand = {"GB200": 1.2e6 * HOURS_PER_YEAR}
    sens = allocation_sensitivity(
        demand,
        offers,
        providers,
        outage_costs_usd_per_gpu_hour,
        max_share_frac=max_share_frac,
        risk_weight=5.0,
    )
    return offers, providers, sens
