"""IT power: accelerators by workload phase, DVFS / power-cap curve, hosts, server fans, network, storage.

All functions are pure and vectorised over any leading shape (typically ``(n_steps, n_groups)``).
Accelerator power of a rack group is split into a *static* part that does not scale with clock
(idle power of every installed accelerator) and a *dynamic* part that does::

    P_acc = n_gpus · P_idle + Σ_phase active[phase] · (f_phase · TDP − P_idle) · d(x)

where ``f_phase`` is the phase's power as a fraction of TDP (:data:`PHASE_POWER_FRAC`), ``active`` the
step-averaged number of GPUs in that phase and ``d(x)`` the dynamic-power fraction at throughput fraction
``x`` (1 when unthrottled, :func:`dvfs_dynamic_power_frac`). The expression is linear in occupancy, so
everything vectorises over steps and groups.

References
----------
.. [1] P. Patel, E. Choukse, C. Zhang, A. Shah, I. Goiri, S. Maleki, R. Bianchini, "Splitwise: Efficient
   generative LLM inference using phase splitting", ISCA 2024 (H100 prefill ≈ 700 W, decode ≈ 380 W).
.. [2] I. Latif, A. C. Newkirk, M. R. Carbone et al., "Empirical measurements of AI training power demand on a
   GPU-accelerated node", arXiv:2412.08602, 2024 (8×H100 node: 8.4 kW max in training vs 10.2 kW nameplate).
.. [3] P. Patel, E. Choukse, C. Zhang, Í. Goiri, B. Warrier, N. Mahalingam, R. Bianchini, "Characterizing power
   management opportunities for LLMs in the cloud", ASPLOS 2024 (power capping / frequency locking of
   A100/H100 LLM training and inference costs little throughput near TDP).
.. [4] A. Grattafiori et al. (Llama team, Meta), "The Llama 3 herd of models", arXiv:2407.21783, 2024, §3.3.4.
.. [5] ASHRAE TC 9.9, "Thermal guidelines for data processing environments", 5th ed., 2021 (server fan
   speed and power rise with inlet temperature above ≈ 25-27 °C).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Workload phases in ledger order (must match ``gigawatt.engine.ledger.Phase``).
PHASE_NAMES: tuple[str, ...] = ("util", "train_compute", "train_stall", "prefill", "decode")

#: Accelerator power of a busy GPU in each phase as a fraction of TDP.
#:
#: * ``util`` 1.0 — generic utilisation workloads: the ledger's active GPUs are utilisation-weighted,
#:   so power = idle + u·(TDP − idle).
#: * ``train_compute`` 0.90 — estimate: dense LLM training runs near but below TDP; consistent with an
#:   8×H100 node drawing 8.4 kW of its 10.2 kW nameplate in training (Latif et al. 2024).
#: * ``train_stall`` 0.20 — estimate: during checkpoint writes and collective stalls GPUs sit near idle
#:   (H100 idle ≈ 75 W ≈ 0.11 TDP) with clocks up; Llama 3 §3.3.4 reports data-center power swings of
#:   tens of MW when all GPUs wait at once.
#: * ``prefill`` 1.0 — prefill is compute-bound and runs at TDP (Splitwise, H100 ≈ 700 W).
#: * ``decode`` 0.55 — decode is memory-bound (Splitwise, H100 ≈ 380 W of 700 W).
PHASE_POWER_FRAC: dict[str, float] = {
    "util": 1.0,
    "train_compute": 0.90,
    "train_stall": 0.20,
    "prefill": 1.0,
    "decode": 0.55,
}

#: Exponent ``k`` of the DVFS curve ``dynamic power ∝ throughput^k`` (estimate). CMOS dynamic power is
#: ``α C V² f`` and voltage tracks frequency in the DVFS range, so ``P_dyn ∝ f^k`` with ``k`` between 2 and 3;
#: throughput of compute-bound kernels ∝ f. k = 2.5 gives ≈ 7 % throughput loss for a 700 → 600 W cap on an
#: H100 at full load, in line with the small losses near TDP reported by Patel et al. (ASPLOS 2024).
DVFS_POWER_EXPONENT = 2.5
#: Lowest throughput fraction reachable by DVFS (minimum sustained clock ≈ 30-40 % of boost; estimate).
MIN_THROUGHPUT_FRAC = 0.3


def phase_power_frac_array(overrides: dict[str, float] | None = None) -> FloatArray:
    """Per-phase TDP fractions in :data:`PHASE_NAMES` order, with optional overrides by name."""
    values = dict(PHASE_POWER_FRAC)
    for k, v in (overrides or {}).items():
        if k not in values:
            raise KeyError(f"unknown phase {k!r}; phases are {', '.join(PHASE_NAMES)}")
        values[k] = float(v)
    return np.array([values[p] for p in PHASE_NAMES], dtype=float)


def accelerator_power_split_w(
    occupancy: npt.ArrayLike,
    n_gpus: npt.ArrayLike,
    idle_w: npt.ArrayLike,
    tdp_w: npt.ArrayLike,
    phase_power_frac: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Static and full-speed dynamic accelerator power of rack groups [W].

    ``static = n_gpus · P_idle``; ``dynamic = Σ_phase active[..., phase] · max(f_phase · TDP − P_idle, 0)``.

    Parameters
    ----------
    occupancy : array_like, shape (..., n_groups, n_phases)
        Step-averaged active GPUs per phase.
    n_gpus, idle_w, tdp_w : array_like, shape (n_groups,)
        Installed accelerators, idle power [W] and TDP [W] per group.
    phase_power_frac : array_like, shape (n_phases,) or (n_groups, n_phases)
        Busy power per phase as a fraction of TDP.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``static_w`` (broadcast to ``occupancy.shape[:-1]``) and ``dynamic_w`` at throughput 1.
    """
    occ = np.asarray(occupancy, dtype=float)
    idle = np.asarray(idle_w, dtype=float)
    tdp = np.asarray(tdp_w, dtype=float)
    frac = np.asarray(phase_power_frac, dtype=float)
    per_gpu_dyn = np.maximum(frac * tdp[..., None] - idle[..., None], 0.0)  # (n_groups, n_phases)
    dynamic = np.einsum("...gp,gp->...g", occ, np.broadcast_to(per_gpu_dyn, occ.shape[-2:]))
    static = np.broadcast_to(np.asarray(n_gpus, dtype=float) * idle, dynamic.shape).astype(float)
    return static, dynamic


