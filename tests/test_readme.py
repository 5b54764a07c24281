"""The README's code blocks work as written (documentation that runs)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import yaml

import gigawatt as gw
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_scenario_block_is_valid() -> None:
    (block,) = _blocks("yaml")
    sc = gw.load_scenario(yaml.safe_load(block))
    assert sc.n_accelerators > 0 and sc.workloads


def test_readme_python_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook, planning = _blocks("python")
    monkeypatch.chdir(tmp_path)
    exec(compile(notebook, "README.md", "exec"), {})
    assert (tmp_path / "out" / "week" / "summary.csv").exists()
    plt.close("all")
    ns: dict[str, object] = {}
    exec(compile(planning, "README.md", "exec"), ns)
    assert len(list((tmp_path / "runs" / "grid" / "rows").glob("part-*.parquet"))) >= 1
    least = ns["least"]
    assert least.feasible and least.evaluations <= 8  # type: ignore[attr-defined]


def test_readme_shows_the_two_commands() -> None:
    quick = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
