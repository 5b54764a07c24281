"""Inference services seen by the performance models: the model, serving configuration, token lengths and
replica performance of a service (:func:`model_spec`, :func:`serving_config`, :func:`token_samples`,
:func:`replica_perf`; the engine builds its services from the same functions, so a check evaluates exactly what
the run will), and the cross-checks of an inference service (:func:`inference_problems`)."""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

import numpy as np

from gigawatt.perf import demand as dm
from gigawatt.perf.fleet import SLO, ReplicaPerf, TokenStats, slo_ceiling
from gigawatt.perf.llm import (
    MODEL_PRESETS,
    AcceleratorPerf,
    ModelSpec,
    ServingConfig,
    iteration_coeffs,
    kv_cache_capacity_tokens,
    model_preset,
)
from gigawatt.rng import stream_rng
from gigawatt.scenario.inference import InferenceWorkload, ModelArchitecture, TraceDemand
from gigawatt.scenario.resolve import target_groups
from gigawatt.scenario.root import Scenario

__all__ = [
    "inference_problems",
    "model_spec",
    "replica_perf",
    "serving_config",
    "slo_problems",
    "token_samples",
]

#: Prompt/output length samples drawn per service when lengths are log-normal.
_TOKEN_SAMPLES = 20_000


def model_spec(model: str | ModelArchitecture) -> ModelSpec:
    """Resolve a preset name or an inline architecture."""
    if isinstance(model, str):
        return model_preset(model)
    return ModelSpec(
        name=model.name,
        n_params=model.n_params,
        n_active_params=model.n_active_params or model.n_params,
        n_layers=model.n_layers,
        hidden_size=model.hidden_size,
        n_heads=model.n_heads,
        n_kv_heads=model.n_kv_heads,
        head_dim=model.head_dim or model.hidden_size // model.n_heads,
        n_experts=model.n_experts,
        n_experts_active=model.n_experts_active,
        expert_params_frac=model.expert_params_frac,
        source="user-supplied",
    )


def serving_config(spec: InferenceWorkload) -> ServingConfig:
    """The :class:`~gigawatt.perf.llm.ServingConfig` of a service."""
    s = spec.serving
    kw: dict[str, Any] = {}
    for f in ("compute_efficiency_frac", "bandwidth_efficiency_frac", "kv_bandwidth_efficiency_frac"):
        if getattr(s, f) is not None:
            kw[f] = getattr(s, f)
    wb = 1.0 if s.precision == "fp8" else 2.0
    kb = wb if s.kv_precision is None else (1.0 if s.kv_precision == "fp8" else 2.0)
    return ServingConfig(
        tp=s.tensor_parallel,
        weight_bytes=wb,
        kv_bytes=kb,
        memory_utilization_frac=s.memory_utilization_frac,
        **kw,
    )


