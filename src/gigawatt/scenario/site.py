"""Sites: location, climate, grid connection and halls."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from gigawatt.scenario.base import StrictModel
from gigawatt.scenario.hardware import Hall

__all__ = ["Climate", "ConstantClimate", "GridConnection", "Location", "Site", "SyntheticClimate"]


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


Climate = Annotated[SyntheticClimate | ConstantClimate, Field(discriminator="kind")]


class GridConnection(StrictModel):
    """Utility connection of a site (simple constants; see the energy model for tariffs and dispatch)."""

    import_capacity_mw: PositiveFloat | None = None
    """Maximum import [MW]; ``None`` = unconstrained."""
    energy_price_usd_per_mwh: NonNegativeFloat = 60.0
    """Flat energy price [USD/MWh] (default: order of the 2023 US industrial average, ~80 USD/MWh, EIA
    Electric Power Monthly Table 5.6.A, rounded down for large-load contracts)."""
    carbon_intensity_gco2_per_kwh: NonNegativeFloat = 370.0
    """Grid average carbon intensity [gCO2/kWh] (default: US 2023 average ≈ 369 gCO2/kWh, Ember/EIA)."""


class Site(StrictModel):
    """A campus location with its climate, grid connection and halls."""

    name: str
    location: Location
    climate: Climate = SyntheticClimate()
    grid: GridConnection = GridConnection()
    halls: list[Hall] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_halls(self) -> Site:
        names = [h.name for h in self.halls]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"hall names must be unique within a site; duplicated: {', '.join(dup)}")
        return self

    @property
    def n_accelerators(self) -> int:
        return sum(h.n_accelerators for h in self.halls)
