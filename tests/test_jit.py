"""Tests for gigawatt.jit (per-user numba cache, tiered kernels)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal

import gigawatt
from gigawatt.jit import TieredKernel, jit_mode, kernel_sources_digest, tiered, user_cache_dir


@njit
def _twice(x):  # type: ignore[no-untyped-def]
    return 2.0 * x


@njit(cache=False)
def _toy(a):  # type: ignore[no-untyped-def]
    out = np.empty_like(a)
    s = 0.0
    for i in range(a.size):
        s += _twice(a[i]) ** 0.5
        out[i] = s
    return out


def test_tiered_interprets_within_budget_then_compiles() -> None:
    k = TieredKernel(_toy, work=lambda a: a.size, budget=10)
    a = np.linspace(0.1, 3.0, 4)
    first = k(a)
    assert not _toy.signatures and not _twice.signatures  # ran interpreted, callee included
    second = k(a)  # 8 units spent <= 10
    assert not _toy.signatures
    third = k(a)  # 12 > 10: compiled from now on
    assert _toy.signatures
    assert_allclose(first, second, rtol=0, atol=0)
    assert_allclose(first, third, rtol=0, atol=0)  # same operations in the same order: identical bits


def test_jit_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIGAWATT_JIT", raising=False)
    assert jit_mode() == "tiered"
    monkeypatch.setenv("GIGAWATT_JIT", "interpreted")
    assert jit_mode() == "interpreted"
    monkeypatch.setenv("GIGAWATT_JIT", "sometimes")
    with pytest.raises(ValueError, match="GIGAWATT_JIT"):
        jit_mode()


def test_user_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_CACHE_HOME applies on Linux and other Unix systems")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "gigawatt"


def test_autoscaler_tiers_identical() -> None:
    """The two tiers of a kernel agree bit for bit (so results never depend on the cache state)."""
    from gigawatt.perf.fleet.autoscaler import _autoscale_kernel

    desired = np.random.default_rng(0).integers(0, 50, 500)
    a = _autoscale_kernel.interpreted(desired, 2, 40, 3, 6, 0)
    b = _autoscale_kernel.dispatcher(desired, 2, 40, 3, 6, 0)
    for x, y in zip(a, b, strict=True):
        assert_array_equal(x, y)  # integers


def test_a_day_of_the_reference_scenario_is_the_same_in_both_tiers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dispatch, wet bulb, autoscaler: every number of a run is the same interpreted and compiled."""
    sc = gigawatt.load_scenario("reference").updated({"horizon_h": 24})
    monkeypatch.setenv("GIGAWATT_JIT", "interpreted")
    a = gigawatt.simulate(sc)
    monkeypatch.setenv("GIGAWATT_JIT", "compiled")
    b = gigawatt.simulate(sc)
    ta, tb = a.timeseries.select_dtypes("number"), b.timeseries.select_dtypes("number")
    assert list(ta.columns) == list(tb.columns) and len(ta.columns) > 50
    # identical by design (same IEEE operations in the same order); stated as a zero tolerance
    assert_allclose(ta.to_numpy(float), tb.to_numpy(float), rtol=0, atol=0)


def test_wet_bulb_tiers_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    from gigawatt.physics import psychrometrics as ps

    rng = np.random.default_rng(1)
    t = rng.uniform(-20.0, 45.0, 300)
    rh = rng.uniform(0.05, 1.0, 300)
    monkeypatch.setenv("GIGAWATT_JIT", "interpreted")
    interpreted = ps.wet_bulb_c(t, rh)
    monkeypatch.setenv("GIGAWATT_JIT", "compiled")
    compiled = ps.wet_bulb_c(t, rh)
    assert_allclose(interpreted, compiled, rtol=0, atol=0)


_CHILD = """
import json, numpy as np
import gigawatt.jit as jit
from gigawatt.perf.fleet import colocated
cached_before = colocated._serve_queue.in_disk_cache()
colocated._serve_queue(np.ones(3), np.full(3, 0.5), 300.0, 60.0)
st = colocated._serve_queue.dispatcher.stats
print(json.dumps({"cache_dir": jit.CACHE_DIR, "cached_before": cached_before, "hits": sum(st.cache_hits.values()),
                  "misses": sum(st.cache_misses.values()), "path": st.cache_path}))
"""


def test_cache_works_from_a_read_only_install(tmp_path: Path) -> None:
    """A copy of the package in a read-only directory: no error, the cache goes to the per-user directory
    (not next to the sources), and a second process loads the kernel from it instead of compiling."""
    site = tmp_path / "site"
    shutil.copytree(
        Path(gigawatt.__file__).parent, site / "gigawatt", ignore=shutil.ignore_patterns("__pycache__")
    )
    for root, dirs, files in os.walk(site):
        for name in files:
            os.chmod(os.path.join(root, name), stat.S_IRUSR | stat.S_IRGRP)
        for name in dirs:
            os.chmod(os.path.join(root, name), stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    os.chmod(site, stat.S_IRUSR | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "GIGAWATT_JIT")}
    env.update(
        PYTHONPATH=str(site),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        GIGAWATT_JIT="compiled",
        PYTHONDONTWRITEBYTECODE="1",
    )

    def run() -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert out.returncode == 0, out.stderr
        assert "Warning" not in out.stderr, out.stderr
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    try:
        first, second = run(), run()
    finally:
        for root, dirs, _ in os.walk(tmp_path):  # let pytest clean up
            for name in dirs:
                os.chmod(os.path.join(root, name), stat.S_IRWXU)
        os.chmod(site, stat.S_IRWXU)
    expected = tmp_path / "cache" / "gigawatt" / "numba" / kernel_sources_digest()
    assert first["cache_dir"] == str(expected)
    assert str(first["path"]).startswith(str(expected))
    assert (first["misses"], first["hits"]) == (1, 0)  # compiled and stored
    assert (second["misses"], second["hits"]) == (0, 1)  # loaded from the cache
    assert first["cached_before"] is False and second["cached_before"] is True  # what the tiers look at
    assert not list(site.rglob("*.nbi")) and not list(site.rglob("*.nbc"))  # nothing next to the sources


def test_tiered_decorator_wraps_a_kernel() -> None:
    k = tiered(work=lambda a: a.size, budget=0)(_toy)
    assert isinstance(k, TieredKernel) and k.dispatcher is _toy and k.__name__ == "_toy"
