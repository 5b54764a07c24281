"""IT power: accelerators by workload phase, DVFS / power-cap curve, hosts, server fans, network, storage.

All functions are pure and vectorised over any leading shape (typically ``(n_steps, n_groups)``).
Accelerator power of a rack group is split into a *static* part that does not scale with clock
(idle power of every installed accelerator) and a *dynamic* part that does::

    P_acc = n_gpus · P_idle + Σ_phase active[phase] · (P_phase − P_idle) · d(x)

where ``P_phase`` is a busy accelerator's power in that phase (:func:`gigawatt.physics.power.phase_power_w`,
the single source of the phase powers), ``active`` the step-averaged number of GPUs in that phase and ``d(x)``
the dynamic-power fraction at throughput fraction ``x`` (1 when unthrottled, :func:`dvfs_dynamic_power_frac`).
The expression is linear in occupancy, so everything vectorises over steps and groups.

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

#: Exponent ``k`` of the DVFS curve ``dynamic power ∝ throughput^k`` (estimate). CMOS dynamic power is
#: ``α C V² f`` and voltage tracks frequency in the DVFS range, so ``P_dyn ∝ f^k`` with ``k`` between 2 and 3;
#: throughput of compute-bound kernels ∝ f. k = 2.5 gives ≈ 7 % throughput loss for a 700 → 600 W cap on an
#: H100 at full load, in line with the small losses near TDP reported by Patel et al. (ASPLOS 2024).
DVFS_POWER_EXPONENT = 2.5
#: Throughput lost per K that the accelerator coolant (liquid supply or inlet air) runs above its design set point
#: (estimate). At a fixed power limit, hotter silicon leaks more (leakage ≈ 15-20 % of TDP near 80 °C junction,
#: rising ≈ 2 %/K), leaving ≈ 0.3-0.4 % of TDP less dynamic power per K ⇒ ≈ 0.15-0.25 %/K throughput through the
#: DVFS curve. 0.25 %/K reproduces the 1-2 % diurnal throughput variation Llama 3 reports (§3.3.4) for a
#: 4-8 K mid-day rise of the cooling air.
CHIP_DERATE_PER_C = 0.0025
#: Lowest throughput fraction reachable by DVFS (minimum sustained clock ≈ 30-40 % of boost; estimate).
MIN_THROUGHPUT_FRAC = 0.3


def accelerator_power_split_w(
    occupancy: npt.ArrayLike,
    n_gpus: npt.ArrayLike,
    idle_w: npt.ArrayLike,
    phase_w: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Static and full-speed dynamic accelerator power of rack groups [W].

    ``static = n_gpus · P_idle``; ``dynamic = Σ_phase active[..., phase] · max(P_phase − P_idle, 0)``.

    Parameters
    ----------
    occupancy : array_like, shape (..., n_groups, n_phases)
        Step-averaged active GPUs per phase.
    n_gpus, idle_w : array_like, shape (n_groups,)
        Installed accelerators and idle power [W] per group.
    phase_w : array_like, shape (n_groups, n_phases)
        Busy power per phase [W] (:func:`gigawatt.physics.power.phase_power_w`: UTIL = TDP, TRAIN_COMPUTE =
        training fraction x TDP, TRAIN_STALL near idle, PREFILL = TDP, DECODE = 380/700 x TDP per Splitwise).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``static_w`` (broadcast to ``occupancy.shape[:-1]``) and ``dynamic_w`` at throughput 1.
    """
    occ = np.asarray(occupancy, dtype=float)
    idle = np.asarray(idle_w, dtype=float)
    per_gpu_dyn = np.maximum(np.asarray(phase_w, dtype=float) - idle[..., None], 0.0)  # (n_groups, n_phases)
    dynamic = np.einsum("...gp,gp->...g", occ, np.broadcast_to(per_gpu_dyn, occ.shape[-2:]))
    static = np.broadcast_to(np.asarray(n_gpus, dtype=float) * idle, dynamic.shape).astype(float)
    return static, dynamic


def dvfs_dynamic_power_frac(
    throughput_frac: npt.ArrayLike, exponent: float = DVFS_POWER_EXPONENT
) -> FloatArray:
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


def chip_temperature_throughput_frac(
    coolant_c: npt.ArrayLike, design_coolant_c: npt.ArrayLike, derate_per_c: npt.ArrayLike = CHIP_DERATE_PER_C
) -> FloatArray:
    """Throughput fraction of accelerators whose coolant runs warm: ``1 − k · max(T − T_design, 0)`` (≥ 0.5).

    See :data:`CHIP_DERATE_PER_C` for the derivation and calibration against Llama 3 §3.3.4.
    """
    t = np.asarray(coolant_c, dtype=float)
    rise = np.maximum(t - np.asarray(design_coolant_c, dtype=float), 0.0)
    return np.clip(1.0 - np.asarray(derate_per_c, dtype=float) * np.nan_to_num(rise), 0.5, 1.0)


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


def server_fan_speed_frac(
    inlet_c: npt.ArrayLike,
    *,
    ramp_start_c: float = FAN_RAMP_START_C,
    ramp_full_c: float = FAN_RAMP_FULL_C,
    base_speed_frac: float = FAN_BASE_SPEED_FRAC,
) -> FloatArray:
    """Server fan speed fraction: ``s = s0 + (1 − s0) · clip((T_in − T_start)/(T_full − T_start), 0, 1)``.

    Server airflow is proportional to this speed, so air handlers must move more air when the inlet warms.
    """
    t = np.asarray(inlet_c, dtype=float)
    return base_speed_frac + (1 - base_speed_frac) * np.clip(
        (t - ramp_start_c) / (ramp_full_c - ramp_start_c), 0, 1
    )


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
        Fan power of one server at full speed [W], as installed in its hall: an air-cooled GPU server's fans
        ≈ 9 % of its nameplate at full speed, ≈ 2 % at base speed; cold-plate servers keep the share of the
        fans that their residual air heat needs, immersed servers none (``docs/models/facility.md`` §2).
    inlet_c : array_like
        Server inlet air temperature [°C].

    References
    ----------
    .. [1] ASHRAE TC 9.9 (2021), see module references; fan affinity law ``P ∝ n³``.
    """
    s = server_fan_speed_frac(
        inlet_c, ramp_start_c=ramp_start_c, ramp_full_c=ramp_full_c, base_speed_frac=base_speed_frac
    )
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
