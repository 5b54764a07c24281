"""Execute the example notebooks once per code state and keep the executed copies (site build and test suite).

The site shows every ``examples/*.ipynb`` with its outputs. The notebooks are committed without outputs and
run at build time; the test suite runs them too (``tests/test_examples.py``). Both go through
:func:`executed_notebook`, which keeps each executed copy in ``build/notebooks/`` under a fingerprint of
everything its outputs can depend on: the notebook, the package source and data (``src/gigawatt``), the
example inputs (``examples/``, other notebooks excluded) and the lock (``constraints.txt``). So ``make test``
(pytest, then ``make docs``) executes each notebook once, and a site rebuild with nothing changed executes
none; any edit to the code or the notebook runs it again.

Not part of the site (``exclude_docs`` in ``mkdocs.yml``); imported by path from ``docs/gen_pages.py`` and
the tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CACHE = REPO / "build" / "notebooks"
FINGERPRINT_KEY = "gigawatt_fingerprint"
TIMEOUT_S = 600


def _tree_digest(root: Path, skip_suffixes: tuple[str, ...] = ()) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix in (".pyc", *skip_suffixes):
            continue
        h.update(path.relative_to(REPO).as_posix().encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


_CODE_DIGEST: str | None = None


def code_digest() -> str:
    """Digest of what every notebook's outputs depend on besides the notebook itself."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        h = hashlib.sha256()
        h.update(_tree_digest(REPO / "src" / "gigawatt").encode())
        h.update(_tree_digest(EXAMPLES, skip_suffixes=(".ipynb",)).encode())
        lock = REPO / "constraints.txt"
        if lock.exists():
            h.update(lock.read_bytes())
        h.update(sys.version.encode())
        _CODE_DIGEST = h.hexdigest()
    return _CODE_DIGEST


def fingerprint(notebook: Path) -> str:
    """Fingerprint of one notebook's executed outputs: notebook bytes + :func:`code_digest`."""
    h = hashlib.sha256(notebook.read_bytes())
    h.update(code_digest().encode())
    return h.hexdigest()


def cached_path(notebook: Path) -> Path:
    return CACHE / notebook.name


def load_cached(notebook: Path) -> Any | None:
    """The executed copy of ``notebook`` if one exists for its current fingerprint, else None."""
    import nbformat

    path = cached_path(notebook)
    if not path.exists():
        return None
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    if nb.metadata.get(FINGERPRINT_KEY) != fingerprint(notebook):
        return None
    return nb


def execute(notebook: Path) -> Any:
    """Execute ``notebook`` in ``examples/`` (as the tests do) and return it with its outputs."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    # the kernel draws figures inline (its default) even where MPLBACKEND is set for scripts (e.g. Agg)
    client.execute(env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"})
    return nb


def errors(nb: Any) -> list[Any]:
    """Error outputs of an executed notebook."""
    return [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]


def store(notebook: Path, nb: Any, fp: str) -> None:
    """Keep an executed notebook (without errors) under ``fp``, its :func:`fingerprint` taken before it ran;
    written atomically."""
    import nbformat

    if errors(nb):
        return
    nb.metadata[FINGERPRINT_KEY] = fp
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached_path(notebook).with_suffix(f".tmp{os.getpid()}")
    nbformat.write(nb, tmp)
    tmp.replace(cached_path(notebook))


def executed_notebook(notebook: Path, reuse_only: bool = False) -> tuple[Any, bool]:
    """``(executed notebook, reused)``: the cached copy when current, else a fresh run (then cached).

    ``reuse_only``: raise instead of executing (``make test`` builds the site right after the suite ran every
    notebook for the same code, so a miss there means the reuse broke, not a slow machine).
    """
    nb = load_cached(notebook)
    if nb is not None:
        return nb, True
    if reuse_only:
        raise RuntimeError(
            f"{notebook.name}: no executed copy in {CACHE.relative_to(REPO)} for the current code "
            "(GIGAWATT_DOCS_REUSE_ONLY=1: the test suite should have executed it just before)"
        )
    fp = fingerprint(notebook)
    nb = execute(notebook)
    store(notebook, nb, fp)
    return nb, False
