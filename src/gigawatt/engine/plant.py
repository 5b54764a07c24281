"""Scenario → facility-physics parameters: the per-hall :class:`~gigawatt.physics.facility.FacilityPlant` and the
constant IT loads outside the servers (network switches, storage) and the server-fan share of host power.

Kept in the engine so the physics never imports the scenario models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gigawatt.engine.fleet import Fleet
from gigawatt.physics import facility, it_power
from gigawatt.scenario.hardware import FAN_SHARE_OF_HOST

__all__ = ["FAN_SHARE_OF_HOST_AIR", "FAN_SHARE_OF_HOST_LIQUID", "PlantInputs", "build_plant"]

#: Default server-fan share of ``host_overhead_w`` for air-cooled and liquid-cooled builds (estimates; see
#: :data:`gigawatt.scenario.hardware.FAN_SHARE_OF_HOST`).
FAN_SHARE_OF_HOST_AIR = FAN_SHARE_OF_HOST["air"]
FAN_SHARE_OF_HOST_LIQUID = FAN_SHARE_OF_HOST["liquid"]

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
        Share of each group's stated host overhead that is server fans at full speed (taken out of the
        host power; the fans the hall keeps are modelled by the inlet-dependent fan model).
    fan_max_w_group : array (G,)
        Server fans kept in the hall at full speed per server [W]: stated fans × the hall's kept share
        (:meth:`gigawatt.scenario.hardware.Hall.server_fan_kept_frac`).
    network_kw_hall, storage_kw_hall : array (H,)
        Network switches/optics and storage power per hall [kW] (constant in time).
    """

    plant: facility.FacilityPlant
    fan_share_group: np.ndarray
    fan_max_w_group: np.ndarray
    network_kw_hall: np.ndarray
    storage_kw_hall: np.ndarray


def build_plant(fleet: Fleet) -> PlantInputs:
    """Per-hall facility plant from the fleet's hall models (cooling, electrical, fabric) and rack groups.

    Server power is ``accelerators + host without fans + server fans``; the stated fans
    (``server.fan_max_w``, part of ``host_overhead_w``) are scaled by the share the hall's cooling keeps and
    enter the facility physics as ``server_fan_max_kw`` (inlet-temperature dependent).
    """
    halls = fleet.halls
    g2h = fleet.group_to_hall_matrix()
    servers = [rg.server for h in halls for rg in h.racks]  # same order as the fleet's groups
    kept = np.array([h.server_fan_kept_frac(rg.server) for h in halls for rg in h.racks], dtype=float)
    stated_fan_w = np.array([sv.fan_power_w() for sv in servers], dtype=float)
    host_w = fleet.host_w_per_server
    fan_share = np.divide(stated_fan_w, host_w, out=np.zeros_like(host_w), where=host_w > 0)
    fan_max_w = stated_fan_w * kept
    fan_max_kw_hall = (fleet.n_servers * fan_max_w / 1e3) @ g2h
    gpus_hall = fleet.n_gpus.astype(float) @ g2h
    net_w = np.array(
        [
            (
                h.fabric.power_w_per_gpu
                if h.fabric.power_w_per_gpu is not None
                else it_power.NETWORK_POWER_W_PER_GPU[_FABRIC[h.fabric.kind]]
            )
            for h in halls
        ]
    )
    network_kw = gpus_hall * net_w / 1e3
    storage_kw = gpus_hall * np.array([h.storage_power_w_per_gpu for h in halls]) / 1e3
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
    return PlantInputs(plant, fan_share, fan_max_w, network_kw, storage_kw)
