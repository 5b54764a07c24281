"""Benchmark: output volume of a simulated year, write time, and the cost of showing progress.

Targets (issue "Campus scale without waiting in the dark"):

* the reference year's result folder (``gigawatt run reference --out DIR``, default options) at most 50 MB;
* progress (``simulate(..., progress=True)``: the simpy run advanced in 100 chunks, a bar or a few lines) costs
  less than 1 % of the run.

Measured:

1. the reference year: ``simulate`` without and with progress (interleaved, best of ``REPEAT``), and the time
   spent inside the progress hook and the chunked ``env.run`` calls themselves (direct, free of machine noise);
2. ``Result.to_dir`` of the reference year: size and write time, default (parquet, events summarised), with
   ``events="all"`` and with ``format="csv"``;
3. a training-heavy year: the reference scenario with ``workloads[gb200-training].mix.jobs_per_day`` raised
   to ``HEAVY_JOBS_PER_DAY``: events rows and file size, all events against the per-job checkpoint summary.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gigawatt as gw
from gigawatt._progress import SimProgress
from gigawatt.result import dir_size_bytes

REPEAT = 2
HEAVY_JOBS_PER_DAY = 200


def _mb(path: Path) -> float:
    return (dir_size_bytes(path) if path.is_dir() else path.stat().st_size) / 1e6


def progress_cost(sc: gw.Scenario) -> gw.Result:
    plain, chunked = [], []
    in_hook = [0.0]
    res = None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        res = gw.simulate(sc)
        plain.append(time.perf_counter() - t0)
        shown = SimProgress(sc.start, sc.name, bar=True, file=io.StringIO())  # the tqdm bar, drawn to memory

        def hook(s: float, h: float, shown: SimProgress = shown) -> None:
            t = time.perf_counter()
            shown(s, h)
            in_hook[0] += time.perf_counter() - t

        in_hook[0] = 0.0
        t0 = time.perf_counter()
        gw.simulate(sc, progress=hook)
        chunked.append(time.perf_counter() - t0)
    best_plain, best_chunked = min(plain), min(chunked)
    print(
        f"simulate reference year: {best_plain:.2f} s without progress, {best_chunked:.2f} s with (best of {REPEAT})"
    )
    print(
        f"  A/B difference {100 * (best_chunked - best_plain) / best_plain:+.1f} % (machine noise included); "
        f"time inside the progress hook (bar updates): {1e3 * in_hook[0]:.1f} ms "
        f"= {100 * in_hook[0] / best_plain:.3f} % of the run"
    )
    assert res is not None
    return res


def output_volume(res: gw.Result, tmp: Path) -> None:
    for label, kw in (
        ("default (parquet, events summary)", {}),
        ("events=all", {"events": "all"}),
        ("format=csv", {"format": "csv"}),
    ):
        t0 = time.perf_counter()
        out = res.to_dir(tmp / label.split()[0].replace("=", "_"), **kw)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        files = ", ".join(
            f"{p.name} {_mb(p):.2f}"
            for p in sorted(out.iterdir())
            if p.is_file() and not p.name.startswith(".")
        )
        print(f"to_dir {label}: {_mb(out):.1f} MB in {dt:.1f} s (with plots) [{files} MB]")
    mem = res.timeseries.memory_usage(deep=True).sum() / 1e6
    print(f"time series in memory: {mem:.1f} MB ({res.timeseries.shape[1]} columns)")


def training_heavy(tmp: Path) -> None:
    sc = gw.load_scenario("reference")
    wl = next(w for w in sc.workloads if w.kind == "training")
    sc = sc.updated({f"workloads[{wl.name}].mix.jobs_per_day": HEAVY_JOBS_PER_DAY})
    t0 = time.perf_counter()
    res = gw.simulate(sc)
    print(
        f"training-heavy year ({HEAVY_JOBS_PER_DAY} jobs/day): simulated in {time.perf_counter() - t0:.1f} s"
    )
    assert res.events is not None
    summ = res.event_summary()
    assert summ is not None
    for label, kw in (
        ("all", {"events": "all"}),
        ("summary", {}),
        ("all, csv", {"events": "all", "format": "csv"}),
    ):
        out = res.to_dir(tmp / f"heavy-{label.replace(', ', '-')}", plots=False, **kw)  # type: ignore[arg-type]
        ev = next(out.glob("events.*"))
        rows = len(res.events) if kw.get("events") == "all" else len(summ)
        print(f"  events {label}: {rows:,} rows, {ev.name} {_mb(ev):.2f} MB; folder {_mb(out):.1f} MB")


if __name__ == "__main__":
    ref = gw.load_scenario("reference")
    with tempfile.TemporaryDirectory() as d:
        result = progress_cost(ref)
        output_volume(result, Path(d))
        training_heavy(Path(d))