def token_samples(
    spec: InferenceWorkload, scenario: Any, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Prompt and output length samples [tokens] of a service (trace columns, or log-normal draws from ``rng``)."""
    d = spec.demand
    if isinstance(d, TraceDemand):
        data, _ = dm.read_azure_trace(scenario.resolve_path(d.path))
        return data["prompt_tokens"].to_numpy(), data["output_tokens"].to_numpy()
    t = d.tokens
    if t.trace_path is not None:
        data, _ = dm.read_azure_trace(scenario.resolve_path(t.trace_path))
        return data["prompt_tokens"].to_numpy(), data["output_tokens"].to_numpy()
    P = dm.lognormal_tokens(
        _TOKEN_SAMPLES, t.prompt_median_tokens, t.prompt_sigma, rng, max_tokens=t.max_prompt_tokens
    )
    O = dm.lognormal_tokens(
        _TOKEN_SAMPLES, t.output_median_tokens, t.output_sigma, rng, max_tokens=t.max_output_tokens
    )
    return P, O


def replica_perf(spec: InferenceWorkload, accelerator: Any) -> ReplicaPerf:
    """One replica's performance (:class:`~gigawatt.perf.fleet.ReplicaPerf`) on an accelerator spec."""
    accel = AcceleratorPerf.from_mapping(accelerator)
    model = model_spec(spec.model)
    cfg = serving_config(spec)
    return ReplicaPerf(
        iteration_coeffs(model, accel, cfg),
        kv_cache_capacity_tokens(model, accel, cfg),
        spec.serving.max_batch_tokens,
        spec.serving.max_batch_seqs,
        int(spec.serving.tensor_parallel),
    )


def inference_problems(sc: Scenario, wi: int, wl: Any) -> list[tuple[str, str]]:
    """Cross-checks of an inference service: model preset, fit on the accelerators, shared pool, traces."""
    path = f"workloads[{wi}]"
    problems: list[tuple[str, str]] = []
    if isinstance(wl.model, str) and wl.model not in MODEL_PRESETS:
        hint = difflib.get_close_matches(wl.model, list(MODEL_PRESETS), n=1)
        extra = f" (did you mean {hint[0]}?)" if hint else f"; known: {', '.join(MODEL_PRESETS)}"
        problems.append((f"{path}.model", f"unknown model preset {wl.model!r}{extra}"))
    if wl.shared_with_training is not None and not any(
        getattr(o, "kind", None) == "training" and o.name == wl.shared_with_training for o in sc.workloads
    ):
        problems.append(
            (f"{path}.shared_with_training", f"no training workload named {wl.shared_with_training!r}")
        )
    for sub, p in (
        ("demand.path", getattr(wl.demand, "path", None)),
        ("demand.tokens.trace_path", getattr(getattr(wl.demand, "tokens", None), "trace_path", None)),
    ):
        if p is not None and not sc.resolve_path(p).exists():
            problems.append((f"{path}.{sub}", f"trace file not found: {sc.resolve_path(p)}"))
    if problems:
        return problems
    try:
        groups = target_groups(sc, wl.target)
    except KeyError:
        return problems  # reported with the target
    s, h, g = groups[0]
    accel = AcceleratorPerf.from_mapping(sc.sites[s].halls[h].racks[g].server.accelerator_spec())
    try:
        kv_cache_capacity_tokens(model_spec(wl.model), accel, serving_config(wl))
    except ValueError as exc:
        problems.append((f"{path}.serving.tensor_parallel", str(exc).removeprefix("tp: ")))
    dis = wl.serving.disaggregation
    if dis is not None:
        try:
            pg = target_groups(sc, dis.prefill_target)
        except KeyError as exc:
            problems.append((f"{path}.serving.disaggregation.prefill_target", str(exc.args[0])))
        else:
            ps, ph, pgi = pg[0]
            p_acc = AcceleratorPerf.from_mapping(sc.sites[ps].halls[ph].racks[pgi].server.accelerator_spec())
            p_cfg = replace(serving_config(wl), tp=dis.prefill_tensor_parallel or wl.serving.tensor_parallel)
            try:
                kv_cache_capacity_tokens(model_spec(wl.model), p_acc, p_cfg)
            except ValueError as exc:
                problems.append(
                    (f"{path}.serving.disaggregation.prefill_tensor_parallel", str(exc).removeprefix("tp: "))
                )
    cap = sum(sc.sites[a].halls[b].racks[c].n_accelerators for a, b, c in groups)
    n = wl.target.gpus if wl.target.gpus is not None else cap
    if wl.serving.tensor_parallel > n:
        problems.append(
            (
                f"{path}.serving.tensor_parallel",
                f"{wl.serving.tensor_parallel} GPUs per replica exceed the service's {n} GPUs",
            )
        )
    if not problems:  # an SLO no replica count can meet
        problems.extend(slo_problems(sc, wi, wl))
    return problems


def _service_perf(sc: Any, wl: Any) -> tuple[Any, Any, Any] | None:
    """(ReplicaPerf, TokenStats, SLO) of a colocated service, or None when it cannot be built."""
    s, h, g = target_groups(sc, wl.target)[0]
    perf = replica_perf(wl, sc.sites[s].halls[h].racks[g].server.accelerator_spec())
    P, O = token_samples(wl, sc, stream_rng(sc.seed, "workload", wl.name, "tokens"))
    ts = TokenStats.from_samples(P, O)
    slo = SLO(wl.slo.ttft_s, wl.slo.tpot_s, wl.slo.quantile, wl.slo.attainment_frac)
    return perf, ts, slo


def slo_problems(sc: Any, wi: int, wl: Any) -> list[tuple[str, str]]:
    """Errors: an inference SLO that no replica count can meet (see module docstring)."""
    if wl.serving.disaggregation is not None or wl.autoscaling.policy != "slo":
        return []
    try:
        built = _service_perf(sc, wl)
    except Exception:  # a check that cannot be evaluated is skipped: other cross-checks or the run report it
        return []
    if built is None:
        return []
    perf, ts, slo = built
    c = slo_ceiling(perf, ts, slo)
    path = f"workloads[{wi}].slo"
    tp = wl.serving.tensor_parallel
    problems: list[tuple[str, str]] = []
    if c["ttft_frac_max"] < slo.quantile:
        order = np.argsort(ts.prompt_nodes)
        k = int(np.searchsorted(np.cumsum(ts.prompt_weights[order]), slo.quantile - 1e-12))
        q_tok = float(ts.prompt_nodes[order][min(k, order.size - 1)])
        problems.append(
            (
                f"{path}.ttft_s",
                f"p{slo.quantile * 100:g} TTFT <= {slo.ttft_s:g} s cannot be met at any replica count: on an "
                f"idle replica at tensor_parallel {tp}, prefill alone of the p{slo.quantile * 100:g} prompt "
                f"(~{q_tok:,.0f} tokens) takes {c['ttft_quantile_min_s']:.3g} s (only "
                f"{c['ttft_frac_max'] * 100:.1f} % of prompts prefill within {slo.ttft_s:g} s); raise ttft_s "
                f"to >= {c['ttft_quantile_min_s']:.3g} s, raise serving.tensor_parallel, lower slo.quantile or "
                "cap the prompt length",
            )
        )
    if c["tpot_min_s"] > slo.tpot_s:
        problems.append(
            (
                f"{path}.tpot_s",
                f"TPOT <= {slo.tpot_s:g} s cannot be met at any replica count: one decode step of a single "
                f"sequence takes {c['tpot_min_s']:.3g} s at tensor_parallel {tp}; raise tpot_s or "
                "serving.tensor_parallel",
            )
        )
    return problems
