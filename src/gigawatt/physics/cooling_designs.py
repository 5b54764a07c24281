"""Cooling plant designs: the named presets of ``cooling.design``, read from shipped data.

The designs live in ``gigawatt/data/cooling_designs.yaml`` (one entry per design, a ``source`` on every value
group, explicit inheritance ``extends: <design>`` listing only the differences, loop and chiller defaults in
one ``defaults`` block). They are read once per process into frozen, typed objects; the equations that use
them are in :mod:`gigawatt.physics.cooling` (:func:`~gigawatt.physics.cooling.build_cooling_plant` turns
design names into per-hall parameter arrays).

Examples
--------
>>> from gigawatt.physics.cooling_designs import cooling_design, cooling_designs
>>> cooling_design("dlc").liquid_loop.supply_c
32.0
>>> list(cooling_designs())[:3]
['air_legacy', 'air', 'air_evaporative']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "SINKS",
    "AirSideDesign",
    "ChillerDesign",
    "CoolingDesign",
    "LoopDesign",
    "cooling_design",
    "cooling_designs",
    "default_loop",
    "parse_cooling_designs",
]

#: Heat-rejection sink names in the data file, in the order of the ``SINK_*`` codes of
#: :mod:`gigawatt.physics.cooling` (0 wet bulb / tower, 1 dry bulb / dry cooler, 2 outside air).
SINKS: tuple[str, ...] = ("wet_bulb", "dry_bulb", "outside_air")
SinkName = Literal["wet_bulb", "dry_bulb", "outside_air"]

_FILE = "cooling_designs.yaml"


@dataclass(frozen=True)
class ChillerDesign:
    """Mechanical cooling of a loop (chiller or DX trim); field meanings as in
    :class:`~gigawatt.physics.cooling.LoopPlant` (capacity per kW of loop design load, temperatures [°C],
    approaches and rises [K], derate per K)."""

    chiller_capacity_frac: float
    chiller_carnot_frac: float
    chiller_cop_max: float
    evaporator_approach_c: float
    condenser_sink: SinkName
    condenser_approach_c: float
    condenser_rise_c: float
    chiller_max_condensing_c: float
    chiller_derate_per_c: float
    chiller_rated_condensing_c: float
    source: str


@dataclass(frozen=True)
class LoopDesign:
    """One cooling loop of a design (see :class:`~gigawatt.physics.cooling.LoopPlant` for the fields).

    ``chiller`` is ``None`` for a loop without mechanical cooling; :meth:`plant_params` then uses the chiller
    defaults of the data file (they do not enter the results of a loop without a chiller).
    """

    supply_c: float
    supply_max_c: float
    delta_t_c: float
    sink: SinkName
    approach_c: float
    economizer: bool
    evaporative_effectiveness_frac: float
    fan_kw_per_kw: float
    fan_min_speed_frac: float
    pump_kw_per_kw: float
    pump_min_flow_frac: float
    pump_exponent: float
    flow_limit_frac: float
    chiller: ChillerDesign | None
    source: str

    def plant_params(self) -> dict[str, float]:
        """Flat numeric parameters, keyed by :class:`~gigawatt.physics.cooling.LoopPlant` field names
        (without ``design_kw``): sinks as codes, flags as 0/1."""
        ch = self.chiller if self.chiller is not None else _loaded()[1]
        out: dict[str, float] = {}
        for obj in (self, ch):
            for f in dataclasses.fields(obj):
                if f.name in ("source", "chiller"):
                    continue
                v = getattr(obj, f.name)
                out[f.name] = float(SINKS.index(v)) if f.name.endswith("sink") else float(v)
        out["has_chiller"] = 1.0 if self.chiller is not None else 0.0
        return out


@dataclass(frozen=True)
class AirSideDesign:
    """Air handling of a design (see :class:`~gigawatt.physics.cooling.AirSide` for the fields)."""

    fan_kw_per_kw: float
    fan_min_speed_frac: float
    supply_air_c: float
    coil_approach_c: float
    door_fan_kw_per_kw: float
    source: str

    def plant_params(self) -> dict[str, float]:
        """Numeric parameters keyed by :class:`~gigawatt.physics.cooling.AirSide` field names."""
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "source"}


@dataclass(frozen=True)
class CoolingDesign:
    """A named cooling plant design, fully resolved (inheritance and defaults applied).

    Attributes
    ----------
    name : design name (``cooling.design``).
    technology : cooling technology it belongs to (``air``, ``rdhx``, ``dlc``, ``immersion``).
    description : one-line description.
    source : citations for the design as a whole.
    extends : the design it was derived from in the data file, or ``None``.
    liquid_capture_frac : share of IT heat taken by the liquid loop (0-1).
    air : air side (CRAH/AHU/rear-door fans, supply air).
    air_loop : loop serving the air side (chilled water or outside air).
    liquid_loop : facility-water loop of cold plates, doors or tanks; ``None`` without one.
    """

    name: str
    technology: str
    description: str
    source: str
    extends: str | None
    liquid_capture_frac: float
    air: AirSideDesign
    air_loop: LoopDesign
    liquid_loop: LoopDesign | None


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: nested mappings merge key by key; ``None`` in ``over`` removes the key's group."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _build(cls: type[Any], values: Mapping[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    missing = sorted(names - set(values))
    if unknown or missing:
        raise ValueError(f"{_FILE}: {where}: unknown keys {unknown}, missing keys {missing}")
    for f in dataclasses.fields(cls):
        v = values[f.name]
        if f.name.endswith("sink") and v not in SINKS:
            raise ValueError(f"{_FILE}: {where}.{f.name}: {v!r} is not one of {', '.join(SINKS)}")
    return cls(**{k: float(v) if type(v) is int else v for k, v in values.items()})


def _loop(raw: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> LoopDesign:
    v = _merge(defaults["loop"], raw)
    ch = v.get("chiller")
    v["chiller"] = (
        None if ch is None else _build(ChillerDesign, _merge(defaults["chiller"], ch), f"{where}.chiller")
    )
    v["economizer"] = bool(v["economizer"])
    return _build(LoopDesign, v, where)


def _resolve(name: str, raw: Mapping[str, Mapping[str, Any]], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if name in seen:
        raise ValueError(f"{_FILE}: circular 'extends' through {' -> '.join((*seen, name))}")
    if name not in raw:
        raise ValueError(f"{_FILE}: {seen[-1]!r} extends unknown design {name!r}")
    entry = dict(raw[name])
    parent = entry.pop("extends", None)
    if parent is None:
        return entry
    return _merge(_resolve(parent, raw, (*seen, name)), entry)


def parse_cooling_designs(
    doc: Mapping[str, Any],
) -> tuple[Mapping[str, CoolingDesign], ChillerDesign, LoopDesign]:
    """Resolve a parsed data file (``defaults`` and ``designs``) into typed designs.

    Returns the designs by name (file order), the default chiller and the default (absent) loop. Raises
    ``ValueError`` naming the entry for unknown or missing keys, unknown sinks, or a bad ``extends``.
    """
    defaults = doc["defaults"]
    designs: dict[str, CoolingDesign] = {}
    for name, entry in doc["designs"].items():
        v = _resolve(name, doc["designs"])
        where = f"designs.{name}"
        liquid = v.get("liquid_loop")
        designs[name] = CoolingDesign(
            name=name,
            technology=str(v["technology"]),
            description=str(v["description"]),
            source=str(v["source"]),
            extends=entry.get("extends"),
            liquid_capture_frac=float(v["liquid_capture_frac"]),
            air=_build(AirSideDesign, v["air"], f"{where}.air"),
            air_loop=_loop(v["air_loop"], defaults, f"{where}.air_loop"),
            liquid_loop=None if liquid is None else _loop(liquid, defaults, f"{where}.liquid_loop"),
        )
    default_chiller = _build(ChillerDesign, defaults["chiller"], "defaults.chiller")
    return MappingProxyType(designs), default_chiller, _loop({}, defaults, "defaults.loop")


@cache
def _loaded() -> tuple[Mapping[str, CoolingDesign], ChillerDesign, LoopDesign]:
    import yaml

    from gigawatt.catalog import data_path

    with data_path(_FILE).open("r", encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return parse_cooling_designs(doc)


def cooling_designs() -> Mapping[str, CoolingDesign]:
    """Every cooling design by name, in data-file order (read-only; read once per process)."""
    return _loaded()[0]


def default_loop() -> LoopDesign:
    """The data file's loop defaults as a loop without economizer or chiller (used for an absent loop)."""
    return _loaded()[2]


def cooling_design(name: str) -> CoolingDesign:
    """The cooling design ``name``.

    Raises
    ------
    KeyError
        Unknown name; the message suggests the closest design and lists the known ones.
    """
    designs = cooling_designs()
    if name in designs:
        return designs[name]
    import difflib

    close = difflib.get_close_matches(name, list(designs), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise KeyError(f"unknown cooling preset {name!r}{hint} (known: {', '.join(sorted(designs))})")
