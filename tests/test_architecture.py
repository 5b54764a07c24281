"""The import graph of ``src/gigawatt``: no cycles, layers one-way, no imports hidden in functions to dodge either.

Every module is parsed with :mod:`ast`; module-level and function-local ``gigawatt`` imports both count (imports
under ``if TYPE_CHECKING:`` do not: they never run). The layers, lowest first (a module may import its own layer
and the layers below it, never one above; see ``docs/architecture.md``):

====  ==========  =====================================================================================
rank  layer       modules
====  ==========  =====================================================================================
0     base        ``errors``, ``units``, ``rng``, ``_html``, ``_version`` (standard library and numpy only)
1     physics     ``physics/`` (pure numpy/scipy functions; ``physics/phases.py`` holds ``Phase``)
2     perf        ``perf/`` (workload performance models)
3     catalog     ``catalog`` (presets as plain data)
4     scenario    ``scenario/`` (pydantic models + io; of the layers below only the catalog, and the constant
                  tables of :data:`SCENARIO_MAY_IMPORT`)
5     checks      ``checks/`` (every check beyond a model's own fields; ``load_scenario``)
6     result      ``result``, ``plot``, ``pareto``, ``_progress`` (output of a run; never the engine)
7     engine      ``engine/`` (``simulate`` builds a Result)
8     planning    ``solve``, ``sweep``, ``economics/``, ``buildout/`` (on top of ``simulate``)
9     top         ``gigawatt/__init__``, ``cli``, ``__main__``
====  ==========  =====================================================================================

Function-local imports are allowed only for heavy third-party modules (:data:`LAZY_THIRD_PARTY`), each with a
comment containing ``lazy`` on its line or the line above saying why.

Set ``GIGAWATT_ARCH_SRC`` to another ``src/gigawatt`` folder to check that tree instead of this one.
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SRC = Path(os.environ.get("GIGAWATT_ARCH_SRC", Path(__file__).resolve().parents[1] / "src" / "gigawatt"))

#: Layers by module prefix (longest prefix wins), lowest first.
LAYERS: dict[str, int] = {
    "gigawatt.errors": 0,
    "gigawatt.units": 0,
    "gigawatt.rng": 0,
    "gigawatt._html": 0,
    "gigawatt._version": 0,
    "gigawatt.jit": 0,
    "gigawatt.physics": 1,
    "gigawatt.perf": 2,
    "gigawatt.catalog": 3,
    "gigawatt.scenario": 4,
    "gigawatt.checks": 5,
    "gigawatt.result": 6,
    "gigawatt.plot": 6,
    "gigawatt.pareto": 6,
    "gigawatt._progress": 6,
    "gigawatt.engine": 7,
    "gigawatt.solve": 8,
    "gigawatt.sweep": 8,
    "gigawatt.economics": 8,
    "gigawatt.buildout": 8,
    "gigawatt": 9,
    "gigawatt.cli": 9,
    "gigawatt.__main__": 9,
    "gigawatt.jit.warm": 9,
    "gigawatt.jit.__main__": 9,
}
LAYER_NAMES = [
    "base",
    "physics",
    "perf",
    "catalog",
    "scenario",
    "checks",
    "result",
    "engine",
    "planning",
    "top",
]

#: The scenario models import, of the layers below the catalog, only these plain constant tables.
SCENARIO_MAY_IMPORT: dict[str, str] = {
    "gigawatt.physics.cooling": "SINK_WET_BULB, SINK_DRY_BULB: the heat-sink codes a CoolingSpec override sets",
    "gigawatt.physics.cooling_designs": "cooling_design: the frozen cooling-design presets (data/cooling_designs.yaml) a "
    "CoolingSpec names, defaults to and overrides",
}

#: Third-party modules that may be imported inside a function (start-up cost; optional features).
LAZY_THIRD_PARTY = {"matplotlib", "pvlib", "scipy", "tqdm", "distributed", "dask"}


@dataclass(frozen=True)
class Import:
    module: str
    """The importing module."""
    target: str
    """The imported module (a gigawatt module, or the top-level name of another package)."""
    local: bool
    """Inside a function."""
    line: int
    lazy_comment: bool
    """A comment containing ``lazy`` on the import's line or the line above."""


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(root.rglob("*.py")):
        name = ".".join(p.relative_to(root.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


MODULES = _modules(SRC)


def _targets(
    modules: dict[str, Path], module: str, node: ast.Import | ast.ImportFrom, is_pkg: bool
) -> list[str]:
    """Modules an import statement loads (gigawatt modules by full name, others by top-level name)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".")[: len(module.split(".")) - node.level + (1 if is_pkg else 0)]
            base = ".".join(parts + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    out = []
    for n in names:
        if n.split(".")[0] != "gigawatt":
            out.append(n.split(".")[0])
            continue
        while n and n not in modules:
            n = n.rpartition(".")[0]
        if n and n != module:
            out.append(n)
    return out


def _imports(modules: dict[str, Path]) -> list[Import]:
    found: list[Import] = []
    for module, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)

        def visit(
            node: ast.AST, in_func: bool, module: str = module, lines: list[str] = lines, path: Path = path
        ) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    for sub in child.orelse:  # the else branch runs
                        visit(sub, in_func)
                    continue
                func = in_func or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                if isinstance(child, ast.Import | ast.ImportFrom):
                    near = " ".join(lines[max(child.lineno - 2, 0) : child.end_lineno])
                    for target in dict.fromkeys(_targets(modules, module, child, path.name == "__init__.py")):
                        found.append(Import(module, target, func, child.lineno, "lazy" in near))
                visit(child, func)

        visit(tree, False)
    return found


IMPORTS = _imports(MODULES)


def _layer(module: str) -> int | None:
    best = None
    for prefix, rank in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, rank)
    return None if best is None else best[1]


def _cycles(imports: list[Import], modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as one cycle through them."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.target in modules:
            graph[imp.module].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []

    def strong(v: str) -> None:  # recursion depth = longest import chain (tens)
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    for v in sorted(modules):
        if v not in index:
            strong(v)
    cycles = []
    for comp in comps:  # one concrete cycle through the component, for the message
        members = set(comp)
        start = min(comp)
        path, seen = [start], {start}
        while True:
            nxt = sorted(w for w in graph[path[-1]] if w in members)
            back = [w for w in nxt if w == start]
            if back and len(path) > 1:
                break
            fresh = [w for w in nxt if w not in seen]
            if not fresh:
                break
            path.append(fresh[0])
            seen.add(fresh[0])
        cycles.append([*path, start])
    return cycles


def _edge(imp: Import) -> str:
    kind = "function-local import" if imp.local else "import"
    return f"{imp.module} (line {imp.line}) → {imp.target}: {kind}"


def _upward_imports(imports: list[Import], modules: dict[str, Path]) -> list[str]:
    bad = []
    for imp in imports:
        if imp.target not in modules:
            continue
        src, dst = _layer(imp.module), _layer(imp.target)
        if src is None or dst is None:
            continue  # reported by test_every_module_has_a_layer
        if dst > src:
            bad.append(f"{_edge(imp)} ({LAYER_NAMES[src]} imports {LAYER_NAMES[dst]}, a layer above)")
    return bad


def _local_import_problems(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        if not imp.local:
            continue
        if imp.target not in LAZY_THIRD_PARTY:
            bad.append(f"{_edge(imp)}: import it at the top of the module")
        elif not imp.lazy_comment:
            bad.append(f"{_edge(imp)}: say why it is lazy (a comment with 'lazy' on the line or above)")
    return bad


# ------------------------------------------------------------------------------------------------ tests
def test_every_module_has_a_layer() -> None:
    assert MODULES, f"no modules under {SRC}"
    missing = sorted(m for m in MODULES if _layer(m) is None)
    assert not missing, f"modules without a layer (add them to LAYERS and docs/architecture.md): {missing}"


def test_no_import_cycles() -> None:
    cycles = _cycles(IMPORTS, MODULES)
    assert not cycles, "import cycles (module-level and function-local imports):\n" + "\n".join(
        "  " + " → ".join(c) for c in cycles
    )


def test_layers_import_only_downwards() -> None:
    bad = _upward_imports(IMPORTS, MODULES)
    assert not bad, "imports against the layers:\n" + "\n".join("  " + b for b in bad)


def test_scenario_imports_only_catalog_and_constant_tables() -> None:
    scenario, catalog = LAYERS["gigawatt.scenario"], LAYERS["gigawatt.catalog"]
    bad = [
        _edge(imp)
        for imp in IMPORTS
        if _layer(imp.module) == scenario
        and imp.target in MODULES
        and 0 < (_layer(imp.target) or 0) < catalog
        and imp.target not in SCENARIO_MAY_IMPORT
    ]
    assert not bad, "scenario/ imports physics or perf beyond SCENARIO_MAY_IMPORT:\n" + "\n".join(bad)


def test_function_local_imports_only_for_heavy_third_party_modules() -> None:
    bad = _local_import_problems(IMPORTS)
    assert not bad, "function-local imports:\n" + "\n".join("  " + b for b in bad)


def test_the_rules_can_fail(tmp_path: Path) -> None:
    """A tiny tree with a cycle through a function-local import, an upward import and a lazy import without a
    comment: each rule reports it."""
    pkg = tmp_path / "gigawatt"
    for sub in ("scenario", "engine"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "scenario" / "a.py").write_text("def f():\n    from gigawatt.engine import b\n")
    (pkg / "engine" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nfrom gigawatt.scenario import a\nif TYPE_CHECKING:\n"
        "    from gigawatt import c\ndef g():\n    import matplotlib\n"
    )
    (pkg / "c.py").write_text("")
    modules = _modules(pkg)
    imports = _imports(modules)
    assert _cycles(imports, modules) == [["gigawatt.engine.b", "gigawatt.scenario.a", "gigawatt.engine.b"]]
    assert [i.target for i in imports if i.module == "gigawatt.engine.b"] == [
        "typing",
        "gigawatt.scenario.a",
        "matplotlib",
    ]
    (up,) = _upward_imports(imports, modules)
    assert "gigawatt.scenario.a (line 2) → gigawatt.engine.b" in up and "scenario imports engine" in up
    local = _local_import_problems(imports)
    assert len(local) == 2
    assert any("scenario.a" in b and "import it at the top" in b for b in local)
    assert any("matplotlib" in b and "say why it is lazy" in b for b in local)