def dvfs_dynamic_power_frac(throughput_frac: npt.ArrayLike, exponent: float = DVFS_POWER_EXPONENT) -> FloatArray:
    """Dynamic power fraction at a throughput fraction: ``d(x) = x^k`` (see :data:`DVFS_POWER_EXPONENT`)."""
    x = np.clip(np.asarray(throughput_frac, dtype=float), 0.0, 1.0)
    return x**exponent


def dvfs_throughput_frac(
    dynamic_power_frac: npt.ArrayLike,
    exponent: float = DVFS_POWER_EXPONENT,
    min_throughput_frac: float = MIN_THROUGHPUT_FRAC,
) -> FloatArray:
    """Inverse of :func:`dvfs_dynamic_power_frac`: ``x = d^(1/k)``, clipped to ``[min_throughput_frac, 1]``."""
    d = np.clip(np.asarray(dynamic_power_frac, dtype=float), 0.0, 1.0)
    return np.clip(d ** (1.0 / exponent), min_throughput_frac, 1.0)


def power_cap_throughput_frac(
    power_cap_w: npt.ArrayLike,
    busy_power_w: npt.ArrayLike,
    idle_w: npt.ArrayLike,
    exponent: float = DVFS_POWER_EXPONENT,
    min_throughput_frac: float = MIN_THROUGHPUT_FRAC,
) -> FloatArray:
    """Throughput fraction of an accelerator whose busy power ``busy_power_w`` is capped at ``power_cap_w``.

    ``x = ((P_cap − P_idle)/(P_busy − P_idle))^(1/k)`` when ``P_cap < P_busy``, else 1. A cap at or below idle
    gives ``min_throughput_frac`` (the lowest DVFS state; real GPUs cannot go below their floor).

    Parameters
    ----------
    power_cap_w, busy_power_w, idle_w : array_like
        Cap, uncapped busy power and idle power per accelerator [W].
    """
    cap = np.asarray(power_cap_w, dtype=float)
    busy = np.asarray(busy_power_w, dtype=float)
    idle = np.asarray(idle_w, dtype=float)
    span = np.maximum(busy - idle, 1e-9)
    d = np.clip((cap - idle) / span, 0.0, 1.0)
    return dvfs_throughput_frac(d, exponent, min_throughput_frac)


def power_cap_frac_for_throughput(
    throughput_frac: npt.ArrayLike,
    busy_power_w: npt.ArrayLike,
    idle_w: npt.ArrayLike,
    exponent: float = DVFS_POWER_EXPONENT,
) -> FloatArray:
    """Power cap [fraction of busy power] that yields a throughput fraction (inverse of the cap curve)."""
    busy = np.asarray(busy_power_w, dtype=float)
    idle = np.asarray(idle_w, dtype=float)
    p = idle + (busy - idle) * dvfs_dynamic_power_frac(throughput_frac, exponent)
    return p / busy


