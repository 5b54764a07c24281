"""Energy supply of a site: tariffs, PPAs, curtailment events, on-site generation, battery, carbon, power capping.

Declarative pydantic models only; the physics lives in :mod:`gigawatt.physics` (``tariffs``, ``generation``,
``storage``, ``dispatch``, ``carbon``, ``capping``) and the engine wires them (``engine/energy.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from gigawatt.scenario.base import StrictModel, UtcDatetime

__all__ = [
    "BaseloadGenerator",
    "Battery",
    "CarbonSettings",
    "CurtailmentWindow",
    "FlatTariff",
    "GasGenerator",
    "Generator",
    "GridRegion",
    "OnSiteEnergy",
    "PowerCapping",
    "Ppa",
    "SeriesTariff",
    "SolarGenerator",
    "StochasticCurtailment",
    "Tariff",
    "TimeOfUseTariff",
    "TouPeriod",
    "WindGenerator",
]

_ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
_ALL_MONTHS = list(range(1, 13))


# ------------------------------------------------------------------------------------------------ tariffs


class FlatTariff(StrictModel):
    """One energy price for every hour."""

    kind: Literal["flat"] = "flat"
    price_usd_per_mwh: float = Field(ge=-1000, le=10000)


class TouPeriod(StrictModel):
    """A time-of-use period: hours ``[start_hour, end_hour)`` (wrapping past midnight if end < start)."""

    price_usd_per_mwh: float = Field(ge=-1000, le=10000)
    start_hour: float = Field(0.0, ge=0, le=24)
    end_hour: float = Field(24.0, ge=0, le=24)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: list(_ALL_DAYS))
    """Days it applies to, Monday = 0 … Sunday = 6."""
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(default_factory=lambda: list(_ALL_MONTHS))


class TimeOfUseTariff(StrictModel):
    """A base price overridden by periods (later periods win where they overlap).

    Hours, weekdays and months are read on the scenario's wall clock (``wall_clock``: by default the site's
    local standard time, ``sites[].location.utc_offset_h``).
    """

    kind: Literal["time_of_use"] = "time_of_use"
    base_price_usd_per_mwh: float = Field(ge=-1000, le=10000)
    periods: list[TouPeriod] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _moved_offset(cls, data: Any) -> Any:
        if isinstance(data, dict) and "utc_offset_h" in data:
            raise ValueError(
                "utc_offset_h: the local clock is one field per site now; move it to "
                "sites[].location.utc_offset_h (it applies to tariffs, PPAs and daily profiles alike)"
            )
        return data


class SeriesTariff(StrictModel):
    """A price series from a CSV file with columns ``time`` and ``price_usd_per_mwh`` (e.g. day-ahead prices).

    Each value holds until the next timestamp. With ``repeat_yearly`` a one-year series is re-used for every
    simulated year (by hour of year).
    """

    kind: Literal["series"] = "series"
    path: str
    """CSV path (relative paths resolve against the scenario file's folder)."""
    repeat_yearly: bool = False


Tariff = Annotated[FlatTariff | TimeOfUseTariff | SeriesTariff, Field(discriminator="kind")]


class Ppa(StrictModel):
    """A power purchase agreement, settled as a contract for difference against the tariff.

    ``baseload``: a constant ``block_mw`` (optionally in given hours). ``solar`` / ``wind``: pay-as-produced
    share of a remote plant modelled with the site's weather (``capacity_mw``: its AC capacity for solar,
    its rated power for wind). PPA energy counts as zero-carbon in market-based Scope 2.
    """

    name: str
    kind: Literal["baseload", "solar", "wind"]
    strike_usd_per_mwh: float = Field(ge=-1000, le=10000)
    block_mw: float = Field(0.0, ge=0, le=100_000)
    """Contracted block for ``baseload`` [MW]."""
    capacity_mw: float = Field(0.0, ge=0, le=100_000)
    """Contracted plant capacity for ``solar``/``wind`` [MW]."""
    start_hour: float = Field(0.0, ge=0, le=24)
    end_hour: float = Field(24.0, ge=0, le=24)

    @model_validator(mode="after")
    def _sized(self) -> Ppa:
        if self.kind == "baseload" and self.block_mw <= 0:
            raise ValueError("block_mw: a baseload PPA needs block_mw > 0")
        if self.kind != "baseload" and self.capacity_mw <= 0:
            raise ValueError(f"capacity_mw: a {self.kind} PPA needs capacity_mw > 0")
        return self


# --------------------------------------------------------------------------------------------- grid events


class CurtailmentWindow(StrictModel):
    """A scheduled grid curtailment or disconnection: import cap × ``cap_frac`` during [start, end) (UTC)."""

    start: UtcDatetime
    end: UtcDatetime
    cap_frac: float = Field(0.0, ge=0, le=1)
    """Import cap during the event as a fraction of the normal cap (0 = disconnected)."""
    reason: str = "scheduled curtailment"

    @model_validator(mode="after")
    def _order(self) -> CurtailmentWindow:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        return self


class GridRegion(StrictModel):
    """Scheduled events of a grid region shared by several sites (``sites[].grid.region``).

    Each window applies to every site whose ``grid.region`` is ``name``, in addition to the site's own
    ``curtailment_windows`` (e.g. an announced regional load shed or a transmission outage). Stochastic events
    of a region are set per site (``grid.stochastic_curtailment``) and drawn once for the region.
    """

    name: str = Field(min_length=1, max_length=100)
    """The region's label, as written in ``sites[].grid.region``."""
    curtailment_windows: list[CurtailmentWindow] = Field(default_factory=list)
    """Scheduled curtailments / disconnections of every site of the region (UTC; ``cap_frac`` of each site's
    import cap)."""


class StochasticCurtailment(StrictModel):
    """Random grid emergencies: Poisson arrivals, exponential (or fixed) durations.

    E.g. ERCOT's right under Texas SB 6 (2025) to remotely disconnect large loads (≥ 75 MW) during firm load
    shed: set ``cap_frac: 0``.
    """

    rate_per_year: float = Field(ge=0, le=10_000)
    mean_duration_h: float = Field(gt=0, le=8760)
    cap_frac: float = Field(0.0, ge=0, le=1)
    fixed_duration: bool = False
    reason: str = "grid emergency"


# -------------------------------------------------------------------------------------------- generation


class _DatedPlant(StrictModel):
    """On-site plant with optional commissioning and decommissioning dates (a fleet over time)."""

    commission_date: UtcDatetime | None = None
    """When the plant starts producing (UTC); before it, it produces nothing. ``None``: from the start
    (``docs/models/fleet_time.md``)."""
    decommission_date: UtcDatetime | None = None
    """When the plant is retired (UTC); from then on it produces nothing. ``None``: never within the run."""

    @model_validator(mode="after")
    def _dates_in_order(self) -> _DatedPlant:
        c, d = self.commission_date, self.decommission_date
        if c is not None and d is not None and d <= c:
            raise ValueError(
                f"decommission_date ({d.isoformat()}) must be after commission_date ({c.isoformat()}); swap "
                "them or drop decommission_date"
            )
        return self


class GasGenerator(_DatedPlant):
    """Gas turbine or reciprocating engine block (see :class:`gigawatt.physics.generation.GasUnit`).

    Defaults: an aeroderivative-class turbine, heat rate 9,100 Btu/kWh (EIA AEO2023 Table 1, rounded),
    natural gas 53.06 kgCO2/MMBtu (EPA GHG Emission Factors Hub 2024); fuel price 3.5 USD/MMBtu (order of the
    2024 U.S. Henry Hub average, estimate).
    """

    kind: Literal["gas"] = "gas"
    name: str
    capacity_mw: float = Field(gt=0, le=100_000)
    min_load_frac: float = Field(0.25, ge=0, le=1)
    start_time_s: float = Field(300.0, ge=0, le=86_400)
    heat_rate_btu_per_kwh: float = Field(9100.0, ge=3412.2, le=20000)
    fuel_price_usd_per_mmbtu: float = Field(3.5, ge=0, le=1000)
    emissions_kgco2_per_mmbtu: float = Field(53.06, ge=0, le=1000)
    variable_om_usd_per_mwh: float = Field(5.0, ge=0, le=10_000)
    dispatch: Literal["backup", "economic"] = "backup"
    """``backup``: runs only when grid + battery fall short; ``economic``: also runs before the grid whenever
    its marginal cost (heat rate × fuel price + VOM) is below the grid price."""


class SolarGenerator(_DatedPlant):
    """Fixed-tilt PV plant on the site's weather (pvlib PVWatts; Dobos 2014)."""

    kind: Literal["solar"] = "solar"
    name: str
    capacity_dc_mw: float = Field(gt=0, le=100_000)
    dc_ac_ratio: float = Field(1.2, gt=0.5, le=2.5)
    surface_tilt_deg: float | None = Field(None, ge=0, le=90)
    """Default: abs(latitude)."""
    surface_azimuth_deg: float | None = Field(None, ge=0, lt=360)
    """Default: equator-facing (180 in the northern hemisphere, 0 in the southern)."""
    system_losses_frac: float = Field(0.1408, ge=0, lt=1)


class WindGenerator(_DatedPlant):
    """Wind farm of NREL 5-MW reference turbines (Jonkman et al. 2009) on the site's wind speed."""

    kind: Literal["wind"] = "wind"
    name: str
    n_turbines: int = Field(gt=0, le=100_000)
    hub_height_m: float = Field(90.0, gt=0, le=500)
    measurement_height_m: float = Field(10.0, gt=0, le=500)
    shear_exponent: float = Field(1.0 / 7.0, ge=0, le=0.6)
    losses_frac: float = Field(0.1, ge=0, lt=1)
    """Wake, electrical and availability losses (estimate)."""


class BaseloadGenerator(_DatedPlant):
    """Baseload plant (e.g. a small modular reactor) with availability and optional random outages."""

    kind: Literal["baseload"] = "baseload"
    name: str
    capacity_mw: float = Field(gt=0, le=100_000)
    availability_frac: float = Field(0.92, gt=0, le=1)
    """Long-run availability (U.S. nuclear fleet capacity factor ≈ 0.9–0.93, EIA)."""
    stochastic_outages: bool = False
    """Random outages (alternating renewal process) instead of a constant expected output."""
    mean_outage_h: float = Field(720.0, gt=0, le=87_600)


Generator = Annotated[
    GasGenerator | SolarGenerator | WindGenerator | BaseloadGenerator, Field(discriminator="kind")
]


class Battery(_DatedPlant):
    """Battery energy storage and its dispatch policy (see :mod:`gigawatt.physics.dispatch`)."""

    energy_mwh: float = Field(gt=0, le=1_000_000)
    power_mw: float = Field(gt=0, le=100_000)
    round_trip_efficiency_frac: float = Field(0.85, gt=0, le=1)
    """AC round-trip efficiency; 0.85 for 4-h Li-ion (NREL, Cole & Karmakar 2023)."""
    soc_min_frac: float = Field(0.05, ge=0, le=1)
    soc_max_frac: float = Field(0.95, ge=0, le=1)
    initial_soc_frac: float = Field(0.95, ge=0, le=1)
    reserve_soc_frac: float = Field(0.05, ge=0, le=1)
    """SoC kept for outages: arbitrage and peak shaving discharge only above it."""
    policy: Literal["backup_only", "peak_shaving", "price_arbitrage", "carbon_aware"] = "peak_shaving"
    peak_shaving_target_mw: float | None = Field(None, gt=0, le=100_000)
    """Grid import target for ``peak_shaving`` [MW]; default: the import capacity."""

    @model_validator(mode="after")
    def _soc(self) -> Battery:
        if not self.soc_min_frac < self.soc_max_frac:
            raise ValueError("soc_min_frac: must be below soc_max_frac")
        if not self.soc_min_frac <= self.initial_soc_frac <= self.soc_max_frac:
            raise ValueError("initial_soc_frac: must lie within [soc_min_frac, soc_max_frac]")
        if not self.soc_min_frac <= self.reserve_soc_frac <= self.soc_max_frac:
            raise ValueError("reserve_soc_frac: must lie within [soc_min_frac, soc_max_frac]")
        return self


class OnSiteEnergy(StrictModel):
    """On-site generation and storage of a site."""

    generation: list[Generator] = Field(default_factory=list)
    battery: Battery | None = None

    @model_validator(mode="after")
    def _unique(self) -> OnSiteEnergy:
        names = [g.name for g in self.generation]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"generator names must be unique; duplicated: {', '.join(dup)}")
        bad = [n for n in names if not n.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"generator names must be letters, digits and _ (used in column names): {bad}")
        return self


