"""On-site generation: gas turbines/engines, solar PV (pvlib PVWatts), wind (power curve), baseload (e.g. SMR).

Pure, vectorised functions returning the *available* output per step [MW]; the dispatch kernel
(:mod:`gigawatt.physics.dispatch`) decides how much of it is used. Fuel use and emissions of dispatchable
units follow from their heat rate:

.. math::

    F\\,[\\mathrm{MMBtu}] = E\\,[\\mathrm{MWh}] \\cdot HR\\,[\\mathrm{Btu/kWh}] \\cdot 10^{-3}, \\qquad
    m_{CO_2}\\,[\\mathrm{kg}] = F \\cdot EF\\,[\\mathrm{kg/MMBtu}]

References
----------
.. [EPA2024] U.S. EPA, "GHG Emission Factors Hub", 2024, Table 1 (stationary combustion): natural gas
   53.06 kg CO2/MMBtu, distillate fuel oil No. 2 73.96 kg CO2/MMBtu (higher heating value basis).
.. [EIA2023] U.S. EIA, "Cost and Performance Characteristics of New Generating Technologies, Annual Energy
   Outlook 2023", Table 1: heat rates (HHV) of new units — internal combustion engines ≈ 8,300 Btu/kWh,
   aeroderivative combustion turbines ≈ 9,100 Btu/kWh, industrial-frame combustion turbines ≈ 9,900 Btu/kWh
   (rounded; values used as defaults are marked as estimates).
.. [Dobos2014] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014 (DC model, 14.08 %
   default system losses, inverter efficiency 96 %, temperature coefficient −0.47 %/°C standard module).
.. [King2004] D. L. King, W. E. Boyson, J. A. Kratochvil, "Photovoltaic Array Performance Model",
   SAND2004-3535, 2004 (SAPM cell temperature, open-rack glass/polymer parameters a=−3.56, b=−0.075, ΔT=3).
.. [Jonkman2009] J. Jonkman, S. Butterfield, W. Musial, G. Scott, "Definition of a 5-MW Reference Wind
   Turbine for Offshore System Development", NREL/TP-500-38060, 2009: rotor diameter 126 m, hub height 90 m,
   cut-in 3 m/s, rated 11.4 m/s, cut-out 25 m/s, peak power coefficient 0.482, generator efficiency 94.4 %.
.. [IEC61400-1] IEC 61400-1:2019, Wind energy generation systems – Design requirements: normal wind profile
   power law with exponent 0.2; a 1/7 exponent (≈0.143) is the classic neutral-stability value
   (Peterson & Hennessey, J. Appl. Meteor. 17, 1978).
.. [IEC61400-12-1] IEC 61400-12-1:2017, power performance measurement: air-density normalisation of wind
   speed, v_n = v (ρ/ρ0)^(1/3), ρ0 = 1.225 kg/m³.
.. [IAEA2023] IAEA PRIS, "Operational & long-term shutdown reactors: load factor": the world nuclear fleet's
   lifetime load factor is ≈ 0.8, recent U.S. fleet capacity factors ≈ 0.9–0.93 (EIA Electric Power Monthly,
   Table 6.7.B).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: Step times: a DatetimeIndex (or anything pandas turns into one).
TimesLike = pd.DatetimeIndex | pd.Series | NDArray[np.datetime64] | list[pd.Timestamp]

__all__ = [
    "DIESEL_KGCO2_PER_MMBTU",
    "MJ_PER_MMBTU",
    "NATURAL_GAS_KGCO2_PER_MMBTU",
    "NREL_5MW",
    "GasUnit",
    "PowerCurve",
    "baseload_power_mw",
    "fuel_use_mmbtu",
    "gas_emissions_kgco2",
    "gas_fuel_cost_usd",
    "heat_rate_btu_per_kwh_from_mj_per_kwh",
    "hub_height_wind_speed_m_per_s",
    "nrel_5mw_power_curve",
    "pv_power_mw",
    "solar_position",
    "wind_power_mw",
]

#: CO2 emission factor of natural gas [kg CO2/MMBtu, HHV] [EPA2024].
NATURAL_GAS_KGCO2_PER_MMBTU = 53.06
#: CO2 emission factor of distillate fuel oil No. 2 (diesel) [kg CO2/MMBtu, HHV] [EPA2024].
DIESEL_KGCO2_PER_MMBTU = 73.96
#: 1 MMBtu = 1.055056 GJ (international table Btu).
MJ_PER_MMBTU = 1055.056


def heat_rate_btu_per_kwh_from_mj_per_kwh(heat_rate_mj_per_kwh: ArrayLike) -> FloatArray:
    """Convert a heat rate from MJ/kWh to Btu/kWh (1 Btu = 1055.056 J)."""
    return np.asarray(np.asarray(heat_rate_mj_per_kwh, dtype=float) * 1e6 / MJ_PER_MMBTU, dtype=float)


@dataclass(frozen=True)
class GasUnit:
    """A dispatchable gas turbine or reciprocating engine (or a block of identical ones).

    Attributes
    ----------
    name : str
        Label; output column ``generation_<name>_mw``.
    capacity_mw : float
        Net electrical capacity [MW].
    min_load_frac : float
        Minimum stable load as a fraction of capacity (0–1); while running the unit never produces less.
        Typical: engines 0.1–0.3, aeroderivative turbines ≈ 0.25–0.5 (estimates).
    start_time_s : float
        Time from a start command to available output [s]; reciprocating engines ≈ 2–5 min, aeroderivative
        turbines ≈ 5–10 min, frame turbines 10–30 min (manufacturer figures, estimates).
    heat_rate_btu_per_kwh : float
        Heat rate [Btu/kWh, HHV] ([EIA2023] for typical values).
    fuel_price_usd_per_mmbtu : float
        Delivered fuel price [USD/MMBtu].
    emissions_kgco2_per_mmbtu : float
        CO2 emission factor [kg/MMBtu] (natural gas 53.06 [EPA2024]).
    variable_om_usd_per_mwh : float
        Variable O&M [USD/MWh].
    economic : bool
        If True the unit also runs before the grid whenever its marginal cost is below the grid price;
        if False it is backup only (runs for supply shortfalls).
    """

    name: str
    capacity_mw: float
    min_load_frac: float = 0.25
    start_time_s: float = 300.0
    heat_rate_btu_per_kwh: float = 9100.0
    fuel_price_usd_per_mmbtu: float = 3.5
    emissions_kgco2_per_mmbtu: float = NATURAL_GAS_KGCO2_PER_MMBTU
    variable_om_usd_per_mwh: float = 5.0
    economic: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.capacity_mw <= 0:
            problems.append("capacity_mw: must be > 0")
        if not 0.0 <= self.min_load_frac <= 1.0:
            problems.append("min_load_frac: must be within 0–1")
        if self.start_time_s < 0:
            problems.append("start_time_s: must be >= 0")
        if self.heat_rate_btu_per_kwh < 3412.14:
            problems.append("heat_rate_btu_per_kwh: below 3412 Btu/kWh means efficiency > 100 %")
        if self.fuel_price_usd_per_mmbtu < 0 or self.emissions_kgco2_per_mmbtu < 0:
            problems.append("fuel_price_usd_per_mmbtu/emissions_kgco2_per_mmbtu: must be >= 0")
        if problems:
            raise ValueError(f"GasUnit {self.name!r}: " + "; ".join(problems))

    @property
    def marginal_cost_usd_per_mwh(self) -> float:
        """Fuel + variable O&M cost of one MWh [USD/MWh]: ``HR·p_fuel/1000 + VOM``."""
        return (
            self.heat_rate_btu_per_kwh * self.fuel_price_usd_per_mmbtu / 1000.0 + self.variable_om_usd_per_mwh
        )

    @property
    def emissions_kgco2_per_mwh(self) -> float:
        """CO2 per MWh generated [kg/MWh]: ``HR·EF/1000``."""
        return self.heat_rate_btu_per_kwh * self.emissions_kgco2_per_mmbtu / 1000.0


def fuel_use_mmbtu(energy_mwh: ArrayLike, heat_rate_btu_per_kwh: float) -> FloatArray:
    """Fuel burned to generate ``energy_mwh`` [MMBtu]: ``E · HR / 1000``."""
    return np.asarray(np.asarray(energy_mwh, dtype=float) * heat_rate_btu_per_kwh / 1000.0, dtype=float)


def gas_fuel_cost_usd(generation_mw: ArrayLike, unit: GasUnit, step_h: float) -> FloatArray:
    """Fuel + variable O&M cost per step [USD] of a gas unit's output [MW]."""
    return np.asarray(np.asarray(generation_mw, dtype=float) * step_h * unit.marginal_cost_usd_per_mwh)


