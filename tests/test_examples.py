"""Every example script and notebook runs (the suite is what keeps them true)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = REPO / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]


def _docs_notebooks() -> types.ModuleType:
    """docs/_notebooks.py: executes a notebook as the site build does and keeps the executed copy."""
    spec = importlib.util.spec_from_file_location("gigawatt_docs_notebooks", REPO / "docs" / "_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_example_notebook_runs(notebook: Path) -> None:
    nbs = _docs_notebooks()
    fingerprint = nbs.fingerprint(notebook)  # of the code this run executes
    nb = nbs.execute(notebook)  # in examples/, like a reader
    errors = nbs.errors(nb)
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    # the executed copy for the site build (make test builds the site next, without running it again)
    nbs.store(notebook, nb, fingerprint)


def test_notebooks_are_committed_without_outputs() -> None:
    """The site build executes them; outputs in the repository would only go stale (and bloat diffs)."""
    for path in NOTEBOOKS:
        raw = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in raw["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
            f"{path.name} has outputs: clear them before committing (Jupyter: Edit > Clear Outputs of All Cells)"
        )