def host_power_w(
    n_servers: npt.ArrayLike,
    host_idle_w: npt.ArrayLike,
    host_max_w: npt.ArrayLike,
    activity_frac: npt.ArrayLike,
) -> FloatArray:
    """Host (CPU, memory, NICs, PSU losses) power [W]: ``n · (P_idle + a · (P_max − P_idle))``.

    ``activity_frac`` is the busy fraction of the group's accelerators (hosts feed busy GPUs).
    """
    a = np.clip(np.asarray(activity_frac, dtype=float), 0.0, 1.0)
    idle = np.asarray(host_idle_w, dtype=float)
    return np.asarray(n_servers, dtype=float) * (idle + a * (np.asarray(host_max_w, dtype=float) - idle))


#: Server fan speed starts rising above this inlet temperature [°C] (ASHRAE TC 9.9 recommended envelope
#: tops at 27 °C; vendors ramp fans from ≈ 25 °C).
FAN_RAMP_START_C = 25.0
#: Inlet temperature at which server fans reach full speed [°C] (ASHRAE class A2 allowable max 35 °C).
FAN_RAMP_FULL_C = 35.0
#: Fan speed fraction below the ramp (estimate: fans idle at ≈ 40 % speed under full heat load).
FAN_BASE_SPEED_FRAC = 0.6


def server_fan_power_w(
    n_servers: npt.ArrayLike,
    fan_max_w: npt.ArrayLike,
    inlet_c: npt.ArrayLike,
    *,
    ramp_start_c: float = FAN_RAMP_START_C,
    ramp_full_c: float = FAN_RAMP_FULL_C,
    base_speed_frac: float = FAN_BASE_SPEED_FRAC,
) -> FloatArray:
    """Server fan power [W] rising with inlet temperature by the fan affinity law.

    ``s = s0 + (1 − s0) · clip((T_in − T_start)/(T_full − T_start), 0, 1)``; ``P = n · P_fan,max · s³``.

    Parameters
    ----------
    n_servers : array_like
        Servers per group.
    fan_max_w : array_like
        Fan power of one server at full speed [W] (≈ 2-3 % of an air-cooled GPU server's nameplate at base
        speed; liquid-cooled servers have small fans for the residual air heat).
    inlet_c : array_like
        Server inlet air temperature [°C].

    References
    ----------
    .. [1] ASHRAE TC 9.9 (2021), see module references; fan affinity law ``P ∝ n³``.
    """
    t = np.asarray(inlet_c, dtype=float)
    s = base_speed_frac + (1 - base_speed_frac) * np.clip((t - ramp_start_c) / (ramp_full_c - ramp_start_c), 0, 1)
    return np.asarray(n_servers, dtype=float) * np.asarray(fan_max_w, dtype=float) * s**3


#: Network switch + optics power per accelerator by fabric kind [W] (estimates). Derivation: a
#: three-tier non-blocking fat tree needs ≈ 5 switch ports per GPU port (leaf down/up, spine down/up,
#: core); NVIDIA Quantum-2 QM9700 (64×400G) draws ≈ 1.1-1.7 kW ⇒ ≈ 20-25 W/port; 400G optics ≈ 8-12 W per
#: end. Ethernet (Spectrum-4 51.2T class) is similar per 400G port. NVLink switch trays of a GB200 NVL72
#: rack (9 trays, ≈ 0.7 kW each, estimate) add ≈ 90 W per GPU inside the rack.
NETWORK_POWER_W_PER_GPU: dict[str, float] = {
    "infiniband": 45.0,
    "ethernet": 40.0,
    "nvlink_rack": 90.0,
    "none": 0.0,
}

#: Storage power per accelerator [W] (estimate: ≈ 1 PB of all-flash per 1,000 GPUs at ≈ 10 kW).
STORAGE_POWER_W_PER_GPU = 10.0


def network_power_w(n_gpus: npt.ArrayLike, w_per_gpu: npt.ArrayLike) -> FloatArray:
    """Network (switches + optics) power [W]: ``n_gpus · w_per_gpu`` (see :data:`NETWORK_POWER_W_PER_GPU`)."""
    return np.asarray(n_gpus, dtype=float) * np.asarray(w_per_gpu, dtype=float)


def storage_power_w(n_gpus: npt.ArrayLike, w_per_gpu: npt.ArrayLike = STORAGE_POWER_W_PER_GPU) -> FloatArray:
    """Storage power [W]: ``n_gpus · w_per_gpu`` (see :data:`STORAGE_POWER_W_PER_GPU`)."""
    return np.asarray(n_gpus, dtype=float) * np.asarray(w_per_gpu, dtype=float)
