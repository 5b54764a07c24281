"""Scenario model: pydantic classes only — declarative, validated, no behaviour.

See ``docs/scenario.md`` for every field, unit and default. Loading a scenario (fields, then the
whole-scenario checks) is :func:`gigawatt.load_scenario` (:mod:`gigawatt.checks`).
"""

from gigawatt.scenario.hardware import (
    AcceleratorSpec,
    CoolingSpec,
    ElectricalSpec,
    Hall,
    NetworkFabric,
    RackGroup,
    Refresh,
    ServerSpec,
)
from gigawatt.scenario.io import save_scenario, scenario_schema
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.site import (
    ConstantClimate,
    GridConnection,
    Location,
    NormalsClimate,
    Site,
    SyntheticClimate,
)
from gigawatt.scenario.targets import GpuTarget, PoolTarget
from gigawatt.scenario.workloads import ConstantProfile, DailyProfile, TraceProfile, UtilizationWorkload

__all__ = [
    "AcceleratorSpec",
    "ConstantClimate",
    "ConstantProfile",
    "CoolingSpec",
    "DailyProfile",
    "ElectricalSpec",
    "GpuTarget",
    "GridConnection",
    "Hall",
    "Location",
    "NetworkFabric",
    "NormalsClimate",
    "PoolTarget",
    "RackGroup",
    "Refresh",
    "Scenario",
    "ServerSpec",
    "Site",
    "SyntheticClimate",
    "TraceProfile",
    "UtilizationWorkload",
    "save_scenario",
    "scenario_schema",
]
