"""Capacity over time: phased build-out under lead-time risk, and the gap to growing demand.

* :mod:`~gigawatt.buildout.leadtimes`: lead-time distributions with cited defaults (``data/lead_times.csv``);
* :mod:`~gigawatt.buildout.montecarlo`: seeded, vectorised Monte Carlo of a plan → phase online dates;
* :mod:`~gigawatt.buildout.demand`: training and inference demand curves (exponential, logistic, table);
* :mod:`~gigawatt.buildout.gap`: unmet demand per period over the draws, cloud bridging cost;
* :mod:`~gigawatt.buildout.planning`: flat KPIs for solvers, ``solve_plan``, latest order dates for P90 on time;
* :mod:`~gigawatt.buildout.plot`: fan charts and P(online by date);
* :mod:`~gigawatt.buildout.scenario`: a scenario's ``buildout`` plan → the scenario of one outcome
  (``Scenario.with_buildout``).

>>> from gigawatt.buildout import load_buildout, run_buildout   # doctest: +SKIP
>>> res = run_buildout(load_buildout("plan.yaml"))              # doctest: +SKIP
>>> res.online_quantiles()                                       # doctest: +SKIP
"""

from gigawatt.buildout.demand import crossover_week, demand_gpus, demand_period_mean_gpus
from gigawatt.buildout.gap import GapResult, capacity_gap
from gigawatt.buildout.leadtimes import LeadTimeDist, lead_time, lead_time_names, lead_times
from gigawatt.buildout.load import load_buildout
from gigawatt.buildout.montecarlo import BuildoutDraws, run_buildout, week_to_date
from gigawatt.buildout.planning import (
    PlanSolveResult,
    latest_order_weeks,
    optimize_plan,
    plan_kpis,
    solve_plan,
)
from gigawatt.buildout.plot import (
    plot_capacity_fan,
    plot_driving_items,
    plot_online_probability,
    plot_unmet_demand,
)
from gigawatt.buildout.scenario import outcome_updates, with_buildout
from gigawatt.scenario.buildout import BuildoutPlan, Demand, DemandCurve

__all__ = [
    "BuildoutDraws",
    "BuildoutPlan",
    "Demand",
    "DemandCurve",
    "GapResult",
    "LeadTimeDist",
    "PlanSolveResult",
    "capacity_gap",
    "crossover_week",
    "demand_gpus",
    "demand_period_mean_gpus",
    "latest_order_weeks",
    "lead_time",
    "lead_time_names",
    "lead_times",
    "load_buildout",
    "optimize_plan",
    "outcome_updates",
    "plan_kpis",
    "plot_capacity_fan",
    "plot_driving_items",
    "plot_online_probability",
    "plot_unmet_demand",
    "run_buildout",
    "solve_plan",
    "week_to_date",
    "with_buildout",
]
