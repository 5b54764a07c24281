"""Sites: location, climate, grid connection and halls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from gigawatt import catalog
from gigawatt.scenario.base import Jurisdiction, ScopeName, StrictModel, UtcDatetime
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
    "NormalsClimate",
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
    utc_offset_h: float | None = Field(None, ge=-14, le=14)
    """The site's local standard time = UTC + offset [h] (no daylight saving). With ``wall_clock:
    site_local`` (the default) it is the clock of time-of-use periods, PPA hours and daily/weekly demand and
    utilisation profiles. Default: the time zone of the named climate's station or of the weather file, else
    ``round(longitude_deg / 15)``."""


class SyntheticClimate(StrictModel):
    """Sinusoidal climate (annual + diurnal cycles) for tests and quick studies.

    ``T(t) = mean + A_y cos(2π (doy − hottest_doy)/365.25) + A_d cos(2π (hour − 15)/24)``, relative humidity
    constant; wet-bulb from the physics module's psychrometrics.
    """

    kind: Literal["synthetic"] = "synthetic"
    annual_mean_dry_bulb_c: float = Field(12.0, ge=-40, le=45)
    annual_amplitude_c: float = Field(8.0, ge=0, le=40)
    """Half the difference between the warmest and coldest monthly means [°C]."""
    diurnal_amplitude_c: float = Field(5.0, ge=0, le=25)
    """Half the mean daily temperature range [°C]."""
    hottest_day_of_year: int = Field(200, ge=1, le=366)
    relative_humidity_frac: float = Field(0.7, gt=0, le=1)

    @model_validator(mode="after")
    def _earthly(self) -> SyntheticClimate:
        lo = self.annual_mean_dry_bulb_c - self.annual_amplitude_c - self.diurnal_amplitude_c
        hi = self.annual_mean_dry_bulb_c + self.annual_amplitude_c + self.diurnal_amplitude_c
        if lo < -70 or hi > 60:
            raise ValueError(
                f"temperatures would span {lo:.0f} … {hi:.0f} °C, outside the −70 … 60 °C of Earth's "
                "recorded extremes; reduce annual_amplitude_c or diurnal_amplitude_c"
            )
        return self


class ConstantClimate(StrictModel):
    """Constant ambient conditions (design-day checks, unit tests)."""

    kind: Literal["constant"] = "constant"
    dry_bulb_c: float = Field(ge=-50, le=60)
    relative_humidity_frac: float = Field(0.5, gt=0, le=1)


class NamedClimate(StrictModel):
    """A bundled typical-year climate by name, with its source (``gigawatt catalog climates``)."""

    kind: Literal["named"] = "named"
    name: str
    """Climate name: real NREL TMY files shipped with gigawatt (``greensboro`` temperate, ``miami`` hot-humid,
    ``sand_point`` cold) or typical years synthesized from published monthly normals (``phoenix`` hot-dry,
    ``singapore`` hot-humid, ``dublin`` and ``frankfurt`` temperate, ``stockholm`` cold)."""

    @model_validator(mode="after")
    def _known(self) -> NamedClimate:
        try:
            catalog.climate(self.name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        return self


class WeatherFileClimate(StrictModel):
    """Hourly weather from a TMY2, TMY3 or EnergyPlus file (the typical year repeats over the horizon)."""

    kind: Literal["file"] = "file"
    path: str
    """Path to a ``.tm2`` (TMY2), ``.csv`` (TMY3) or ``.epw`` file, read with pvlib (relative paths resolve
    against the scenario file's folder, like every path in a scenario; its contents are checked on load)."""

    @model_validator(mode="after")
    def _suffix(self) -> WeatherFileClimate:
        if Path(self.path).suffix.lower() not in (".tm2", ".csv", ".epw"):
            raise ValueError(f"weather file {self.path!r}: use a .tm2, .csv (TMY3) or .epw file")
        return self


# 12 monthly values (January first), each within bounds. Record air temperatures on Earth: -89.2 °C
# (Vostok 1983), 56.7 °C (Death Valley 1913, WMO archive).
_MonthlyTemp = Annotated[
    list[Annotated[float, Field(ge=-90.0, le=60.0)]], Field(min_length=12, max_length=12)
]
_MonthlyRange = Annotated[list[Annotated[float, Field(ge=0.0, le=40.0)]], Field(min_length=12, max_length=12)]
_MonthlyRh = Annotated[list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=12, max_length=12)]
_MonthlyWind = Annotated[list[Annotated[float, Field(ge=0.0, le=40.0)]], Field(min_length=12, max_length=12)]
_MonthlyFrac = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=12, max_length=12)]


