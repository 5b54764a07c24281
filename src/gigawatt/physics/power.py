"""IT power of rack groups from GPU occupancy by phase (vectorised over steps and groups).

``P_group = n_gpus · P_idle + Σ_phase N_active[phase] · (P_phase − P_idle) · s(throughput) + P_host``

where ``s`` scales the dynamic (above-idle) accelerator power with the throughput factor imposed by throttling
or power caps. This module is the seam the facility-physics model refines (phase powers per accelerator,
DVFS curve, fans, switches, storage).
"""

from __future__ import annotations

import numpy as np

from gigawatt.physics import it_power
from gigawatt.physics.phases import N_PHASES, Phase

__all__ = [
    "DECODE_POWER_FRAC_OF_TDP",
    "HOST_IDLE_FRAC",
    "STALL_DYNAMIC_FRAC",
    "dvfs_power_frac",
    "group_it_power_kw",
    "phase_power_w",
]

#: Decode-phase accelerator power as a fraction of TDP: 380 W of 700 W per H100 in the Splitwise power model.
#: Reference: P. Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.
DECODE_POWER_FRAC_OF_TDP = 380.0 / 700.0

#: Dynamic power fraction (above idle) during training stalls (checkpoint writes, collective waits): GPUs drop
#: close to idle. Estimate; Llama 3 (§3.3.4) reports datacenter-wide power swings of tens of MW when all GPUs
#: wait on checkpointing or collectives, i.e. near-idle draw. Reference: Llama Team, "The Llama 3 Herd of
#: Models", arXiv:2407.21783, 2024.
STALL_DYNAMIC_FRAC = 0.1

#: Host (CPU, memory, NIC, fans) power when its accelerators are idle, as a fraction of its full-load overhead.
#: Estimate from SPECpower-style server curves (idle ≈ 40-60 % of peak for modern 2-socket servers);
#: Reference: SPEC, "SPECpower_ssj2008 results", 2023 submissions, median idle/peak ratio.
HOST_IDLE_FRAC = 0.5


def dvfs_power_frac(throughput_frac: np.ndarray) -> np.ndarray:
    """Dynamic (above-idle) accelerator power fraction at a throughput fraction: ``x^k`` (DVFS curve).

    See :func:`gigawatt.physics.it_power.dvfs_dynamic_power_frac` for the exponent and its sources.
    """
    return it_power.dvfs_dynamic_power_frac(throughput_frac)


def phase_power_w(idle_w: np.ndarray, tdp_w: np.ndarray, training_power_frac: np.ndarray) -> np.ndarray:
    """Power of one active accelerator in each :class:`~gigawatt.physics.phases.Phase` [W].

    Parameters
    ----------
    idle_w, tdp_w, training_power_frac : array (G,)
        Idle power [W], TDP [W], mean training power as a fraction of TDP.

    Returns
    -------
    array (G, N_PHASES)
        Column ``Phase.X`` holds phase X: UTIL (= TDP), TRAIN_COMPUTE (= frac·TDP), TRAIN_STALL
        (idle + 0.1·(TDP − idle)), PREFILL (= TDP, Splitwise), DECODE (= 0.543·TDP, Splitwise).
    """
    idle_w = np.asarray(idle_w, dtype=float)
    tdp_w = np.asarray(tdp_w, dtype=float)
    by_phase = {
        Phase.UTIL: tdp_w,
        Phase.TRAIN_COMPUTE: np.asarray(training_power_frac) * tdp_w,
        Phase.TRAIN_STALL: idle_w + STALL_DYNAMIC_FRAC * (tdp_w - idle_w),
        Phase.PREFILL: tdp_w,
        Phase.DECODE: np.maximum(DECODE_POWER_FRAC_OF_TDP * tdp_w, idle_w),
    }
    if len(by_phase) != N_PHASES:  # pragma: no cover - a new Phase needs its power here
        raise RuntimeError(f"phase_power_w: no power for {sorted(set(Phase) - set(by_phase))}")
    return np.stack([by_phase[p] for p in Phase], axis=-1)


def group_it_power_kw(
    occupancy_gpus: np.ndarray,
    n_gpus: np.ndarray,
    idle_w: np.ndarray,
    phase_w: np.ndarray,
    host_w_per_server: np.ndarray,
    n_servers: np.ndarray,
    throughput_frac: np.ndarray | None = None,
    installed_frac: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Accelerator and host power of each group at each step [kW].

    Parameters
    ----------
    occupancy_gpus : array (T, G, P)
        Step-averaged active GPUs per phase.
    n_gpus : array (G,)
        GPUs per group.
    idle_w : array (G,)
        Idle power per GPU [W].
    phase_w : array (G, P)
        Power per active GPU in each phase [W] (:func:`phase_power_w`).
    host_w_per_server, n_servers : array (G,)
        Host overhead per server at full load [W] and servers per group.
    throughput_frac : array (T, G), optional
        Throughput factor; scales the dynamic accelerator power along the DVFS curve
        (:func:`dvfs_power_frac`).
    installed_frac : array (T, G), optional
        Share of each group's racks installed at each step (a fleet that changes over time); racks that do
        not exist draw nothing, idle and host power included. Default 1. Occupancy must not exceed the
        installed GPUs.

    Returns
    -------
    accel_kw, host_kw : array (T, G)
        ``accel = (n·idle + Σ_p N_p (P_p − idle)·s(x)) / 1000`` with ``s(x) = x^k`` the DVFS curve;
        ``host = n_servers · P_host · (h0 + (1 − h0) · busy_frac) / 1000`` with ``h0`` = :data:`HOST_IDLE_FRAC`
        and ``busy_frac = min(1, Σ_p N_p / n)``; with ``installed_frac`` ``f``, ``n``, ``n_servers`` become
        ``f·n``, ``f·n_servers`` (``busy_frac = 0`` where nothing is installed).
    """
    dyn_w = np.einsum("tgp,gp->tg", occupancy_gpus, phase_w - np.asarray(idle_w)[:, None])
    if throughput_frac is not None:
        dyn_w = dyn_w * dvfs_power_frac(throughput_frac)
    active = occupancy_gpus.sum(axis=2)
    if installed_frac is None:
        accel_kw = (n_gpus * idle_w + dyn_w) / 1e3
        busy = np.minimum(active / np.maximum(n_gpus, 1), 1.0)
        host_kw = n_servers * host_w_per_server * (HOST_IDLE_FRAC + (1.0 - HOST_IDLE_FRAC) * busy) / 1e3
        return accel_kw, host_kw
    inst = np.asarray(installed_frac, dtype=float)
    gpus = n_gpus * inst
    accel_kw = (gpus * idle_w + dyn_w) / 1e3
    busy = np.minimum(np.divide(active, gpus, out=np.zeros_like(gpus), where=gpus > 0), 1.0)
    host_kw = n_servers * inst * host_w_per_server * (HOST_IDLE_FRAC + (1.0 - HOST_IDLE_FRAC) * busy) / 1e3
    return accel_kw, host_kw
