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
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import pandas as pd

from gigawatt.physics import weather as wx

__all__ = [
    "AcceleratorPreset",
    "accelerator",
    "accelerator_names",
    "accelerators",
    "climate",
    "climate_names",
    "climates",
    "cooling",
    "cooling_names",
    "cooling_technologies",
    "cost_catalog",
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


@dataclass(frozen=True)
class AcceleratorPreset:
    """One row of ``data/accelerators.csv``: the figures of an accelerator preset, with their source.

    Plain data; a scenario turns it into a validated :class:`gigawatt.scenario.hardware.AcceleratorSpec`
    (``ServerSpec.accelerator_spec()``), whose fields these are.
    """

    name: str
    vendor: str
    tdp_w: float
    """Thermal design power / total graphics power [W]."""
    idle_w: float
    """Power when powered on and idle [W]."""
    bf16_dense_tflops: float
    """Dense (non-sparse) BF16 peak [TFLOP/s]."""
    fp8_dense_tflops: float | None
    """Dense FP8 peak [TFLOP/s]; ``None`` when not supported."""
    hbm_gb: float
    """High-bandwidth memory capacity [GB]."""
    hbm_bandwidth_tbps: float
    """HBM bandwidth [TB/s]."""
    training_power_frac: float
    """Mean power during large-scale training as a fraction of TDP."""
    list_price_usd: float | None
    """List or street price [USD], when public."""
    source: str
    """Citation for these figures."""

    def as_dict(self) -> dict[str, Any]:
        """The figures given (``None`` left out), as keyword arguments of an ``AcceleratorSpec``."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def accelerator(name: str) -> AcceleratorPreset:
    """The accelerator preset ``name`` (:class:`AcceleratorPreset`).

    Raises
    ------
    KeyError
        Unknown name; the message suggests the closest preset ("did you mean H100-SXM?").
    """
    row = _clean(_lookup(_read_csv("accelerators.csv"), name, "accelerator"))
    text = ("name", "vendor", "source")
    kw: dict[str, Any] = {
        f.name: (str(v) if f.name in text else float(v)) if (v := row.get(f.name)) is not None else None
        for f in fields(AcceleratorPreset)
    }
    return AcceleratorPreset(**kw)


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
    return wx.climate_table()


def climate_names() -> list[str]:
    """Names of the bundled climates (``greensboro``, ``phoenix``, ``singapore``, ...)."""
    return wx.climate_names()


def climate(name: str) -> wx.ClimateInfo:
    """The registry entry of the named climate ``name`` (station, position, time zone, source).

    Raises
    ------
    KeyError
        Unknown name, with a suggestion.
    """
    return wx.climate_info(name)


def cost_catalog() -> pd.DataFrame:
    """Cost items (``data/costs.csv``): ``name`` (units in the name), ``category`` (capex/opex/finance),
    ``asset_class``, ``value`` in ``unit``, plausible range ``low``–``high``, ``price_year``, ``currency``,
    ``is_estimate``, ``source``, ``notes``. Also ``gigawatt.economics.cost_catalog``."""
    return _read_csv("costs.csv").copy()


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