def gas_emissions_kgco2(generation_mw: ArrayLike, unit: GasUnit, step_h: float) -> FloatArray:
    """Direct (Scope 1) CO2 per step [kg] of a gas unit's output [MW] [EPA2024]."""
    return np.asarray(np.asarray(generation_mw, dtype=float) * step_h * unit.emissions_kgco2_per_mwh)


# --------------------------------------------------------------------------------------------- solar PV


def solar_position(
    times: pd.DatetimeIndex, latitude_deg: float, longitude_deg: float, method: str = "ephemeris"
) -> pd.DataFrame:
    """pvlib solar position (``apparent_zenith``, ``azimuth`` … [deg]) at tz-aware ``times``.

    pvlib 0.16's ``ephemeris`` uses a pandas accessor that pandas 3.1 deprecates; that one warning is
    silenced here (narrowly, around the call) so it does not fail strict test runs.
    """
    from pvlib import (
        solarposition,
    )  # lazy: pvlib takes ~1 s to import; only solar and weather-file paths need it

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"DatetimeIndex\.dayofyear is deprecated")
        return solarposition.get_solarposition(times, latitude_deg, longitude_deg, method=method)


def pv_power_mw(
    times: TimesLike,
    latitude_deg: float,
    longitude_deg: float,
    ghi_w_per_m2: ArrayLike,
    dni_w_per_m2: ArrayLike,
    dhi_w_per_m2: ArrayLike,
    temp_air_c: ArrayLike,
    wind_speed_m_per_s: ArrayLike,
    capacity_dc_mw: float,
    dc_ac_ratio: float = 1.2,
    surface_tilt_deg: float | None = None,
    surface_azimuth_deg: float = 180.0,
    gamma_pdc_per_c: float = -0.0047,
    system_losses_frac: float = 0.1408,
    albedo: float = 0.2,
    solar_position_method: str = "ephemeris",
) -> FloatArray:
    """AC output of a fixed-tilt PV plant with pvlib's PVWatts functions [Dobos2014].

    Chain: solar position (pvlib) → plane-of-array irradiance (isotropic sky) → SAPM cell
    temperature (open rack) [King2004] → ``pvwatts_dc`` → system losses → ``inverter.pvwatts``:

    .. math::

        P_{dc} = \\frac{G_{poa}}{1000} P_{dc0} (1 + \\gamma (T_{cell} - 25)),\\qquad
        P_{ac} = \\min(\\eta_{inv}(P_{dc}(1-L)) , P_{ac0})

    Parameters
    ----------
    times : DatetimeIndex-like, shape (n,)
        Step times (tz-aware, or UTC if naive). Use mid-step times for step-mean irradiance.
    latitude_deg, longitude_deg : float
        Site location [deg].
    ghi_w_per_m2, dni_w_per_m2, dhi_w_per_m2 : array_like, shape (n,)
        Global horizontal, direct normal and diffuse horizontal irradiance [W/m²].
    temp_air_c : array_like, shape (n,)
        Ambient dry-bulb temperature [°C].
    wind_speed_m_per_s : array_like, shape (n,)
        Wind speed at 10 m [m/s] (for cell temperature).
    capacity_dc_mw : float
        DC nameplate at STC [MW].
    dc_ac_ratio : float
        DC/AC ratio; AC (inverter) capacity = ``capacity_dc_mw / dc_ac_ratio``. PVWatts default 1.2.
    surface_tilt_deg : float, optional
        Panel tilt [deg]; default ``abs(latitude)`` (a common fixed-tilt rule of thumb).
    surface_azimuth_deg : float
        Panel azimuth [deg from north]; 180 = south-facing (use 0 in the southern hemisphere).
    gamma_pdc_per_c : float
        DC power temperature coefficient [1/°C]; PVWatts standard module −0.0047.
    system_losses_frac : float
        Soiling, shading, mismatch, wiring, LID, availability … combined; PVWatts default 0.1408.
    albedo : float
        Ground reflectance (0–1).
    solar_position_method : str
        pvlib solar-position method: ``"ephemeris"`` (default; ≈ 10× faster than SPA, within 0.5° of it in
        apparent zenith, negligible for energy yield) or ``"nrel_numpy"`` (NREL SPA).

    Returns
    -------
    ndarray, shape (n,)
        AC power [MW], >= 0.

    References
    ----------
    [Dobos2014], [King2004]; pvlib: W. F. Holmgren, C. W. Hansen, M. A. Mikofski, "pvlib python: a python
    package for modeling solar energy systems", JOSS 3(29), 884, 2018.
    """
    # lazy: pvlib takes ~1 s to import; only solar and weather-file paths need it
    from pvlib import inverter, irradiance, pvsystem, temperature

    if capacity_dc_mw < 0:
        raise ValueError("capacity_dc_mw: must be >= 0")
    if dc_ac_ratio <= 0:
        raise ValueError("dc_ac_ratio: must be > 0")
    if not 0.0 <= system_losses_frac < 1.0:
        raise ValueError("system_losses_frac: must be within 0–1")
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    arrays = [np.asarray(a, dtype=float) for a in (ghi_w_per_m2, dni_w_per_m2, dhi_w_per_m2)]
    ghi, dni, dhi = (np.clip(np.nan_to_num(a), 0.0, None) for a in arrays)
    t_air = np.asarray(temp_air_c, dtype=float)
    ws = np.asarray(wind_speed_m_per_s, dtype=float)
    for name, a in (("ghi", ghi), ("dni", dni), ("dhi", dhi), ("temp_air_c", t_air), ("wind", ws)):
        if a.shape != (idx.size,):
            raise ValueError(f"{name}: must have one value per time ({idx.size}), got shape {a.shape}")
    tilt = abs(latitude_deg) if surface_tilt_deg is None else surface_tilt_deg
    sp = solar_position(idx, latitude_deg, longitude_deg, solar_position_method)
    zenith = np.asarray(sp["apparent_zenith"], dtype=float)
    azimuth = np.asarray(sp["azimuth"], dtype=float)
    poa = irradiance.get_total_irradiance(
        tilt, surface_azimuth_deg, zenith, azimuth, dni, ghi, dhi, albedo=albedo, model="isotropic"
    )
    poa_global = np.clip(np.nan_to_num(np.asarray(poa["poa_global"], dtype=float)), 0.0, None)
    params = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    t_cell = temperature.sapm_cell(poa_global, t_air, ws, **params)
    pdc0_w = capacity_dc_mw * 1e6
    pdc = pvsystem.pvwatts_dc(poa_global, t_cell, pdc0_w, gamma_pdc_per_c)
    pdc = np.asarray(pdc, dtype=float) * (1.0 - system_losses_frac)
    pac0_w = pdc0_w / dc_ac_ratio
    # inverter.pvwatts takes the inverter's DC input limit pdc0 = pac0 / eta_nom
    pac = inverter.pvwatts(pdc, pac0_w / 0.96, eta_inv_nom=0.96)
    pac = np.clip(np.nan_to_num(np.asarray(pac, dtype=float)), 0.0, pac0_w)
    return np.asarray(pac / 1e6, dtype=float)


