"""Tests for gigawatt.engine.context: the registry of training engines that other workloads borrow from."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from tests.engine.workloads.training.helpers import POOL, FakeLedger

from gigawatt.engine.context import TrainingPools
from gigawatt.engine.workloads.training import TrainingEngine


def _engine() -> TrainingEngine:
    return TrainingEngine(
        simpy.Environment(), [POOL], [], FakeLedger(), np.random.default_rng(0), horizon_s=math.inf
    )


def test_training_pools_register_and_lookup() -> None:
    pools = TrainingPools()
    eng = _engine()
    assert "p" not in pools and len(pools) == 0
    pools.register("p", eng)
    assert pools.lookup("p") is eng and "p" in pools and len(pools) == 1
    with pytest.raises(ValueError, match="registered twice"):
        pools.register("p", _engine())


def test_training_pools_lookup_names_the_field_and_the_known_pools() -> None:
    pools = TrainingPools()
    pools.register("research", _engine())
    with pytest.raises(LookupError, match=r"workloads\[2\]\.shared_with_training: .*'nope'.*\['research'\]"):
        pools.lookup("nope", "workloads[2].shared_with_training")
