"""Reading, saving and describing scenarios: parsing YAML/JSON once (with line numbers), field errors as
``path: message`` with the YAML line, saving and the JSON schema.

Loading a scenario (:func:`gigawatt.load_scenario`: fields, then the whole-scenario checks) is
:mod:`gigawatt.checks.load`, the layer above, which gathers every problem into one
:class:`~gigawatt.ScenarioError`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gigawatt.catalog import suggest
from gigawatt.errors import ScenarioError
from gigawatt.scenario.base import models_in
from gigawatt.scenario.root import Scenario

__all__ = ["save_scenario", "scenario_schema", "scenario_to_dict"]


# ----------------------------------------------------------------------------------------------- parsing
#: Deepest nesting of mappings/lists accepted in a scenario file (the scenario format itself needs < 15).
MAX_NESTING_DEPTH = 100

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


class _Loader(_YamlBase):
    """Safe YAML loader (libyaml when available) whose scalars that do not fit their tag (an impossible date
    ``2026-13-45``, ``!!int abc``) stay strings, so that the scenario validation reports them with their field
    path instead of a bare ``ValueError``."""


def _lenient(tag: str) -> None:
    strict = _Loader.yaml_constructors[tag]

    def construct(loader: Any, node: yaml.Node) -> Any:
        try:
            return strict(loader, node)
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError):
            return loader.construct_scalar(node)

    _Loader.add_constructor(tag, construct)


for _tag in ("int", "float", "bool", "null", "timestamp"):
    _lenient(f"tag:yaml.org,2002:{_tag}")


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node reachable along ``loc`` (a path of keys and indices)."""
    line = None
    for key in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _mark(source: str, node: yaml.Node) -> str:
    return f"{Path(source).name} line {node.start_mark.line + 1}"