# -------------------------------------------------------------------------------------------------- wind


@dataclass(frozen=True)
class PowerCurve:
    """A wind turbine power curve: electrical power versus hub-height wind speed (linear interpolation).

    Attributes
    ----------
    wind_speed_m_per_s : tuple of float
        Increasing wind speeds [m/s].
    power_mw : tuple of float
        Power at those speeds [MW]; zero outside ``[cut_in, cut_out]``.
    cut_out_m_per_s : float
        Speed above which the turbine shuts down [m/s].
    hub_height_m : float
        Hub height [m].
    source : str
        Provenance of the curve.
    """

    wind_speed_m_per_s: tuple[float, ...]
    power_mw: tuple[float, ...]
    cut_out_m_per_s: float
    hub_height_m: float
    source: str

    def __post_init__(self) -> None:
        v = np.asarray(self.wind_speed_m_per_s, dtype=float)
        p = np.asarray(self.power_mw, dtype=float)
        if v.shape != p.shape or v.size < 2:
            raise ValueError("PowerCurve: wind_speed_m_per_s and power_mw need the same length (>= 2)")
        if np.any(np.diff(v) <= 0):
            raise ValueError("PowerCurve.wind_speed_m_per_s: must be strictly increasing")
        if np.any(p < 0):
            raise ValueError("PowerCurve.power_mw: must be >= 0")

    @property
    def rated_mw(self) -> float:
        """Rated (maximum) power [MW]."""
        return float(max(self.power_mw))


