"""Generate the scenario reference (``docs/scenario.md``) from the models themselves, so it stays true.

``python -m gigawatt.scenario.docgen > docs/scenario.md`` (``make docs``); a test fails when it is stale.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gigawatt.scenario.root import Scenario
from gigawatt.units import unit_of

__all__ = ["scenario_reference_markdown"]

_INTRO = """# Scenario reference

Generated from the models by `make docs` (`python -m gigawatt.scenario.docgen`); do not edit by hand.

A scenario is YAML or JSON. Units are in the field names (`_mw`, `_kw`, `_w`, `_c`, `_s`, `_h`, `_frac` for
fractions in 0–1, `_usd`, ...). Unknown fields are errors. Every problem is reported at once as
`path: message` (`gigawatt check FILE`). Lists discriminated by `kind` take the fields of the chosen kind.
The bundled reference scenario, `examples/scenarios/reference.yaml`, shows most fields in use.
"""


def _models(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    out: list[type[BaseModel]] = []
    for a in get_args(tp):
        out.extend(_models(a))
    return out


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _type_name(get_args(tp)[0])
    if origin is Literal:
        return " \\| ".join(f"`{a!r}`".replace("'", '"') for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in get_args(tp))
    if origin is list:
        return f"list[{_type_name(get_args(tp)[0])}]"
    if origin is dict:
        k, v = get_args(tp)
        return f"dict[{_type_name(k)}, {_type_name(v)}]"
    if tp is type(None):
        return "null"
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            return f"[{tp.__name__}](#{tp.__name__.lower()})"
        return tp.__name__
    return str(tp).replace("typing.", "")


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    d = field.default
    if d is PydanticUndefined:
        d = field.default_factory() if field.default_factory else None
    if isinstance(d, BaseModel):
        return "(defaults)"
    if d is None:
        return "null"
    return f"`{d}`" if not isinstance(d, str) else f'`"{d}"`'


def _constraints(field: Any) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"), ("min_length", "min items")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def scenario_reference_markdown() -> str:
    """Markdown tables of every scenario model and field (type, unit, default, constraints, description)."""
    seen: list[type[BaseModel]] = []
    queue: list[type[BaseModel]] = [Scenario]
    while queue:
        m = queue.pop(0)
        if m in seen:
            continue
        seen.append(m)
        for f in m.model_fields.values():
            queue.extend(x for x in _models(f.annotation) if x not in seen)
    out = [_INTRO]
    for m in seen:
        out.append(f"\n## {m.__name__}\n")
        doc = (m.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        if doc:
            out.append(doc + "\n")
        out.append("| field | type | unit | default | constraints | description |")
        out.append("|---|---|---|---|---|---|")
        for name, f in m.model_fields.items():
            unit = unit_of(name)
            desc = (f.description or "").replace("\n", " ").replace("|", "\\|")
            out.append(
                f"| `{name}` | {_type_name(f.annotation)} | {unit if unit != '-' else ''} | {_default(f)} | "
                f"{_constraints(f)} | {desc} |"
            )
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(scenario_reference_markdown(), end="")