class NormalsClimate(StrictModel):
    """A typical year for **any site**, synthesized from monthly climate normals that you state.

    Same method as the bundled ``normals`` climates (``gigawatt.physics.weather.synthesize_from_normals``):
    mean-preserving daily interpolation of the monthly values, a seeded AR(1) day-to-day anomaly, an asymmetric
    diurnal cycle with the stated daily range, dew point held through the day, clear-sky irradiance × clearness.
    Values are January first. Give the humidity as ``dew_point_c`` or ``relative_humidity_frac`` (one of them).
    Position, elevation and time zone come from the site's ``location``. Values that no climate can have
    (a dew point above the dry bulb, a daily minimum below −90 °C, ...) are refused by
    :func:`gigawatt.load_scenario` (:func:`gigawatt.checks.problems.normals_problems`).
    """

    kind: Literal["normals"] = "normals"
    dry_bulb_mean_c: _MonthlyTemp
    """Monthly mean dry-bulb temperature [°C], 12 values within −90…60 °C (Earth's records, −89.2/56.7 °C)."""
    daily_range_c: _MonthlyRange
    """Monthly mean daily range, mean daily maximum − mean daily minimum [K], 12 values within 0…40 K; the
    mean daily minimum ``dry_bulb_mean_c − daily_range_c/2`` must stay above −90 °C."""
    dew_point_c: _MonthlyTemp | None = None
    """Monthly mean dew point [°C] (not above the month's mean dry bulb)."""
    relative_humidity_frac: _MonthlyRh | None = None
    """Monthly mean relative humidity [0-1], converted to a dew point at the monthly mean dry bulb."""
    wind_speed_m_per_s: _MonthlyWind | None = None
    """Monthly mean wind speed at 10 m [m/s] (default 3 m/s, an estimate)."""
    clearness_index_frac: _MonthlyFrac | None = None
    """Monthly clearness index, mean GHI / clear-sky GHI [0-1] (default 0.5, an estimate)."""
    daily_anomaly_std_c: float = Field(2.5, ge=0, le=10)
    """Standard deviation of day-to-day anomalies of the daily mean [K] (the bundled normals use 1-3.5 K)."""
    seed: int = Field(0, ge=0)
    """Seed of the day-to-day anomalies: fixes the typical year (like the bundled climates), independent of
    the scenario seed."""


Climate = Annotated[
    SyntheticClimate | ConstantClimate | NamedClimate | WeatherFileClimate | NormalsClimate,
    Field(discriminator="kind"),
]


class GridConnection(StrictModel):
    """Utility connection of a site (simple constants; see the energy model for tariffs and dispatch)."""

    import_capacity_mw: float | None = Field(None, gt=0, le=100_000)
    """Maximum import [MW]; ``None`` = unconstrained."""
    energy_price_usd_per_mwh: float = Field(60.0, ge=0, le=10000)
    """Flat energy price [USD/MWh] (default: order of the 2023 US industrial average, ~80 USD/MWh, EIA
    Electric Power Monthly Table 5.6.A, rounded down for large-load contracts)."""
    carbon_intensity_gco2_per_kwh: float = Field(370.0, ge=0, le=2000)
    """Grid average carbon intensity [gCO2/kWh] (default: US 2023 average ≈ 369 gCO2/kWh, Ember/EIA)."""
    export_capacity_mw: float = Field(0.0, ge=0, le=100_000)
    """Maximum export of on-site surplus [MW] (0: no export)."""
    energisation_date: UtcDatetime | None = None
    """When the connection is energised (UTC); before it the site has no grid power."""
    tariff: Tariff | None = None
    """Energy tariff (flat, time-of-use or a price series); ``None``: flat ``energy_price_usd_per_mwh``."""
    demand_charge_usd_per_kw_month: float = Field(0.0, ge=0, le=1000)
    """Demand charge on each calendar month's peak import [USD/kW-month]."""
    ppas: list[Ppa] = Field(default_factory=list)
    """Power purchase agreements (contracts for difference; zero-carbon in market-based Scope 2)."""
    curtailment_windows: list[CurtailmentWindow] = Field(default_factory=list)
    """Scheduled curtailments / disconnections."""
    stochastic_curtailment: StochasticCurtailment | None = None
    """Random grid emergencies (e.g. Texas SB 6 large-load disconnection)."""
    region: str | None = Field(None, min_length=1, max_length=100)
    """Grid region shared with other sites (a label, e.g. a balancing authority ``ERCOT`` or a bidding zone):
    the ``stochastic_curtailment`` events of all sites with the same ``region`` are drawn once for the region
    and hit each of them at the same times (each with its own ``cap_frac`` and ``reason``); their
    ``rate_per_year``, ``mean_duration_h`` and ``fixed_duration`` must agree. ``None``: the site draws its own
    events. See ``docs/models/energy.md`` (correlated outages)."""
    carbon: CarbonSettings | None = None
    """Carbon-intensity profile and Scope 2 instruments; ``None``: constant ``carbon_intensity_gco2_per_kwh``."""


class Site(StrictModel):
    """A campus location with its climate, grid connection and halls."""

    name: ScopeName
    """Site name (no ``/`` or ``:``; it prefixes result columns)."""
    location: Location
    jurisdiction: Jurisdiction | None = None
    """Legal jurisdiction of the site for data residency (``workloads[].allowed_jurisdictions``): an ISO 3166
    country code or a free label such as ``EU``; default: ``location.country_code``."""
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
