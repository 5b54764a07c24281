"""Validated edits of a scenario by dotted path.

A *path* names one field anywhere in a scenario, in the same spelling as the error messages::

    horizon_h
    sites[ashburn].grid.import_capacity_mw        # a list element by its ``name``
    sites[0].halls[1].racks[0].count              # or by position (negative positions count from the end)
    workloads["chat/eu"].target.gpus              # quote names that contain brackets, dots or slashes

:func:`apply_updates` applies a mapping ``{path: value}`` to the scenario's *input* (the fields the user
set, not the defaults filled in, so that a changed ``cooling.technology`` brings its own default design);
:func:`gigawatt.checks.load.updated_scenario` (:meth:`Scenario.updated`) validates the result as a whole,
exactly like :func:`gigawatt.load_scenario`: a new :class:`Scenario`, or one :class:`~gigawatt.ScenarioError`
listing every problem (bad paths and bad values together). The same syntax
names sweep axes.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from gigawatt.errors import ScenarioError
from gigawatt.scenario.base import models_in

if TYPE_CHECKING:
    from gigawatt.scenario.root import Scenario

__all__ = ["apply_updates", "format_path", "parse_path", "value_at"]

Key = str | int
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>[A-Za-z_][A-Za-z0-9_]*)                   # a field name
      | \[\s*(?P<int>-?\d+)\s*\]                            # [3]  [-1]
      | \[\s*(?P<q>["'])(?P<quoted>(?:(?!(?P=q)).)*)(?P=q)\s*\]   # ["name with / or ."]
      | \[(?P<bare>[^\]\["']+)\]                            # [name]
      | (?P<dot>\.)
    )""",
    re.VERBOSE,
)


class _Name(str):
    """A list element addressed by its ``name`` field (kept apart from a field name)."""

    __slots__ = ()


