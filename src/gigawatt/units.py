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
    "accelerator_power_mw": ("Accelerator power", "MW"),
    "server_fan_power_mw": ("Server fan power", "MW"),
    "it_emissions_scope2_location_kgco2": ("IT share of location-based Scope 2 emissions per step", "kgCO2"),
    "pue": ("PUE", "-"),
    "gpu_utilization_frac": ("GPU utilisation", "fraction"),
    "throughput_frac": ("Throughput factor", "fraction"),
    "grid_import_mw": ("Grid import", "MW"),
    "unserved_mw": ("Unserved demand", "MW"),
    "energy_cost_usd": ("Energy cost per step", "USD"),
    "emissions_kgco2": ("Emissions per step", "kgCO2"),
    "ambient_dry_bulb_c": ("Ambient dry-bulb temperature", "°C"),
    "grid_export_mw": ("Grid export", "MW"),
    "battery_charge_mw": ("Battery charge", "MW"),
    "battery_discharge_mw": ("Battery discharge", "MW"),
    "battery_soc_frac": ("Battery state of charge", "fraction"),
    "curtailed_mw": ("Curtailed on-site generation", "MW"),
    "facility_demand_mw": ("Facility demand at full throughput", "MW"),
    "blackout_mw": ("Load not supplied after power capping (dark halls + overdraw)", "MW"),
    "overdraw_mw": ("Power drawn beyond supply (feedback lag)", "MW"),
    "dark_halls": ("Halls without power", "halls"),
    "installed_gpus": ("Installed accelerators", "GPUs"),
    "installed_it_capacity_mw": ("Installed IT capacity (rack nameplate)", "MW"),
    "installed_gpu_utilization_frac": ("Utilisation of the installed accelerators", "fraction"),
    "energy_price_usd_per_mwh": ("Energy price", "USD/MWh"),
    "carbon_intensity_gco2_per_kwh": ("Grid carbon intensity", "gCO2/kWh"),
    "emissions_scope2_location_kgco2": ("Scope 2 emissions, location-based, per step", "kgCO2"),
    "emissions_scope2_market_kgco2": ("Scope 2 emissions, market-based, per step", "kgCO2"),
    "emissions_scope1_kgco2": ("Scope 1 (on-site fuel) emissions per step", "kgCO2"),
    "ambient_wet_bulb_c": ("Ambient wet-bulb temperature", "°C"),
    "water_use_m3": ("Water use per step", "m³"),
    "wue_l_per_kwh": ("Water usage effectiveness", "L/kWh"),
    "coolant_supply_c": ("Liquid coolant supply temperature", "°C"),
    "server_inlet_c": ("Server inlet air temperature", "°C"),
    "cooling_capacity_mw": ("Cooling capacity at ambient", "MW"),
    "thermal_overload_mw": ("Heat beyond cooling capacity", "MW"),
    "demand_rps": ("Request demand", "requests/s"),
    "served_rps": ("Requests served", "requests/s"),
    "dropped_rps": ("Requests dropped", "requests/s"),
    "replicas": ("Serving replicas", "-"),
    "ttft_p50_s": ("Median time to first token", "s"),
    "ttft_p99_s": ("p99 time to first token", "s"),
    "tpot_p50_s": ("Median time per output token", "s"),
    "tpot_p99_s": ("p99 time per output token", "s"),
    "slo_attainment_frac": ("SLO attainment", "fraction"),
    "tokens_per_s": ("Output tokens", "tokens/s"),
    "unrouted_rps": ("Requests with no available site", "requests/s"),
    "network_rtt_s": ("Network round trip", "s"),
    "remote_share_frac": ("Share of traffic from users nearer another site", "fraction"),
    "failover_frac": ("Share of the step the router left the site out", "fraction"),
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
    "_km_per_s": "km/s",
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
