"""Named, cited presets shipped with gigawatt.

Presets are data: CSV files in ``gigawatt/data`` read through :mod:`importlib.resources`, each row with a
``source`` column. A scenario names a preset (``accelerator: H100-SXM``) or gives its own inline spec.

Examples
--------
>>> from gigawatt import catalog
>>> catalog.accelerator("H100-SXM").tdp_w
700.0
>>> catalog.accelerators()[["tdp_w", "bf16_dense_tflops"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from gigawatt.scenario.hardware import AcceleratorSpec

__all__ = [
    "accelerator",
    "accelerator_names",
    "accelerators",
    "climate_names",
    "climates",
    "cooling",
    "cooling_names",
    "cooling_technologies",
    "data_path",
    "scenario_names",
    "scenario_path",
    "suggest",
]


def data_path(*parts: str) -> Traversable:
    """Path of a file shipped in ``gigawatt/data`` (works from a wheel or an editable install)."""
    node = resources.files("gigawatt") / "data"
    for p in parts:
        node = node / p
    return node


@cache
def _read_csv(name: str) -> pd.DataFrame:
    with data_path(name).open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, comment=None)
    return df.set_index("name", drop=False)


def suggest(name: str, choices: list[str]) -> str | None:
    """Closest match for a mistyped preset name, or ``None``.

    Matching is case-insensitive and ignores ``-``/``_``/spaces, then falls back to difflib similarity.
    """

    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    by_norm = {norm(c): c for c in choices}
    if norm(name) in by_norm:
        return by_norm[norm(name)]
    for c in choices:  # prefix / containment, e.g. "H100" -> "H100-SXM"
        if norm(name) and (norm(c).startswith(norm(name)) or norm(name) in norm(c)):
            return c
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return close[0] if close else None


def _lookup(table: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name in table.index:
        return table.loc[[name]].iloc[0]
    lowered = {str(k).lower(): k for k in table.index}
    if name.lower() in lowered:
        return table.loc[[lowered[name.lower()]]].iloc[0]
    hint = suggest(name, [str(i) for i in table.index])
    msg = f"unknown {what} {name!r}"
    msg += f"; did you mean {hint}?" if hint else f"; known: {', '.join(map(str, table.index))}"
    raise KeyError(msg)


def accelerators() -> pd.DataFrame:
    """All accelerator presets (one row each; units in column names; ``source`` per row)."""
    return _read_csv("accelerators.csv").copy()


def accelerator_names() -> list[str]:
    """Canonical accelerator preset names."""
    return [str(i) for i in _read_csv("accelerators.csv").index]


def _clean(row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        out[str(k)] = None if (not isinstance(v, str) and pd.isna(v)) else v
    return out


def accelerator(name: str) -> AcceleratorSpec:
    """The accelerator preset ``name`` as an :class:`~gigawatt.scenario.hardware.AcceleratorSpec`.

    Raises
    ------
    KeyError
        Unknown name; the message suggests the closest preset ("did you mean H100-SXM?").
    """
    from gigawatt.scenario.hardware import AcceleratorSpec

    row = _clean(_lookup(_read_csv("accelerators.csv"), name, "accelerator"))
    fields = AcceleratorSpec.model_fields
    return AcceleratorSpec(**{k: v for k, v in row.items() if k in fields and v is not None})


def cooling_technologies() -> pd.DataFrame:
    """Cooling technology presets: rack-density limits and design parameters, with sources."""
    return _read_csv("cooling.csv").copy()


def cooling_names() -> list[str]:
    """Names of the cooling technology presets (``air``, ``rdhx``, ``dlc``, ``immersion``)."""
    return [str(i) for i in _read_csv("cooling.csv").index]


def cooling(name: str) -> dict[str, Any]:
    """One cooling technology preset as a dict (``max_rack_density_kw``, ``liquid_capture_frac``, ``source``, ...).

    The plant designs of each technology are in :mod:`gigawatt.physics.cooling_designs`."""
    return _clean(_lookup(_read_csv("cooling.csv"), name, "cooling technology"))


def climates() -> pd.DataFrame:
    """Named climates (``climate: {kind: named, name: ...}``): category, Köppen class, kind, station and source."""
    from gigawatt.physics.weather import climate_table

    return climate_table()


def climate_names() -> list[str]:
    """Names of the bundled climates (``greensboro``, ``phoenix``, ``singapore``, ...)."""
    from gigawatt.physics.weather import climate_names as names

    return names()


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, usable as ``load_scenario(name)``."""
    folder = data_path("scenarios")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def scenario_path(name: str) -> Traversable:
    """The bundled scenario file for ``name``; ``KeyError`` with a suggestion when unknown."""
    names = scenario_names()
    if name not in names:
        hint = suggest(name, names)
        raise KeyError(
            f"unknown bundled scenario {name!r}"
            + (f"; did you mean {hint}?" if hint else f"; bundled: {', '.join(names)}")
        )
    return data_path("scenarios", f"{name}.yaml")
