"""gigawatt: simulate AI datacenters for capacity planning.

One model from the weather and the grid to the GPUs: facility physics (power, cooling, PUE, water), energy
supply, and training and inference workloads, run together in a discrete-event engine.

>>> import gigawatt as gw
>>> sc = gw.load_scenario("reference")
>>> res = gw.simulate(sc)                  # doctest: +SKIP
>>> res.summary()["pue"]                   # doctest: +SKIP
"""

from gigawatt import catalog, economics
from gigawatt.engine.core import simulate
from gigawatt.errors import ScenarioError
from gigawatt.result import Result
from gigawatt.scenario import Scenario, load_scenario, save_scenario, scenario_schema

__version__ = "0.1.0"

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "catalog",
    "economics",
    "load_scenario",
    "save_scenario",
    "scenario_schema",
    "simulate",
]
