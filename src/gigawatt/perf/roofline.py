"""The iteration roofline: one source for the time of one batched LLM iteration.

One iteration of a continuous-batching engine processes ``n`` new tokens, reads the weights once and the KV
cache of the batch (``K`` tokens) and attends ``A`` (query, key) pairs; on one replica it takes

.. math::

    t_{iter} = t_0 + \\max\\big(W_{dense} + W_{exp}\\,(1-(1-h)^{n}) + k_{kv}\\,K,\\
               f_{tok}\\,n + f_{pair}\\,A\\big) + c_{tok}\\,n

with every coefficient already divided by the replica's bandwidth or compute rate [s, s per unit]
(:func:`gigawatt.perf.llm.iteration_coeffs` derives them from the model, accelerator and serving
configuration; the module docstring of :mod:`gigawatt.perf.llm` gives the physics and references).

The coefficients are typed (:class:`IterationCoefficients`, named fields) everywhere in Python. Compiled
(numba) kernels cannot take a dataclass, so :meth:`IterationCoefficients.packed` lays them out in a flat
float64 array whose order is the dataclass's field order, and the ``IDX_*`` constants name the positions; the
one formula, :func:`roofline_time_s`, reads the packed array by those names, element-wise on numpy arrays in
:mod:`gigawatt.perf.llm` and :mod:`gigawatt.perf.fleet`, and compiled (:data:`roofline_time_s_jit`) in the
request-level simulator :mod:`gigawatt.engine.inference_sim`.

References
----------
Williams, S., Waterman, A., Patterson, D. (2009). Roofline: an insightful visual performance model for
multicore architectures. CACM 52(4).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = [
    "COEFFICIENT_LAYOUT",
    "IDX_ATTN_PER_PAIR_S",
    "IDX_COMM_PER_TOKEN_S",
    "IDX_DENSE_WEIGHTS_S",
    "IDX_EXPERT_HIT_FRAC",
    "IDX_EXPERT_WEIGHTS_S",
    "IDX_FIXED_S",
    "IDX_FLOP_PER_TOKEN_S",
    "IDX_KV_PER_TOKEN_S",
    "IterationCoefficients",
    "roofline_time_s",
    "roofline_time_s_jit",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class IterationCoefficients:
    """Per-replica coefficients of the iteration roofline (:func:`roofline_time_s`).

    The field order is the packed layout (:data:`COEFFICIENT_LAYOUT`, :meth:`packed`).

    Attributes
    ----------
    fixed_s : float
        Fixed time per iteration [s] (scheduling/launch overhead + all-reduce latencies).
    dense_weights_s : float
        Time to stream the non-expert weights once [s].
    expert_weights_s : float
        Time to stream all expert weights once [s] (0 for dense models).
    expert_hit_frac : float
        Share of experts one token is routed to, ``k/E`` [0-1] (1 for dense models).
    kv_per_token_s : float
        Time to read one token of KV cache [s/token].
    flop_per_token_s : float
        Compute time of the dense GEMMs per new token [s/token].
    attn_per_pair_s : float
        Compute time of attention per (query, key) pair [s/pair].
    comm_per_token_s : float
        Tensor-parallel all-reduce transfer time per new token [s/token] (0 for ``tp = 1``).
    """

    fixed_s: float
    dense_weights_s: float
    expert_weights_s: float
    expert_hit_frac: float
    kv_per_token_s: float
    flop_per_token_s: float
    attn_per_pair_s: float
    comm_per_token_s: float

    def packed(self) -> FloatArray:
        """The coefficients as a flat float64 array in :data:`COEFFICIENT_LAYOUT` order (compiled kernels)."""
        return np.array(astuple(self), dtype=np.float64)

    @classmethod
    def from_packed(cls, packed: npt.ArrayLike) -> IterationCoefficients:
        """Inverse of :meth:`packed`."""
        a = np.asarray(packed, dtype=np.float64)
        if a.shape != (len(COEFFICIENT_LAYOUT),):
            raise ValueError(
                f"packed coefficients: need {len(COEFFICIENT_LAYOUT)} values, got shape {a.shape}"
            )
        return cls(*(float(x) for x in a))


#: Field names of :class:`IterationCoefficients` in packed order (the single definition of the layout).
COEFFICIENT_LAYOUT: Final[tuple[str, ...]] = tuple(f.name for f in fields(IterationCoefficients))

# Positions in the packed array, by name (module-level ints: numba freezes them as compile-time constants).
IDX_FIXED_S: Final = COEFFICIENT_LAYOUT.index("fixed_s")
IDX_DENSE_WEIGHTS_S: Final = COEFFICIENT_LAYOUT.index("dense_weights_s")
IDX_EXPERT_WEIGHTS_S: Final = COEFFICIENT_LAYOUT.index("expert_weights_s")
IDX_EXPERT_HIT_FRAC: Final = COEFFICIENT_LAYOUT.index("expert_hit_frac")
IDX_KV_PER_TOKEN_S: Final = COEFFICIENT_LAYOUT.index("kv_per_token_s")
IDX_FLOP_PER_TOKEN_S: Final = COEFFICIENT_LAYOUT.index("flop_per_token_s")
IDX_ATTN_PER_PAIR_S: Final = COEFFICIENT_LAYOUT.index("attn_per_pair_s")
IDX_COMM_PER_TOKEN_S: Final = COEFFICIENT_LAYOUT.index("comm_per_token_s")


def roofline_time_s(c: Any, n_tokens: Any, kv_read_tokens: Any, attn_pairs: Any) -> Any:
    """Duration of one batched iteration [s] from packed coefficients (see module docstring).

    Parameters
    ----------
    c : numpy.ndarray
        :meth:`IterationCoefficients.packed`.
    n_tokens : float or numpy.ndarray
        New tokens processed (decodes + prefill chunk tokens) [-], > 0.
    kv_read_tokens : float or numpy.ndarray
        Cached context tokens read from the KV cache [-].
    attn_pairs : float or numpy.ndarray
        (query, key) pairs attended [-].

    Returns
    -------
    float or numpy.ndarray
        Iteration time [s], element-wise. Plain arithmetic and ``numpy.maximum`` only, so the same source runs
        on numpy arrays and compiled on scalars (:data:`roofline_time_s_jit`). The expert term is skipped
        for dense models (``expert_weights_s == 0``), where it is exactly zero.
    """
    w = c[IDX_DENSE_WEIGHTS_S]
    if c[IDX_EXPERT_WEIGHTS_S] != 0.0:
        w = w + c[IDX_EXPERT_WEIGHTS_S] * (1.0 - (1.0 - c[IDX_EXPERT_HIT_FRAC]) ** n_tokens)
    mem = w + c[IDX_KV_PER_TOKEN_S] * kv_read_tokens
    comp = c[IDX_FLOP_PER_TOKEN_S] * n_tokens + c[IDX_ATTN_PER_PAIR_S] * attn_pairs
    return c[IDX_FIXED_S] + np.maximum(mem, comp) + c[IDX_COMM_PER_TOKEN_S] * n_tokens


#: :func:`roofline_time_s` compiled for numba kernels (inlined into the caller; pass float scalars).
roofline_time_s_jit = njit(inline="always", error_model="numpy")(roofline_time_s)