def _node_problems(root: yaml.Node, source: str) -> list[tuple[str, str]]:
    """Duplicate keys and excessive nesting, found by an iterative walk of the YAML node tree."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            problems.append(
                (
                    path,
                    f"nested deeper than {MAX_NESTING_DEPTH} levels; not a scenario  [{_mark(source, node)}]",
                )
            )
            break
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for k, v in node.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                sub = f"{path}.{key}" if path else key
                if key in first_line:
                    problems.append(
                        (
                            sub,
                            f"duplicate key (first given on line {first_line[key]}); keep one  "
                            f"[{_mark(source, k)}]",
                        )
                    )
                else:
                    first_line[key] = k.start_mark.line + 1
                stack.append((v, sub, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((v, f"{path}[{i}]", depth + 1))
    return problems


def _yaml_error(exc: yaml.YAMLError, source: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    msg = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return ScenarioError([(where, msg)], source)


def _parse_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML once (libyaml): the data and the node tree that gives line numbers."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, source) from None
        except RecursionError:
            raise ScenarioError(
                [("", f"nested deeper than {MAX_NESTING_DEPTH} levels; not a scenario")], source
            ) from None
        if node is None:
            return None, None
        problems = _node_problems(node, source)
        if problems:
            raise ScenarioError(problems, source)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, source) from None
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:  # no tag can hold it
            raise ScenarioError([(source, f"YAML value error: {exc}")], source) from None
    finally:
        loader.dispose()
    return data, node


def _json_depth_ok(text: str) -> bool:
    """Whether brackets in a JSON text nest at most :data:`MAX_NESTING_DEPTH` deep (strings ignored)."""
    depth = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}; keep one")
        out[k] = v
    return out


def _parse_text(text: str, source: str, suffix: str) -> tuple[Any, yaml.Node | None]:
    if suffix == ".json":
        if not _json_depth_ok(text):
            raise ScenarioError(
                [("", f"nested deeper than {MAX_NESTING_DEPTH} levels; not a scenario")], source
            )
        try:
            return json.loads(text, object_pairs_hook=_reject_duplicate_json_keys), None
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                [(f"{source}:{exc.lineno}:{exc.colno}", f"JSON syntax error: {exc.msg}")], source
            ) from None
        except ValueError as exc:  # duplicate key
            raise ScenarioError([(source, f"JSON error: {exc}")], source) from None
    return _parse_yaml(text, source)


def _read_text(path: Path, max_bytes: float = float("inf")) -> str:
    """A scenario file's text, with every failure as a ScenarioError."""
    if path.is_dir():
        raise ScenarioError([(str(path), "is a directory, not a scenario file")], str(path))
    size = path.stat().st_size
    if size > max_bytes:
        raise ScenarioError(
            [
                (
                    str(path),
                    f"file of {size / 1e6:.1f} MB exceeds the {max_bytes / 1e6:g} MB limit for scenario files "
                    "(max_file_mb); put long series in CSV files referenced by path, or raise the limit",
                )
            ],
            str(path),
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([(str(path), f"cannot read: {exc.strerror or exc}")], str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [
                (
                    f"{path}:{line}",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
                )
            ],
            str(path),
        ) from None


# ------------------------------------------------------------------------------------ error formatting
def _all_field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for f in model.model_fields.values():
        for sub in models_in(f.annotation):
            names |= _all_field_names(sub, seen)
    return names


def _clean_loc(loc: tuple[Any, ...], data: Any, err_type: str = "") -> tuple[tuple[Any, ...], str]:
    """Drop union tags from a pydantic ``loc`` by walking the input data alongside it.

    An element is a real key when the input has it at that point (or, for a ``missing`` error, when it is
    the last element); anything else (``kind`` values of discriminated unions such as ``profile``, the
    ``name``/``spec`` tags of catalog references, member names of plain unions) is a tag and is dropped.
    """
    kept: list[Any] = []
    cur = data
    last = len(loc) - 1
    for i, key in enumerate(loc):
        if isinstance(cur, Mapping):
            if key in cur and not (isinstance(cur.get("kind"), str) and cur.get("kind") == key):
                kept.append(key)
                cur = cur[key]
            elif i == last and err_type == "missing":
                kept.append(key)
                cur = None
            # else: a union tag: skip
        elif isinstance(cur, list) and isinstance(key, int):
            kept.append(key)
            cur = cur[key] if 0 <= key < len(cur) else None
        # else: a tag below a scalar: skip
    path = ""
    for k in kept:
        path += f"[{k}]" if isinstance(k, int) else (f".{k}" if path else str(k))
    return tuple(kept), path


def _describe(err: Mapping[str, Any]) -> str:
    typ = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    scalar = isinstance(got, str | int | float | bool) or got is None
    got_txt = f" (got {got!r})" if scalar and typ not in ("missing", "extra_forbidden") else ""
    if typ == "missing":
        return "required field is missing"
    if typ == "extra_forbidden":
        return "unknown field"
    if typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[typ]
        bound = next(iter(ctx.values())) if ctx else "?"
        return f"must be {op} {bound}{got_txt}"
    if typ == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} item(s)"
    if typ == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if typ in ("union_tag_invalid", "union_tag_not_found"):
        return str(err["msg"]).replace("Input tag", "kind") + got_txt
    return str(err["msg"]) + got_txt


