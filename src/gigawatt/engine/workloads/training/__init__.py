"""Training workloads in simpy: gang scheduling, failures, checkpoints, restarts, goodput.

GPU pools (one per hall and accelerator type) are integer node counters per rack group, never one object per
GPU. A node is a server (8 GPUs) or a scale-up domain (72 GPUs for NVL72). Each job is a small state machine
driven by timers with an *epoch* token (a state change invalidates pending timers in O(1)). The timers live
on the engine's own heap, run ahead of simpy time up to the next simpy event (nothing outside the engine can
act earlier, so this equals one simpy timeout per timer). Between interruptions a computing job's
compute/checkpoint cycle is deterministic: only its end is scheduled, and its checkpoints are generated in
one vectorised step when the segment closes. Cost grows with starts, ends, failures and rate changes — not
with GPUs, seconds or checkpoints.

Job life cycle::

    PENDING --submit--> QUEUED --allocate--> STALL(startup) --> COMPUTE <--> CHECKPOINT --> DONE
                          ^                      ^                 |
                          |                      +-- STALL(restart) <-- failure / planned maintenance
                          +---- requeue (no replacement node, or preemption) ------+

Work is measured in seconds of compute at full facility throughput; while computing, a job progresses at
``r(t) = c(t)·(1 − q_p(t))``: the hall's clock (throughput) factor ``c`` (thermal limits, DVFS power caps)
times the share of its priority level ``p`` not paused by the power-capping policy (``q_p``; lowest
priorities are paused first). Both are piecewise constant, changed through
:meth:`TrainingEngine.set_throughput`, which re-anchors only the computing jobs of that hall. Failures are
one thinned Poisson process per pool at the aggregate rate of all its GPUs; a hit on a running job's GPU
interrupts that job, and the class is drawn in proportion to the per-class rates. A failure loses the work
since the last completed checkpoint, costs detection + restart time and takes the node out for its MTTR; a
hot spare (or a free node) replaces it at once, otherwise the job is requeued with its checkpointed progress.

Spot reclaims (a failure class ``spot`` without repair, :meth:`TrainingEngine._reclaim`): the job loses the
work since its last checkpoint (none with an emergency checkpoint within the notice), takes a hot spare or
keeps its other nodes and waits ``replacement_delay_s`` for a new node, then restarts; the reclaimed node is
never repaired (pool count ``replacing``, event ``node_replaced``).

Power loss: when the hall goes dark (:meth:`TrainingEngine.set_power`, announced by the facility controller
when the supply cannot cover what power capping leaves) every running job of its pools is interrupted like a
failure of class ``power`` — the work since its last completed checkpoint is lost — and requeued with its
checkpointed progress; nothing starts in a dark pool, and when power returns the queue is scheduled again (a
restart costs the usual start-up time). The dark time shows as queue wait, not as GPU-hours of the job.

Power: computing GPUs are reported to the ledger in ``Phase.TRAIN_COMPUTE``; checkpoint writes, detection,
restarts and start-up in ``Phase.TRAIN_STALL``. A synchronized checkpoint of a 16k-GPU job therefore shows as
a swing of (compute − stall power) × 16,384 ≈ 10 MW of IT power.

Accounting identity per job (exact)::

    gpu_hours = useful_gpu_hours + lost_work_gpu_hours + checkpoint_gpu_hours + restart_gpu_hours
                + throttled_gpu_hours + paused_gpu_hours + comm_gpu_hours

(``throttled``: compute time lost to a clock factor below 1; ``paused``: compute time lost to the power-capping
pause of the job's priority level, ``∫ c·q_p dt`` while computing; ``comm``: compute time lost to the
communication factor of a job placed across halls or sites, :mod:`.spanning`.)

Package layout: :mod:`.specs` (inputs: pools, jobs, scheduler settings), :mod:`.state` (run-time records),
:mod:`.engine` (:class:`TrainingEngine`, wiring one mixin per part: :mod:`.events`, :mod:`.jobs`,
:mod:`.progress`, :mod:`.scheduling`, :mod:`.lending`, :mod:`.failures`, :mod:`.commissioning`,
:mod:`.spanning`, :mod:`.report`), :mod:`.build` (scenario to engine inputs) and :mod:`.handler` (``kind: training``).

References
----------
.. [1] Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783, §3.3.4.
.. [2] Lifka, D. (1995). The ANL/IBM SP scheduling system (EASY backfilling). JSSPP '95, LNCS 949.
.. [3] Daly, J. T. (2006). A higher order estimate of the optimum checkpoint interval for restart dumps.
   FGCS 22(3).
"""

from gigawatt.engine.workloads.training.engine import TrainingEngine
from gigawatt.engine.workloads.training.handler import TrainingHandler
from gigawatt.engine.workloads.training.specs import (
    GROUP_COLUMNS,
    LedgerLike,
    PoolSpec,
    SchedulerConfig,
    TrainingJobSpec,
)
from gigawatt.engine.workloads.training.state import JobState

__all__ = [
    "GROUP_COLUMNS",
    "JobState",
    "LedgerLike",
    "PoolSpec",
    "SchedulerConfig",
    "TrainingEngine",
    "TrainingHandler",
    "TrainingJobSpec",
]
