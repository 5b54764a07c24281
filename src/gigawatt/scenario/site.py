"""Sites: location, climate, grid connection and halls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from gigawatt.scenario.base import StrictModel
from gigawatt.scenario.energy import (
    CarbonSettings,
    CurtailmentWindow,
    OnSiteEnergy,
    PowerCapping,
    Ppa,
    StochasticCurtailment,
    Tariff,
)
from gigawatt.scenario.hardware import Hall

__all__ = [
    "Climate",
    "ConstantClimate",
    "GridConnection",
    "Location",
    "NamedClimate",
    "Site",
    "SyntheticClimate",
    "WeatherFileClimate",
]


class Location(StrictModel):
    """Where a site is."""

    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    elevation_m: float = Field(0.0, ge=-500, le=6000)
    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    """ISO 3166-1 alpha-2 country code, e.g. ``US``, ``IE``."""
    region_code: str | None = None
    """Grid/market region, e.g. an EPA eGRID subregion (``ERCT``) or a bidding zone."""


class SyntheticClimate(StrictModel):
    """Sinusoidal climate (annual + diurnal cycles) for tests and quick studies.

    ``T(t) = mean + A_y cos(2π (doy − hottest_doy)/365.25) + A_d cos(2π (hour − 15)/24)``, relative humidity
    constant; wet-bulb from the physics module's psychrometrics.
    """

    kind: Literal["synthetic"] = "synthetic"
    annual_mean_dry_bulb_c: float = Field(12.0, ge=-40, le=45)
    annual_amplitude_c: NonNegativeFloat = 8.0
    """Half the difference between the warmest and coldest monthly means [°C]."""
    diurnal_amplitude_c: NonNegativeFloat = 5.0
    """Half the mean daily temperature range [°C]."""
    hottest_day_of_year: int = Field(200, ge=1, le=366)
    relative_humidity_frac: float = Field(0.7, gt=0, le=1)


class ConstantClimate(StrictModel):
    """Constant ambient conditions (design-day checks, unit tests)."""

    kind: Literal["constant"] = "constant"
    dry_bulb_c: float = Field(ge=-50, le=60)
    relative_humidity_frac: float = Field(0.5, gt=0, le=1)


class NamedClimate(StrictModel):
    """A bundled typical-year climate by name, with its source (``gigawatt catalog climates``)."""

    kind: Literal["named"] = "named"
    name: str
    """Climate name: real TMY files shipped with pvlib (``greensboro`` temperate, ``miami`` hot-humid,
    ``sand_point`` cold) or typical years synthesized from published monthly normals (``phoenix`` hot-dry,
    ``singapore`` hot-humid, ``dublin`` and ``frankfurt`` temperate, ``stockholm`` cold)."""

    @model_validator(mode="after")
    def _known(self) -> NamedClimate:
        from gigawatt.physics.weather import climate_info

        try:
            climate_info(self.name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        return self


class WeatherFileClimate(StrictModel):
    """Hourly weather from a TMY2, TMY3 or EnergyPlus file (the typical year repeats over the horizon)."""

    kind: Literal["file"] = "file"
    path: str
    """Path to a ``.tm2`` (TMY2), ``.csv`` (TMY3) or ``.epw`` file, read with pvlib (relative paths resolve
    against the working directory)."""

    @model_validator(mode="after")
    def _exists(self) -> WeatherFileClimate:
        from pathlib import Path

        p = Path(self.path)
        if p.suffix.lower() not in (".tm2", ".csv", ".epw"):
            raise ValueError(f"weather file {self.path!r}: use a .tm2, .csv (TMY3) or .epw file")
        if not p.is_file():
            raise ValueError(f"weather file {self.path!r} not found")
        return self


Climate = Annotated[
    SyntheticClimate | ConstantClimate | NamedClimate | WeatherFileClimate, Field(discriminator="kind")
]


class GridConnection(StrictModel):
    """Utility connection of a site (simple constants; see the energy model for tariffs and dispatch)."""

    import_capacity_mw: PositiveFloat | None = None
    """Maximum import [MW]; ``None`` = unconstrained."""
    energy_price_usd_per_mwh: NonNegativeFloat = 60.0
    """Flat energy price [USD/MWh] (default: order of the 2023 US industrial average, ~80 USD/MWh, EIA
    Electric Power Monthly Table 5.6.A, rounded down for large-load contracts)."""
    carbon_intensity_gco2_per_kwh: NonNegativeFloat = 370.0
    """Grid average carbon intensity [gCO2/kWh] (default: US 2023 average ≈ 369 gCO2/kWh, Ember/EIA)."""
    export_capacity_mw: NonNegativeFloat = 0.0
    """Maximum export of on-site surplus [MW] (0: no export)."""
    energisation_date: dt.datetime | None = None
    """When the connection is energised (UTC); before it the site has no grid power."""
    tariff: Tariff | None = None
    """Energy tariff (flat, time-of-use or a price series); ``None``: flat ``energy_price_usd_per_mwh``."""
    demand_charge_usd_per_kw_month: NonNegativeFloat = 0.0
    """Demand charge on each calendar month's peak import [USD/kW-month]."""
    ppas: list[Ppa] = Field(default_factory=list)
    """Power purchase agreements (contracts for difference; zero-carbon in market-based Scope 2)."""
    curtailment_windows: list[CurtailmentWindow] = Field(default_factory=list)
    """Scheduled curtailments / disconnections."""
    stochastic_curtailment: StochasticCurtailment | None = None
    """Random grid emergencies (e.g. Texas SB 6 large-load disconnection)."""
    carbon: CarbonSettings | None = None
    """Carbon-intensity profile and Scope 2 instruments; ``None``: constant ``carbon_intensity_gco2_per_kwh``."""


class Site(StrictModel):
    """A campus location with its climate, grid connection and halls."""

    name: str
    location: Location
    climate: Climate = SyntheticClimate()
    grid: GridConnection = GridConnection()
    energy: OnSiteEnergy = OnSiteEnergy()
    """On-site generation and battery."""
    power_capping: PowerCapping = PowerCapping()
    """Order of IT-load reductions when supply falls short."""
    halls: list[Hall] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_halls(self) -> Site:
        names = [h.name for h in self.halls]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"hall names must be unique within a site; duplicated: {', '.join(dup)}")
        order = self.power_capping.blackout_order
        unknown = [n for n in order if n not in names]
        if unknown:
            raise ValueError(
                f"power_capping.blackout_order: unknown hall(s) {unknown}; name halls of this site ({names})"
            )
        twice = sorted({n for n in order if order.count(n) > 1})
        if twice:
            raise ValueError(f"power_capping.blackout_order: hall(s) named twice: {', '.join(twice)}")
        return self

    @property
    def n_accelerators(self) -> int:
        return sum(h.n_accelerators for h in self.halls)
