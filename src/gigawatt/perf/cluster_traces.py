"""Stochastic training job mixes parameterised from published GPU-cluster trace statistics.

A job mix is a non-homogeneous Poisson arrival process (optionally diurnal), a discrete distribution of GPU
counts over powers of two, and a log-normal distribution of failure-free compute time whose median grows with
job size. All draws come from an explicit :class:`numpy.random.Generator`.

What the traces say (qualitatively; the default numbers below are **estimates** consistent with them):

* Philly (Microsoft, Jeon et al. 2019): most jobs request one or a few GPUs; job durations span minutes to
  weeks (heavy tail); larger jobs wait longer for gang allocation.
* Helios (SenseTime, Hu et al. 2021): submissions follow a clear daily cycle; single-GPU jobs dominate the
  count while a small fraction of large multi-node jobs consumes most GPU time; larger jobs run longer.
* Alibaba PAI (Weng et al. 2022): heavy-tailed GPU requests and durations; many short jobs.
* Meta RSC-1/RSC-2 (Kokolis et al. 2024): the majority of jobs are small (one node or less) while jobs of
  thousands of GPUs account for a large share of GPU-hours; their interruption rate scales with size.

References
----------
.. [1] Jeon, M. et al. (2019). Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN Training Workloads.
   USENIX ATC '19.
.. [2] Hu, Q. et al. (2021). Characterization and Prediction of Deep Learning Workloads in Large-Scale GPU
   Datacenters. SC '21.
.. [3] Weng, Q. et al. (2022). MLaaS in the Wild: Workload Analysis and Scheduling in Large-Scale
   Heterogeneous GPU Clusters. NSDI '22.
.. [4] Kokolis, A. et al. (2024). Revisiting Reliability in Large-Scale Machine Learning Research Clusters.
   arXiv:2410.21680.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["JobMix", "generate_job_mix"]


def _default_sizes() -> tuple[int, ...]:
    return (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


def _default_probs() -> tuple[float, ...]:
    # Estimate: about half of the jobs fit on one GPU or a few, about 80 % on one 8-GPU server, and a thin
    # tail of multi-thousand-GPU jobs (Philly, Helios, RSC: qualitative shape, see module docstring).
    return (0.30, 0.10, 0.12, 0.28, 0.07, 0.05, 0.03, 0.02, 0.013, 0.008, 0.005, 0.004)


@dataclass(frozen=True)
class JobMix:
    """Parameters of a stochastic training job mix.

    Attributes
    ----------
    jobs_per_day : float
        Mean arrival rate [1/day].
    diurnal_amplitude_frac : float
        Relative amplitude of the daily cycle of the arrival rate [frac] in [0, 1) (Helios shows a daily
        cycle; default 0.3 is an estimate). Peak at ``diurnal_peak_h``.
    diurnal_peak_h : float
        Hour of day (UTC, simulation clock) of peak submissions [h].
    gpu_counts : tuple of int
        Possible GPU counts per job.
    gpu_count_probs : tuple of float
        Probability of each GPU count (normalised internally).
    median_duration_h : float
        Median failure-free compute time of a one-GPU job [h] (estimate; Philly/Helios medians are
        minutes to a few hours).
    duration_sigma : float
        Log-normal shape (std of ln duration) [-] (estimate giving a tail of weeks).
    duration_size_exponent : float
        Median duration grows as ``n_gpus ** exponent`` (larger jobs run longer, Helios; estimate 0.25).
    max_duration_h : float
        Truncation of the duration tail [h].
    priority_levels : tuple of int
        Priorities drawn uniformly (higher = more important).
    """

    jobs_per_day: float = 100.0
    diurnal_amplitude_frac: float = 0.3
    diurnal_peak_h: float = 14.0
    gpu_counts: tuple[int, ...] = field(default_factory=_default_sizes)
    gpu_count_probs: tuple[float, ...] = field(default_factory=_default_probs)
    median_duration_h: float = 2.0
    duration_sigma: float = 1.5
    duration_size_exponent: float = 0.25
    max_duration_h: float = 24.0 * 21
    priority_levels: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if self.jobs_per_day < 0:
            raise ValueError("jobs_per_day must be >= 0")
        if not 0.0 <= self.diurnal_amplitude_frac < 1.0:
            raise ValueError("diurnal_amplitude_frac must be in [0, 1)")
        if len(self.gpu_counts) == 0 or len(self.gpu_counts) != len(self.gpu_count_probs):
            raise ValueError("gpu_counts and gpu_count_probs must be non-empty and of equal length")
        if any(c <= 0 for c in self.gpu_counts):
            raise ValueError("gpu_counts must be > 0")
        if any(p < 0 for p in self.gpu_count_probs) or sum(self.gpu_count_probs) <= 0:
            raise ValueError("gpu_count_probs must be >= 0 with a positive sum")
        if self.median_duration_h <= 0 or self.duration_sigma < 0 or self.max_duration_h <= 0:
            raise ValueError("median_duration_h and max_duration_h must be > 0, duration_sigma >= 0")
        if len(self.priority_levels) == 0:
            raise ValueError("priority_levels must not be empty")


def _arrival_times_s(mix: JobMix, horizon_s: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Non-homogeneous Poisson arrivals by thinning (Lewis & Shedler 1979)."""
    lam_max = mix.jobs_per_day / 86400.0 * (1.0 + mix.diurnal_amplitude_frac)
    if lam_max <= 0 or horizon_s <= 0:
        return np.zeros(0)
    n_cand = rng.poisson(lam_max * horizon_s)
    t = np.sort(rng.uniform(0.0, horizon_s, n_cand))
    phase = 2.0 * np.pi * (t / 3600.0 - mix.diurnal_peak_h) / 24.0
    accept = rng.uniform(size=n_cand) * (1.0 + mix.diurnal_amplitude_frac) < (
        1.0 + mix.diurnal_amplitude_frac * np.cos(phase)
    )
    return t[accept]


