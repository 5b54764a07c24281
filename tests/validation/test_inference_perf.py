"""Serving performance model against published max-throughput measurements.

**Fitted points.** NVIDIA TensorRT-LLM (2023), "H200 achieves nearly 12,000 tokens/sec on Llama2-13B with
TensorRT-LLM", docs/source/blogs/H200launch.md (release 0.5.0): H200, FP8, static batches, output tokens/s per
configuration. The default efficiencies of :class:`gigawatt.perf.llm.ServingConfig` were fitted to six
single-node points of that table (log least squares); each is reproduced within 15 %. They are recorded as
*fitted*: they show the quality of the fit, not predictive power.

**Out-of-sample points** (recorded as *independent*, against the same ±15 % the fit claims; asserted only
within a factor of 3, so that a gap is recorded rather than hidden):

* the seventh point of the same H200 table (Llama-2-70B, TP 4, batch 512, 128/2048), excluded from the fit
  because the roofline over-predicts it 2.6x (docs/models/inference.md);
* three H200 TP 1 points of a later release (v0.7a, improved GQA kernels; Llama-2-70B, 128 in, 128-4096 out);
* the TensorRT-LLM performance tables for H100 FP8 (Llama-2-7B at TP 1, Llama-2-70B at TP 2 and 4) and A100
  FP16 (Llama-2-7B at TP 1): other GPUs, another precision, another model size, other TP degrees, a later
  release (v0.6.1). Same engine family, static batches. The A100 rows at TP > 1 are left out because the
  table's header does not say whether they are per GPU or per node.

Known gaps these points show (not tuned away; reported to the model owners): short outputs and Llama-2-7B are
under-predicted by 14-34 % on all three GPUs, and long-output (2048-4096-token) batches are over-predicted
1.3-2.6x (most at TP ≥ 2).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt import catalog
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ModelSpec,
    ServingConfig,
    model_preset,
    static_batch_throughput_tok_per_s,
)

# Llama 2 7B architecture: 6.74e9 parameters, 32 layers, hidden 4096, 32 heads (no GQA), head dim 128.
LLAMA2_7B = ModelSpec(
    "Llama-2-7B",
    6.74e9,
    6.74e9,
    32,
    4096,
    32,
    32,
    128,
    source="Touvron et al. (2023), Llama 2: Open Foundation and Fine-Tuned Chat Models, arXiv:2307.09288; "
    "HF config.json",
)

H200_BLOG = "NVIDIA TensorRT-LLM 0.5 (2023), docs/source/blogs/H200launch.md, max-throughput table"
GQA_BLOG = (
    "NVIDIA TensorRT-LLM docs/source/blogs/Falcon180B-H200.md (Dec 2023; v0.7a, preliminary), Llama-70B table, "
    "1 x H200 TP 1 FP8 rows"
)
PERF_DOC = (
    "NVIDIA TensorRT-LLM docs/source/performance.md, 'Peak Throughput' tables (data for v0.6.1, Dec 2023; "
    "github.com/NVIDIA/TensorRT-LLM commit 138f96d4)"
)

# model, batch, tp, input tokens, output tokens, measured output tokens/s (H200 FP8, TensorRT-LLM 0.5)
FITTED = [
    ("Llama-2-13B", 1024, 1, 128, 128, 11_819),
    ("Llama-2-13B", 128, 1, 128, 2048, 4_750),
    ("Llama-2-13B", 64, 1, 2048, 128, 1_349),
    ("Llama-2-70B", 512, 1, 128, 128, 3_014),
    ("Llama-2-70B", 64, 2, 2048, 128, 682),
    ("Llama-2-70B", 32, 1, 2048, 128, 303),
]

# accelerator, weight bytes, model, batch, tp, input, output, measured output tokens/s PER GPU, source
OUT_OF_SAMPLE = [
    ("H200", 1, "Llama-2-70B", 512, 4, 128, 2048, 6_616 / 4, H200_BLOG + " (point excluded from the fit)"),
    ("H200", 1, "Llama-2-70B", 960, 1, 128, 128, 3_803, GQA_BLOG),
    ("H200", 1, "Llama-2-70B", 192, 1, 128, 2048, 2_941, GQA_BLOG),
    ("H200", 1, "Llama-2-70B", 96, 1, 128, 4096, 1_946, GQA_BLOG),
    ("H100-SXM", 1, "Llama-2-7B", 768, 1, 128, 128, 19_694, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-7B", 112, 1, 128, 2048, 6_818, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-7B", 80, 1, 2048, 128, 2_244, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-7B", 48, 1, 2048, 2048, 2_740, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-70B", 1024, 2, 128, 128, 2_657, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-70B", 480, 4, 128, 2048, 1_486, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-70B", 96, 2, 2048, 128, 306, PERF_DOC),
    ("H100-SXM", 1, "Llama-2-70B", 64, 2, 2048, 2048, 547, PERF_DOC),
    ("A100-SXM", 2, "Llama-2-7B", 384, 1, 128, 128, 5_586, PERF_DOC),
    ("A100-SXM", 2, "Llama-2-7B", 60, 1, 128, 2048, 1_928, PERF_DOC),
    ("A100-SXM", 2, "Llama-2-7B", 52, 1, 2048, 128, 591, PERF_DOC),
]


def _model(name: str) -> ModelSpec:
    return LLAMA2_7B if name == "Llama-2-7B" else model_preset(name)


@pytest.mark.parametrize(("model", "batch", "tp", "isl", "osl", "measured"), FITTED)
def test_trtllm_h200_fp8_throughput_fitted(
    model: str, batch: int, tp: int, isl: int, osl: int, measured: float, validation
) -> None:
    h200 = AcceleratorPerf.from_mapping(catalog.accelerator("H200"))
    cfg = ServingConfig(tp=tp, weight_bytes=1)
    tok_s = static_batch_throughput_tok_per_s(model_preset(model), h200, batch, isl, osl, cfg)
    validation(
        f"{model} FP8 on H200, TP {tp}, batch {batch}, {isl} in / {osl} out tokens: output throughput "
        f"[tokens/s] (model {100 * (tok_s / measured - 1):+.1f} %)",
        model=round(float(tok_s)),
        reference=measured,
        tolerance="± 15 %. FITTED: the serving efficiencies were fitted to these six points (not independent)",
        source=H200_BLOG,
        kind="fitted",
        within=bool(abs(tok_s / measured - 1) <= 0.15),
    )
    assert_allclose(tok_s, measured, rtol=0.15)  # TensorRT-LLM H200launch.md table (FP8, max throughput)


@pytest.mark.parametrize(
    ("accel", "wbytes", "model", "batch", "tp", "isl", "osl", "measured", "src"), OUT_OF_SAMPLE
)
def test_trtllm_throughput_out_of_sample(
    accel: str,
    wbytes: int,
    model: str,
    batch: int,
    tp: int,
    isl: int,
    osl: int,
    measured: float,
    src: str,
    validation,
) -> None:
    acc = AcceleratorPerf.from_mapping(catalog.accelerator(accel))
    cfg = ServingConfig(tp=tp, weight_bytes=wbytes)
    per_gpu = static_batch_throughput_tok_per_s(_model(model), acc, batch, isl, osl, cfg) / tp
    ratio = per_gpu / measured
    prec = "FP8" if wbytes == 1 else "FP16"
    validation(
        f"OUT OF SAMPLE: {model} {prec} on {accel}, TP {tp}, batch {batch}, {isl} in / {osl} out tokens: "
        f"output throughput per GPU [tokens/s] (model {ratio:.2f}x measured)",
        model=round(float(per_gpu)),
        reference=round(measured),
        tolerance="within ± 15 % (the fit's claimed accuracy) = inside reference; asserted only within a "
        "factor of 3",
        source=src,
        kind="independent",
        within=bool(abs(ratio - 1) <= 0.15),
    )
    assert np.isfinite(per_gpu) and 1 / 3 < ratio < 3  # a roofline must land within a factor of 3
