"""Shared fixtures: small scenarios that simulate fast."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (or one level further up, from a git worktree in a sibling folder)
SHARED_DATA = next(
    (p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared" / "data").is_dir()),
    REPO.parent / "shared" / "data",
)
REQUIRE_SHARED_DATA_ENV = "GIGAWATT_REQUIRE_SHARED_DATA"
_MISSING_SHARED: set[str] = set()


def shared_data_file(*parts: str) -> Path:
    """A file of the reference data sets in ``../shared/data`` (never copied into the repo).

    When the folder is absent (a plain clone without ``shared/`` beside it) the test is skipped *loudly*: the
    run ends with a banner naming every missing file (see README, "Tests and reference data"). With
    ``GIGAWATT_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``) a missing file fails the test instead.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        msg = f"reference data missing: {path} (clone with ../shared beside the repo; see README)"
        if os.environ.get(REQUIRE_SHARED_DATA_ENV) == "1":
            pytest.fail(msg + f"; {REQUIRE_SHARED_DATA_ENV}=1 requires it")
        _MISSING_SHARED.add(str(path))
        pytest.skip(msg)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _MISSING_SHARED:
        terminalreporter.section("REFERENCE DATA MISSING: validation tests were SKIPPED", sep="!", red=True)
        for f in sorted(_MISSING_SHARED):
            terminalreporter.write_line(f"  missing {f}")
        terminalreporter.write_line(
            "  These checks against real data did not run. Put the project's shared/ folder beside the repo "
            f"(CI does and sets {REQUIRE_SHARED_DATA_ENV}=1, which turns these skips into failures)."
        )


def dgx_hall_dict(technology: str, *, util: float = 0.8, server: dict | None = None, **hall: object) -> dict:
    """One hall of 10 racks x 4 DGX H100 (air-cooled build, 4,600 W host at full fan speed), one day."""
    return {
        "name": f"dgx-{technology}",
        "start": "2026-01-15T00:00:00",
        "horizon_h": 24,
        "step_s": 900,
        "seed": 1,
        "sites": [
            {
                "name": "s",
                "location": {"latitude_deg": 53.4, "longitude_deg": -6.2, "country_code": "IE"},
                "climate": {"kind": "constant", "dry_bulb_c": 12.0, "relative_humidity_frac": 0.8},
                "grid": {"carbon_intensity_gco2_per_kwh": 400.0},
                "halls": [
                    {
                        "name": "h",
                        "cooling": {"technology": technology},
                        "racks": [
                            {
                                "name": "dgx",
                                "count": 10,
                                "servers_per_rack": 4,
                                "server": {
                                    "accelerator": "H100-SXM",
                                    "host_overhead_w": 4600,
                                    **(server or {}),
                                },
                            }
                        ],
                        **hall,
                    }
                ],
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": "u",
                "target": {"hall": "h"},
                "profile": {"kind": "constant", "utilization_frac": util},
            }
        ],
    }


def small_scenario_dict(**overrides: Any) -> dict[str, Any]:
    """A two-hall, one-site scenario over two days (fast to simulate)."""
    d: dict[str, Any] = {
        "name": "small",
        "start": "2026-07-01T00:00:00",
        "horizon_h": 48,
        "step_s": 300,
        "seed": 7,
        "sites": [
            {
                "name": "site-a",
                "location": {"latitude_deg": 39.0, "longitude_deg": -77.5, "country_code": "US"},
                "climate": {"kind": "synthetic", "annual_mean_dry_bulb_c": 14.0},
                "grid": {"energy_price_usd_per_mwh": 50.0, "carbon_intensity_gco2_per_kwh": 400.0},
                "halls": [
                    {
                        "name": "liquid",
                        "cooling": {"technology": "dlc"},
                        "racks": [
                            {
                                "name": "nvl72",
                                "count": 4,
                                "servers_per_rack": 18,
                                "server": {
                                    "accelerator": "GB200",
                                    "accelerators_per_server": 4,
                                    "host_overhead_w": 2200,
                                    "cooling_variant": "liquid",
                                },
                            }
                        ],
                    },
                    {
                        "name": "air",
                        "cooling": {"technology": "air"},
                        "racks": [
                            {
                                "name": "dgx",
                                "count": 10,
                                "servers_per_rack": 4,
                                "server": {"accelerator": "H100-SXM", "host_overhead_w": 4600},
                            }
                        ],
                    },
                ],
            }
        ],
        "workloads": [
            {
                "kind": "utilization",
                "name": "steady",
                "target": {"hall": "liquid"},
                "profile": {"kind": "constant", "utilization_frac": 0.8},
            },
            {
                "kind": "utilization",
                "name": "diurnal",
                "target": {"hall": "site-a/air", "gpus": 160},
                "profile": {"kind": "daily", "utilization_frac": [0.2, 0.5, 0.9, 0.5]},
            },
        ],
    }
    out = copy.deepcopy(d)
    out.update(overrides)
    return out


@pytest.fixture
def small_dict() -> dict[str, Any]:
    return small_scenario_dict()