# ----------------------------------------------------------------------------------------------- carbon


class CarbonSettings(StrictModel):
    """Grid carbon intensity profile and Scope 2 instruments.

    The annual mean is ``annual_mean_gco2_per_kwh`` if given, else the ``region_code`` row of
    ``data/grid_carbon.csv`` (eGRID subregion or country), else the grid connection's constant
    ``carbon_intensity_gco2_per_kwh``. ``profile: synthetic`` shapes it hourly (solar dip, evening peak,
    season; a documented synthesis, see ``docs/models/energy.md``); ``flat`` keeps it constant.
    """

    region_code: str | None = None
    annual_mean_gco2_per_kwh: float | None = Field(None, ge=0, le=2000)
    profile: Literal["flat", "synthetic"] = "synthetic"
    solar_dip_frac: float = Field(0.2, ge=0, lt=1)
    evening_peak_frac: float = Field(0.05, ge=0, lt=1)
    seasonal_amplitude_frac: float = Field(0.1, ge=0, lt=0.5)
    residual_mix_gco2_per_kwh: float | None = Field(None, ge=0, le=2000)
    """Intensity for market-based Scope 2 of uncovered energy; default: the location-based intensity."""
    certificates_mwh_per_year: float = Field(0.0, ge=0, le=1e9)
    """Unbundled energy attribute certificates (RECs/GOs) retired per year [MWh]."""
    matching: Literal["annual", "hourly"] = "annual"