def generate_job_mix(
    mix: JobMix,
    horizon_s: float,
    rng: np.random.Generator,
    max_gpus: int | None = None,
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]]:
    """Draw a job mix over ``[0, horizon_s)``.

    Parameters
    ----------
    mix : JobMix
        Distribution parameters.
    horizon_s : float
        Length of the submission window [s].
    rng : numpy.random.Generator
        Source of randomness (same state ⇒ same jobs).
    max_gpus : int, optional
        Largest job the target pool can hold; larger draws are clipped to it.

    Returns
    -------
    dict of numpy.ndarray
        ``submit_s`` [s] (sorted), ``n_gpus`` [-], ``work_s`` (failure-free compute time at full
        throughput [s]), ``priority`` [-].

    Notes
    -----
    Arrival rate :math:`\\lambda(t) = \\bar\\lambda\\,[1 + a\\cos(2\\pi (t_h - h_{peak})/24)]`; duration
    :math:`\\ln T \\sim \\mathcal N(\\ln(T_{50}\\, n^{\\beta}), \\sigma^2)` truncated at ``max_duration_h``.
    """
    submit = _arrival_times_s(mix, horizon_s, rng)
    n = submit.size
    probs = np.asarray(mix.gpu_count_probs, dtype=float)
    counts = np.asarray(mix.gpu_counts, dtype=np.int64)
    n_gpus = rng.choice(counts, size=n, p=probs / probs.sum())
    if max_gpus is not None:
        if max_gpus <= 0:
            raise ValueError("max_gpus must be > 0")
        n_gpus = np.minimum(n_gpus, max_gpus)
    median_h = mix.median_duration_h * n_gpus.astype(float) ** mix.duration_size_exponent
    dur_h = np.minimum(
        np.exp(np.log(median_h) + mix.duration_sigma * rng.standard_normal(n)), mix.max_duration_h
    )
    prio = rng.choice(np.asarray(mix.priority_levels, dtype=np.int64), size=n)
    return {"submit_s": submit, "n_gpus": n_gpus, "work_s": dur_h * 3600.0, "priority": prio}
