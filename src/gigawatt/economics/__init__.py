"""Economics: capex, opex and TCO of a simulated campus; own vs cloud vs hybrid; multi-cloud allocation.

Economics is a pure function of a :class:`~gigawatt.Result` and prices: re-pricing needs no re-simulation,
and costs that depend on what happened (energy, failures, goodput, tokens, overflow) are read from the Result.
One exception: training priced on spot (:func:`cloud_workload_costs` with ``spot_method="engine"``, the
default; :func:`spot_training_overhead`) runs the scenario once more with spot reclaims as failures.

>>> import gigawatt as gw
>>> from gigawatt import economics
>>> res = gw.simulate(gw.load_scenario("reference"))          # doctest: +SKIP
>>> rep = economics.costs(res)                                # doctest: +SKIP
>>> rep.kpis["tco_usd_per_gpu_hour"]                          # doctest: +SKIP
>>> rep.table                                                 # doctest: +SKIP

See ``docs/models/economics.md`` for every equation and source.
"""

from gigawatt.catalog import cost_catalog
from gigawatt.economics.allocation import Allocation, allocate, allocation_sensitivity, frontier_lab_example
from gigawatt.economics.catalog import PriceBook, cloud_prices, cloud_providers
from gigawatt.economics.cloud import (
    break_even_table,
    break_even_utilization,
    cloud_workload_costs,
    hybrid,
    spot_overhead_factor,
    spot_training_overhead,
)
from gigawatt.economics.finance import (
    annualized_capex_usd,
    book_value_usd,
    capital_recovery_factor,
    irr,
    npv_usd,
)
from gigawatt.economics.report import TABLE_COLUMNS, CostReport, costs, resolve_economics


def cost_kpis(result: object) -> dict[str, float]:
    """The cost KPIs of a run at the scenario's own prices, as a flat mapping.

    Pass it to a sweep or a solver (``gw.sweep(..., kpis=economics.cost_kpis)``) so every row carries
    ``tco_usd_per_year``, ``tco_usd_per_gpu_hour`` and the rest, and solvers can constrain or optimise them. It is a
    module-level function, so worker processes and Dask workers can import it.
    """
    return {str(k): float(v) for k, v in costs(result).kpis.items()}  # type: ignore[arg-type]


__all__ = [
    "TABLE_COLUMNS",
    "Allocation",
    "CostReport",
    "PriceBook",
    "allocate",
    "allocation_sensitivity",
    "annualized_capex_usd",
    "book_value_usd",
    "break_even_table",
    "break_even_utilization",
    "capital_recovery_factor",
    "cloud_prices",
    "cloud_providers",
    "cloud_workload_costs",
    "cost_catalog",
    "cost_kpis",
    "costs",
    "frontier_lab_example",
    "hybrid",
    "irr",
    "npv_usd",
    "resolve_economics",
    "spot_overhead_factor",
    "spot_training_overhead",
]
