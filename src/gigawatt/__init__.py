"""gigawatt: simulate AI datacenters for capacity planning.

One model from the weather and the grid to the GPUs: facility physics (power, cooling, PUE, water), energy
supply, and training and inference workloads, run together in a discrete-event engine.

>>> import gigawatt as gw
>>> sc = gw.load_scenario("reference")
>>> res = gw.simulate(sc)                  # doctest: +SKIP
>>> res.summary()["pue"]                   # doctest: +SKIP
"""

import logging

from gigawatt import catalog, economics
from gigawatt.checks import load_scenario
from gigawatt.engine.core import simulate
from gigawatt.errors import GigawattWarning, ScenarioError
from gigawatt.result import Result, load_result
from gigawatt.scenario import Scenario, save_scenario, scenario_schema
from gigawatt.solve import SolveResult, optimize, pareto_front, solve
from gigawatt.sweep import Range, SweepResult, sweep

__version__ = "0.1.0"

# Library logging convention: the package logger has a NullHandler; applications configure handlers.
logging.getLogger("gigawatt").addHandler(logging.NullHandler())

__all__ = [
    "GigawattWarning",
    "Range",
    "Result",
    "Scenario",
    "ScenarioError",
    "SolveResult",
    "SweepResult",
    "__version__",
    "catalog",
    "economics",
    "load_result",
    "load_scenario",
    "optimize",
    "pareto_front",
    "save_scenario",
    "scenario_schema",
    "simulate",
    "solve",
    "sweep",
]
