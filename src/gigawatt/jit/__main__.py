"""``python -m gigawatt.jit``: compile every kernel into numba's cache (e.g. at install or image build)."""

import time

from gigawatt.jit import CACHE_DIR
from gigawatt.jit.warm import warm_cache

t0 = time.perf_counter()
compiled = warm_cache()
print(
    f"numba cache: {CACHE_DIR or 'numba default'}; compiled signatures {compiled} in {time.perf_counter() - t0:.1f} s"
)
