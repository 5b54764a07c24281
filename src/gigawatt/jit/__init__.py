"""Compiled kernels: a per-user numba cache and tiered execution (interpret first, compile when it pays).

Two problems of numba's defaults on a fresh install, and what gigawatt does about them:

* **Where the cache lives.** ``cache=True`` writes next to the source (``__pycache__``), which fails on a
  read-only installation (system site-packages, containers, shared environments). Unless the user chose a
  directory (``NUMBA_CACHE_DIR``), :func:`configure_cache` points numba at a per-user directory,
  ``<user cache>/gigawatt/numba/<digest of the kernel sources>`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on
  macOS, ``%LOCALAPPDATA%`` on Windows). If that directory is not writable either, numba's own fallbacks
  apply (no error; at worst kernels compile in every process).
* **The first run pays every compilation.** Compiling the dispatch, wet-bulb, autoscaler and request-level
  kernels costs seconds each, more than a short run spends in them interpreted. A :class:`TieredKernel`
  runs the kernel's Python source (the same code, executed by CPython) until the work it has done would
  have paid for compiling it, or as soon as a compiled version is already in this process or in the on-disk
  cache; then it calls the compiled kernel (which loads from the cache, or compiles once and stores it).
  Both tiers execute the same IEEE operations in the same order (no fast-math; ``math``/``**`` go to the
  same C library in both), so results do not depend on which tier ran; a test holds them identical.

Kernels are written for numba (typed loops over arrays); their callees are numba functions too, and the
interpreted tier runs the callees' Python source as well.

``GIGAWATT_JIT`` chooses the policy: ``tiered`` (default), ``compiled`` (always call the compiled kernels,
numba's plain behaviour) or ``interpreted`` (never compile; for tests and debugging). To have every kernel
compiled before the first run, e.g. when building a container image or after installing on a cluster,
warm the cache once: ``python -m gigawatt.jit`` (:func:`gigawatt.jit.warm.warm_cache`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numba
from numba.core.dispatcher import Dispatcher

__all__ = [
    "JIT_MODES",
    "TieredKernel",
    "configure_cache",
    "jit_mode",
    "kernel_sources_digest",
    "tiered",
    "user_cache_dir",
]

#: Policies of :class:`TieredKernel` (environment variable ``GIGAWATT_JIT``).
JIT_MODES: Final = ("tiered", "compiled", "interpreted")
_mode_override: list[str] = []


def jit_mode() -> str:
    """The policy in force: ``GIGAWATT_JIT`` (default ``tiered``), or the one :func:`gigawatt.jit.warm.warm_cache` sets."""
    if _mode_override:
        return _mode_override[-1]
    mode = os.environ.get("GIGAWATT_JIT", "tiered").strip().lower() or "tiered"
    if mode not in JIT_MODES:
        raise ValueError(f"GIGAWATT_JIT: must be one of {', '.join(JIT_MODES)}, got {mode!r}")
    return mode


def user_cache_dir() -> Path:
    """The per-user cache directory of gigawatt (platform convention, without creating it)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gigawatt"


def kernel_sources_digest() -> str:
    """A digest of every gigawatt source file that defines numba functions (12 hex digits).

    numba invalidates a cached kernel when *its own* file changes, not when a compiled function it inlines
    from another file does (e.g. :func:`gigawatt.perf.roofline.roofline_time_s` in the request-level
    kernel). The default cache directory is therefore namespaced by this digest: any change to a kernel
    source starts a fresh cache.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if b"njit" in data:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + data)
    return h.hexdigest()[:12]


def configure_cache() -> str | None:
    """Default numba's cache directory to ``user_cache_dir()/numba/<kernel sources digest>``.

    Unless the user set one (``NUMBA_CACHE_DIR``; then numba's own invalidation applies). Must run before
    the kernel modules are imported (numba fixes a kernel's cache location when it is decorated);
    ``gigawatt/__init__.py`` imports this module first. Returns the directory in use, or None when neither a
    user setting nor the per-user directory is usable (numba's own locators then apply).
    """
    config: Any = numba.config
    if os.environ.get("NUMBA_CACHE_DIR") or config.CACHE_DIR:
        return str(config.CACHE_DIR or os.environ["NUMBA_CACHE_DIR"])
    path = user_cache_dir() / "numba" / kernel_sources_digest()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return None
    config.CACHE_DIR = str(path)
    return str(path)


def _interpreted(fn: Any, memo: dict[int, Callable[..., Any]] | None = None) -> Callable[..., Any]:
    """The Python source of a numba function, with every numba callee it names also interpreted."""
    memo = {} if memo is None else memo
    if isinstance(fn, TieredKernel):
        fn = fn.dispatcher
    py = fn.py_func if isinstance(fn, Dispatcher) else fn
    if id(py) in memo:
        return memo[id(py)]
    g = dict(py.__globals__)
    out = types.FunctionType(py.__code__, g, py.__name__, py.__defaults__, py.__closure__)
    memo[id(py)] = out
    for name in py.__code__.co_names:
        v = g.get(name)
        if isinstance(v, Dispatcher | TieredKernel):
            g[name] = _interpreted(v, memo)
    return out


class TieredKernel:
    """A numba kernel that runs interpreted until compiling it pays (see module docstring).

    Parameters
    ----------
    dispatcher : numba Dispatcher
        The compiled kernel (``numba.njit(cache=True)``).
    work : callable
        Work units of one call from its arguments (e.g. steps or elements).
    budget : float
        Work units the interpreted tier may do in this process before the kernel is compiled: about the
        compile time divided by the interpreted cost of one unit (estimates; see the kernel's definition).
    """

    def __init__(self, dispatcher: Dispatcher, work: Callable[..., float], budget: float) -> None:
        self.dispatcher = dispatcher
        self.py_func = dispatcher.py_func
        self._work = work
        self._budget = float(budget)
        self._spent = 0.0
        self._compiled = False
        self._interp: Callable[..., Any] | None = None
        functools.update_wrapper(self, dispatcher.py_func)

    def in_disk_cache(self) -> bool:
        """Whether numba's on-disk cache holds an index for this kernel (it may still lack the signature)."""
        try:
            disp: Any = self.dispatcher
            index = disp._cache._cache_file._index_path
        except AttributeError:  # no cache, or numba internals changed: decide by the budget alone
            return False
        return bool(os.path.exists(index))

    @property
    def interpreted(self) -> Callable[..., Any]:
        """The interpreted tier (the kernel's Python source with interpreted callees)."""
        if self._interp is None:
            self._interp = _interpreted(self.dispatcher)
        return self._interp

    def __call__(self, *args: Any) -> Any:
        mode = jit_mode()
        if mode == "interpreted":
            return self.interpreted(*args)
        if mode == "compiled":
            return self.dispatcher(*args)
        if not self._compiled:
            w = float(self._work(*args))
            if self.dispatcher.signatures or self.in_disk_cache() or self._spent + w > self._budget:
                self._compiled = True
            else:
                self._spent += w
                return self.interpreted(*args)
        return self.dispatcher(*args)


def tiered(work: Callable[..., float], budget: float) -> Callable[[Dispatcher], TieredKernel]:
    """Decorator: wrap a numba kernel in a :class:`TieredKernel` (apply above ``@numba.njit(cache=True)``)."""

    def wrap(dispatcher: Dispatcher) -> TieredKernel:
        return TieredKernel(dispatcher, work, budget)

    return wrap


#: The numba cache directory in use (set when gigawatt is imported, before any kernel is defined).
CACHE_DIR = configure_cache()
