"""Sweeps: designs, execution on processes/executors/Dask, the resumable store, failures, summaries."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import gigawatt as gw
from gigawatt.sweep import Derived, Range, SweepResult, design_variants, sweep, variant_key
from tests.conftest import small_scenario_dict

PRICE = "sites[site-a].grid.energy_price_usd_per_mwh"
RACKS = "sites[0].halls[air].racks[0].count"


def _base() -> dict[str, Any]:
    d = small_scenario_dict()
    d["horizon_h"] = 12
    return d


def fail_on_cheap_power(res: Any) -> dict[str, float]:
    """An extra KPI function that fails for one variant (stands for any failure inside a worker)."""
    if res.scenario.sites[0].grid.energy_price_usd_per_mwh < 45:
        raise RuntimeError("boom: cheap power")
    return {"it_energy_kwh": float(res.summary()["it_energy_mwh"] * 1e3)}


class _Interrupt:
    """Raises KeyboardInterrupt (as Ctrl-C would) when the n-th run finishes."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self, res: Any) -> dict[str, float]:
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return {}


def test_designs() -> None:
    g = design_variants({"a": [1, 2, 3], "b": ["x", "y"]})
    assert len(g) == 6 and g[0] == {"a": 1, "b": "x"} and g[-1] == {"a": 3, "b": "y"}
    z = design_variants({"a": [1, 2], "b": [10, 20]}, design="zip")
    assert z == [{"a": 1, "b": 10}, {"a": 2, "b": 20}]
    with pytest.raises(ValueError, match="one length"):
        design_variants({"a": [1, 2], "b": [1]}, design="zip")
    for design in ("lhs", "sobol"):
        s = design_variants(
            {"a": Range(10, 20), "n": Range(1, 4, integer=True), "l": Range(1, 1000, log=True)},
            design=design,
            samples=64,
            seed=3,
        )
        a = np.array([v["a"] for v in s])
        n = np.array([v["n"] for v in s])
        lg = np.array([v["l"] for v in s])
        assert len(s) == 64 and (a >= 10).all() and (a <= 20).all()
        assert set(n) == {1, 2, 3, 4} and all(isinstance(v["n"], int) for v in s)
        # log-uniform: about half the samples below the geometric mean sqrt(1·1000)
        assert 0.3 < np.mean(lg < np.sqrt(1000)) < 0.7
        # deterministic for a seed
        assert s == design_variants(
            {"a": Range(10, 20), "n": Range(1, 4, integer=True), "l": Range(1, 1000, log=True)},
            design=design,
            samples=64,
            seed=3,
        )
    if True:  # a Latin hypercube puts exactly one sample in each of the n strata of every axis
        s = design_variants({"a": Range(0, 1)}, design="lhs", samples=10, seed=1)
        strata = np.floor(np.array([v["a"] for v in s]) * 10)
        assert sorted(strata) == list(range(10))
    dv = design_variants(
        {"e": [100.0, 200.0]}, derived={"p": Derived("e", scale=0.25), "q": lambda v: v["e"] + 1}
    )
    assert_allclose([v["p"] for v in dv], [25.0, 50.0], rtol=1e-12)
    assert_allclose([v["q"] for v in dv], [101.0, 201.0], rtol=1e-12)
    with pytest.raises(ValueError, match="sampled design"):
        design_variants({"a": Range(0, 1)})
    with pytest.raises(ValueError, match="unknown design"):
        design_variants({"a": [1]}, design="random")


def test_sweep_equals_individual_runs_on_processes(tmp_path: Path) -> None:
    axes = {PRICE: [40.0, 80.0], RACKS: [10, 12]}
    res = sweep(_base(), axes, seeds=2, workers=2, store=tmp_path / "s")
    assert len(res.table) == 8 and (res.table["status"] == "ok").all()
    assert res.axes == [PRICE, RACKS]
    for _, row in res.table.iloc[[0, 5, 7]].iterrows():
        sc = gw.load_scenario(_base()).updated({PRICE: row[PRICE], RACKS: int(row[RACKS])})
        direct = gw.simulate(sc, seed=int(row["seed"])).summary()
        for k in ("facility_energy_mwh", "energy_cost_usd", "pue", "emissions_tco2"):
            assert_allclose(row[k], direct[k], rtol=1e-12, atol=0.0, err_msg=k)
        assert row["key"] == variant_key(sc, int(row["seed"]))
    # energy cost scales with the price (same energy): a sanity check on the axis actually applied
    t = res.table.set_index(["variant", "seed"])
    assert_allclose(t.loc[(2, 7), "energy_cost_usd"] / t.loc[(0, 7), "energy_cost_usd"], 2.0, rtol=1e-6)
    assert res.table["gigawatt_version"].eq(gw.__version__).all() and (res.table["wall_s"] > 0).all()


