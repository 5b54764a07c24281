"""Training across halls and sites: the throughput factor of the communication crossing a boundary.

A training job placed on GPUs of several halls (a campus) or several sites computes in lockstep; its gradient
(or, for DiLoCo-type methods, its outer pseudo-gradient) must cross the links between those *islands*. The
fabric inside a hall is covered by the network scaling model of :mod:`gigawatt.perf.training`; this module adds
what the boundary costs. Pure functions of numpy arrays (scalars broadcast).

Model
-----
**Communication time across k islands** (hierarchical all-reduce: reduce inside each island first, then a ring
all-reduce between the islands over the boundary links, then broadcast inside; Patarasuk & Yuan 2009 for the
ring's bandwidth optimality, Thakur et al. 2005 for the cost model :math:`2(k-1)α + 2\\frac{k-1}{k}\\frac{S}{B}`):

.. math:: t_{comm} = 2\\frac{k-1}{k}\\,\\frac{8 S}{10^9 B} + 2 (k-1)\\,α

with :math:`S` the bytes to reduce [B], :math:`B` the bandwidth of the bottleneck boundary link [Gbit/s] and
:math:`α` its one-way latency [s]. :math:`B` is the smaller of the link's aggregate capacity and a per-GPU
figure × the GPUs of the job in its smallest island (every GPU of an island carries its shard of the
island's reduction over the boundary).

**Payload.** Synchronous data parallelism all-reduces the gradient every optimizer step:
:math:`S = N b` (N parameters, b bytes per value: 2 for BF16 gradients). A DiLoCo-type method (Douillard et
al. 2023) all-reduces the outer pseudo-gradient (the parameter change) every :math:`H` inner steps, in
:math:`b = 4` bytes (FP32) divided by a compression factor (INTELLECT-1: int8, 4×; Streaming DiLoCo: FP4, 8×).

**Compute per step** of an n-GPU job with a global batch of :math:`T_b` tokens at :math:`F` achieved FLOP/s
per GPU (6·N FLOPs per token, Kaplan et al. 2020):

.. math:: t_c = \\frac{6 N T_b}{n F}

**Overlap.** A share :math:`o` of the compute window that runs beside the communication hides it:
:math:`e = \\max(t_{comm} - o\\,t_{window}, 0)` with :math:`t_{window} = t_c` for a per-step all-reduce and
:math:`H t_c` for an outer step overlapped with the next inner phase (Streaming DiLoCo, Douillard et al. 2025;
eager updates, Kale et al. 2025). INTELLECT-1 is taken as blocking on its outer all-reduce (:math:`o = 0`; an
assumption).

**Throughput factor** (compute utilisation: the share of wall time spent computing), with campus links
between halls of a site (synchronous, every step: exposed :math:`e_c`) and a wide-area link between sites
(every :math:`H` steps: exposed :math:`e_w`):

.. math:: f = \\frac{H\\,t_c}{H\\,(t_c + e_c) + e_w}

**Latency from distance.** One-way latency of a fibre path between two sites at great-circle distance
:math:`d`: :math:`α = d\\,f_{route} / v_{fibre}` with :math:`v_{fibre} ≈ 2.0·10^5` km/s (≈ 5 µs/km, ITU-T
G.652 group index ≈ 1.47) and route inflation :math:`f_{route} = 2.1` (Bozkurt et al. 2018; conservative for
a dedicated long-haul route).

Limits: the ring over islands assumes the islands exchange over links of equal bandwidth (the bottleneck is
used); congestion from other jobs on the same links, TCP window limits over long round trips and stragglers
are not modelled; the factor is constant for a placement (no bandwidth variability, which INTELLECT-1 names
among its remaining challenges).

References
----------
.. [1] Thakur, R., Rabenseifner, R., Gropp, W. (2005). Optimization of Collective Communication Operations in
   MPICH. IJHPCA 19(1) (ring all-reduce cost 2(p−1)α + 2((p−1)/p)nβ).
.. [2] Patarasuk, P., Yuan, X. (2009). Bandwidth optimal all-reduce algorithms for clusters of workstations.
   JPDC 69(2).
.. [3] Douillard, A. et al. (2023). DiLoCo: Distributed Low-Communication Training of Language Models.
   arXiv:2311.08105 (H = 500 inner steps; 8 workers match synchronous training).
.. [4] Douillard, A. et al. (2025). Streaming DiLoCo with overlapping communication. arXiv:2501.18512.
.. [5] Kale, S., Douillard, A., Donchev, Y. (2025). Eager Updates for Overlapped Communication and Computation
   in DiLoCo. arXiv:2502.12996.
.. [6] Jaghouar, S. et al. (2024). INTELLECT-1 Technical Report. arXiv:2412.01152 (10B parameters, DiLoCo with
   100 inner steps, int8 all-reduce, 83 % compute utilisation across 3 continents, 96 % within the US; the
   training configuration ``configs/10B/H100_intellect1.toml`` of github.com/PrimeIntellect-ai/prime: batch of
   128 × 8,192 tokens per worker, ``inner_steps = 100``, ``compression = "uint8"``).
.. [7] Kaplan, J. et al. (2020). Scaling Laws for Neural Language Models. arXiv:2001.08361 (6 N FLOPs/token).
.. [8] Bozkurt, I. N. et al. (2018). Dissecting Latency in the Internet's Fiber Infrastructure.
   arXiv:1811.10737 (route inflation ≈ 2.1).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from gigawatt.perf.routing import FIBRE_SPEED_KM_PER_S, ROUTE_FACTOR

__all__ = [
    "DEFAULT_DILOCO_BYTES_PER_PARAM",
    "DEFAULT_DILOCO_INNER_STEPS",
    "DEFAULT_DP_BYTES_PER_PARAM",
    "DEFAULT_TOKENS_PER_GPU_PER_STEP",
    "exposed_comm_s",
    "fibre_latency_s",
    "ring_allreduce_s",
    "span_throughput_factor",
    "step_compute_s",
]

FloatArray = npt.NDArray[np.float64]

#: Bytes per gradient value of synchronous data parallelism [B]: BF16 gradients (Megatron-LM and PyTorch FSDP
#: reduce in the parameters' BF16 precision by default; an estimate for a generic stack).
DEFAULT_DP_BYTES_PER_PARAM: Final = 2.0
#: Bytes per outer pseudo-gradient value of DiLoCo before compression [B]: FP32 (Douillard et al. 2023;
#: INTELLECT-1 quantises these to int8, a compression of 4).
DEFAULT_DILOCO_BYTES_PER_PARAM: Final = 4.0
#: Inner steps between outer synchronisations (INTELLECT-1: 100; DiLoCo's paper: 500).
DEFAULT_DILOCO_INNER_STEPS: Final = 100
#: Global batch per optimizer step per GPU of the job [tokens] when a job does not give ``batch_tokens``:
#: Llama 3 405B's 16M-token batch on 16,384 H100 (Llama 3, Table 4) = 1,024 tokens per GPU (estimate).
DEFAULT_TOKENS_PER_GPU_PER_STEP: Final = 1024.0


def fibre_latency_s(
    distance_km: npt.ArrayLike,
    route_factor: float = ROUTE_FACTOR,
    fibre_speed_km_per_s: float = FIBRE_SPEED_KM_PER_S,
) -> FloatArray:
    """One-way propagation latency of a fibre path [s]: :math:`α = d f_{route} / v_{fibre}`.

    Parameters
    ----------
    distance_km
        Great-circle distance between the sites [km].
    route_factor
        Fibre route length / great-circle distance [-] (default 2.1, Bozkurt et al. 2018).
    fibre_speed_km_per_s
        Propagation speed in fibre [km/s] (default 2.0e5: ≈ 5 µs/km).
    """
    d = np.asarray(distance_km, dtype=float)
    return np.asarray(d * route_factor / fibre_speed_km_per_s, dtype=float)


def ring_allreduce_s(
    payload_bytes: npt.ArrayLike,
    n_islands: npt.ArrayLike,
    bandwidth_gbit_per_s: npt.ArrayLike,
    latency_s: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Time of a ring all-reduce of ``payload_bytes`` between ``n_islands`` over links of one bandwidth [s].

    .. math:: t = 2\\frac{k-1}{k}\\frac{8 S}{10^9 B} + 2 (k-1)\\,α

    Zero for one island (nothing crosses a boundary).

    Parameters
    ----------
    payload_bytes
        Bytes to reduce, S [B] (the whole gradient or pseudo-gradient, after compression).
    n_islands
        Islands k (halls or sites) the job spans [-], ≥ 1.
    bandwidth_gbit_per_s
        Bandwidth of the bottleneck boundary link, B [Gbit/s] (> 0).
    latency_s
        One-way latency of that link, α [s].
    """
    k = np.asarray(n_islands, dtype=float)
    s = np.asarray(payload_bytes, dtype=float)
    b = np.asarray(bandwidth_gbit_per_s, dtype=float)
    a = np.asarray(latency_s, dtype=float)
    k1 = np.maximum(k - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bw = np.where(k1 > 0, 2.0 * k1 / np.maximum(k, 1.0) * 8.0 * s / (1e9 * b), 0.0)
    return np.asarray(bw + 2.0 * k1 * a, dtype=float)


def step_compute_s(
    model_params: npt.ArrayLike,
    batch_tokens: npt.ArrayLike,
    n_gpus: npt.ArrayLike,
    tflops_per_gpu: npt.ArrayLike,
) -> FloatArray:
    """Compute time of one optimizer step at full throughput [s]: :math:`t_c = 6 N T_b / (n F)`.

    Parameters
    ----------
    model_params
        Parameters N [-] (active parameters for a mixture of experts).
    batch_tokens
        Global batch T_b [tokens per step] (for DiLoCo: the whole job's tokens per inner step).
    n_gpus
        GPUs of the job, n.
    tflops_per_gpu
        Achieved throughput per GPU, F [TFLOP/s] (peak × MFU).
    """
    n = np.asarray(model_params, dtype=float)
    tb = np.asarray(batch_tokens, dtype=float)
    g = np.asarray(n_gpus, dtype=float)
    f = np.asarray(tflops_per_gpu, dtype=float) * 1e12
    return np.asarray(6.0 * n * tb / (g * f), dtype=float)


def exposed_comm_s(
    comm_s: npt.ArrayLike, window_s: npt.ArrayLike, overlap_frac: npt.ArrayLike = 0.0
) -> FloatArray:
    """Communication time not hidden behind compute [s]: :math:`e = \\max(t_{comm} - o\\,t_{window}, 0)`.

    Parameters
    ----------
    comm_s
        Communication time [s].
    window_s
        Compute time the communication may run beside [s] (one step, or the H inner steps of an outer step).
    overlap_frac
        Share of that window usable to hide communication, o [0-1].
    """
    c = np.asarray(comm_s, dtype=float)
    w = np.asarray(window_s, dtype=float)
    o = np.asarray(overlap_frac, dtype=float)
    return np.asarray(np.maximum(c - o * w, 0.0), dtype=float)


def span_throughput_factor(
    step_s: npt.ArrayLike,
    campus_comm_s: npt.ArrayLike = 0.0,
    wan_comm_s: npt.ArrayLike = 0.0,
    inner_steps: npt.ArrayLike = 1,
    campus_overlap_frac: npt.ArrayLike = 0.0,
    wan_overlap_frac: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Throughput factor of a job spanning halls and/or sites: the share of its time spent computing.

    .. math:: f = \\frac{H t_c}{H (t_c + e_c) + e_w}, \\quad e_c = \\max(t_{c,comm} - o_c t_c, 0),
       \\quad e_w = \\max(t_{w,comm} - o_w H t_c, 0)

    Parameters
    ----------
    step_s
        Compute time of one (inner) step at full throughput, t_c [s] (> 0).
    campus_comm_s
        Communication between halls of a site per step [s] (synchronous; 0 if the job is in one hall per site).
    wan_comm_s
        Communication between sites per outer synchronisation [s] (0 if the job is in one site).
    inner_steps
        Steps between synchronisations across sites, H (1 for synchronous data parallelism).
    campus_overlap_frac, wan_overlap_frac
        Share of the compute window hiding the campus / wide-area communication [0-1].

    Returns
    -------
    numpy.ndarray
        Factor in (0, 1]; exactly 1 when nothing crosses a boundary.
    """
    tc = np.asarray(step_s, dtype=float)
    h = np.asarray(inner_steps, dtype=float)
    ec = exposed_comm_s(campus_comm_s, tc, campus_overlap_frac)
    ew = exposed_comm_s(wan_comm_s, h * tc, wan_overlap_frac)
    return np.asarray(h * tc / (h * (tc + ec) + ew), dtype=float)
