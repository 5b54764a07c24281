"""Quickstart: simulate the bundled reference campus for one week and write results.

Run: ``python examples/quickstart.py [OUT_DIR]`` (default ``out/quickstart``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import gigawatt as gw


def main(out_dir: str = "out/quickstart") -> gw.Result:
    scenario = gw.load_scenario("reference")
    week = scenario.updated({"horizon_h": 24 * 7, "start": scenario.start.replace(month=7)})
    result = gw.simulate(week)
    print(result.summary().to_string(float_format=lambda v: f"{v:,.3f}"))
    result.to_dir(Path(out_dir))
    return result


if __name__ == "__main__":
    main(*sys.argv[1:2])
