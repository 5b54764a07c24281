"""The fleet as arrays: one entry per rack group and per hall (never one Python object per GPU)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gigawatt.scenario.hardware import AcceleratorSpec, Hall
from gigawatt.scenario.root import Scenario

__all__ = ["Fleet"]


@dataclass(frozen=True)
class Fleet:
    """Per-group and per-hall arrays built from a scenario.

    Groups are indexed ``0..G-1`` in scenario order (site, hall, rack group); halls ``0..H-1`` likewise.
    """

    site_names: list[str]
    hall_keys: list[str]
    """``"<site>/<hall>"`` per hall."""
    group_keys: list[str]
    """``"<site>/<hall>/<rack group>"`` per group."""
    hall_site: np.ndarray
    """Site index of each hall, int (H,)."""
    group_hall: np.ndarray
    """Hall index of each group, int (G,)."""
    group_site: np.ndarray
    """Site index of each group, int (G,)."""
    n_racks: np.ndarray
    n_servers: np.ndarray
    gpus_per_server: np.ndarray
    n_gpus: np.ndarray
    """Accelerators per group, int (G,)."""
    accelerators: list[AcceleratorSpec]
    """Resolved accelerator spec per group."""
    idle_w: np.ndarray
    tdp_w: np.ndarray
    training_power_frac: np.ndarray
    host_w_per_server: np.ndarray
    """Host overhead per server at full load [W], (G,)."""
    halls: list[Hall]
    """The hall models, per hall index."""

    @classmethod
    def from_scenario(cls, sc: Scenario) -> Fleet:
        hall_keys: list[str] = []
        hall_site: list[int] = []
        halls: list[Hall] = []
        group_keys: list[str] = []
        group_hall: list[int] = []
        group_site: list[int] = []
        racks: list[int] = []
        servers: list[int] = []
        gps: list[int] = []
        specs: list[AcceleratorSpec] = []
        host: list[float] = []
        for si, site in enumerate(sc.sites):
            for hall in site.halls:
                h = len(hall_keys)
                hall_keys.append(f"{site.name}/{hall.name}")
                hall_site.append(si)
                halls.append(hall)
                for rg in hall.racks:
                    group_keys.append(f"{site.name}/{hall.name}/{rg.name}")
                    group_hall.append(h)
                    group_site.append(si)
                    racks.append(rg.count)
                    servers.append(rg.n_servers)
                    gps.append(rg.server.accelerators_per_server)
                    specs.append(rg.server.accelerator_spec())
                    host.append(rg.server.host_power_w())
        n_servers = np.asarray(servers, dtype=np.int64)
        gpus_per_server = np.asarray(gps, dtype=np.int64)
        return cls(
            site_names=[s.name for s in sc.sites],
            hall_keys=hall_keys,
            group_keys=group_keys,
            hall_site=np.asarray(hall_site, dtype=np.int64),
            group_hall=np.asarray(group_hall, dtype=np.int64),
            group_site=np.asarray(group_site, dtype=np.int64),
            n_racks=np.asarray(racks, dtype=np.int64),
            n_servers=n_servers,
            gpus_per_server=gpus_per_server,
            n_gpus=n_servers * gpus_per_server,
            accelerators=specs,
            idle_w=np.array([a.idle_w for a in specs], dtype=float),
            tdp_w=np.array([a.tdp_w for a in specs], dtype=float),
            training_power_frac=np.array([a.training_power_frac for a in specs], dtype=float),
            host_w_per_server=np.asarray(host, dtype=float),
            halls=halls,
        )

    @property
    def n_groups(self) -> int:
        return len(self.group_keys)

    @property
    def n_halls(self) -> int:
        return len(self.hall_keys)

    @property
    def n_sites(self) -> int:
        return len(self.site_names)

    def group_to_hall_matrix(self) -> np.ndarray:
        """``(G, H)`` 0/1 matrix: ``x_group @ M`` sums a per-group array into halls."""
        m = np.zeros((self.n_groups, self.n_halls))
        m[np.arange(self.n_groups), self.group_hall] = 1.0
        return m

    def hall_to_site_matrix(self) -> np.ndarray:
        """``(H, S)`` 0/1 matrix: ``x_hall @ M`` sums a per-hall array into sites."""
        m = np.zeros((self.n_halls, self.n_sites))
        m[np.arange(self.n_halls), self.hall_site] = 1.0
        return m
