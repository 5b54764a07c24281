"""Named random streams: the one source of randomness of a run (no global RNG).

A stream is ``numpy.random.SeedSequence(seed, spawn_key=crc32(key))``, so the same seed and key give the same
draws whatever other streams exist and in whatever process. :meth:`gigawatt.engine.context.SimContext.rng`
returns these streams; static checks that must draw what the run will draw use :func:`stream_rng` directly.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream_rng"]


def stream_rng(seed: int, *key: str | int) -> np.random.Generator:
    """The random stream named ``key`` of a run with ``seed``: ``SeedSequence(seed, spawn_key=crc32(key))``.

    What :meth:`SimContext.rng` returns; also used by static checks that must draw what the run will draw.
    """
    words = tuple(zlib.crc32(str(k).encode()) for k in key)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=words))
