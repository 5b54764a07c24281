"""Loading, saving, validating and describing scenarios.

All input problems are gathered and raised together as one :class:`~gigawatt.ScenarioError`, each as
``path: message`` with the YAML line where it is known.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gigawatt.errors import ScenarioError
from gigawatt.scenario.root import Scenario

__all__ = ["load_scenario", "save_scenario", "scenario_schema", "scenario_to_dict", "validate_scenario"]


# ----------------------------------------------------------------------------------------------- parsing
def _yaml_line_index(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node reachable along ``loc``."""
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
            continue  # union tag or unknown key: stay on this node
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _parse_text(text: str, source: str, suffix: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                [(f"{source}:{exc.lineno}:{exc.colno}", f"JSON syntax error: {exc.msg}")], source
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        msg = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
        raise ScenarioError([(where, msg)], source) from None


# ------------------------------------------------------------------------------------ error formatting
def _all_field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for f in model.model_fields.values():
        for sub in _models_in(f.annotation):
            names |= _all_field_names(sub, seen)
    return names


def _models_in(tp: Any) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    for arg in getattr(tp, "__args__", ()) or ():
        out.extend(_models_in(arg))
    meta = getattr(tp, "__metadata__", None)
    if meta is not None:
        out.extend(_models_in(getattr(tp, "__origin__", None)))
    return out


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[tuple[Any, ...], str]:
    """Drop union-tag elements from a pydantic ``loc`` by walking the input data alongside it."""
    kept: list[Any] = []
    cur = data
    for key in loc:
        if isinstance(cur, Mapping) and key in cur:
            kept.append(key)
            cur = cur[key]
        elif isinstance(cur, list) and isinstance(key, int):
            kept.append(key)
            cur = cur[key] if 0 <= key < len(cur) else None
        elif isinstance(cur, Mapping) and isinstance(key, str) and not key.startswith(("function", "union")):
            # missing / extra field: a real key not present in the input (or a tag we cannot tell apart)
            if key in _FIELD_NAMES:
                kept.append(key)
                cur = None
        # else: a union tag ("utilization", "name", "spec", ...): skip
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
        loc, path = _clean_loc(tuple(err["loc"]), data)
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
def _reference_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Checks that need the whole scenario: workload targets, GPU counts, files."""
    from gigawatt.scenario.resolve import target_problems

    return target_problems(sc)


# ----------------------------------------------------------------------------------------------- public
def validate_scenario(data: Any, *, source: str = "<dict>", _node: yaml.Node | None = None) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`, raising one ScenarioError with every problem."""
    if not _FIELD_NAMES:
        _FIELD_NAMES.update(_all_field_names(Scenario))
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [("", f"a scenario must be a mapping of fields, got {type(data).__name__}")], source
        )
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_validation_problems(exc, data, _node, source), source) from None
    return sc


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source
        A path to a ``.yaml``/``.yml``/``.json`` file, the name of a bundled scenario (``"reference"``;
        see ``gigawatt catalog scenarios``), a mapping, or a :class:`Scenario` (returned unchanged).

    Raises
    ------
    ScenarioError
        Listing every problem (syntax errors with line numbers, unknown fields, wrong types, bad values,
        unknown catalog names with a suggestion, physically impossible designs, bad references).
    """
    if isinstance(source, Scenario):
        return source
    node = None
    base_dir: Path | None = None
    if isinstance(source, Mapping):
        data: Any = dict(source)
        name = "<dict>"
    else:
        path = Path(source)
        if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
            if not path.exists():
                raise ScenarioError([(str(path), "file not found")], str(path))
            text = path.read_text(encoding="utf-8")
            name = str(path)
            base_dir = path.resolve().parent
        else:
            from gigawatt import catalog

            try:
                traversable = catalog.scenario_path(str(source))
            except KeyError as exc:
                raise ScenarioError(
                    [(str(source), f"no such file, and {exc.args[0]}")], str(source)
                ) from None
            text = traversable.read_text(encoding="utf-8")
            name = f"{source}.yaml"
            base_dir = None
        data = _parse_text(text, name, path.suffix.lower())
        if path.suffix.lower() != ".json":
            node = _yaml_line_index(text)
    sc = validate_scenario(data, source=name, _node=node)
    sc._base_dir = base_dir
    problems = _reference_problems(sc)
    if problems:
        raise ScenarioError(problems, name)
    return sc


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain JSON-compatible data (defaults filled in)."""
    return scenario.model_dump(mode="json")


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` as YAML (``.yaml``/``.yml``) or JSON (``.json``); loading it back gives an equal
    scenario."""
    path = Path(path)
    data = scenario_to_dict(scenario)
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