def nrel_5mw_power_curve() -> PowerCurve:
    """Power curve of the NREL 5-MW reference turbine [Jonkman2009].

    Region 2 (cut-in to rated) is computed from the turbine's peak power coefficient and generator efficiency
    at sea-level density, ``P = η_gen · ½ ρ A C_p v³`` (ρ = 1.225 kg/m³, D = 126 m, C_p = 0.482,
    η_gen = 0.944), which gives 5.0 MW at the rated 11.4 m/s within 3 %; region 3 is held at 5 MW to the
    25 m/s cut-out. This idealises the published curve's transition region near rated speed (estimate).
    """
    rho, diameter_m, cp, eta = 1.225, 126.0, 0.482, 0.944
    area_m2 = np.pi * (diameter_m / 2.0) ** 2
    v = np.concatenate((np.arange(3.0, 11.4, 0.5), [11.4, 25.0]))
    p = np.minimum(eta * 0.5 * rho * area_m2 * cp * v**3 / 1e6, 5.0)
    p[-2:] = 5.0
    # zero output below cut-in: prepend 0 at just under cut-in
    v = np.concatenate(([0.0, 2.999], v))
    p = np.concatenate(([0.0, 0.0], p))
    return PowerCurve(
        tuple(float(x) for x in v),
        tuple(float(x) for x in p),
        cut_out_m_per_s=25.0,
        hub_height_m=90.0,
        source="NREL 5-MW reference turbine, Jonkman et al. 2009, NREL/TP-500-38060 (region 2 from Cp=0.482)",
    )


