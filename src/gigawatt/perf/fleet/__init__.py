"""Fleet mode for inference services: per-control-step sizing, autoscaling, latency and SLO estimates.

For horizons of months and years the request-level simulator (:mod:`gigawatt.engine.inference_sim`) is
replaced by an operating-point + queueing model evaluated per control step, vectorised over steps (the autoscaler's
state recurrence and the TTFT quantiles are numba kernels). It is cross-checked against the request-level
simulation in ``tests/validation/test_inference_fleet.py``.

The model in four parts, one module each (equations in their docstrings and in ``docs/models/inference.md``):

* :mod:`~gigawatt.perf.fleet.operating_point`: a replica's operating point (prefill-carrying vs decode-only
  iterations, decode batch from Little's law) from the iteration roofline, tabulated against the request rate
  (:func:`replica_curve`), and its capacity :math:`μ`;
* :mod:`~gigawatt.perf.fleet.latency`: TTFT (M/G/c wait + own prefill, Allen–Cunneen tail) and TPOT
  (compound Poisson) distributions, SLO attainment, the best latency any replica count can give
  (:func:`slo_ceiling`);
* :mod:`~gigawatt.perf.fleet.autoscaler`: desired replicas per step (SLO and utilisation targets, economical
  cap, attainment knee), scale-up delay and scale-down stabilisation window;
* fleet orchestration: :mod:`~gigawatt.perf.fleet.colocated` (:func:`simulate_fleet`, :func:`evaluate_fleet`)
  and :mod:`~gigawatt.perf.fleet.disaggregated` (:func:`simulate_disaggregated_fleet`, separate prefill and
  decode pools).

Demand above capacity is dropped (``overload="drop"``) or carried as a backlog that adds waiting time and is
dropped after ``max_queue_s`` (``overload="queue"``).

This package's namespace is the public face; the submodules hold the code.

References
----------
.. [1] Patel, P. et al. (2024). Splitwise. ISCA '24 (phase power, Azure traces).
.. [2] Allen, A. O. (1990). Probability, Statistics, and Queueing Theory. Academic Press (Allen–Cunneen).
.. [3] Kubernetes documentation: Horizontal Pod Autoscaler, "stabilizationWindowSeconds" (default 300 s
   for scale-down).
"""

from gigawatt.perf.fleet.autoscaler import (
    KNEE_ATTAINMENT_GAIN_PER_DOUBLING,
    AutoscalerConfig,
    autoscale_replicas,
    economical_max_replicas,
)
from gigawatt.perf.fleet.colocated import FleetResult, evaluate_fleet, simulate_fleet
from gigawatt.perf.fleet.disaggregated import DisaggregatedPerf, simulate_disaggregated_fleet
from gigawatt.perf.fleet.latency import SLO, LatencyDistribution, mixture_quantile, slo_ceiling
from gigawatt.perf.fleet.operating_point import (
    ReplicaPerf,
    TokenStats,
    prefill_time_idle_s,
    replica_capacity_per_s,
    replica_curve,
    replica_operating_point,
)

__all__ = [
    "KNEE_ATTAINMENT_GAIN_PER_DOUBLING",
    "SLO",
    "AutoscalerConfig",
    "DisaggregatedPerf",
    "FleetResult",
    "LatencyDistribution",
    "ReplicaPerf",
    "TokenStats",
    "autoscale_replicas",
    "economical_max_replicas",
    "evaluate_fleet",
    "mixture_quantile",
    "prefill_time_idle_s",
    "replica_capacity_per_s",
    "replica_curve",
    "replica_operating_point",
    "simulate_disaggregated_fleet",
    "simulate_fleet",
    "slo_ceiling",
]
