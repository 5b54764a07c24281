"""The simulation engine: simpy workloads against the fleet, the facility controller, the run's records.

:func:`gigawatt.simulate` (``engine/core.py``) builds the clock, the fleet arrays and the load ledger, starts one
handler per workload kind (``engine/workloads/``) and the facility controller (``engine/controller.py``), which
calls the pure physics (:mod:`gigawatt.physics`) at every control step and feeds throughput back to the
workloads. See ``docs/architecture.md`` for each module's responsibility.
"""
