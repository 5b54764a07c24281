"""Scenario → facility-physics parameters: the per-hall :class:`~gigawatt.physics.facility.FacilityPlant` and the
constant IT loads outside the servers (network switches, storage) and the server-fan share of host power.

Kept in the engine so the physics never imports the scenario models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gigawatt.engine.fleet import Fleet
from gigawatt.physics import facility, it_power

__all__ = ["FAN_SHARE_OF_HOST_AIR", "FAN_SHARE_OF_HOST_LIQUID", "PlantInputs", "build_plant"]

#: Server fans at full speed as a share of the host overhead at full load, air-cooled servers (estimate: a
#: DGX H100's 12 fans draw ≈ 0.7-1.0 kW of its ≈ 4.6 kW non-GPU budget at full speed).
FAN_SHARE_OF_HOST_AIR = 0.2
#: Same for liquid-cooled servers, whose fans only move the residual air heat (estimate).
FAN_SHARE_OF_HOST_LIQUID = 0.05

_UPS = {
    "double_conversion": "ups_double_conversion",
    "modern": "ups_modern",
    "eco": "ups_eco",
    "none": "none",
}
_PDU = {"standard": "pdu", "legacy": "pdu_legacy"}
_FABRIC = {"infiniband": "infiniband", "roce": "ethernet", "ethernet": "ethernet"}


@dataclass(frozen=True)
class PlantInputs:
    """Facility plant and the constant IT loads derived from the scenario.

    Attributes
    ----------
    plant : FacilityPlant
    fan_share_group : array (G,)
        Share of each group's host overhead that is server fans (moved to the inlet-dependent fan model).
    network_kw_hall, storage_kw_hall : array (H,)
        Network switches/optics and storage power per hall [kW] (constant in time).
    """

    plant: facility.FacilityPlant
    fan_share_group: np.ndarray
    network_kw_hall: np.ndarray
    storage_kw_hall: np.ndarray


def build_plant(fleet: Fleet) -> PlantInputs:
    """Per-hall facility plant from the fleet's hall models (cooling, electrical, fabric) and rack groups."""
    halls = fleet.halls
    g2h = fleet.group_to_hall_matrix()
    liquid = np.array(
        [
            (
                h.cooling.liquid_capture_frac
                if h.cooling.liquid_capture_frac is not None
                else _preset_capture(h)
            )
            >= 0.5
            for h in halls
        ]
    )
    fan_share = np.where(liquid[fleet.group_hall], FAN_SHARE_OF_HOST_LIQUID, FAN_SHARE_OF_HOST_AIR)
    fan_max_kw_hall = (fleet.n_servers * fleet.host_w_per_server * fan_share / 1e3) @ g2h
    gpus_hall = fleet.n_gpus.astype(float) @ g2h
    net_w = np.array([it_power.NETWORK_POWER_W_PER_GPU[_FABRIC[h.fabric.kind]] for h in halls])
    network_kw = gpus_hall * net_w / 1e3
    storage_kw = gpus_hall * it_power.STORAGE_POWER_W_PER_GPU / 1e3
    nameplate_kw = np.array([h.nameplate_it_power_mw() * 1e3 for h in halls])
    design_kw = np.array(
        [
            (h.design_it_capacity_mw * 1e3 if h.design_it_capacity_mw is not None else nameplate_kw[i])
            for i, h in enumerate(halls)
        ]
    )
    design_kw = design_kw + network_kw + storage_kw
    plant = facility.build_facility_plant(
        cooling_presets=[h.cooling.resolved_design() for h in halls],
        design_it_kw=design_kw,
        redundancy=[h.electrical.redundancy for h in halls],
        ups_kind=[_UPS[h.electrical.ups] for h in halls],
        pdu_kind=[_PDU[h.electrical.pdu] for h in halls],
        other_frac=np.array([h.electrical.other_frac for h in halls]),
        server_fan_max_kw=fan_max_kw_hall,
        cooling_overrides=[h.cooling.plant_overrides() for h in halls],
        cooling_capacity_frac=np.array([h.cooling.capacity_frac for h in halls]),
        cycles_of_concentration=np.array([h.cooling.cycles_of_concentration for h in halls]),
    )
    return PlantInputs(plant, fan_share, network_kw, storage_kw)


def _preset_capture(hall: object) -> float:
    from gigawatt.physics.cooling import COOLING_PRESETS

    return float(COOLING_PRESETS[hall.cooling.resolved_design()]["liquid_capture_frac"])  # type: ignore[attr-defined]
