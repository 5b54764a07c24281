"""Serving performance model against published max-throughput measurements.

NVIDIA TensorRT-LLM (2023), "H200 achieves nearly 12,000 tokens/sec on Llama2-13B with TensorRT-LLM",
docs/source/blogs/H200launch.md (release 0.5.0): H200, FP8, static batches, output tokens/s per configuration.
The default efficiencies of :class:`gigawatt.perf.llm.ServingConfig` were fitted to the six single-node points
below (log least squares); each is reproduced within 15 %. The seventh published point (Llama-2-70B, TP 4,
batch 512, 128/2048) is over-predicted 2.6x by the roofline and is excluded - see docs/models/inference.md.
"""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from gigawatt import catalog
from gigawatt.perf.llm import AcceleratorPerf, ServingConfig, model_preset, static_batch_throughput_tok_per_s

# model, batch, tp, input tokens, output tokens, measured output tokens/s (H200 FP8, TensorRT-LLM 0.5)
POINTS = [
    ("Llama-2-13B", 1024, 1, 128, 128, 11_819),
    ("Llama-2-13B", 128, 1, 128, 2048, 4_750),
    ("Llama-2-13B", 64, 1, 2048, 128, 1_349),
    ("Llama-2-70B", 512, 1, 128, 128, 3_014),
    ("Llama-2-70B", 64, 2, 2048, 128, 682),
    ("Llama-2-70B", 32, 1, 2048, 128, 303),
]


@pytest.mark.parametrize(("model", "batch", "tp", "isl", "osl", "measured"), POINTS)
def test_trtllm_h200_fp8_throughput(
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
        source="NVIDIA TensorRT-LLM 0.5 (2023), docs/source/blogs/H200launch.md, max-throughput table",
    )
    assert_allclose(tok_s, measured, rtol=0.15)  # TensorRT-LLM H200launch.md table (FP8, max throughput)
