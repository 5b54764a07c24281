"""Inference services (``kind: inference``): a model served on GPU replicas with demand, SLOs and autoscaling.

Fleet mode (per control step, whole horizon) sizes and runs the service; optional request-level windows
simulate every request of chosen periods with continuous batching. See ``docs/models/inference.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel
from gigawatt.scenario.routing import Placement, RoutingSpec
from gigawatt.scenario.targets import GpuTarget

__all__ = [
    "AutoscalingSpec",
    "DemandSpec",
    "DisaggregationSpec",
    "InferenceWorkload",
    "LaunchSpikeSpec",
    "ModelArchitecture",
    "ProfileDemand",
    "RequestWindow",
    "SLOSpec",
    "ServingSpec",
    "TokenLengthSpec",
    "TraceDemand",
]


class ModelArchitecture(StrictModel):
    """An LLM architecture given inline (instead of a preset name such as ``Llama-3-70B``)."""

    name: str = Field(min_length=1)
    n_params: float = Field(gt=0, le=1e15)
    """Total parameters [-] (all experts)."""
    n_active_params: float | None = Field(None, gt=0, le=1e15)
    """Parameters used per token [-]; default ``n_params`` (dense)."""
    n_layers: int = Field(gt=0, le=100_000)
    hidden_size: int = Field(gt=0, le=10_000_000)
    n_heads: int = Field(gt=0, le=100_000)
    n_kv_heads: int = Field(gt=0, le=100_000)
    head_dim: int | None = Field(None, gt=0, le=100_000)
    """Default ``hidden_size / n_heads``."""
    n_experts: int = Field(1, gt=0, le=100_000)
    n_experts_active: int = Field(1, gt=0, le=100_000)
    expert_params_frac: float = Field(0.0, ge=0, lt=1)
    """Share of ``n_params`` in expert FFN weights (mixture of experts)."""


class DisaggregationSpec(StrictModel):
    """Prefill/decode disaggregation: prompts are prefilled on a separate pool (possibly other hardware) and
    their KV cache shipped to the decode pool (the service's ``target``). Splitwise / DistServe style."""

    prefill_target: GpuTarget
    """GPUs of the prefill pool."""
    prefill_tensor_parallel: PositiveInt | None = None
    """Accelerators per prefill replica; default ``serving.tensor_parallel``."""
    kv_link_bandwidth_gbps: float = Field(50.0, gt=0, le=1e6)
    """KV-cache transfer bandwidth per prefill GPU [GB/s] (one 400 Gb/s NIC per GPU; Splitwise §V)."""


class ServingSpec(StrictModel):
    """How each replica serves: parallelism, precision, continuous-batching limits, routing."""

    tensor_parallel: PositiveInt = 1
    """Accelerators per replica (tensor parallelism within a scale-up domain)."""
    precision: Literal["bf16", "fp8"] = "bf16"
    """Weight precision (FP8 halves weight memory and uses the FP8 peak)."""
    kv_precision: Literal["bf16", "fp8"] | None = None
    """KV-cache precision; default = ``precision``."""
    max_batch_tokens: int = Field(8192, gt=0, le=10_000_000)
    """Token budget per iteration (decodes + prefill chunk)."""
    max_batch_seqs: int = Field(256, gt=0, le=1_000_000)
    """Sequences per iteration."""
    chunked_prefill: bool = True
    """Split prompts over iterations to fill the token budget (else whole prompts only)."""
    router: Literal["central", "round_robin", "jsq", "least_loaded"] = "least_loaded"
    memory_utilization_frac: float = Field(0.9, gt=0, le=1)
    """Share of HBM for weights + KV cache (vLLM default 0.9)."""
    compute_efficiency_frac: float | None = Field(None, gt=0, le=1)
    """Override of the calibrated GEMM efficiency (default 0.50)."""
    bandwidth_efficiency_frac: float | None = Field(None, gt=0, le=1)
    """Override of the calibrated weight-streaming bandwidth efficiency (default 0.60)."""
    kv_bandwidth_efficiency_frac: float | None = Field(None, gt=0, le=1)
    """Override of the calibrated KV-cache read efficiency (default 0.60)."""
    disaggregation: DisaggregationSpec | None = None
    """Separate prefill pool (default: prefill and decode share every replica)."""


class SLOSpec(StrictModel):
    """Latency objectives: the ``quantile`` of TTFT and TPOT below targets, met for ``attainment_frac``."""

    ttft_s: float = Field(2.0, gt=0, le=86_400)
    """Time to first token target [s]."""
    tpot_s: float = Field(0.2, gt=0, le=3600)
    """Time per output token target [s]."""
    quantile: float = Field(0.99, gt=0, lt=1)
    attainment_frac: float = Field(0.99, gt=0, le=1)
    """Share of requests that must meet both targets (served and in time)."""


class AutoscalingSpec(StrictModel):
    """Replica autoscaling (fleet mode)."""

    policy: Literal["slo", "utilization", "fixed"] = "slo"
    """``slo``: fewest replicas meeting the SLO quantiles and the utilisation target; ``utilization``: the
    utilisation target only; ``fixed``: ``fixed_replicas`` always."""
    target_utilization_frac: float = Field(0.8, gt=0, le=1)
    min_replicas: int = Field(1, ge=0, le=10_000_000)
    max_replicas: int | None = Field(None, gt=0, le=10_000_000)
    """Cap on replicas (never above what the target GPUs hold). Default: the economical cap, the replicas
    that carry the service's peak demand at ``min_utilization_frac`` (see docs/models/inference.md)."""
    min_utilization_frac: float = Field(0.1, gt=0, le=1)
    """Utilisation at which the default (economical) ``max_replicas`` carries the peak demand."""
    scale_up: Literal["reactive", "scheduled", "predictive"] = "reactive"
    """When replicas are ordered: ``reactive`` when the need appears (ready ``scale_up_delay_s`` later);
    ``predictive`` one scale-up delay ahead of the demand forecast (the rate profile without random
    bursts; a trace's own rate); ``scheduled`` one delay ahead of what was needed at the same time last
    week (a weekly schedule learned from history; reactive in the first week)."""
    fixed_replicas: int | None = Field(None, gt=0, le=10_000_000)
    scale_up_delay_s: float = Field(300.0, ge=0, le=604_800)
    """Provisioning + cold start (weights loaded) before a new replica serves [s]."""
    scale_down_cooldown_s: float = Field(900.0, ge=0, le=604_800)
    """Scale down only to the largest need of this trailing window [s]."""
    overload: Literal["drop", "queue"] = "drop"
    max_queue_s: float = Field(60.0, ge=0, le=86_400)
    """With ``overload: queue``, requests waiting longer than this are dropped [s]."""

    @model_validator(mode="after")
    def _fixed(self) -> AutoscalingSpec:
        if self.policy == "fixed" and self.fixed_replicas is None:
            raise ValueError("fixed_replicas is required with policy 'fixed'")
        if self.max_replicas is not None and self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be >= min_replicas")
        if self.min_utilization_frac > self.target_utilization_frac:
            raise ValueError("min_utilization_frac must be <= target_utilization_frac")
        return self


class TokenLengthSpec(StrictModel):
    """Prompt and output lengths: log-normal (median, log-space sigma) or sampled from an Azure-format trace."""

    prompt_median_tokens: float = Field(1020.0, gt=0, le=2_000_000)
    prompt_sigma: float = Field(1.0, ge=0, le=5)
    output_median_tokens: float = Field(129.0, gt=0, le=2_000_000)
    output_sigma: float = Field(1.0, ge=0, le=5)
    max_prompt_tokens: int = Field(32768, gt=0, le=2_000_000)
    """Longest prompt [tokens] (at most 2 million: the longest context windows offered, e.g. Gemini 1.5 Pro,
    2024)."""
    max_output_tokens: int = Field(8192, gt=0, le=2_000_000)
    trace_path: str | None = None
    """Azure LLM trace CSV (``TIMESTAMP,ContextTokens,GeneratedTokens``) whose token columns are sampled
    instead (relative to the scenario file)."""


class LaunchSpikeSpec(StrictModel):
    """A launch: demand ramps from the profile to ``peak_rps`` and decays back (e.g. 100 → 10,000 req/s)."""

    at_h: float = Field(ge=0, le=876_000)
    """Launch time [h after scenario start]."""
    peak_rps: float = Field(gt=0, le=1e9)
    ramp_h: float = Field(1.0, ge=0, le=87_600)
    decay_h: float = Field(6.0, gt=0, le=87_600)


class ProfileDemand(StrictModel):
    """Poisson demand with a rate profile: mean × daily shape × weekly factor × growth × bursts (+ launch)."""

    kind: Literal["profile"] = "profile"
    peak_rps: float = Field(gt=0, le=1e9)
    """Rate at the daily peak on a weekday at the start of the horizon [1/s]."""
    daily_trough_frac: float = Field(1.0, ge=0, le=1)
    """Daily minimum / peak (1 = flat)."""
    daily_peak_hour: float = Field(14.0, ge=0, lt=24)
    """Hour of the daily peak [h] on the scenario's ``wall_clock`` (default: the site's local standard time;
    weekends too)."""
    weekend_frac: float = Field(1.0, ge=0, le=100)
    weekend_transition_h: float = Field(6.0, ge=0, le=48)
    """Width of the smooth change between weekday and weekend levels, centred on Saturday 00:00 and Monday
    00:00 [h] (raised cosine; 0 = a step; the 6 h default is an estimate)."""
    annual_growth_frac: float = Field(0.0, gt=-1, le=100)
    burst_factor: float = Field(1.0, ge=1, le=1000)
    """Markov-modulated bursts: rate multiplier while bursting (1 = none)."""
    burst_mean_s: float = Field(300.0, gt=0, le=1e8)
    burst_interval_s: float = Field(3600.0, gt=0, le=1e8)
    """Mean time between bursts [s]."""
    launch: LaunchSpikeSpec | None = None
    tokens: TokenLengthSpec = TokenLengthSpec()


class TraceDemand(StrictModel):
    """Replay of an Azure-format LLM trace, tiled over the horizon, with time and rate scaling."""

    kind: Literal["trace"] = "trace"
    path: str
    """CSV path (relative to the scenario file's folder when not absolute)."""
    time_scale: float = Field(1.0, ge=1e-3, le=1e3)
    """Multiplies inter-arrival times (0.5 = twice as fast)."""
    rate_scale: float = Field(1.0, gt=0, le=1e4)
    """Multiplies the request rate (superposed, shifted copies of the trace)."""


DemandSpec = Annotated[ProfileDemand | TraceDemand, Field(discriminator="kind")]


class RequestWindow(StrictModel):
    """A period simulated request by request (continuous batching, exact per-request latencies)."""

    start_h: float = Field(ge=0, le=876_000)
    duration_h: float = Field(1.0, gt=0, le=8760)
    warmup_s: float = Field(300.0, ge=0, le=604_800)
    """Simulated before ``start_h`` (replicas start empty) and left out of the requests table [s]."""
    max_requests: int = Field(2_000_000, gt=0, le=1_000_000_000)
    """Safety limit on requests simulated in the window (warm-up included)."""


class InferenceWorkload(StrictModel):
    """An LLM inference service on a GPU target (dedicated pool, or lent by a training workload)."""

    kind: Literal["inference"] = "inference"
    name: ScopeName
    """Workload name (no ``/`` or ``:``; it prefixes the workload's result columns)."""
    target: GpuTarget = None  # type: ignore[assignment]
    """GPUs the service may use (its pool); required unless ``placements`` are given (it is then
    ``placements[0].target``)."""
    model: str | ModelArchitecture
    """Preset name (``Llama-3-8B``, ``Llama-3-70B``, ``Llama-3-405B``, ``Mixtral-8x7B``, ...) or architecture."""
    serving: ServingSpec = ServingSpec()
    slo: SLOSpec = SLOSpec()
    autoscaling: AutoscalingSpec = AutoscalingSpec()
    demand: DemandSpec
    shared_with_training: str | None = None
    """Name of a ``training`` workload on the same GPUs: inference takes nodes from its pool, preempting
    preemptible training jobs when short (the training-side cost shows in its jobs table)."""
    request_windows: list[RequestWindow] = Field(default_factory=list)
    allowed_jurisdictions: list[Jurisdiction] | None = Field(None, min_length=1)
    """Data residency / sovereignty: the jurisdictions whose sites may run this workload (a site's
    ``jurisdiction``, its ``location.country_code``, or ``EU`` for a site in an EU member state); ``None``: any.
    ``gigawatt check`` rejects a target outside them."""
    placements: list[Placement] | None = Field(None, min_length=1, max_length=100)
    """Several GPU targets, possibly in different sites, that serve the service together (each sized by its
    own autoscaler for the demand routed to it); ``None``: ``target`` only. See ``routing``."""
    routing: RoutingSpec | None = None
    """How demand is split between ``placements`` (policy, user regions, spill-over, failover)."""

    @model_validator(mode="after")
    def _placements_target(self) -> InferenceWorkload:
        if self.target is None:
            if not self.placements:
                raise ValueError("target is required (or placements: a list of GPU targets)")
            # derived, not marked as set: edits of placements[0] carry over, and a dump leaves it out
            object.__setattr__(self, "target", self.placements[0].target)
        elif self.placements and self.target != self.placements[0].target:
            raise ValueError("with placements, target must be placements[0].target (or be omitted)")
        return self

    @model_validator(mode="after")
    def _disaggregation_limits(self) -> InferenceWorkload:
        if self.serving.disaggregation is not None:
            if self.shared_with_training is not None:
                raise ValueError("shared_with_training is not supported with serving.disaggregation yet")
            if self.request_windows:
                raise ValueError("request_windows are not supported with serving.disaggregation yet")
        return self
