"""Scenario model: pydantic classes only — declarative, validated, no behaviour.

See ``docs/scenario.md`` for every field, unit and default.
"""

from gigawatt.scenario.hardware import (
    AcceleratorSpec,
    CoolingSpec,
    ElectricalSpec,
    Hall,
    NetworkFabric,
    RackGroup,
    ServerSpec,
)
from gigawatt.scenario.io import load_scenario, save_scenario, scenario_schema, validate_scenario
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.site import (
    ConstantClimate,
    GridConnection,
    Location,
    NormalsClimate,
    Site,
    SyntheticClimate,
)
from gigawatt.scenario.workloads import (
    ConstantProfile,
    DailyProfile,
    GpuTarget,
    PoolTarget,
    TraceProfile,
    UtilizationWorkload,
)

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
    "Scenario",
    "ServerSpec",
    "Site",
    "SyntheticClimate",
    "TraceProfile",
    "UtilizationWorkload",
    "load_scenario",
    "save_scenario",
    "scenario_schema",
    "validate_scenario",
]
