"""Loading a scenario: its fields (:mod:`gigawatt.scenario.io`), then every whole-scenario check
(:func:`gigawatt.checks.problems.scenario_problems`), all problems raised together as one
:class:`~gigawatt.ScenarioError`, each as ``path: message`` with the YAML line where it is known; and
validated edits by dotted path (:func:`updated_scenario`, what :meth:`gigawatt.Scenario.updated` runs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gigawatt import catalog
from gigawatt.checks.fleet_time import refresh_source_paths
from gigawatt.checks.limits import ResourceLimits
from gigawatt.checks.problems import climate_problems, normals_problems, scenario_problems
from gigawatt.errors import ScenarioError
from gigawatt.scenario.io import (
    _FIELD_NAMES,
    _all_field_names,
    _parse_text,
    _raw_reference_problems,
    _read_text,
    _validation_problems,
    _with_lines,
)
from gigawatt.scenario.root import Scenario, set_updater
from gigawatt.scenario.site import NormalsClimate
from gigawatt.scenario.update import apply_updates

__all__ = ["load_scenario", "updated_scenario", "validate_scenario"]


_WORKLOAD_INDEX = re.compile(r"^workloads\[(\d+)\]")


def _partial_problems(data: Mapping[str, Any], base_dir: Path | None) -> list[tuple[str, str]]:
    """Whole-scenario checks on the valid part of an invalid scenario: when only some workloads fail their
    fields, the others are cross-checked (targets, GPU claims, pools, files) against the sites, so a single
    ``check`` reports both kinds of problem."""
    workloads = data.get("workloads")
    if not isinstance(workloads, list) or not workloads:
        return []
    try:
        sites_only = Scenario.model_validate({**data, "workloads": []})
    except (ValidationError, RecursionError):
        return []  # the sites themselves fail: nothing sound to check against
    if climate_problems(sites_only):
        return []  # a site's climate is impossible (a field problem): nothing sound to check against
    keep: list[int] = []
    for i, wl in enumerate(workloads):
        try:
            Scenario.model_validate({**data, "workloads": [wl]})
        except (ValidationError, RecursionError):
            continue
        keep.append(i)
    if len(keep) == len(workloads):
        return []  # the failure is a whole-scenario rule; its message says it
    try:
        sc = Scenario.model_validate({**data, "workloads": [workloads[i] for i in keep]})
    except (ValidationError, RecursionError):
        return []
    sc._base_dir = base_dir
    out: list[tuple[str, str]] = []
    for path, msg in scenario_problems(sc, False):
        m = _WORKLOAD_INDEX.match(path)
        if m is not None:
            path = f"workloads[{keep[int(m.group(1))]}]" + path[m.end() :]
        out.append((path, msg))
    return out


# ----------------------------------------------------------------------------------------------- public
def _raw_climate_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """:func:`~gigawatt.checks.problems.climate_problems` of the climates whose own fields are valid, in a
    scenario that fails its fields elsewhere (so that one ``check`` lists them with the field problems)."""
    sites = data.get("sites")
    out: list[tuple[str, str]] = []
    for si, site in enumerate(sites if isinstance(sites, list) else []):
        clim = site.get("climate") if isinstance(site, Mapping) else None
        if not isinstance(clim, Mapping) or clim.get("kind") != "normals":
            continue
        try:
            normals = NormalsClimate.model_validate(clim)
        except ValidationError:
            continue  # reported with the fields
        msgs = normals_problems(normals)
        if msgs:
            out.append((f"sites[{si}].climate", "; ".join(msgs)))
    return out


def validate_scenario(data: Any, *, source: str = "<dict>", _node: yaml.Node | None = None) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario` (fields only), raising one ScenarioError with every
    problem."""
    return _validate(data, source, _node, None)


