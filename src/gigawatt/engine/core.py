"""``simulate(scenario) -> Result``: wire the fleet, workloads and facility controller in one simpy run."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from gigawatt._progress import PROGRESS_CHUNKS, make_progress
from gigawatt.checks.load import load_scenario
from gigawatt.engine.clock import Clock
from gigawatt.engine.context import SimContext, ThroughputBoard
from gigawatt.engine.controller import FacilityController
from gigawatt.engine.fleet import Fleet
from gigawatt.engine.ledger import LoadLedger
from gigawatt.engine.workloads import HANDLERS, WorkloadHandler, WorkloadOutput
from gigawatt.result import Result, frame_from_columns, release_free_heap, timeseries_columns
from gigawatt.scenario.root import Scenario

__all__ = ["simulate"]

log = logging.getLogger(__name__)


def simulate(
    scenario: Scenario | str | Path | dict[str, Any],
    seed: int | None = None,
    *,
    feedback_block_steps: int = 12,
    progress: bool | Callable[[float, float], None] = False,
) -> Result:
    """Simulate a scenario.

    Parameters
    ----------
    scenario
        A :class:`~gigawatt.Scenario`, a path to a YAML/JSON file, a bundled scenario name (``"reference"``)
        or a mapping.
    seed
        Overrides ``scenario.seed``. Every random stream derives from ``numpy.random.SeedSequence(seed)``, so
        the same seed gives identical results.
    feedback_block_steps
        Control steps per facility feedback decision (throttling, power caps) during the run; default 12
        (one hour at 5-minute steps).
    progress
        ``True`` shows the progress (simulated time, wall time, time left) on stderr: a ``tqdm.auto`` bar on a
        terminal or in a notebook, a few plain lines otherwise. A callable ``hook(sim_s, horizon_s)`` is called
        instead after each chunk of simulated time. With progress, the simpy run advances in
        ``gigawatt._progress.PROGRESS_CHUNKS`` chunks of whole control steps (``env.run(until=t)``); the result
        is the same as one ``env.run`` to the horizon.

    Returns
    -------
    Result
        Time series, jobs, events, services and a KPI summary.
    """
    sc = load_scenario(scenario)
    seed = sc.seed if seed is None else int(seed)
    clock = Clock(
        pd.Timestamp(sc.start).tz_localize(None)
        if pd.Timestamp(sc.start).tzinfo is None
        else pd.Timestamp(sc.start).tz_convert("UTC").tz_localize(None),
        sc.step_s,
        sc.n_steps,
    )
    fleet = Fleet.from_scenario(sc)

    hook = make_progress(progress, clock.start, sc.name)
    with cyclic_gc_paused():
        return _simulate(sc, seed, clock, fleet, feedback_block_steps, hook)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (reference counting still frees memory).

    A run builds millions of long-lived objects (jobs, their specs, events, heap entries) and few reference
    cycles; with the collector on, every generation-2 pass re-traverses all of them (≈ 15 % of a job-heavy
    year's CPU time: 27.8 → 23.7 s on the Frontier-class year, ``benchmarks/bench_training_campus.py``). The
    run's own cycles are collected once, explicitly, when it ends (:func:`_simulate`). The collector's state is
    restored on exit (also when the block raises), so a caller that disabled it keeps it disabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _simulate(
    sc: Scenario,
    seed: int,
    clock: Clock,
    fleet: Fleet,
    feedback_block_steps: int,
    hook: Callable[[float, float], None] | None,
) -> Result:
    """The run(s) and the result of :func:`simulate` (called with the cyclic collector paused)."""
    t0 = time.perf_counter()
    log.info("simulating %r: %d steps of %g s, seed %d", sc.name, sc.n_steps, sc.step_s, seed)
    # The controller skips re-deciding after load changes that provably keep its decisions; every skip is
    # verified exactly after the run, and in the rare case one was unsound the run is repeated with a re-decision
    # forced there (deterministic: same seed, same streams), so the answer never depends on the skip.
    forced: set[int] = set()
    while True:
        handlers, controller = _run(sc, seed, clock, fleet, feedback_block_steps, forced, hook)
        unsound = controller.unsound_skips() - forced
        if not unsound:
            break
        forced |= unsound
        del handlers, controller
        gc.collect()  # a repeated run: free the first one's state (reference cycles) before it starts
        log.info("re-running with %d controller re-decision(s) forced", len(unsound))
    log.info("simulated %r in %.1f s; assembling the result", sc.name, time.perf_counter() - t0)
    flows, outputs = _finish(handlers, controller)
    # the run's state (controller arrays, workload engines, ledger, simpy environment) is no longer needed:
    # free it before the result is assembled (it holds reference cycles through the simulation context; one
    # full collection, besides the one before each repeated run above)
    del handlers, controller
    gc.collect()
    release_free_heap()
    return _assemble(sc, seed, clock, fleet, flows, outputs)


def _run(
    sc: Scenario,
    seed: int,
    clock: Clock,
    fleet: Fleet,
    feedback_block_steps: int,
    force_redecide: set[int],
    hook: Callable[[float, float], None] | None = None,
) -> tuple[list[WorkloadHandler], FacilityController]:
    """One simpy run of the scenario: workloads and facility controller up to the horizon."""
    env = simpy.Environment()
    ctx = SimContext(
        scenario=sc,
        seed=seed,
        clock=clock,
        fleet=fleet,
        ledger=LoadLedger(clock, fleet.n_groups),
        env=env,
        throughput=ThroughputBoard(fleet.n_halls),
    )
    handlers: list[WorkloadHandler] = []
    for i, wl in enumerate(sc.workloads):
        cls = HANDLERS.get(wl.kind)
        if cls is None:  # pragma: no cover - the scenario union and HANDLERS are kept in step by tests
            raise NotImplementedError(f"no engine handler for workload kind {wl.kind!r}")
        handlers.append(cls(wl, ctx, i))
    for h in handlers:
        h.start()
    controller = FacilityController(ctx, block_steps=feedback_block_steps, force_redecide=force_redecide)
    # the controller may sleep through decided blocks when one event-driven writer (a training engine) visits
    # the ledger's block boundaries and no workload runs simpy processes of its own (their events would not)
    controller.can_sleep = ctx.ledger.watch.writers == 1 and not any(h.runs_processes for h in handlers)
    ctx.extras["controller"] = controller
    env.process(controller.process())
    if hook is None:
        env.run(until=clock.horizon_s)
    else:
        _run_in_chunks(env, clock, hook)
    return handlers, controller


def _finish(
    handlers: list[WorkloadHandler], controller: FacilityController
) -> tuple[dict[str, np.ndarray], list[WorkloadOutput]]:
    """Whole-horizon flows of the run and every workload's output (the energy supply's last)."""
    for h in handlers:
        h.before_finalize()
    flows = controller.finalize(release=True)
    energy = controller.energy_output()
    controller.release()  # its per-step arrays are not needed by the workloads' outputs
    controller.ctx.ledger.release()  # nor are the event-driven load records, read by the controller's last pass
    release_free_heap()
    outputs: list[WorkloadOutput] = [h.finish(flows) for h in handlers]
    outputs.append(energy)
    controller.ctx.extras.clear()
    return flows, outputs


def _run_in_chunks(env: simpy.Environment, clock: Clock, hook: Callable[[float, float], None]) -> None:
    """Advance ``env`` to the horizon in chunks of whole control steps, calling ``hook`` after each.

    ``env.run(until=t)`` stops before the events at ``t`` (its stop event is urgent), which the next chunk
    processes in their order, so the run is the same as a single ``env.run(until=horizon)``.
    """
    n, horizon_s = clock.n_steps, clock.horizon_s
    ends = sorted({(n * k) // PROGRESS_CHUNKS for k in range(1, PROGRESS_CHUNKS + 1)} - {0})
    for i, end_step in enumerate(ends):
        t = horizon_s if i == len(ends) - 1 else end_step * clock.step_s
        env.run(until=t)
        hook(t, horizon_s)


def _assemble(
    sc: Scenario,
    seed: int,
    clock: Clock,
    fleet: Fleet,
    flows: dict[str, np.ndarray],
    outputs: list[WorkloadOutput],
) -> Result:
    cols = timeseries_columns(clock, fleet, flows, consume=True)
    flows.clear()  # the columns keep what they use (views); the rest of the flows is freed here
    kpis: dict[str, float] = {}
    tables: dict[str, list[pd.DataFrame]] = {"jobs": [], "events": [], "services": [], "requests": []}
    for out in outputs:
        cols.update(out.columns)
        kpis.update(out.kpis)
        for name in tables:
            df = getattr(out, name)
            if df is not None and len(df):
                tables[name].append(df)
    ts = frame_from_columns(cols, clock.times)
    del cols
    release_free_heap()  # the flows not kept as columns

    def cat(name: str) -> pd.DataFrame | None:
        return pd.concat(tables[name], ignore_index=True) if tables[name] else None

    return Result(
        scenario=sc,
        seed=seed,
        timeseries=ts,
        jobs=cat("jobs"),
        events=cat("events"),
        services=cat("services"),
        requests=cat("requests"),
        extra_kpis=kpis,
        n_accelerators=int(fleet.n_gpus.sum()),
    )