def parse_path(path: str) -> list[Key]:
    """Split a dotted path into field names (``str``), positions (``int``) and element names (``_Name``).

    Raises
    ------
    ValueError
        When the path is empty or malformed; the message says where.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("a path must be a non-empty string such as 'sites[0].grid.import_capacity_mw'")
    keys: list[Key] = []
    pos = 0
    expect_field = True  # a field name may follow only at the start or after a dot
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read the path {path!r} at character {pos + 1}: {path[pos:]!r}")
        if m.group("dot"):
            if expect_field:
                raise ValueError(f"misplaced '.' in the path {path!r} at character {pos + 1}")
            expect_field = True
        elif m.group("field") is not None:
            if not expect_field:
                raise ValueError(f"missing '.' before {m.group('field')!r} in the path {path!r}")
            keys.append(m.group("field"))
            expect_field = False
        else:
            if not keys:
                raise ValueError(f"the path {path!r} must start with a field name")
            if m.group("int") is not None:
                keys.append(int(m.group("int")))
            else:
                name = m.group("quoted") if m.group("q") else m.group("bare").strip()
                keys.append(_Name(name))
            expect_field = False
        pos = m.end()
    if expect_field:
        raise ValueError(f"the path {path!r} ends with '.'")
    return keys


def format_path(keys: list[Key]) -> str:
    """The inverse of :func:`parse_path` (names quoted when they need it)."""
    out = ""
    for k in keys:
        if isinstance(k, _Name):
            plain = re.fullmatch(r"[^\]\[\"'.]+", k) is not None and k.strip() == k
            out += f"[{k}]" if plain else f"[{k!r}]"
        elif isinstance(k, int):
            out += f"[{k}]"
        else:
            out += f".{k}" if out else k
    return out


def _field_names(model: type[BaseModel] | None) -> list[str]:
    return sorted(model.model_fields) if model is not None else []


def _list_index(items: list[Any], key: Key, where: str) -> int:
    if isinstance(key, _Name):
        names = [it.get("name") if isinstance(it, Mapping) else None for it in items]
        if key in names:
            return names.index(key)
        known = [str(n) for n in names if n is not None]
        hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        raise KeyError(
            f"{where} has no element named {str(key)!r}"
            + (f"; did you mean {hint[0]!r}?" if hint else f" (names: {', '.join(known) or 'none'})")
        )
    if isinstance(key, int) and -len(items) <= key < len(items):
        return key % len(items)
    raise KeyError(f"{where} has {len(items)} element(s); position {key} does not exist")


def _submodels(model: type[BaseModel] | None, field: str) -> list[type[BaseModel]]:
    """The pydantic models a field may hold (unwrapping lists, optionals and unions)."""
    if model is None or field not in model.model_fields:
        return []
    return list(dict.fromkeys(models_in(model.model_fields[field].annotation)))


def _pick(models: list[type[BaseModel]], value: Any) -> type[BaseModel] | None:
    """The one model of ``models`` that describes ``value`` (by its ``kind`` tag for unions)."""
    if len(models) == 1:
        return models[0]
    if isinstance(value, Mapping) and "kind" in value:
        tagged = [
            m for m in models if "kind" in m.model_fields and m.model_fields["kind"].default == value["kind"]
        ]
        if len(tagged) == 1:
            return tagged[0]
    return None


def _walk(data: Any, keys: list[Key], model: type[BaseModel] | None, *, create: bool) -> tuple[Any, Key]:
    """Follow ``keys[:-1]`` from ``data``; return the container of the last key and the key to use there."""
    cur = data
    options: list[type[BaseModel]] = [model] if model is not None else []
    for i, key in enumerate(keys):
        where = format_path(keys[:i]) or "the scenario"
        last = i == len(keys) - 1
        if isinstance(key, str) and not isinstance(key, _Name):
            if not isinstance(cur, dict):
                raise KeyError(f"{where} is not a mapping of fields; cannot take .{key}")
            if model is not None and key not in model.model_fields:
                hint = difflib.get_close_matches(key, _field_names(model), n=1, cutoff=0.6)
                raise KeyError(
                    f"{where} has no field {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                )
            if last:
                return cur, key
            if key not in cur or cur[key] is None:
                if not create:
                    raise KeyError(f"{format_path(keys[: i + 1])} is not set")
                nxt = keys[i + 1]
                if not isinstance(nxt, str) or isinstance(nxt, _Name):
                    raise KeyError(f"{format_path(keys[: i + 1])} is not set; set the whole list first")
                cur[key] = {}
            options = _submodels(model, key)
            cur = cur[key]
            model = _pick(options, cur)
        else:
            if not isinstance(cur, list):
                raise KeyError(f"{where} is not a list; cannot take [{key}]")
            idx = _list_index(cur, key, where)
            if last:
                return cur, idx
            cur = cur[idx]
            model = _pick(options, cur)
    raise KeyError("empty path")  # unreachable: parse_path never returns an empty list


def apply_updates(
    scenario: Scenario, updates: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The scenario's input (the fields the user set) with ``updates`` (``{path: value}``) applied in order,
    and the problems of the paths that could not be applied (``(path, message)``); not validated yet (that is
    :func:`gigawatt.checks.load.updated_scenario`).

    Raises
    ------
    ScenarioError
        When ``updates`` is not a mapping.
    """
    if not isinstance(updates, Mapping):
        raise ScenarioError(
            [("", f"updates must be a mapping of path -> value, got {type(updates).__name__}")]
        )
    data = copy.deepcopy(scenario.model_dump(mode="python", exclude_unset=True, by_alias=True))
    problems: list[tuple[str, str]] = []
    for path, value in updates.items():
        try:
            keys = parse_path(path)
            container, key = _walk(data, keys, type(scenario), create=True)
        except (ValueError, KeyError) as exc:
            msg = exc.args[0] if exc.args else str(exc)
            problems.append((str(path), f"cannot update: {msg}"))
            continue
        container[key] = copy.deepcopy(value)
    return data, problems


def value_at(scenario: Scenario, path: str) -> Any:
    """The value of one field of a (validated) scenario by path, defaults included.

    Raises
    ------
    KeyError
        When the path names no field (the message says which part and suggests a spelling).
    """
    data = scenario.model_dump(mode="python", by_alias=True)
    keys = parse_path(path)
    container, key = _walk(data, keys, type(scenario), create=False)
    try:
        return container[key]
    except (KeyError, IndexError):
        raise KeyError(f"{path} is not set") from None