def test_results_do_not_depend_on_workers_or_executor(tmp_path: Path) -> None:
    axes = {PRICE: [40.0, 60.0, 80.0]}
    one = sweep(_base(), axes, seeds=[5, 9], workers=1)
    with cf.ThreadPoolExecutor(3) as ex:
        threads = sweep(_base(), axes, seeds=[5, 9], executor=ex)
    kp = ["facility_energy_mwh", "energy_cost_usd", "pue"]
    assert_allclose(one.table[kp].to_numpy(), threads.table[kp].to_numpy(), rtol=1e-12, atol=0.0)
    assert one.table["key"].tolist() == threads.table["key"].tolist()


def test_failures_are_rows_and_the_sweep_goes_on(tmp_path: Path) -> None:
    axes = {PRICE: [40.0, 80.0], RACKS: [10, 10_000]}  # 10,000 racks: more GPUs than the workloads allow
    res = sweep(_base(), axes, workers=1, kpis=fail_on_cheap_power, store=tmp_path / "s")
    st = res.table.set_index([PRICE, RACKS])["status"]
    assert st.loc[(80.0, 10)] == "ok"
    assert st.loc[(40.0, 10)] == "failed"
    assert "boom: cheap power" in res.table.set_index([PRICE, RACKS]).loc[(40.0, 10), "error"]
    assert st.loc[(80.0, 10_000)] == "invalid" or st.loc[(80.0, 10_000)] == "ok"
    assert len(res.failed) == int((res.table["status"] != "ok").sum()) >= 1
    ok = res.table[res.table["status"] == "ok"]
    assert_allclose(ok["it_energy_kwh"], ok["it_energy_mwh"] * 1e3, rtol=1e-12)


def test_store_resumes_and_survives_interruption(tmp_path: Path) -> None:
    store = tmp_path / "s"
    axes = {PRICE: [40.0, 50.0, 60.0, 70.0]}
    with pytest.raises(KeyboardInterrupt):
        sweep(_base(), axes, workers=1, store=store, kpis=_Interrupt(3))
    parts = list((store / "rows").glob("part-*.parquet"))
    kept = pd.concat([pd.read_parquet(p) for p in parts])
    assert len(kept) == 2 and set(kept["status"]) == {"ok"}  # the two finished runs are kept, whole
    assert not list((store / "rows").glob(".*tmp"))
    # resuming runs only what is missing: the counter sees 2 more runs, not 4
    counter = _Interrupt(10**9)
    res = sweep(_base(), axes, workers=1, store=store, kpis=counter)
    assert counter.calls == 2 and (res.table["status"] == "ok").all() and len(res.table) == 4
    # and a third call runs nothing
    counter2 = _Interrupt(10**9)
    again = sweep(_base(), axes, workers=1, store=store, kpis=counter2)
    assert counter2.calls == 0
    assert_allclose(again.table["facility_energy_mwh"], res.table["facility_energy_mwh"], rtol=1e-12)


def test_summary_confidence_interval_and_io(tmp_path: Path) -> None:
    res = sweep(
        _base(),
        {PRICE: [40.0, 80.0]},
        seeds=3,
        workers=1,
        store=tmp_path / "s",
        timeseries_every="1h",
        timeseries_columns=["facility_power_mw"],
    )
    s = res.summary(["energy_cost_usd"])
    assert list(s.index) == [40.0, 80.0]
    m = s[("energy_cost_usd", "mean")]
    assert_allclose(m.loc[80.0] / m.loc[40.0], 2.0, rtol=1e-6)
    assert (s[("energy_cost_usd", "n")] == 3).all()
    assert (s[("energy_cost_usd", "ci_low")] <= m + 1e-9).all() and (
        s[("energy_cost_usd", "ci_high")] >= m - 1e-9
    ).all()
    ts = res.timeseries(0)
    assert list(ts.columns) == ["facility_power_mw"] and len(ts) == 12
    back = SweepResult.from_dir(res.to_dir(tmp_path / "out"))
    pd.testing.assert_frame_equal(back.table, res.table)
    assert back.axes == res.axes
    assert len(res.filter(**{PRICE: 40.0}).table) == 3
    assert "2 variants × 3 seeds" in repr(res)