NREL_5MW = nrel_5mw_power_curve()


def hub_height_wind_speed_m_per_s(
    wind_speed_m_per_s: ArrayLike,
    measurement_height_m: float = 10.0,
    hub_height_m: float = 90.0,
    shear_exponent: float = 1.0 / 7.0,
) -> FloatArray:
    """Extrapolate wind speed to hub height with the power law [IEC61400-1].

    .. math:: v_{hub} = v_{ref} (h_{hub} / h_{ref})^{\\alpha}

    Parameters
    ----------
    wind_speed_m_per_s : array_like
        Measured wind speed [m/s] (weather files: 10 m).
    measurement_height_m, hub_height_m : float
        Heights [m].
    shear_exponent : float
        α: 1/7 neutral stability (default); IEC normal wind profile 0.2; 0.1–0.4 in practice.
    """
    if measurement_height_m <= 0 or hub_height_m <= 0:
        raise ValueError("measurement_height_m/hub_height_m: must be > 0")
    v = np.clip(np.asarray(wind_speed_m_per_s, dtype=float), 0.0, None)
    return np.asarray(v * (hub_height_m / measurement_height_m) ** shear_exponent, dtype=float)


def wind_power_mw(
    hub_wind_speed_m_per_s: ArrayLike,
    n_turbines: int,
    curve: PowerCurve = NREL_5MW,
    air_density_kg_per_m3: ArrayLike | None = None,
    losses_frac: float = 0.0,
) -> FloatArray:
    """Wind farm output from a turbine power curve.

    Wind speed is density-normalised when ``air_density_kg_per_m3`` is given [IEC61400-12-1],
    ``v_n = v (ρ/1.225)^{1/3}``, then the curve is interpolated; output is zero above cut-out.

    Parameters
    ----------
    hub_wind_speed_m_per_s : array_like, shape (n,)
        Hub-height wind speed [m/s] (see :func:`hub_height_wind_speed_m_per_s`).
    n_turbines : int
        Number of turbines.
    curve : PowerCurve
        Turbine power curve (default NREL 5 MW).
    air_density_kg_per_m3 : array_like, optional
        Air density per step [kg/m³].
    losses_frac : float
        Wake, electrical and availability losses (0–1); plant-level totals of 10–20 % are typical
        (estimate, cf. NREL Annual Technology Baseline).

    Returns
    -------
    ndarray, shape (n,)
        Farm power [MW].
    """
    if n_turbines < 0:
        raise ValueError("n_turbines: must be >= 0")
    if not 0.0 <= losses_frac < 1.0:
        raise ValueError("losses_frac: must be within 0–1")
    v = np.clip(np.nan_to_num(np.asarray(hub_wind_speed_m_per_s, dtype=float)), 0.0, None)
    if air_density_kg_per_m3 is not None:
        v = v * (np.asarray(air_density_kg_per_m3, dtype=float) / 1.225) ** (1.0 / 3.0)
    p = np.interp(v, curve.wind_speed_m_per_s, curve.power_mw, left=0.0, right=0.0)
    p = np.where(v > curve.cut_out_m_per_s, 0.0, p)
    return np.asarray(p * n_turbines * (1.0 - losses_frac), dtype=float)