def _validate(data: Any, source: str, node: yaml.Node | None, base_dir: Path | None) -> Scenario:
    if not _FIELD_NAMES:
        _FIELD_NAMES.update(_all_field_names(Scenario))
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [("", f"a scenario must be a mapping of fields, got {type(data).__name__}")], source
        )
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(exc, data, node, source)
        problems += _with_lines(_raw_climate_problems(data), node, source)
        seen = {p for p, _ in problems}
        extra = [p for p in _raw_reference_problems(data, base_dir) if p[0] not in seen]
        seen |= {p for p, _ in extra}
        extra += [p for p in _partial_problems(data, base_dir) if p[0] not in seen]
        raise ScenarioError(problems + _with_lines(extra, node, source), source) from None
    except RecursionError:
        raise ScenarioError([("", "scenario nested too deeply")], source) from None
    problems = climate_problems(sc)  # field problems too, found by the physics of the climate
    if problems:
        raise ScenarioError(_with_lines(problems, node, source), source)
    sc._base_dir = base_dir
    return sc


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario, *, limits: ResourceLimits | bool | None = None
) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source
        A path to a ``.yaml``/``.yml``/``.json`` file, the name of a bundled scenario (``"reference"``;
        see ``gigawatt catalog scenarios``), a mapping, or a :class:`Scenario` (checked, returned unchanged).
    limits
        Resource limits (:class:`gigawatt.checks.limits.ResourceLimits`); ``None``: the defaults with
        ``GIGAWATT_LIMITS`` overrides; ``False``: none.

    Raises
    ------
    ScenarioError
        Listing every problem (syntax errors with line numbers, duplicate keys, unknown fields, wrong types,
        bad values, unknown catalog names with a suggestion, physically impossible designs, bad references,
        unreadable or invalid files it names, work or memory beyond the resource limits).
    """
    lim: Any = None if limits is True else limits
    if lim is None:
        lim = ResourceLimits.from_env()
        lim = False if lim is None else lim
    if isinstance(source, Scenario):
        if _CHECKED.get(id(source)) == _fingerprint(source):
            return source  # checked by an earlier load (with the limits given then) and unchanged since
        problems = scenario_problems(source, lim)
        if problems:
            raise ScenarioError(problems, "<Scenario>")
        _remember(source)
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
            text = _read_text(path, lim.max_file_mb * 1e6 if lim is not False else float("inf"))
            name = str(path)
            base_dir = path.resolve().parent
        else:
            try:
                traversable = catalog.scenario_path(str(source))
            except KeyError as exc:
                raise ScenarioError(
                    [(str(source), f"no such file, and {exc.args[0]}")], str(source)
                ) from None
            text = traversable.read_text(encoding="utf-8")
            name = f"{source}.yaml"
            base_dir = None
        data, node = _parse_text(text, name, path.suffix.lower())
    sc = _validate(data, name, node, base_dir)
    problems = scenario_problems(sc, lim)
    if problems:
        problems = refresh_source_paths(problems, data)
        raise ScenarioError(_with_lines(problems, node, name), name)
    _remember(sc)
    return sc


#: Scenarios that passed :func:`load_scenario`, by ``id`` → fingerprint, so that ``simulate(scenario)`` does not
#: re-check (and re-apply default limits to) a scenario loaded with other limits; a changed scenario (or a new
#: object reusing the id) has another fingerprint and is checked again.
_CHECKED: dict[int, str] = {}


def _fingerprint(sc: Scenario) -> str:
    return f"{sc._base_dir}|{sc.model_dump_json()}"


def _remember(sc: Scenario) -> None:
    if len(_CHECKED) >= 256:
        _CHECKED.pop(next(iter(_CHECKED)))
    _CHECKED[id(sc)] = _fingerprint(sc)


def updated_scenario(scenario: Scenario, updates: Mapping[str, Any], *, limits: Any = None) -> Scenario:
    """A new, validated scenario with ``updates`` (``{path: value}``) applied to ``scenario``'s input.

    Parameters
    ----------
    scenario
        The scenario to start from (left unchanged).
    updates
        Field paths (see :mod:`gigawatt.scenario.update`) and their new values. A value may be a whole sub-tree
        (a mapping or list), which replaces the old one. Applied in the given order.
    limits
        Resource limits, as for :func:`gigawatt.load_scenario` (default: the standard limits).

    Returns
    -------
    Scenario
        Validated as a whole (field values, cross-references, files); relative paths keep resolving against
        the original scenario file's folder.

    Raises
    ------
    ScenarioError
        Listing every bad path and every invalid value at once.
    """
    data, problems = apply_updates(scenario, updates)
    source = f"update of scenario {scenario.name!r}"
    # as for a loaded file: field values (with relative paths resolved against the original file's folder),
    # then cross-references, files and resource limits
    try:
        new = _validate(data, source, None, scenario._base_dir)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems, source) from None
    try:
        load_scenario(new, limits=limits)
    except ScenarioError as exc:
        problems += exc.problems
    if problems:
        raise ScenarioError(problems, source)
    return new


set_updater(updated_scenario)
