"""The checks layer: every check of a scenario that needs more than its own fields, in one place.

Between the declarative scenario models (:mod:`gigawatt.scenario`, which import nothing above the catalog) and
the engine. A scenario's fields are validated by pydantic; what needs the whole scenario, the files it names,
the performance models, the catalog or the weather is checked here, and :func:`load_scenario` (with
:meth:`gigawatt.Scenario.updated`) runs both and raises one :class:`~gigawatt.ScenarioError` with every problem:

* :mod:`~gigawatt.checks.load`: ``load_scenario``, ``validate_scenario``, ``updated_scenario``;
* :mod:`~gigawatt.checks.problems`: ``scenario_problems`` (references, file contents row by row, climates,
  sites, jurisdictions, grid regions, training pools, replicas, resource limits);
* :mod:`~gigawatt.checks.targets`: workload targets and GPU claims;
* :mod:`~gigawatt.checks.inference`: inference services against the LLM performance models (and the
  scenario → performance-model inputs the engine uses too);
* :mod:`~gigawatt.checks.fleet_time`: a fleet over time (commissioning dates);
* :mod:`~gigawatt.checks.feasibility`: targets no run can meet (``scenario_warnings``);
* :mod:`~gigawatt.checks.limits`: resource guards (``ResourceLimits``).
"""

from gigawatt.checks.feasibility import scenario_warnings
from gigawatt.checks.limits import ResourceLimits
from gigawatt.checks.load import load_scenario, updated_scenario, validate_scenario
from gigawatt.checks.problems import scenario_problems

__all__ = [
    "ResourceLimits",
    "load_scenario",
    "scenario_problems",
    "scenario_warnings",
    "updated_scenario",
    "validate_scenario",
]