def _validation_problems(
    exc: ValidationError, data: Any, node: yaml.Node | None, source: str
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors():
        loc, path = _clean_loc(tuple(err["loc"]), data, err["type"])
        msg = _describe(err)
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            hint = difflib.get_close_matches(key, sorted(_FIELD_NAMES), n=1, cutoff=0.6)
            msg = f"unknown field {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            if not path.endswith(key):
                path = f"{path}.{key}" if path else key
        line = _line_of(node, loc) if node is not None else None
        if line is not None:
            msg += f"  [{Path(source).name} line {line}]"
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append((path, msg))
    return problems


_FIELD_NAMES: set[str] = set()


# --------------------------------------------------------------------------------- cross-references
_PATH_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _loc_of(path: str) -> tuple[Any, ...]:
    """``"workloads[0].target.gpus"`` → ``("workloads", 0, "target", "gpus")``."""
    return tuple(int(i) if i else name for i, name in _PATH_TOKEN.findall(path))


def _with_lines(
    problems: list[tuple[str, str]], node: yaml.Node | None, source: str
) -> list[tuple[str, str]]:
    """Append ``[file line N]`` to problems that do not carry a line yet."""
    if node is None:
        return problems
    out = []
    for path, msg in problems:
        if path and " line " not in msg.rsplit("[", 1)[-1]:
            line = _line_of(node, _loc_of(path))
            if line is not None:
                msg += f"  [{Path(source).name} line {line}]"
        out.append((path, msg))
    return out


def _raw_reference_problems(data: Mapping[str, Any], base_dir: Path | None) -> list[tuple[str, str]]:
    """Reference problems found in the raw data, reported with field errors (when the scenario does not
    validate, the full cross-checks cannot run): unknown halls and rack groups, missing files."""
    problems: list[tuple[str, str]] = []
    halls: dict[str, list[str]] = {}
    sites = data.get("sites")
    for site in sites if isinstance(sites, list) else []:
        if not isinstance(site, Mapping) or not isinstance(site.get("name"), str):
            return problems  # too broken to resolve anything
        for hall in site.get("halls") or []:
            if not isinstance(hall, Mapping) or not isinstance(hall.get("name"), str):
                return problems
            racks = hall.get("racks")
            halls[f"{site['name']}/{hall['name']}"] = [
                str(r.get("name"))
                for r in (racks if isinstance(racks, list) else [])
                if isinstance(r, Mapping)
            ]
    workloads = data.get("workloads")
    for wi, wl in enumerate(workloads if isinstance(workloads, list) else []):
        target = wl.get("target") if isinstance(wl, Mapping) else None
        if not isinstance(target, Mapping) or not isinstance(target.get("hall"), str):
            continue
        ref = target["hall"]
        keys = (
            [k for k in halls if k == ref] if "/" in ref else [k for k in halls if k.split("/", 1)[1] == ref]
        )
        if not keys:
            hint = suggest(ref, list(halls) + [k.split("/", 1)[1] for k in halls])
            problems.append(
                (
                    f"workloads[{wi}].target",
                    f"unknown hall {ref!r}" + (f"; did you mean {hint!r}?" if hint else ""),
                )
            )
        elif len(keys) == 1 and isinstance(target.get("rack_group"), str):
            names = halls[keys[0]]
            if target["rack_group"] not in names:
                hint = suggest(target["rack_group"], names)
                problems.append(
                    (
                        f"workloads[{wi}].target",
                        f"unknown rack group {target['rack_group']!r} in hall {ref!r}"
                        + (f"; did you mean {hint!r}?" if hint else ""),
                    )
                )
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        cur, path = stack.pop()
        if isinstance(cur, Mapping):
            for k, v in cur.items():
                sub = f"{path}.{k}" if path else str(k)
                if k in ("path", "trace_path") and isinstance(v, str) and v:
                    f = Path(v).expanduser()
                    f = f if f.is_absolute() or base_dir is None else base_dir / f
                    if not f.exists():
                        problems.append((sub, f"file not found: {f}"))
                else:
                    stack.append((v, sub))
        elif isinstance(cur, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(cur))
    return problems


# ----------------------------------------------------------------------------------------------- public
def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain JSON-compatible data (defaults filled in)."""
    return scenario.model_dump(mode="json")


def _absolute_paths(scenario: Scenario, data: Any) -> Any:
    """``data`` with every file path (keys ``path``/``trace_path``) resolved against the scenario's folder."""
    if isinstance(data, dict):
        return {
            k: str(scenario.resolve_path(v).resolve())
            if k in ("path", "trace_path") and isinstance(v, str)
            else _absolute_paths(scenario, v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_absolute_paths(scenario, v) for v in data]
    return data


def save_scenario(scenario: Scenario, path: str | Path, *, absolute_paths: bool = False) -> Path:
    """Write ``scenario`` as YAML (``.yaml``/``.yml``) or JSON (``.json``); loading it back gives an equal
    scenario. With ``absolute_paths`` every file it names is written as an absolute path, so the saved file
    loads from any folder (what :meth:`gigawatt.Result.to_dir` stores)."""
    path = Path(path)
    data = scenario_to_dict(scenario)
    if absolute_paths:
        data = _absolute_paths(scenario, data)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of the scenario file format."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gigawatt scenario"
    return schema
