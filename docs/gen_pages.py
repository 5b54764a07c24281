"""Pages the site build generates (run by the mkdocs-gen-files plugin, see ``mkdocs.yml``; nothing is written
into ``docs/``).

- ``getting-started.md``: the README's user sections (one text, two places; links into ``docs/`` rewritten).
- ``api/``: one page per public module of ``src/gigawatt``, found by walking the package, so modules that are
  added, moved or split into packages appear without editing anything here (private ``_*`` modules are
  left out); rendered by mkdocstrings from the numpydoc docstrings.
- ``examples/``: every ``examples/*.ipynb`` executed (``docs/_notebooks.py``: reused from the test suite's run
  when the code is unchanged) and rendered with its outputs by mkdocs-jupyter, plus a gallery page.
- ``SUMMARY.md``: the navigation (mkdocs-literate-nav): the pages below in a fixed order, then any other
  page under ``docs/`` so that a new page is never left out.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

import mkdocs_gen_files
from mkdocs.structure.files import InclusionLevel

log = logging.getLogger("mkdocs.plugins.gigawatt_docs.gen_pages")
DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
SRC = REPO / "src"
PACKAGE = "gigawatt"


def _load_notebooks_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gigawatt_docs_notebooks", DOCS / "_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------- README
README_SKIP = {"Documentation"}  # the site's navigation replaces the README's list of documents


def _rewrite_readme_links(text: str) -> str:
    """``[x](docs/a.md)`` → ``[x](a.md)``; links to files outside ``docs/`` become plain code."""

    def link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if re.match(r"[a-z]+://|#|mailto:", target):
            return m.group(0)
        if target.startswith("docs/"):
            return f"[{label}]({target.removeprefix('docs/')})"
        return label if label.startswith("`") else f"`{label}`"

    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", link, text)


def getting_started() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    intro, *sections = re.split(r"(?m)^(?=## )", readme)
    intro_body = intro.split("\n", 1)[1].strip()
    kept = [s for s in sections if s.splitlines()[0].removeprefix("## ").strip() not in README_SKIP]
    out = [
        "# Getting started",
        "",
        "<!-- Generated at build time from README.md (docs/gen_pages.py): edit the README. -->",
        "",
        intro_body,
        "",
        *(s.rstrip() + "\n" for s in kept),
    ]
    return _rewrite_readme_links("\n".join(out))


# ------------------------------------------------------------------------------------------------- API
def public_modules() -> list[tuple[tuple[str, ...], str, Path]]:
    """``[(module path parts, page path, source file)]`` for every public module and package of
    ``src/gigawatt`` (private ``_*`` modules and ``__main__`` left out)."""
    out: list[tuple[tuple[str, ...], str, Path]] = []
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if "__pycache__" in parts or parts[-1] == "__main__":
            continue
        if not (path.parent / "__init__.py").exists():
            raise RuntimeError(
                f"{path.parent.relative_to(REPO)} has modules but no __init__.py: the API reference "
                "(griffe) documents regular packages only; add an __init__.py with a docstring"
            )
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue  # private modules (gigawatt._progress, ...) are not API
        page = "/".join(("api", *parts, "index.md")) if is_package else "/".join(("api", *parts)) + ".md"
        out.append((parts, page, path))
    return out


def api_pages() -> list[tuple[tuple[str, ...], str]]:
    """Write one page per public module (``::: module``, rendered by mkdocstrings); ``[(parts, page)]``."""
    pages: list[tuple[tuple[str, ...], str]] = []
    for parts, page, path in public_modules():
        with mkdocs_gen_files.open(page, "w") as f:
            f.write(f"::: {'.'.join(parts)}\n")
        mkdocs_gen_files.set_edit_path(page, path.relative_to(REPO).as_posix())
        pages.append((parts, page))
    return pages


def api_nav(pages: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """literate-nav lines: each package a section (its own page first), modules before subpackages."""
    by_parts = dict(pages)
    nodes = sorted({parts[:d] for parts, _ in pages for d in range(1, len(parts) + 1)})
    lines: list[str] = []

    def has_children(node: tuple[str, ...]) -> bool:
        return any(len(p) > len(node) and p[: len(node)] == node for p in nodes)

    def emit(prefix: tuple[str, ...], depth: int) -> None:
        children = [p for p in nodes if len(p) == len(prefix) + 1 and p[: len(prefix)] == prefix]
        for child in sorted(children, key=lambda c: (has_children(c), c)):
            indent = "    " * depth
            title = ".".join(child)
            page = by_parts.get(child)
            link = page
            if has_children(child):
                lines.append(f"{indent}- {title}")
                if link:
                    lines.append(f"{indent}    - [{title}]({link})")
                emit(child, depth + 1)
            elif link:
                lines.append(f"{indent}- [{title}]({link})")

    emit((), 0)
    return lines


# -------------------------------------------------------------------------------------------- examples
def _title_and_blurb(nb: dict) -> tuple[str, str]:
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        m = re.search(r"(?m)^#\s+(.+)$", text)
        if not m:
            continue
        rest = text[m.end() :].strip()
        blurb = rest.split("\n\n", 1)[0].replace("\n", " ").strip()
        return m.group(1).strip(), blurb
    return "", ""


def _first_png(nb: dict) -> bytes | None:
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            data = out.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                return base64.b64decode("".join(png) if isinstance(png, list) else png)
    return None


def examples() -> list[tuple[str, str]]:
    """Execute (or reuse) every example notebook, write it and the gallery; ``[(title, page)]``."""
    import nbformat

    nbcache = _load_notebooks_module()
    notebooks = sorted((REPO / "examples").glob("*.ipynb"))
    cards: list[str] = []
    entries: list[tuple[str, str]] = []
    # GIGAWATT_DOCS_EXECUTE=0: notebooks as committed, without outputs (a quick look at the text while editing;
    # `make docs` always executes)
    execute = os.environ.get("GIGAWATT_DOCS_EXECUTE", "1") != "0"
    reuse_only = os.environ.get("GIGAWATT_DOCS_REUSE_ONLY", "0") == "1"
    for path in notebooks:
        t0 = time.perf_counter()
        if execute:
            nb, reused = nbcache.executed_notebook(path, reuse_only=reuse_only)
        else:
            nb, reused = nbformat.read(path, as_version=4), True
        errs = nbcache.errors(nb)
        if errs:
            raise RuntimeError(f"{path.name}: error output while executing: {errs[0].get('ename')}")
        log.info("%s %s in %.1f s", path.name, "reused" if reused else "executed", time.perf_counter() - t0)
        raw = json.loads(nbformat.writes(nb))
        raw["metadata"].pop(nbcache.FINGERPRINT_KEY, None)
        with mkdocs_gen_files.open(f"examples/{path.name}", "w") as f:
            f.write(json.dumps(raw, indent=1))
        mkdocs_gen_files.set_edit_path(f"examples/{path.name}", f"examples/{path.name}")
        title, blurb = _title_and_blurb(raw)
        title = title or path.stem.replace("_", " ")
        entries.append((title, f"examples/{path.name}"))
        png = _first_png(raw)
        thumb = ""
        if png is not None:
            with mkdocs_gen_files.open(f"examples/img/{path.stem}.png", "wb") as f:
                f.write(png)
            thumb = f"    [![{title}](img/{path.stem}.png)]({path.name})\n\n"
        cards.append(f"-   **[{title}]({path.name})**\n\n{thumb}    {blurb}\n\n    `examples/{path.name}`\n")
    gallery = [
        "# Examples",
        "",
        "Every notebook in `examples/` is executed when the site is built (the repository keeps them without",
        "outputs) and shown here with its outputs; the test suite runs the same notebooks, so what you see",
        "is what the current code computes. Download a notebook from its page, or run it from a clone",
        "(`make setup`, then open `examples/` in Jupyter with the `.venv` kernel).",
        "",
        '<div class="grid cards" markdown>',
        "",
        *cards,
        "</div>",
        "",
    ]
    with mkdocs_gen_files.open("examples/index.md", "w") as f:
        f.write("\n".join(gallery))
    return entries


# ------------------------------------------------------------------------------------------ navigation
# Hand-written and generated pages in reading order; any other page found under docs/ is appended.
NAV_TOP = [
    ("Home", "index.md"),
    ("Getting started", "getting-started.md"),
]
NAV_MODELS_ORDER = ["facility", "energy", "training", "inference", "fleet_time", "economics", "buildout"]
NAV_AFTER_MODELS = [
    ("Planning", "planning.md"),
    ("Robustness", "robustness.md"),
    ("Validation report", "validation.md"),
    ("Architecture", "architecture.md"),
]


def _page_title(path: Path) -> str:
    m = re.search(r"(?m)^#\s+(.+)$", path.read_text(encoding="utf-8"))
    return m.group(1).strip() if m else path.stem.replace("_", " ")


def navigation(example_entries: list[tuple[str, str]], api: list[tuple[tuple[str, ...], str]]) -> str:
    listed = {p for _, p in NAV_TOP + NAV_AFTER_MODELS} | {"scenario.md"}
    lines = [f"- [{t}]({p})" for t, p in NAV_TOP]
    lines.append("- Examples")
    lines.append("    - [Gallery](examples/index.md)")
    lines += [f"    - [{t}]({p})" for t, p in example_entries]
    lines.append("- [Scenario reference](scenario.md)")
    lines.append("- Models")
    models = sorted(
        (DOCS / "models").glob("*.md"),
        key=lambda p: (
            p.stem not in NAV_MODELS_ORDER,
            NAV_MODELS_ORDER.index(p.stem) if p.stem in NAV_MODELS_ORDER else 0,
            p.stem,
        ),
    )
    for p in models:
        title = _page_title(p).split(":", 1)[0].removesuffix(" model").strip()
        lines.append(f"    - [{title}](models/{p.name})")
        listed.add(f"models/{p.name}")
    lines += [f"- [{t}]({p})" for t, p in NAV_AFTER_MODELS]
    others = sorted(
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if p.relative_to(DOCS).as_posix() not in listed and not p.name.startswith("_")
    )
    if others:
        lines.append("- More")
        lines += [f"    - [{_page_title(DOCS / p)}]({p})" for p in others]
    lines.append("- API reference")
    lines += ["    " + line for line in api_nav(api)]
    return "\n".join(lines) + "\n"


def main() -> None:
    with mkdocs_gen_files.open("getting-started.md", "w") as f:
        f.write(getting_started())
    mkdocs_gen_files.set_edit_path("getting-started.md", "README.md")
    api = api_pages()
    example_entries = examples()
    with mkdocs_gen_files.open("SUMMARY.md", "w") as f:
        f.write(navigation(example_entries, api))
    # the navigation source is read by literate-nav, not published as a page of its own
    summary = mkdocs_gen_files.FilesEditor.current().files.get_file_from_path("SUMMARY.md")
    assert summary is not None
    summary.inclusion = InclusionLevel.EXCLUDED


if __name__ in {
    "__main__",
    "<run_path>",
}:  # run by mkdocs-gen-files (runpy.run_path); importable by the tests
    main()