# ---------------------------------------------------------------------------------------------- baseload


def baseload_power_mw(
    n_steps: int,
    capacity_mw: float,
    availability_frac: float = 0.92,
    step_h: float = 1.0 / 12.0,
    rng: np.random.Generator | None = None,
    mean_outage_h: float = 720.0,
) -> FloatArray:
    """Output of a baseload plant (e.g. a small modular reactor) with availability.

    Without ``rng`` the output is the expected value ``capacity · availability`` at every step. With an
    ``rng`` the plant alternates between up (full output) and down (zero) periods with exponential durations:
    mean down time ``mean_outage_h`` and mean up time ``mean_outage_h · A / (1 − A)`` so that the long-run
    availability is A (an alternating renewal process; cost grows with the number of outages, not steps).

    Parameters
    ----------
    n_steps : int
        Number of steps.
    capacity_mw : float
        Net capacity [MW].
    availability_frac : float
        Long-run availability / capacity factor (0–1]; nuclear fleets ≈ 0.9 [IAEA2023].
    step_h : float
        Step length [h].
    rng : numpy.random.Generator, optional
        Source of randomness for outages.
    mean_outage_h : float
        Mean outage (e.g. refuelling/forced outage) duration [h].

    Returns
    -------
    ndarray, shape (n_steps,)
        Available output per step [MW] (step-averaged when an outage starts or ends mid-step).
    """
    if capacity_mw < 0:
        raise ValueError("capacity_mw: must be >= 0")
    if not 0.0 < availability_frac <= 1.0:
        raise ValueError("availability_frac: must be within (0, 1]")
    if step_h <= 0 or mean_outage_h <= 0:
        raise ValueError("step_h/mean_outage_h: must be > 0")
    if rng is None:
        return np.full(n_steps, capacity_mw * availability_frac)
    if availability_frac >= 1.0:
        return np.full(n_steps, float(capacity_mw))
    horizon_h = n_steps * step_h
    mean_up_h = mean_outage_h * availability_frac / (1.0 - availability_frac)
    # start in the stationary state: up with probability A
    t = 0.0
    up = bool(rng.random() < availability_frac)
    edges = [0.0]
    states = []
    while t < horizon_h:
        t += float(rng.exponential(mean_up_h if up else mean_outage_h))
        edges.append(min(t, horizon_h))
        states.append(1.0 if up else 0.0)
        up = not up
    # step-average the piecewise-constant availability exactly via its cumulative integral
    e = np.asarray(edges)
    cum = np.concatenate(([0.0], np.cumsum(np.diff(e) * np.asarray(states))))
    grid = np.arange(n_steps + 1) * step_h
    cum_at = np.interp(grid, e, cum)
    return np.asarray(np.clip(np.diff(cum_at) / step_h, 0.0, 1.0) * capacity_mw, dtype=float)