def test_dask_local_cluster_gives_the_same_rows() -> None:
    distributed = pytest.importorskip("distributed")
    axes = {PRICE: [40.0, 80.0]}
    local = sweep(_base(), axes, seeds=2, workers=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sweep(_base(), axes, seeds=2, executor=client)
        # the same code path through a scheduler address
        by_address = sweep(_base(), axes, seeds=2, scheduler=cluster.scheduler_address)
        restored = client.run(_mmapped_by_a_16_mib_array_b)  # the workers' malloc is left as the nanny set it
    kp = [k for k in local.kpi_names() if k != "wall_s"]
    assert len(kp) > 10
    for other in (on_dask, by_address):
        assert (other.table["status"] == "ok").all()
        assert other.table["key"].tolist() == local.table["key"].tolist()
        assert_allclose(other.table[kp].to_numpy(), local.table[kp].to_numpy(), rtol=1e-12, atol=0.0)
    assert all(b is None or b >= 2**21 * 8 for b in restored.values())


_MALLINFO2_FIELDS = (
    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"  # glibc malloc.h
)


def _mmapped_by_a_16_mib_array_b() -> int | None:
    """Bytes glibc maps on their own for a 16 MiB array in this process (None: not glibc >= 2.33)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in _MALLINFO2_FIELDS.split()]

    mallinfo2.restype = MallInfo2
    before = mallinfo2().hblkhd
    a = np.ones(2**21)
    out = int(mallinfo2().hblkhd - before)
    del a
    return out


def test_cost_kpis_join_every_row() -> None:
    """Economics as an extra KPI function: every row carries its TCO and a solver can constrain it."""
    from gigawatt import economics

    res = sweep(_base(), {PRICE: [40.0, 80.0]}, workers=1, kpis=economics.cost_kpis)
    assert (res.table["status"] == "ok").all()
    t = res.table.set_index(PRICE)
    assert "tco_usd_per_year" in t.columns and (t["tco_usd_per_year"] > 0).all()
    # doubling the energy price raises the energy cost and so the TCO (the capital side is the same)
    assert t.loc[80.0, "tco_usd_per_year"] > t.loc[40.0, "tco_usd_per_year"]


_MMAP_PROBE = """
import ctypes, sys
import numpy as np
from gigawatt.sweep import _MMAP_THRESHOLD_DYNAMIC_MAX_B, _set_mmap_threshold


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
applied = _set_mmap_threshold(_MMAP_THRESHOLD_DYNAMIC_MAX_B) if sys.argv[1] == "fix" else False
before = libc.mallinfo2().hblkhd
a = np.ones(2**21)  # 16 MiB: above the frozen 128 KiB threshold, below glibc's dynamic ceiling of 32 MiB
print(int(applied), libc.mallinfo2().hblkhd - before)  # bytes in mmapped blocks added by that array
"""


def test_dask_workers_take_large_arrays_from_the_heap() -> None:
    """Under the Dask nanny's MALLOC_TRIM_THRESHOLD_, glibc maps every array above 128 KiB afresh (its pages
    fault in again on each allocation); the sweep's worker set-up lets such arrays come from the heap again,
    and leaves processes without that variable, and a user's own MALLOC_MMAP_THRESHOLD_, alone."""
    import ctypes
    import os
    import platform
    import subprocess
    import sys

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc malloc only")
    if not hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2"):
        pytest.skip("mallinfo2 needs glibc >= 2.33")

    def probe(mode: str, **env: str) -> tuple[int, int]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run(
            [sys.executable, "-c", _MMAP_PROBE, mode],
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])

    array_b = 2**21 * 8
    frozen = probe("as-is", MALLOC_TRIM_THRESHOLD_="65536")
    fixed = probe("fix", MALLOC_TRIM_THRESHOLD_="65536")
    assert frozen[0] == 0 and frozen[1] >= array_b  # mapped on its own
    assert fixed[0] == 1 and fixed[1] < array_b  # from the heap
    assert probe("fix")[0] == 0  # no Dask environment: nothing changed
    user = probe("fix", MALLOC_TRIM_THRESHOLD_="65536", MALLOC_MMAP_THRESHOLD_="131072")
    assert user[0] == 0 and user[1] >= array_b  # the user's own threshold is kept


def test_a_worker_is_warmed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sweep_module = sys.modules["gigawatt.sweep"]
    calls: list[Any] = []
    monkeypatch.setattr(sweep_module, "simulate", lambda sc, **kw: calls.append(sc))
    monkeypatch.setattr(sweep_module, "_WARMED", False)
    sweep_module._warm_worker()
    sweep_module._warm_worker()
    assert len(calls) == 1 and calls[0]["name"] == "warm-up"
