"""The fleet as arrays: one entry per rack group and per hall (never one Python object per GPU)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gigawatt.scenario.hardware import AcceleratorSpec, Hall
from gigawatt.scenario.root import Scenario

__all__ = ["Fleet", "online_frac"]


def online_frac(online_s: np.ndarray, step_start_s: np.ndarray, step_s: float) -> np.ndarray:
    """Fraction of each step during which each item exists, array (T, N) in [0, 1].

    ``online_s`` (N, 2): commission and decommission times [s since the start] (``±inf`` when undated).
    ``frac[k, i] = |[t_k, t_k + Δ) ∩ [c_i, d_i)| / Δ``: 0/1 on whole steps, fractional on the step in which an
    item is commissioned or decommissioned (so energies stay exact for a change inside a step).
    """
    t0 = np.asarray(step_start_s, dtype=float)[:, None]
    c = online_s[:, 0][None, :]
    d = online_s[:, 1][None, :]
    overlap = np.minimum(t0 + step_s, d) - np.maximum(t0, c)
    return np.asarray(np.clip(overlap / step_s, 0.0, 1.0), dtype=float)


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
    group_online_s: np.ndarray
    """Per group: ``(commission, decommission)`` [s since the scenario start], (G, 2); ``-inf``/``inf`` when
    undated. A group exists only while its hall does (the hall's dates bound it)."""
    hall_online_s: np.ndarray
    """Per hall: ``(commission, decommission)`` [s since the scenario start], (H, 2)."""

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
        g_on: list[tuple[float, float]] = []
        h_on: list[tuple[float, float]] = []

        def secs(d: Any, default: float) -> float:
            return default if d is None else (d - sc.start).total_seconds()

        for si, site in enumerate(sc.sites):
            for hall in site.halls:
                h = len(hall_keys)
                hall_keys.append(f"{site.name}/{hall.name}")
                hall_site.append(si)
                halls.append(hall)
                hc = secs(hall.commission_date, -np.inf)
                hd = secs(hall.decommission_date, np.inf)
                h_on.append((hc, hd))
                for rg in hall.racks:
                    group_keys.append(f"{site.name}/{hall.name}/{rg.name}")
                    group_hall.append(h)
                    group_site.append(si)
                    racks.append(rg.count)
                    servers.append(rg.n_servers)
                    gps.append(rg.server.accelerators_per_server)
                    specs.append(rg.server.accelerator_spec())
                    host.append(rg.server.host_power_w())
                    g_on.append(
                        (
                            max(hc, secs(rg.commission_date, -np.inf)),
                            min(hd, secs(rg.decommission_date, np.inf)),
                        )
                    )
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
            group_online_s=np.asarray(g_on, dtype=float).reshape(-1, 2),
            hall_online_s=np.asarray(h_on, dtype=float).reshape(-1, 2),
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

    @property
    def dated(self) -> bool:
        """Whether any hall or rack group has a commissioning or decommissioning date."""
        return bool(np.isfinite(self.group_online_s).any() or np.isfinite(self.hall_online_s).any())

    def installed_frac(self, step_start_s: np.ndarray, step_s: float) -> np.ndarray:
        """Installed fraction of each rack group per step, (T, G) (:func:`online_frac`)."""
        return online_frac(self.group_online_s, step_start_s, step_s)

    def hall_present(self, step_start_s: np.ndarray, step_s: float) -> np.ndarray:
        """Whether each hall is in service for any part of each step, bool (T, H): its plant (cooling,
        electrical chain, house load) runs then, sized for its full design."""
        return online_frac(self.hall_online_s, step_start_s, step_s) > 0.0

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
