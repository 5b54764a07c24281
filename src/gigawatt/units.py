"""One registry of variable names, descriptions and units (plot labels, docs, reports).

Column names carry their unit as a suffix; :func:`label` turns ``"facility_power_mw"`` into
``"Facility power [MW]"``. Scoped columns (``"site/hall:it_power_mw"``) are labelled by their base name.
"""

from __future__ import annotations

__all__ = ["VARIABLES", "label", "unit_of"]

#: name -> (description, unit)
VARIABLES: dict[str, tuple[str, str]] = {
    "it_power_mw": ("IT power", "MW"),
    "cooling_power_mw": ("Cooling power", "MW"),
    "electrical_loss_mw": ("Electrical losses", "MW"),
    "other_power_mw": ("Other power", "MW"),
    "facility_power_mw": ("Facility power", "MW"),
    "pue": ("PUE", "-"),
    "gpu_utilization_frac": ("GPU utilisation", "fraction"),
    "throughput_frac": ("Throughput factor", "fraction"),
    "grid_import_mw": ("Grid import", "MW"),
    "unserved_mw": ("Unserved demand", "MW"),
    "energy_cost_usd": ("Energy cost per step", "USD"),
    "emissions_kgco2": ("Emissions per step", "kgCO2"),
    "ambient_dry_bulb_c": ("Ambient dry-bulb temperature", "°C"),
    "ambient_wet_bulb_c": ("Ambient wet-bulb temperature", "°C"),
}

_SUFFIX_UNITS = {
    "_mw": "MW",
    "_kw": "kW",
    "_w": "W",
    "_mwh": "MWh",
    "_kwh": "kWh",
    "_frac": "fraction",
    "_c": "°C",
    "_usd": "USD",
    "_s": "s",
    "_h": "h",
    "_l": "L",
    "_m3": "m³",
    "_rps": "requests/s",
    "_kgco2": "kgCO2",
}


def _base(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def unit_of(name: str) -> str:
    """Unit of a column name (from the registry, else from its suffix)."""
    base = _base(name)
    if base in VARIABLES:
        return VARIABLES[base][1]
    for suffix, unit in sorted(_SUFFIX_UNITS.items(), key=lambda kv: -len(kv[0])):
        if base.endswith(suffix):
            return unit
    return "-"


def label(name: str) -> str:
    """Axis label ``"Description [unit]"`` for a column name."""
    base = _base(name)
    desc = VARIABLES[base][0] if base in VARIABLES else base.replace("_", " ").capitalize()
    unit = unit_of(name)
    return (
        f"{desc} [{unit}]"
        if unit not in ("-", "fraction")
        else (f"{desc} [-]" if unit == "-" else f"{desc} [0-1]")
    )