CappingAction = Literal["dvfs", "pause_training", "shed_inference", "shed_other"]


def _default_order() -> list[CappingAction]:
    return ["dvfs", "pause_training", "shed_inference"]


class PowerCapping(StrictModel):
    """How the site sheds IT load when supply falls short (see :mod:`gigawatt.physics.capping`)."""

    order: list[CappingAction] = Field(default_factory=_default_order)
    """Actions in the order they are taken: ``dvfs`` (cap accelerator power; throughput per the DVFS
    curve), ``pause_training`` (lowest job priority first: a level is paused whole before the next is
    touched), ``shed_inference``, ``shed_other`` (generic utilisation load; appended last when omitted)."""
    flexible_training_frac: float = Field(0.0, ge=0, le=1)
    """Carbon-/price-aware training: share of the training load paused on steps where the grid price or
    carbon intensity is above its threshold (0: never). Its cost shows as lower training throughput."""
    pause_training_above_price_usd_per_mwh: float | None = Field(None, ge=-1000, le=10000)
    pause_training_above_carbon_gco2_per_kwh: float | None = Field(None, ge=0, le=2000)
    blackout_order: list[str] = Field(default_factory=list)
    """Halls (by name) in the order they lose power when the supply cannot cover what power capping leaves:
    whole halls go dark, the first named first, until the lit halls fit under the supply; halls not named
    follow in reverse declaration order (the first-declared hall is the last to go dark). Work in a dark hall
    stops (training jobs are interrupted, inference drops its requests). See ``docs/models/energy.md`` §7."""

    @model_validator(mode="after")
    def _flex(self) -> PowerCapping:
        has_threshold = (
            self.pause_training_above_price_usd_per_mwh is not None
            or self.pause_training_above_carbon_gco2_per_kwh is not None
        )
        if self.flexible_training_frac > 0 and not has_threshold:
            raise ValueError(
                "flexible_training_frac: set pause_training_above_price_usd_per_mwh and/or "
                "pause_training_above_carbon_gco2_per_kwh"
            )
        return self

    @model_validator(mode="after")
    def _distinct(self) -> PowerCapping:
        if len(set(self.order)) != len(self.order):
            raise ValueError("order: actions must be distinct")
        return self
