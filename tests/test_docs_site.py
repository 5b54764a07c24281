"""The documentation site's own code: docstring conversion, generated pages (the build itself: `make docs`,
run by `make test` after the suite, fails on any warning)."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from tests.conftest import REPO

pytest.importorskip("mkdocs_gen_files")  # the `docs` extra (installed by make setup)


def _load(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"gigawatt_docs_{name}", REPO / "docs" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_rst_math_becomes_arithmatex_markdown() -> None:
    rst = _load("griffe_rst").rst_to_markdown
    text = "Energy.\n\n.. math::\n\n    E = P t\n\n    m = E I\n\nwith :math:`P_{it}` [kW]."
    md = rst(text)
    assert md.count("$$") == 4  # one block per equation
    assert "$$\nE = P t\n$$" in md and "$$\nm = E I\n$$" in md
    assert r"\(P_{it}\)" in md
    inline = rst("Storage.\n.. math:: S_{t+1} = S_t + x\n    + y\nafter")
    assert "$$\nS_{t+1} = S_t + x\n+ y\n$$" in inline and inline.endswith("after")


def test_resolved_roles_become_optional_links() -> None:
    rst = _load("griffe_rst").rst_to_markdown
    paths = {"simulate": "gigawatt.engine.core.simulate"}
    md = rst("Run :func:`simulate`, then :meth:`~Result.to_dir`.", paths.get)
    assert (
        '<autoref identifier="gigawatt.engine.core.simulate" optional><code>simulate</code></autoref>' in md
    )
    assert "`to_dir`" in md  # not resolved: plain code


def test_tex_backslash_lost_to_a_python_escape_is_restored() -> None:
    rst = _load("griffe_rst").rst_to_markdown
    assert rst(":math:`B = (\bar O - 1)/N + \frac{a}{b}`") == r"\(B = (\bar O - 1)/N + \frac{a}{b}\)"


def test_rst_roles_and_citations_become_plain_markdown() -> None:
    rst = _load("griffe_rst").rst_to_markdown
    assert rst(":func:`~gigawatt.engine.core.simulate`") == "`simulate`"
    assert rst(":class:`gigawatt.Result`") == "`gigawatt.Result`"
    # [kg] [EPA2024] would be a Markdown reference link: the second bracket is escaped, math and code are not
    assert rst("CO2 [kg] [EPA2024]_.") == r"CO2 [kg] \[EPA2024]."
    assert rst(":math:`[a] [b]` and ``[c] [d]``") == r"\([a] [b]\) and ``[c] [d]``"
    assert rst(".. [EPA2024] U.S. EPA, 2024.\n.. [1] Other.") == "- [EPA2024] U.S. EPA, 2024.\n- [1] Other."


def test_api_pages_cover_every_public_module() -> None:
    gen = _load("gen_pages")
    modules = {".".join(parts): page for parts, page, _ in gen.public_modules()}
    expected = {
        ".".join(p.relative_to(REPO / "src").with_suffix("").parts).removesuffix(".__init__")
        for p in (REPO / "src" / "gigawatt").rglob("*.py")
        if "__pycache__" not in p.parts and p.stem != "__main__"
    }
    expected = {m for m in expected if not any(part.startswith("_") for part in m.split("."))}
    assert set(modules) == expected
    assert modules["gigawatt"] == "api/gigawatt/index.md"
    assert modules["gigawatt.engine.clock"] == "api/gigawatt/engine/clock.md"
    assert "gigawatt._progress" not in modules


def test_getting_started_follows_the_readme() -> None:
    page = _load("gen_pages").getting_started()
    assert page.startswith("# Getting started")
    assert "make demo" in page and "## The scenario file" in page
    assert "](docs/" not in page and "[docs/planning.md](planning.md)" in page
    assert "## Documentation" not in page  # the site's navigation replaces that list


def test_pages_named_in_backticks_become_links() -> None:
    hooks = _load("hooks")
    known = {"models/energy.md", "models/facility.md", "planning.md", "examples/quickstart.ipynb"}
    md = hooks._linkify(
        "See `docs/models/energy.md` §7, `docs/planning.md`, `examples/quickstart.ipynb`, `docs/missing.md`.",
        "models/facility.md",
        known,
    )
    assert "[`docs/models/energy.md`](energy.md)" in md
    assert "[`docs/planning.md`](../planning.md)" in md
    assert "[`examples/quickstart.ipynb`](../examples/quickstart.ipynb)" in md
    assert "`docs/missing.md`." in md and "[`docs/missing.md`]" not in md


def test_fenced_code_keeps_page_names_as_code() -> None:
    hooks = _load("hooks")

    class _File:
        src_uri = "architecture.md"

    class _Page:
        file = _File()

    class _F:
        def __init__(self, uri: str) -> None:
            self.src_uri = uri

    md = "```\nsee `docs/planning.md`\n```\nand `docs/planning.md`\n"
    out = hooks.on_page_markdown(
        md, page=_Page(), config=None, files=[_F("planning.md"), _F("architecture.md")]
    )
    assert out == "```\nsee `docs/planning.md`\n```\nand [`docs/planning.md`](planning.md)\n"


def test_unrendered_math_is_found() -> None:
    hooks = _load("hooks")
    ok = '<p>a <span class="arithmatex">\\(x\\)</span> and $11.7M</p><div class="arithmatex">\\[y\\]</div><code>$$</code>'
    assert hooks.unrendered_math(ok) == []
    assert len(hooks.unrendered_math("<p>text\n$$\nE = P t\n$$</p>")) == 2
