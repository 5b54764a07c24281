"""Reliability of large training jobs: failure rates by component class, checkpoint interval, goodput.

Failure model
-------------
Every accelerator in a running job is exposed to independent Poisson failure processes, one per
component class ``k`` with rate :math:`\\lambda_k` [1/(GPU·h)]. Superposed over the ``n`` GPUs of a job the
interruptions form one Poisson process of rate :math:`n \\sum_k \\lambda_k`, and each interruption's
class is drawn with probability :math:`\\lambda_k / \\sum_k \\lambda_k`.

Default rates come from the 54-day Llama 3 405B pre-training snapshot on 16,384 H100 (Llama 3 §3.3.4,
Table 5): 466 interruptions, 47 planned and 419 unexpected. Exposure :math:`E = 16{,}384 \\times 54 \\times 24
= 21{,}233{,}664` GPU-hours, so :math:`\\lambda_k = c_k / E` with ``c_k`` the count of class ``k``; in total
:math:`\\lambda = 419 / E = 1.973\\times10^{-5}` per GPU-hour (per-GPU MTBF 50,677 h; job MTBF 3.09 h
at 16,384 GPUs). The snapshot ran at near-full occupancy, so exposure is taken as the whole cluster for the
whole window.

Checkpointing
-------------
Young (1974): :math:`\\tau_{opt} \\approx \\sqrt{2 \\delta M}`. Daly (2006) higher-order optimum:

.. math::

    \\tau_{opt} = \\sqrt{2\\delta M}\\left[1 + \\tfrac13\\sqrt{\\tfrac{\\delta}{2M}}
        + \\tfrac19 \\tfrac{\\delta}{2M}\\right] - \\delta \\quad (\\delta < 2M),
    \\qquad M \\text{ otherwise},

and the expected wall time per unit of useful work (Daly 2006, exponential failures, failures may also
strike during checkpoints and restarts):

.. math::

    \\frac{T_w}{T_s} = \\frac{M}{\\tau}\\, e^{R/M} \\left(e^{(\\tau + \\delta)/M} - 1\\right),

so the expected goodput is :math:`G = T_s / T_w`. Here :math:`\\tau` is the compute time between
checkpoints, :math:`\\delta` the checkpoint write time, :math:`R` the detection + restart time and :math:`M`
the job MTBF.

References
----------
.. [1] Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783, §3.3.4, Table 5.
.. [2] Young, J. W. (1974). A first order approximation to the optimum checkpoint interval.
   Communications of the ACM 17(9), 530-531.
.. [3] Daly, J. T. (2006). A higher order estimate of the optimum checkpoint interval for restart dumps.
   Future Generation Computer Systems 22(3), 303-312.
.. [4] Kokolis, A. et al. (2024). Revisiting Reliability in Large-Scale Machine Learning Research Clusters.
   arXiv:2410.21680 (Meta RSC-1/RSC-2: failure rates scale linearly with job size; large-job MTTF of hours).
.. [5] Jiang, Z. et al. (2024). MegaScale. NSDI '24, §4 (automatic fault detection and recovery within
   minutes).
.. [6] Amazon Web Services. Spot Instance Advisor (spot-advisor-data.json, accessed 2024-2026): "frequency of
   interruption" = share of capacity reclaimed in the trailing month, in buckets < 5 %, 5-10 %, 10-15 %,
   15-20 % and > 20 %; and Amazon EC2 User Guide, "Spot Instance interruption notices" (two-minute notice).
.. [7] Google Cloud. Compute Engine documentation, "Spot VMs" (2023-2026): preemption notice of 30 s.
.. [8] Wu, Z. et al. (2024). Can't Be Late: Optimizing Spot Instance Savings under Deadlines. NSDI '24
   (AWS GPU spot availability and preemption traces, Oct 2022 - Aug 2023: spot lifetimes of hours).

Spot reclaims
-------------
A spot (preemptible) node is taken back by the provider at rate :math:`\\lambda_s` per GPU-hour (per node:
:math:`g \\lambda_s`), with a notice of ``notice_s``. It is not repaired: the provider hands out a new node
after ``replacement_delay_s``. The job loses the work since its last checkpoint, unless an emergency
checkpoint fits within the notice (``emergency_checkpoint`` and ``notice_s`` >= the checkpoint write time),
in which case it loses nothing but the write, like a planned drain. The Spot Instance Advisor buckets [6]
convert as :math:`\\lambda_{inst} = -\\ln(1 - f) / 730` per instance-hour for a monthly share ``f``:
5 %/month = 7.0e-5 /h, 20 %/month = 3.1e-4 /h (one reclaim per 3,270 instance-hours); scarce GPU instances
sit in the open > 20 % bucket, and multi-node GPU spot traces [8] show lifetimes of hours, i.e. rates of
order 0.01-0.1 per instance-hour (**estimate**).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DEFAULT_SPOT_NOTICE_S",
    "DEFAULT_SPOT_REPLACEMENT_DELAY_S",
    "LLAMA3_SNAPSHOT",
    "FailureModel",
    "daly_interval_s",
    "expected_goodput_frac",
    "failure_classes",
    "job_mtbf_s",
    "llama3_failure_model",
    "optimal_checkpoint_interval_s",
    "rate_per_gpu_h",
    "spot_rate_per_gpu_h",
    "young_interval_s",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Snapshot:
    n_gpus: int
    days: float
    unexpected_interruptions: int
    planned_interruptions: int

    @property
    def exposure_gpu_h(self) -> float:
        return self.n_gpus * self.days * 24.0


#: Llama 3 405B pre-training snapshot (Llama 3 §3.3.4): 16,384 H100, 54 days, 419 unexpected and 47 planned.
LLAMA3_SNAPSHOT: Final = _Snapshot(
    n_gpus=16384, days=54.0, unexpected_interruptions=419, planned_interruptions=47
)

# (class, Llama 3 Table 5 category, count, category group, node repair needed, MTTR [h])
# Counts: Llama 3 Table 5 (they sum to 419). Table 5 prints 30.1 % for "Faulty GPU" although 148/419 = 35.3 %;
# the counts are used here. MTTR values are ESTIMATES (time the node is out of the pool): board/HBM/chassis
# swaps through RMA 48 h; field-replaceable parts (NIC, PSU, SSD, DIMM, cable) 8-24 h; firmware/GSP resets and
# host maintenance 4-12 h; software faults need no repair. Kokolis et al. (2024) report node repair times of
# hours to days for Meta's RSC clusters, which these estimates bracket.
_TABLE5: Final[tuple[tuple[str, str, int, str, bool, float], ...]] = (
    ("gpu", "Faulty GPU", 148, "gpu", True, 48.0),
    ("gpu_hbm", "GPU HBM3 Memory", 72, "gpu", True, 48.0),
    ("software_bug", "Software Bug", 54, "software", False, 0.0),
    ("network_switch_cable", "Network Switch/Cable", 35, "network", True, 8.0),
    ("host_maintenance", "Host Maintenance (unplanned)", 32, "host", True, 12.0),
    ("gpu_sram", "GPU SRAM Memory", 19, "gpu", True, 48.0),
    ("gpu_system_processor", "GPU System Processor", 17, "gpu", True, 4.0),
    ("nic", "NIC", 7, "network", True, 12.0),
    ("nccl_watchdog_timeout", "NCCL Watchdog Timeouts", 7, "software", False, 0.0),
    ("silent_data_corruption", "Silent Data Corruption", 6, "gpu", True, 48.0),
    ("gpu_thermal_interface_sensor", "GPU Thermal Interface + Sensor", 6, "gpu", True, 24.0),
    ("ssd", "SSD", 3, "host", True, 8.0),
    ("power_supply", "Power Supply", 3, "host", True, 8.0),
    ("server_chassis", "Server Chassis", 2, "host", True, 48.0),
    ("io_expansion_board", "IO Expansion Board", 2, "host", True, 24.0),
    ("dependency", "Dependency", 2, "software", False, 0.0),
    ("cpu", "CPU", 2, "host", True, 24.0),
    ("system_memory", "System Memory", 2, "host", True, 8.0),
)

#: Duration a node is out for planned (automated) maintenance [h]. **Estimate** (firmware/kernel/driver
#: upgrades with reboot and burn-in).
DEFAULT_PLANNED_MAINTENANCE_H: Final = 4.0
#: Time from fault to detection [s]. **Estimate**: Llama 3 §3.3.4 and MegaScale §4 describe automated
#: detection through NCCL watchdog/heartbeat timeouts and health checks within minutes.
DEFAULT_DETECTION_S: Final = 120.0
#: Time to reschedule, reload the last checkpoint and warm up [s]. **Estimate**. Bound: Llama 3 reports more
#: than 90 % effective training time with 466 interruptions in 54 days (1,296 h), so the mean cost of an
#: interruption (recovery + lost work) was below 1,296 h x 0.1 / 466 = 16.7 min; detection 2 min + restart
#: 5 min + half a Daly interval of lost work (~2 min) fits within it.
DEFAULT_RESTART_S: Final = 300.0
#: Notice before a spot reclaim [s]: AWS EC2 gives two minutes (EC2 User Guide, "Spot Instance interruption
#: notices", 2024-2026); Google Cloud Spot VMs and Azure Spot VMs 30 s.
DEFAULT_SPOT_NOTICE_S: Final = 120.0
#: Time until the provider hands out a new node after a spot reclaim [s]. **Estimate**: a new multi-GPU
#: instance boots and joins in minutes when capacity is there (5 min here; the restart of the job comes on top).
DEFAULT_SPOT_REPLACEMENT_DELAY_S: Final = 300.0


def failure_classes() -> pd.DataFrame:
    """Failure classes with their calibrated rates, as a DataFrame indexed by class name.

    Returns
    -------
    pandas.DataFrame
        Columns: ``category`` (Llama 3 Table 5 label), ``count`` (interruptions in the snapshot),
        ``group`` (``gpu``/``network``/``host``/``software``), ``needs_repair`` (node leaves the pool),
        ``mttr_h`` (repair time, estimate [h]), ``rate_per_gpu_h`` (:math:`c_k/E` [1/(GPU·h)]),
        ``share_frac`` (:math:`c_k / 419`), ``source``.

    References
    ----------
    Llama 3 §3.3.4, Table 5.
    """
    rows = [
        {
            "name": name,
            "category": cat,
            "count": count,
            "group": group,
            "needs_repair": repair,
            "mttr_h": mttr,
            "rate_per_gpu_h": count / LLAMA3_SNAPSHOT.exposure_gpu_h,
            "share_frac": count / LLAMA3_SNAPSHOT.unexpected_interruptions,
            "source": "count: Llama 3 (arXiv:2407.21783) Table 5; mttr_h: estimate",
        }
        for name, cat, count, group, repair, mttr in _TABLE5
    ]
    return pd.DataFrame(rows).set_index("name")


@dataclass(frozen=True)
class FailureModel:
    """Per-class failure rates and consequences, as arrays aligned on ``names``.

    Attributes
    ----------
    names : tuple of str
        Class names.
    groups : tuple of str
        Category group per class (``gpu``, ``network``, ``host``, ``software``).
    rate_per_gpu_h : numpy.ndarray
        Failure rate per GPU-hour of exposure [1/(GPU·h)].
    needs_repair : numpy.ndarray of bool
        Whether the failed node leaves the pool for ``mttr_s``.
    mttr_s : numpy.ndarray
        Repair time [s].
    detection_s : float
        Fault-to-detection time [s].
    restart_s : float
        Reschedule + reload + warm-up time [s].
    planned_rate_per_gpu_h : float
        Rate of planned maintenance interruptions [1/(GPU·h)].
    planned_duration_s : float
        Node downtime for planned maintenance [s].
    spot_rate_per_gpu_h : float
        Rate of spot reclaims [1/(GPU·h)] (0: the nodes are not spot).
    spot_notice_s : float
        Notice before a reclaim [s].
    spot_replacement_delay_s : float
        Time until a new node replaces a reclaimed one [s] (no repair).
    spot_emergency_checkpoint : bool
        The job writes a checkpoint within the notice when it fits (``notice_s`` >= its write time) and
        then loses no work.
    """

    names: tuple[str, ...]
    groups: tuple[str, ...]
    rate_per_gpu_h: FloatArray
    needs_repair: npt.NDArray[np.bool_]
    mttr_s: FloatArray
    detection_s: float = DEFAULT_DETECTION_S
    restart_s: float = DEFAULT_RESTART_S
    planned_rate_per_gpu_h: float = 0.0
    planned_duration_s: float = DEFAULT_PLANNED_MAINTENANCE_H * 3600.0
    spot_rate_per_gpu_h: float = 0.0
    spot_notice_s: float = DEFAULT_SPOT_NOTICE_S
    spot_replacement_delay_s: float = DEFAULT_SPOT_REPLACEMENT_DELAY_S
    spot_emergency_checkpoint: bool = False

    def __post_init__(self) -> None:
        n = len(self.names)
        if not (
            len(self.groups) == n == self.rate_per_gpu_h.size == self.needs_repair.size == self.mttr_s.size
        ):
            raise ValueError("FailureModel arrays must all have one entry per class name")
        if np.any(self.rate_per_gpu_h < 0) or np.any(self.mttr_s < 0):
            raise ValueError("rate_per_gpu_h and mttr_s must be >= 0")
        if self.detection_s < 0 or self.restart_s < 0 or self.planned_duration_s < 0:
            raise ValueError("detection_s, restart_s and planned_duration_s must be >= 0")
        if self.planned_rate_per_gpu_h < 0:
            raise ValueError("planned_rate_per_gpu_h must be >= 0")
        if self.spot_rate_per_gpu_h < 0 or self.spot_notice_s < 0 or self.spot_replacement_delay_s < 0:
            raise ValueError("spot_rate_per_gpu_h, spot_notice_s and spot_replacement_delay_s must be >= 0")

    def spot_loses_work(self, checkpoint_write_s: float) -> bool:
        """Whether a spot reclaim loses the work since the last checkpoint for a job with this write time
        (no emergency checkpoint, or it does not fit within the notice)."""
        return not (self.spot_emergency_checkpoint and self.spot_notice_s >= checkpoint_write_s)

    def lossy_rate_per_gpu_h(self, checkpoint_write_s: float) -> float:
        """Rate of interruptions that lose work, for the checkpoint optimum [1/(GPU·h)]: the unexpected
        failures plus the spot reclaims when they lose work."""
        spot = self.spot_rate_per_gpu_h if self.spot_loses_work(checkpoint_write_s) else 0.0
        return self.total_rate_per_gpu_h + spot

    def with_spot(
        self,
        rate_per_gpu_h: float,
        notice_s: float = DEFAULT_SPOT_NOTICE_S,
        replacement_delay_s: float = DEFAULT_SPOT_REPLACEMENT_DELAY_S,
        emergency_checkpoint: bool = False,
    ) -> FailureModel:
        """The same model with spot reclaims at ``rate_per_gpu_h`` [1/(GPU·h)] (see the module notes)."""
        return dataclasses.replace(
            self,
            spot_rate_per_gpu_h=float(rate_per_gpu_h),
            spot_notice_s=float(notice_s),
            spot_replacement_delay_s=float(replacement_delay_s),
            spot_emergency_checkpoint=bool(emergency_checkpoint),
        )

    @property
    def total_rate_per_gpu_h(self) -> float:
        """Sum of the unexpected-failure rates [1/(GPU·h)]."""
        return float(self.rate_per_gpu_h.sum())

    @property
    def recovery_s(self) -> float:
        """Detection + restart time R [s]."""
        return self.detection_s + self.restart_s

    def with_total_rates(
        self, unexpected_per_gpu_h: float | None = None, planned_per_gpu_h: float | None = None
    ) -> FailureModel:
        """The same model with the total unexpected rate and/or the planned rate set [1/(GPU·h)] (None keeps
        it); the unexpected classes keep their shares of the total."""
        rates = self.rate_per_gpu_h
        if unexpected_per_gpu_h is not None:
            if unexpected_per_gpu_h < 0:
                raise ValueError("unexpected_per_gpu_h must be >= 0")
            total = self.total_rate_per_gpu_h
            if total <= 0 and unexpected_per_gpu_h > 0:
                raise ValueError("the model has no failure classes with a rate to share a total among")
            rates = rates * (unexpected_per_gpu_h / total) if total > 0 else rates
        planned = self.planned_rate_per_gpu_h if planned_per_gpu_h is None else float(planned_per_gpu_h)
        return dataclasses.replace(self, rate_per_gpu_h=rates, planned_rate_per_gpu_h=planned)

    def scaled(self, factor: float) -> FailureModel:
        """The same model with every unexpected and planned rate multiplied by ``factor`` (>= 0); the spot
        reclaim rate is not scaled (it is the provider's, stated on its own)."""
        if factor < 0:
            raise ValueError("rate scale factor must be >= 0")
        return dataclasses.replace(
            self,
            rate_per_gpu_h=self.rate_per_gpu_h * factor,
            planned_rate_per_gpu_h=self.planned_rate_per_gpu_h * factor,
        )


def rate_per_gpu_h(
    per_1000_node_days: float | None = None,
    per_gpu_day: float | None = None,
    gpus_per_node: float = 8.0,
) -> float | None:
    """An absolute interruption rate as a rate per GPU-hour [1/(GPU·h)], or None when neither is given.

    ``λ = r_node / (1000 · 24 · g)`` from ``r_node`` interruptions per 1,000 node-days with ``g`` GPUs per
    node, or ``λ = r_gpu / 24`` from ``r_gpu`` per GPU-day (the unit of Kokolis et al. 2024, who report
    6.50 and 2.34 failures per 1,000 node-days on Meta's RSC-1 and RSC-2).
    """
    if per_1000_node_days is not None and per_gpu_day is not None:
        raise ValueError("give a rate per 1,000 node-days or per GPU-day, not both")
    if per_1000_node_days is not None:
        if gpus_per_node <= 0:
            raise ValueError("gpus_per_node must be > 0")
        return per_1000_node_days / (1000.0 * 24.0 * gpus_per_node)
    if per_gpu_day is not None:
        return per_gpu_day / 24.0
    return None


def spot_rate_per_gpu_h(
    per_gpu_hour: float | None = None,
    per_node_day: float | None = None,
    gpus_per_node: float = 8.0,
) -> float | None:
    """A spot reclaim rate as a rate per GPU-hour [1/(GPU·h)], or None when neither is given.

    ``λ_s = r_node / (24 · g)`` from ``r_node`` reclaims per node-day with ``g`` GPUs per node (one cloud
    instance), or ``per_gpu_hour`` as given. A monthly Spot Instance Advisor share ``f`` is
    ``r_node = −ln(1 − f) / 30.4`` per node-day.
    """
    if per_gpu_hour is not None and per_node_day is not None:
        raise ValueError("give reclaims per GPU-hour or per node-day, not both")
    if per_node_day is not None:
        if gpus_per_node <= 0:
            raise ValueError("gpus_per_node must be > 0")
        return per_node_day / (24.0 * gpus_per_node)
    return per_gpu_hour


def llama3_failure_model(
    detection_s: float = DEFAULT_DETECTION_S,
    restart_s: float = DEFAULT_RESTART_S,
    planned: bool = True,
) -> FailureModel:
    """The default failure model calibrated on Llama 3 Table 5.

    Parameters
    ----------
    detection_s : float
        Fault-to-detection time [s] (estimate, default 120 s).
    restart_s : float
        Restart time [s] (estimate, default 300 s).
    planned : bool
        Include planned maintenance at 47 interruptions per 54 days per 16,384 GPUs.

    Returns
    -------
    FailureModel

    References
    ----------
    Llama 3 §3.3.4, Table 5.
    """
    t = failure_classes()
    return FailureModel(
        names=tuple(t.index),
        groups=tuple(t["group"]),
        rate_per_gpu_h=t["rate_per_gpu_h"].to_numpy(dtype=float),
        needs_repair=t["needs_repair"].to_numpy(dtype=bool),
        mttr_s=t["mttr_h"].to_numpy(dtype=float) * 3600.0,
        detection_s=detection_s,
        restart_s=restart_s,
        planned_rate_per_gpu_h=(LLAMA3_SNAPSHOT.planned_interruptions / LLAMA3_SNAPSHOT.exposure_gpu_h)
        if planned
        else 0.0,
    )


def job_mtbf_s(n_gpus: npt.ArrayLike, rate_per_gpu_h: npt.ArrayLike) -> FloatArray:
    """Mean time between interruptions of an ``n``-GPU job, :math:`M = 3600 / (n \\lambda)`.

    Parameters
    ----------
    n_gpus : array_like
        GPUs in the job [-].
    rate_per_gpu_h : array_like
        Total interruption rate per GPU-hour [1/(GPU·h)].

    Returns
    -------
    numpy.ndarray
        Job MTBF [s] (``inf`` for a zero rate).
    """
    n = np.asarray(n_gpus, dtype=float)
    lam = np.asarray(rate_per_gpu_h, dtype=float)
    if np.any(n <= 0) or np.any(lam < 0):
        raise ValueError("n_gpus must be > 0 and rate_per_gpu_h >= 0")
    with np.errstate(divide="ignore"):
        return np.where(lam > 0, 3600.0 / (n * np.where(lam > 0, lam, 1.0)), np.inf)


def young_interval_s(checkpoint_s: npt.ArrayLike, mtbf_s: npt.ArrayLike) -> FloatArray:
    """Young's optimal checkpoint interval, :math:`\\tau = \\sqrt{2 \\delta M}` [s].

    Parameters
    ----------
    checkpoint_s : array_like
        Checkpoint write time δ [s].
    mtbf_s : array_like
        Job MTBF M [s].

    Returns
    -------
    numpy.ndarray
        Compute time between checkpoints [s].

    References
    ----------
    Young (1974), CACM 17(9).
    """
    d = np.asarray(checkpoint_s, dtype=float)
    m = np.asarray(mtbf_s, dtype=float)
    if np.any(d < 0) or np.any(m <= 0):
        raise ValueError("checkpoint_s must be >= 0 and mtbf_s > 0")
    return np.sqrt(2.0 * d * m)


def daly_interval_s(checkpoint_s: npt.ArrayLike, mtbf_s: npt.ArrayLike) -> FloatArray:
    """Daly's higher-order optimal checkpoint interval [s].

    .. math::

        \\tau = \\sqrt{2\\delta M}\\left[1 + \\tfrac13\\sqrt{\\tfrac{\\delta}{2M}}
        + \\tfrac19\\tfrac{\\delta}{2M}\\right] - \\delta \\text{ for } \\delta < 2M, \\text{ else } M.

    Parameters
    ----------
    checkpoint_s : array_like
        Checkpoint write time δ [s].
    mtbf_s : array_like
        Job MTBF M [s] (``inf`` gives ``inf``: never checkpoint for failures).

    Returns
    -------
    numpy.ndarray
        Compute time between checkpoints [s].

    References
    ----------
    Daly (2006), FGCS 22(3), 303-312.
    """
    d = np.asarray(checkpoint_s, dtype=float)
    m = np.asarray(mtbf_s, dtype=float)
    if np.any(d < 0) or np.any(m <= 0):
        raise ValueError("checkpoint_s must be >= 0 and mtbf_s > 0")
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(np.isfinite(m), d / (2.0 * m), 0.0)
        tau = np.sqrt(2.0 * d * m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d
    return np.where(np.isinf(m), np.inf, np.where(d < 2.0 * m, tau, m))


def optimal_checkpoint_interval_s(
    checkpoint_s: npt.ArrayLike, mtbf_s: npt.ArrayLike, method: str = "daly"
) -> FloatArray:
    """Optimal compute time between checkpoints by ``method`` (``"daly"`` or ``"young"``) [s]."""
    if method == "daly":
        return daly_interval_s(checkpoint_s, mtbf_s)
    if method == "young":
        return young_interval_s(checkpoint_s, mtbf_s)
    raise ValueError(f"method must be 'daly' or 'young', got {method!r}")


def expected_goodput_frac(
    interval_s: npt.ArrayLike,
    checkpoint_s: npt.ArrayLike,
    recovery_s: npt.ArrayLike,
    mtbf_s: npt.ArrayLike,
) -> FloatArray:
    """Expected long-run goodput of a checkpointed job with exponential failures (Daly 2006).

    .. math::

        G = \\frac{\\tau}{M\\, e^{R/M} \\left(e^{(\\tau + \\delta)/M} - 1\\right)}

    Parameters
    ----------
    interval_s : array_like
        Compute time between checkpoints τ [s], > 0.
    checkpoint_s : array_like
        Checkpoint write time δ [s].
    recovery_s : array_like
        Detection + restart time after a failure R [s].
    mtbf_s : array_like
        Job MTBF M [s] (``inf``: no failures, :math:`G = \\tau / (\\tau + \\delta)`).

    Returns
    -------
    numpy.ndarray
        Useful compute time / wall time [frac].

    References
    ----------
    Daly (2006), FGCS 22(3), 303-312.
    """
    tau = np.asarray(interval_s, dtype=float)
    d = np.asarray(checkpoint_s, dtype=float)
    r = np.asarray(recovery_s, dtype=float)
    m = np.asarray(mtbf_s, dtype=float)
    if np.any(tau <= 0) or np.any(d < 0) or np.any(r < 0) or np.any(m <= 0):
        raise ValueError("interval_s and mtbf_s must be > 0; checkpoint_s and recovery_s >= 0")
    finite = np.isfinite(m)
    ms = np.where(finite, m, 1.0)
    with np.errstate(over="ignore"):
        g = tau / (ms * np.exp(r / ms) * np.expm1((tau + d) / ms))
    return np.where(finite, g, tau / (tau + d))
