"""What an active accelerator is doing: the phases of GPU activity shared by the engine and the physics.

The engine's :class:`~gigawatt.engine.ledger.LoadLedger` records active GPUs per (step, rack group, phase);
:func:`gigawatt.physics.power.phase_power_w` gives the power per active GPU in each phase. Both index their
phase axis by :class:`Phase`, defined here, below both.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["N_PHASES", "Phase"]


class Phase(IntEnum):
    """What an active accelerator is doing (sets its power draw; see :func:`gigawatt.physics.power.phase_power_w`)."""

    UTIL = 0
    """Generic utilisation workloads: an active GPU-equivalent draws TDP (utilisation u of n GPUs = u·n)."""
    TRAIN_COMPUTE = 1
    """Training forward/backward compute."""
    TRAIN_STALL = 2
    """Training checkpoint writes, collective stalls, restarts (near idle)."""
    PREFILL = 3
    """LLM inference prefill (compute-bound)."""
    DECODE = 4
    """LLM inference decode (memory-bound)."""


#: Number of phases (the length of every phase axis).
N_PHASES = len(Phase)
