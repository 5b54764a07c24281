"""LLM serving performance model: prefill, decode, KV-cache capacity, tensor parallelism, power per phase.

Pure functions of numpy arrays (scalars broadcast). One **iteration** of a continuous-batching engine
(Orca [1]_, vLLM [2]_, Sarathi-Serve [3]_) processes ``n`` new tokens (one per running decode, plus prompt
tokens being prefilled), reads the weights once and reads the KV cache of every sequence in the batch.
Its duration on a tensor-parallel replica of ``tp`` accelerators is a roofline [4]_:

.. math::

    t_{iter} = t_0 + \\max\\big(t_{mem},\\ t_{comp}\\big) + t_{comm}

    t_{mem} = \\frac{W_{dense} + W_{exp}\\,\\big(1-(1-k/E)^{n}\\big) + b_{kv}\\,K}{tp\\,B_{hbm}\\,\\eta_{bw}}

    t_{comp} = \\frac{2\\,N_{act}\\,n + 4\\,L\\,d_{attn}\\,A}{tp\\,F_{peak}\\,\\eta_{comp}}

    t_{comm} = [tp>1]\\Big(2L\\,\\alpha + 2L\\,\\frac{2(tp-1)}{tp}\\,\\frac{n\\,h\\,b_{act}}{B_{link}\\,\\eta_{link}}\\Big)

with :math:`W` weight bytes (for a mixture of experts :math:`W_{exp}` is the expert share, of which a batch of
``n`` tokens routed top-``k`` of ``E`` experts touches the expected fraction :math:`1-(1-k/E)^n`), :math:`K` the
KV tokens read, :math:`b_{kv} = 2 L\\,h_{kv}\\,d_{head}\\,b` bytes of KV cache per token, :math:`A` the number of
(query, key) pairs attended, :math:`d_{attn} = h_q d_{head}`, :math:`L` layers, :math:`h` hidden size,
:math:`\\alpha` the latency of one all-reduce (two per layer, Megatron-style tensor parallelism [5]_).

Special cases: a **prefill** of a ``P``-token prompt is an iteration with ``n = P``, ``K = 0``,
``A = P(P+1)/2`` (compute-bound for ``P`` in the hundreds and above); a **decode** step of a batch of ``B``
sequences with mean context ``c`` has ``n = B``, ``K = A = B c`` (memory-bound until ``B`` is in the hundreds).

The coefficients are bundled once in :class:`~gigawatt.perf.roofline.IterationCoefficients` and the formula is
written once, :func:`gigawatt.perf.roofline.roofline_time_s`, which this module, fleet mode and the
request-level simulator's compiled kernel all evaluate (:func:`iteration_time_s`).

Defaults
--------
``compute_efficiency_frac = 0.50``, ``bandwidth_efficiency_frac = 0.60`` (weights) and
``kv_bandwidth_efficiency_frac = 0.60`` (KV cache) are a least-squares fit (log error, 0.05 grid) to six
points of the TensorRT-LLM H200 FP8 max-throughput table [6]_; all six are reproduced within 11.5 % (see
``docs/models/inference.md`` and ``tests/validation/test_inference_perf.py``). A bandwidth micro-benchmark
reaches 92 % of peak HBM bandwidth [7]_; real decode kernels reach less.
``iteration_overhead_s`` and ``allreduce_latency_s`` are **estimates** (scheduler/launch overhead with CUDA
graphs, NVLink all-reduce latency of small messages).

Power per phase: prefill draws close to TDP, decode far less (memory-bound); the Splitwise model uses 700 W
for the prompt phase and 380 W for the token phase of an H100 [8]_, i.e. decode at 0.543 of TDP, which
:func:`phase_power_w` applies to any accelerator (an **estimate** outside the H100).

References
----------
.. [1] Yu, G.-I. et al. (2022). Orca: A Distributed Serving System for Transformer-Based Generative Models.
   OSDI '22 (iteration-level scheduling).
.. [2] Kwon, W. et al. (2023). Efficient Memory Management for Large Language Model Serving with
   PagedAttention. SOSP '23 (vLLM; ``gpu_memory_utilization`` default 0.9).
.. [3] Agrawal, A. et al. (2024). Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve.
   OSDI '24 (chunked prefill, stall-free batching with a token budget).
.. [4] Williams, S., Waterman, A., Patterson, D. (2009). Roofline: an insightful visual performance model.
   CACM 52(4). Applied to LLM inference e.g. by Pope, R. et al. (2023). Efficiently Scaling Transformer
   Inference. MLSys '23.
.. [5] Shoeybi, M. et al. (2019). Megatron-LM. arXiv:1909.08053, §3 (two all-reduces per layer forward).
.. [6] NVIDIA TensorRT-LLM (2023). "H200 achieves nearly 12,000 tokens/sec on Llama2-13B with TensorRT-LLM",
   docs/source/blogs/H200launch.md (release 0.5.0): FP8 max-throughput table.
.. [7] Microsoft Azure HPC blog (2025). "Azure's ND GB200 v6 delivers record performance for inference":
   7.35 TB/s measured HBM bandwidth (92 %).
.. [8] Patel, P. et al. (2024). Splitwise: Efficient Generative LLM Inference Using Phase Splitting.
   ISCA '24, §III-F (power of prompt vs token phase) and the SplitwiseSim H100 power model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from gigawatt.perf.roofline import IterationCoefficients, roofline_time_s

__all__ = [
    "DECODE_POWER_FRAC_OF_TDP",
    "MODEL_PRESETS",
    "AcceleratorPerf",
    "ModelSpec",
    "ServingConfig",
    "decode_step_time_s",
    "iteration_coeffs",
    "iteration_time_s",
    "kv_bytes_per_token",
    "kv_cache_capacity_tokens",
    "model_preset",
    "phase_power_w",
    "prefill_time_s",
    "static_batch_throughput_tok_per_s",
    "weight_bytes",
]

FloatArray = npt.NDArray[np.float64]

#: Decode-phase accelerator power as a fraction of TDP: 380 W / 700 W for an H100 in the Splitwise model
#: (Patel et al. 2024, ISCA, §III-F). Applied to other accelerators as an **estimate**.
DECODE_POWER_FRAC_OF_TDP: Final = 380.0 / 700.0
#: Prefill-phase power as a fraction of TDP: 700 W / 700 W (Splitwise, as above).
PREFILL_POWER_FRAC_OF_TDP: Final = 1.0


@dataclass(frozen=True)
class ModelSpec:
    """Transformer architecture as seen by the serving performance model.

    Attributes
    ----------
    name : str
    n_params : float
        Total parameters (all experts) [-]; sets weight memory.
    n_active_params : float
        Parameters used per token [-]; sets FLOPs per token (``= n_params`` for dense models).
    n_layers, hidden_size, n_heads, n_kv_heads, head_dim : int
        Architecture (grouped-query attention when ``n_kv_heads < n_heads``).
    n_experts, n_experts_active : int
        Mixture of experts: experts per MoE layer and experts per token (1, 1 for dense models).
    expert_params_frac : float
        Share of ``n_params`` held in expert FFN weights [0-1] (0 for dense models).
    dtype_bytes : float
        Native weight precision [bytes/parameter] (2 for BF16).
    source : str
        Model card / paper.
    """

    name: str
    n_params: float
    n_active_params: float
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    n_experts: int = 1
    n_experts_active: int = 1
    expert_params_frac: float = 0.0
    dtype_bytes: float = 2.0
    source: str = ""

    def __post_init__(self) -> None:
        problems = []
        for field in (
            "n_params",
            "n_active_params",
            "n_layers",
            "hidden_size",
            "n_heads",
            "n_kv_heads",
            "head_dim",
            "n_experts",
            "n_experts_active",
            "dtype_bytes",
        ):
            if not getattr(self, field) > 0:
                problems.append(f"{field}: must be > 0, got {getattr(self, field)!r}")
        if self.n_active_params > self.n_params:
            problems.append("n_active_params: must be <= n_params")
        if not 0.0 <= self.expert_params_frac < 1.0:
            problems.append("expert_params_frac: must be in [0, 1)")
        if self.n_experts_active > self.n_experts:
            problems.append("n_experts_active: must be <= n_experts")
        if self.n_experts > 1 and self.expert_params_frac == 0.0:
            problems.append("expert_params_frac: must be > 0 for a mixture of experts (n_experts > 1)")
        if problems:
            raise ValueError(f"ModelSpec {self.name!r}: " + "; ".join(problems))


_L3 = "Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783, Table 3; HF config.json"
_L2 = (
    "Touvron, H. et al. (2023). Llama 2. arXiv:2307.09288, Table 1; HF config.json (meta-llama/Llama-2-*-hf)"
)

#: Named model presets (architecture from the model cards / config.json files cited in ``source``).
MODEL_PRESETS: Final[dict[str, ModelSpec]] = {
    m.name: m
    for m in (
        ModelSpec("Llama-3-8B", 8.03e9, 8.03e9, 32, 4096, 32, 8, 128, source=_L3),
        ModelSpec("Llama-3-70B", 70.6e9, 70.6e9, 80, 8192, 64, 8, 128, source=_L3),
        ModelSpec("Llama-3-405B", 405.9e9, 405.9e9, 126, 16384, 128, 8, 128, source=_L3),
        ModelSpec("Llama-2-13B", 13.0e9, 13.0e9, 40, 5120, 40, 40, 128, source=_L2),
        ModelSpec("Llama-2-70B", 69.0e9, 69.0e9, 80, 8192, 64, 8, 128, source=_L2),
        # Mixtral 8x7B: 46.7B total, 12.9B active (top-2 of 8). Non-expert params (attention, embeddings,
        # norms, router) ~1.6B, so the experts hold (46.7 - 1.6)/46.7 = 0.966 of the weights.
        ModelSpec(
            "Mixtral-8x7B",
            46.7e9,
            12.9e9,
            32,
            4096,
            32,
            8,
            128,
            n_experts=8,
            n_experts_active=2,
            expert_params_frac=0.966,
            source="Jiang, A. Q. et al. (2024). Mixtral of Experts. arXiv:2401.04088, §2, Table 1 "
            "(46.7B total / 12.9B active); HF config.json (mistralai/Mixtral-8x7B-v0.1)",
        ),
        # Mixtral 8x22B: 141B total, 39B active (top-2 of 8); non-expert share ~5B (estimate from config).
        ModelSpec(
            "Mixtral-8x22B",
            141e9,
            39e9,
            56,
            6144,
            48,
            8,
            128,
            n_experts=8,
            n_experts_active=2,
            expert_params_frac=0.965,
            source="Mistral AI (2024). Mixtral 8x22B announcement (141B total, 39B active); HF config.json "
            "(mistralai/Mixtral-8x22B-v0.1); expert share is an estimate from the config",
        ),
    )
}


def model_preset(name: str) -> ModelSpec:
    """Return the :class:`ModelSpec` preset ``name`` (see :data:`MODEL_PRESETS`)."""
    try:
        return MODEL_PRESETS[name]
    except KeyError:
        import difflib

        hint = difflib.get_close_matches(name, list(MODEL_PRESETS), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(
            f"model: unknown preset {name!r}{extra}; known: {', '.join(MODEL_PRESETS)}"
        ) from None


#: Default scale-up (NVLink/xGMI) bandwidth per accelerator and direction [GB/s] by catalog name: NVLink 4
#: 900 GB/s bidirectional (H100/H200 datasheets), NVLink 5 1.8 TB/s (B200/GB200 datasheets), Infinity Fabric
#: 7 x 64 GB/s = 448 GB/s (MI300X data sheet; counted as one direction here, an estimate).
DEFAULT_SCALEUP_BANDWIDTH_GBPS: Final[dict[str, float]] = {
    "A100-SXM": 300.0,
    "H100-SXM": 450.0,
    "H200": 450.0,
    "B200": 900.0,
    "B300": 900.0,
    "GB200": 900.0,
    "GB300": 900.0,
    "MI300X": 448.0,
    "MI325X": 448.0,
    "MI355X": 448.0,
}


@dataclass(frozen=True)
class AcceleratorPerf:
    """Accelerator figures the performance model needs (one row of ``data/accelerators.csv``).

    Attributes
    ----------
    name : str
    bf16_dense_tflops, fp8_dense_tflops : float
        Dense peak [TFLOP/s]; ``fp8_dense_tflops`` may be NaN (no FP8), BF16 is then used.
    hbm_gb : float
        Accelerator memory [GB].
    hbm_bandwidth_tbps : float
        Memory bandwidth [TB/s].
    tdp_w, idle_w : float
        Board power at TDP and idle [W].
    scaleup_bandwidth_gbps : float
        Scale-up (NVLink-class) bandwidth per accelerator and direction [GB/s] (default 450).
    """

    name: str
    bf16_dense_tflops: float
    fp8_dense_tflops: float
    hbm_gb: float
    hbm_bandwidth_tbps: float
    tdp_w: float
    idle_w: float
    scaleup_bandwidth_gbps: float = 450.0

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any] | Any) -> AcceleratorPerf:
        """Build from a catalog preset (:class:`gigawatt.catalog.AcceleratorPreset`), a catalog row, a dict or a
        pydantic ``AcceleratorSpec`` (extra keys ignored).

        Missing FP8 → NaN (BF16 is used). ``scaleup_bandwidth_gbps`` defaults to
        :data:`DEFAULT_SCALEUP_BANDWIDTH_GBPS` by name, else 450.
        """
        if hasattr(row, "model_dump"):
            row = row.model_dump()
        elif hasattr(row, "as_dict"):
            row = row.as_dict()
        missing = [k for k in ("bf16_dense_tflops", "hbm_gb", "hbm_bandwidth_tbps", "tdp_w") if k not in row]
        if missing:
            raise ValueError(f"accelerator: missing field(s) {', '.join(missing)}")

        def num(key: str, default: float = float("nan")) -> float:
            v = row.get(key, default)
            try:
                return float(v) if v is not None and v != "" else default
            except (TypeError, ValueError):
                raise ValueError(f"accelerator.{key}: expected a number, got {v!r}") from None

        name = str(row.get("name", "custom"))
        return cls(
            name=name,
            bf16_dense_tflops=num("bf16_dense_tflops"),
            fp8_dense_tflops=num("fp8_dense_tflops"),
            hbm_gb=num("hbm_gb"),
            hbm_bandwidth_tbps=num("hbm_bandwidth_tbps"),
            tdp_w=num("tdp_w"),
            idle_w=num("idle_w", 0.0),
            scaleup_bandwidth_gbps=num(
                "scaleup_bandwidth_gbps", DEFAULT_SCALEUP_BANDWIDTH_GBPS.get(name, 450.0)
            ),
        )

    def peak_flops(self, weight_bytes: float) -> float:
        """Dense peak [FLOP/s] for weights stored with ``weight_bytes`` bytes (≤ 1 → FP8 if available)."""
        if weight_bytes <= 1.0 and np.isfinite(self.fp8_dense_tflops) and self.fp8_dense_tflops > 0:
            return self.fp8_dense_tflops * 1e12
        return self.bf16_dense_tflops * 1e12


@dataclass(frozen=True)
class ServingConfig:
    """How a model is served on one replica.

    Attributes
    ----------
    tp : int
        Tensor-parallel degree (accelerators per replica).
    weight_bytes : float or None
        Bytes per weight (None → the model's native dtype; 1 for FP8 serving).
    kv_bytes : float or None
        Bytes per KV-cache element (None → ``weight_bytes``).
    compute_efficiency_frac : float
        Achieved fraction of dense peak in GEMMs [0-1] (default 0.50, calibrated, see module docstring).
    bandwidth_efficiency_frac : float
        Achieved fraction of HBM bandwidth when streaming weights [0-1] (default 0.60, calibrated).
    kv_bandwidth_efficiency_frac : float
        Achieved fraction of HBM bandwidth when reading the (paged) KV cache in decode attention [0-1]
        (default 0.60, calibrated; attention kernels over scattered KV blocks reach less than GEMV).
    link_efficiency_frac : float
        Achieved fraction of scale-up bandwidth in all-reduce [0-1] (default 0.70, estimate).
    allreduce_latency_s : float
        Latency of one small all-reduce [s] (default 8e-6, estimate for NVLink).
    iteration_overhead_s : float
        Fixed per-iteration scheduling/launch overhead [s] (default 1e-3, estimate).
    memory_utilization_frac : float
        Share of HBM the engine may use for weights + KV cache [0-1] (vLLM default 0.9, Kwon et al. 2023).
    activation_reserve_gb : float
        Per-accelerator memory kept for activations/workspace [GB] (default 2, estimate).
    """

    tp: int = 1
    weight_bytes: float | None = None
    kv_bytes: float | None = None
    compute_efficiency_frac: float = 0.50
    bandwidth_efficiency_frac: float = 0.60
    kv_bandwidth_efficiency_frac: float = 0.60
    link_efficiency_frac: float = 0.70
    allreduce_latency_s: float = 8e-6
    iteration_overhead_s: float = 1e-3
    memory_utilization_frac: float = 0.9
    activation_reserve_gb: float = 2.0

    def __post_init__(self) -> None:
        problems = []
        if int(self.tp) != self.tp or self.tp < 1:
            problems.append(f"tp: must be an integer >= 1, got {self.tp!r}")
        for f in (
            "compute_efficiency_frac",
            "bandwidth_efficiency_frac",
            "kv_bandwidth_efficiency_frac",
            "link_efficiency_frac",
            "memory_utilization_frac",
        ):
            v = getattr(self, f)
            if not 0.0 < v <= 1.0:
                problems.append(f"{f}: must be in (0, 1], got {v!r}")
        for f in ("allreduce_latency_s", "iteration_overhead_s", "activation_reserve_gb"):
            if getattr(self, f) < 0:
                problems.append(f"{f}: must be >= 0")
        for f in ("weight_bytes", "kv_bytes"):
            v = getattr(self, f)
            if v is not None and not v > 0:
                problems.append(f"{f}: must be > 0")
        if problems:
            raise ValueError("ServingConfig: " + "; ".join(problems))

    def resolved(self, model: ModelSpec) -> ServingConfig:
        """Copy with ``weight_bytes``/``kv_bytes`` filled from the model when None."""
        wb = model.dtype_bytes if self.weight_bytes is None else self.weight_bytes
        kb = wb if self.kv_bytes is None else self.kv_bytes
        return replace(self, weight_bytes=wb, kv_bytes=kb)


def weight_bytes(model: ModelSpec, config: ServingConfig | None = None) -> float:
    """Weight memory of the whole model [bytes] = ``n_params × weight_bytes``."""
    cfg = (config or ServingConfig()).resolved(model)
    assert cfg.weight_bytes is not None
    return model.n_params * cfg.weight_bytes


def kv_bytes_per_token(model: ModelSpec, config: ServingConfig | None = None) -> float:
    """KV-cache bytes per token of context [bytes] = ``2 · L · h_kv · d_head · b_kv``.

    Example: Llama-3-70B in BF16: 2 · 80 · 8 · 128 · 2 = 327,680 bytes (320 KiB) per token.
    """
    cfg = (config or ServingConfig()).resolved(model)
    assert cfg.kv_bytes is not None
    return 2.0 * model.n_layers * model.n_kv_heads * model.head_dim * cfg.kv_bytes


def kv_cache_capacity_tokens(model: ModelSpec, accel: AcceleratorPerf, config: ServingConfig) -> int:
    """KV-cache capacity of one tensor-parallel replica [tokens].

    .. math:: C_{kv} = \\big\\lfloor (tp\\,(M_{hbm}\\,u - M_{act}) - W) / b_{kv} \\big\\rfloor

    Raises ``ValueError`` naming ``tp`` when the weights do not fit.
    """
    cfg = config.resolved(model)
    free = cfg.tp * (accel.hbm_gb * 1e9 * cfg.memory_utilization_frac - cfg.activation_reserve_gb * 1e9)
    free -= weight_bytes(model, cfg)
    if free <= 0:
        raise ValueError(
            f"tp: {model.name} ({weight_bytes(model, cfg) / 1e9:.0f} GB of weights) does not fit on "
            f"{cfg.tp} x {accel.name} ({accel.hbm_gb:g} GB each); increase tp or use FP8 weights"
        )
    return int(free // kv_bytes_per_token(model, cfg))


def iteration_coeffs(
    model: ModelSpec, accel: AcceleratorPerf, config: ServingConfig
) -> IterationCoefficients:
    """Coefficients of the iteration-time roofline for ``model`` on ``config.tp`` × ``accel``."""
    cfg = config.resolved(model)
    assert cfg.weight_bytes is not None
    tp = int(cfg.tp)
    bw = accel.hbm_bandwidth_tbps * 1e12 * cfg.bandwidth_efficiency_frac * tp  # [B/s] per replica
    flops = accel.peak_flops(cfg.weight_bytes) * cfg.compute_efficiency_frac * tp  # [FLOP/s] per replica
    w_total = weight_bytes(model, cfg)
    w_exp = w_total * model.expert_params_frac
    d_attn = model.n_heads * model.head_dim
    if tp > 1:
        link = accel.scaleup_bandwidth_gbps * 1e9 * cfg.link_efficiency_frac
        n_ar = 2.0 * model.n_layers
        comm_tok = n_ar * 2.0 * (tp - 1) / tp * model.hidden_size * 2.0 / link  # BF16 activations
        fixed = cfg.iteration_overhead_s + n_ar * cfg.allreduce_latency_s
    else:
        comm_tok = 0.0
        fixed = cfg.iteration_overhead_s
    return IterationCoefficients(
        fixed_s=float(fixed),
        dense_weights_s=float((w_total - w_exp) / bw),
        expert_weights_s=float(w_exp / bw),
        expert_hit_frac=float(model.n_experts_active / model.n_experts),
        kv_per_token_s=float(
            kv_bytes_per_token(model, cfg)
            / (bw / cfg.bandwidth_efficiency_frac * cfg.kv_bandwidth_efficiency_frac)
        ),
        flop_per_token_s=float(2.0 * model.n_active_params / flops),
        attn_per_pair_s=float(4.0 * model.n_layers * d_attn / flops),
        comm_per_token_s=float(comm_tok),
    )


def iteration_time_s(
    coeffs: IterationCoefficients,
    n_tokens: npt.ArrayLike,
    kv_read_tokens: npt.ArrayLike,
    attn_pairs: npt.ArrayLike,
) -> FloatArray:
    """Duration of one batched iteration [s] (roofline, see module docstring).

    Parameters
    ----------
    coeffs : IterationCoefficients
    n_tokens : array_like
        New tokens processed in the iteration (decodes + prefill chunk tokens) [-], > 0.
    kv_read_tokens : array_like
        Tokens of cached context read from the KV cache [-].
    attn_pairs : array_like
        (query, key) pairs attended [-].

    Returns
    -------
    numpy.ndarray
        Iteration time [s] (:func:`gigawatt.perf.roofline.roofline_time_s`, the formula the compiled
        simulator evaluates too).
    """
    return np.asarray(
        roofline_time_s(
            coeffs.packed(),
            np.asarray(n_tokens, dtype=np.float64),
            np.asarray(kv_read_tokens, dtype=np.float64),
            np.asarray(attn_pairs, dtype=np.float64),
        ),
        dtype=np.float64,
    )


def prefill_time_s(
    model: ModelSpec, accel: AcceleratorPerf, prompt_tokens: npt.ArrayLike, config: ServingConfig
) -> FloatArray:
    """Time to prefill one prompt alone on a replica [s] (``n = P``, ``K = 0``, ``A = P(P+1)/2``)."""
    p = np.asarray(prompt_tokens, dtype=np.float64)
    return iteration_time_s(iteration_coeffs(model, accel, config), p, 0.0, p * (p + 1.0) / 2.0)


def decode_step_time_s(
    model: ModelSpec,
    accel: AcceleratorPerf,
    batch_size: npt.ArrayLike,
    mean_context_tokens: npt.ArrayLike,
    config: ServingConfig,
) -> FloatArray:
    """Time of one decode iteration of ``batch_size`` sequences of mean context ``c`` [s].

    ``n = B``, ``K = A = B c``. The time per output token (TPOT) of every sequence in the batch.
    """
    b = np.asarray(batch_size, dtype=np.float64)
    k = b * np.asarray(mean_context_tokens, dtype=np.float64)
    return iteration_time_s(iteration_coeffs(model, accel, config), b, k, k)


def static_batch_throughput_tok_per_s(
    model: ModelSpec,
    accel: AcceleratorPerf,
    batch_size: int,
    input_tokens: int,
    output_tokens: int,
    config: ServingConfig,
) -> float:
    """Output tokens/s of a static batch (all prompts prefilled, then ``output_tokens`` decode steps).

    The setting of offline max-throughput benchmarks (e.g. TensorRT-LLM's ISL/OSL tables):
    :math:`T = B\\,O / (B\\,t_{pf}(I) + \\sum_{j=1}^{O-1} t_{dec}(B, I + j))` with prompts prefilled one
    at a time (their FLOPs dominate; batching them would only share the weight read).
    """
    c = iteration_coeffs(model, accel, config)
    t_pf = float(iteration_time_s(c, input_tokens, 0.0, input_tokens * (input_tokens + 1) / 2.0))
    ctx = input_tokens + np.arange(1, output_tokens, dtype=np.float64)
    t_dec = float(np.sum(iteration_time_s(c, batch_size, batch_size * ctx, batch_size * ctx)))
    return batch_size * output_tokens / (batch_size * t_pf + t_dec)


def phase_power_w(accel: AcceleratorPerf) -> dict[str, float]:
    """Accelerator power per serving phase [W]: ``prefill``, ``decode``, ``idle``.

    .. math:: P_{prefill} = P_{TDP}, \\quad P_{decode} = 0.543\\,P_{TDP}

    References
    ----------
    Patel, P. et al. (2024). Splitwise. ISCA '24, §III-F (H100: 700 W prompt, 380 W token phase).
    """
    return {
        "prefill": PREFILL_POWER_FRAC_OF_TDP * accel.tdp_w,
        "decode": DECODE_POWER_FRAC_OF_TDP * accel.tdp_w,
        "idle": accel.idle_w,
    }
