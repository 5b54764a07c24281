"""Supply stage of the facility controller: per-site grid, tariffs, generation, battery, carbon, dispatch.

:class:`SiteSupply` turns a site's scenario (``site.grid``, ``site.energy``) and weather into the per-step
inputs of :func:`gigawatt.physics.dispatch.dispatch` once per run (grid cap with energisation and curtailment
events, prices, carbon intensity, must-run generation profiles), then dispatches either block by block
during the run (carrying battery and gas state, for the power-capping decision) or over the whole horizon
at the end (for the recorded energy flows, costs and emissions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.engine.clock import Clock, site_utc_offset_h, wall_clock_offset_h
from gigawatt.physics import carbon as carbon_phys
from gigawatt.physics import dispatch as dsp
from gigawatt.physics import generation as gen
from gigawatt.physics import tariffs as trf
from gigawatt.physics.storage import Battery, equivalent_full_cycles
from gigawatt.scenario.energy import (
    BaseloadGenerator,
    FlatTariff,
    GasGenerator,
    SeriesTariff,
    SolarGenerator,
    TimeOfUseTariff,
    WindGenerator,
)
from gigawatt.scenario.site import Site

__all__ = ["CLEAR_SKY_CLEARNESS_FRAC", "SiteSupply", "regional_curtailment_events"]

#: Mean ratio of all-sky to clear-sky GHI used when a climate provides no irradiance (estimate: the global
#: mean clearness index is ≈ 0.5–0.75 over land; 0.7 is typical of mid-latitude sunny sites).
CLEAR_SKY_CLEARNESS_FRAC = 0.7


def _mid_step_times(clock: Clock) -> pd.DatetimeIndex:
    return clock.times + pd.Timedelta(seconds=clock.step_s / 2)


def _irradiance(site: Site, clock: Clock, weather: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """GHI, DNI, DHI [W/m²] from the weather, or a clear-sky estimate when the climate has none."""
    if all(k in weather for k in ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2")):
        return tuple(
            np.asarray(weather[k], dtype=float) for k in ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2")
        )
    from pvlib import clearsky, irradiance

    t = _mid_step_times(clock).tz_localize("UTC")
    loc = site.location
    sp = gen.solar_position(t, loc.latitude_deg, loc.longitude_deg)
    ghi = np.asarray(clearsky.haurwitz(sp["apparent_zenith"])["ghi"], dtype=float) * CLEAR_SKY_CLEARNESS_FRAC
    if "ghi_w_per_m2" in weather:
        ghi = np.asarray(weather["ghi_w_per_m2"], dtype=float)
    parts = irradiance.erbs(ghi, np.asarray(sp["apparent_zenith"]), np.asarray(t.day_of_year, dtype=float))
    return ghi, np.asarray(parts["dni"], dtype=float), np.asarray(parts["dhi"], dtype=float)


def _local_offset_h(site: Site, resolve_path: Callable[[str], Path] | None = None) -> float:
    """The site's local standard time offset from UTC [h] (see :func:`gigawatt.engine.clock.site_utc_offset_h`)."""
    return site_utc_offset_h(site, resolve_path)


@dataclass
class SiteSupply:
    """Per-step supply inputs of one site and its dispatch."""

    site: Site
    clock: Clock
    grid_cap_mw: np.ndarray
    export_cap_mw: np.ndarray
    price_usd_per_mwh: np.ndarray
    carbon_gco2_per_kwh: np.ndarray
    must_run_mw: dict[str, np.ndarray]
    gas_units: list[gen.GasUnit]
    battery: Battery | None
    policy: str
    peak_target_mw: float | None
    ppa_contracted_mw: np.ndarray
    ppa_settlement_usd: np.ndarray
    events: pd.DataFrame
    charge_mask: np.ndarray | None = None
    discharge_mask: np.ndarray | None = None
    state: dsp.DispatchState | None = None
    generator_names: list[str] = field(default_factory=list)
    prepared: dsp.PreparedDispatch | None = None
    _raw_state: tuple | None = None
    flex_pause_frac: np.ndarray | None = None
    """Share of training load paused per step by carbon-/price-aware scheduling (None: never)."""

    # ------------------------------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        site: Site,
        clock: Clock,
        weather: Mapping[str, np.ndarray],
        rng: np.random.Generator,
        resolve_path: Callable[[str], Path] | None = None,
        wall_clock: str = "site_local",
        regional_events: Sequence[dsp.CurtailmentEvent] | None = None,
        region_windows: Sequence[Any] = (),
    ) -> SiteSupply:
        """Precompute every per-step supply input of ``site`` (vectorised over the horizon).

        ``wall_clock`` (``Scenario.wall_clock``) is the clock of time-of-use periods and PPA hours.
        ``regional_events``: the stochastic events of the site's grid region (``grid.region``, drawn once for
        the region by :func:`regional_curtailment_events`); given, they replace the site's own draw and take
        the site's ``cap_frac`` and ``reason``. ``region_windows``: the scheduled windows of the site's grid
        region (``Scenario.grid_regions``), applied like the site's own ``curtailment_windows``.
        """
        n, step_h = clock.n_steps, clock.step_h
        times = clock.times
        g = site.grid
        base_mw = float(g.import_capacity_mw) if g.import_capacity_mw is not None else np.inf
        events = [
            dsp.CurtailmentEvent(pd.Timestamp(w.start), pd.Timestamp(w.end), w.cap_frac, w.reason)
            for w in g.curtailment_windows
        ] + [
            dsp.CurtailmentEvent(
                pd.Timestamp(w.start), pd.Timestamp(w.end), w.cap_frac, f"{w.reason} (grid region {g.region})"
            )
            for w in region_windows
        ]
        if g.stochastic_curtailment is not None and regional_events is not None:
            sc = g.stochastic_curtailment
            events += [
                dsp.CurtailmentEvent(e.start, e.end, sc.cap_frac, f"{sc.reason} (grid region {g.region})")
                for e in regional_events
            ]
        elif g.stochastic_curtailment is not None:
            sc = g.stochastic_curtailment
            events += dsp.poisson_curtailment_events(
                times, sc.rate_per_year, sc.mean_duration_h, rng, sc.cap_frac, sc.fixed_duration, sc.reason
            )
        if np.isinf(base_mw) and any(ev.cap_frac > 0 for ev in events):
            raise ValueError(
                f"sites[{site.name}].grid: a partial curtailment (cap_frac > 0) needs a finite import_capacity_mw"
            )
        # time-weighted multiplier: energised fraction of each step x curtailment events
        energise = None if g.energisation_date is None else pd.Timestamp(g.energisation_date)
        mult = dsp.grid_import_cap_mw(times, 1.0, energise)
        if events:
            mult = mult * dsp.curtailment_cap_frac(times, events)
        # an unconstrained connection has no grid in any step partly before energisation or partly disconnected
        cap = base_mw * mult if np.isfinite(base_mw) else np.where(mult >= 1.0, np.inf, 0.0)
        events_df = pd.DataFrame(
            {
                "time": [pd.Timestamp(e.start) for e in events],
                "site": site.name,
                "kind": "grid_curtailment",
                "cause": [e.reason for e in events],
                "duration_s": [(pd.Timestamp(e.end) - pd.Timestamp(e.start)).total_seconds() for e in events],
                "cap_frac": [e.cap_frac for e in events],
            }
        )
        # prices
        tariff = (
            g.tariff if g.tariff is not None else FlatTariff(price_usd_per_mwh=g.energy_price_usd_per_mwh)
        )
        wall_offset_h = wall_clock_offset_h(wall_clock, site, resolve_path)
        price = cls._price(tariff, site, clock, resolve_path, wall_offset_h)
        # carbon
        carbon = cls._carbon(site, clock, weather, resolve_path)
        # generation
        mid = _mid_step_times(clock)
        must_run: dict[str, np.ndarray] = {}
        gas: list[gen.GasUnit] = []
        loc = site.location
        irradiance: tuple[np.ndarray, ...] | None = None

        def pv_mw(
            capacity_dc_mw: float, dc_ac_ratio: float, tilt_deg: float | None, azimuth_deg: float, **kw: Any
        ) -> np.ndarray:
            """PV output [MW] of an array at this site (on-site plant or solar PPA); irradiance computed once."""
            nonlocal irradiance
            irradiance = irradiance or _irradiance(site, clock, weather)
            ghi, dni, dhi = irradiance
            wind = weather.get("wind_speed_m_per_s", np.full(n, 2.0))
            return gen.pv_power_mw(
                mid,
                loc.latitude_deg,
                loc.longitude_deg,
                ghi,
                dni,
                dhi,
                weather["dry_bulb_c"],
                wind,
                capacity_dc_mw,
                dc_ac_ratio,
                tilt_deg,
                azimuth_deg,
                **kw,
            )

        def online(spec: Any) -> np.ndarray:
            """Installed share of a dated plant per step (1 when undated)."""
            if spec.commission_date is None and spec.decommission_date is None:
                return np.ones(n)
            from gigawatt.engine.fleet import online_frac

            def secs(d: Any, default: float) -> float:
                return default if d is None else float((pd.Timestamp(d) - clock.start).total_seconds())

            span = np.array([[secs(spec.commission_date, -np.inf), secs(spec.decommission_date, np.inf)]])
            return online_frac(span, clock.step_start_s, clock.step_s)[:, 0]

        gas_avail: list[np.ndarray] = []
        for gspec in site.energy.generation:
            if isinstance(gspec, GasGenerator):
                gas_avail.append(online(gspec))
                gas.append(
                    gen.GasUnit(
                        gspec.name,
                        gspec.capacity_mw,
                        gspec.min_load_frac,
                        gspec.start_time_s,
                        gspec.heat_rate_btu_per_kwh,
                        gspec.fuel_price_usd_per_mmbtu,
                        gspec.emissions_kgco2_per_mmbtu,
                        gspec.variable_om_usd_per_mwh,
                        gspec.dispatch == "economic",
                    )
                )
            elif isinstance(gspec, SolarGenerator):
                az = gspec.surface_azimuth_deg
                if az is None:
                    az = 180.0 if loc.latitude_deg >= 0 else 0.0
                must_run[gspec.name] = pv_mw(
                    gspec.capacity_dc_mw,
                    gspec.dc_ac_ratio,
                    gspec.surface_tilt_deg,
                    az,
                    system_losses_frac=gspec.system_losses_frac,
                ) * online(gspec)
            elif isinstance(gspec, WindGenerator):
                must_run[gspec.name] = cls._wind(site, weather, gspec.n_turbines, gspec) * online(gspec)
            elif isinstance(gspec, BaseloadGenerator):
                must_run[gspec.name] = gen.baseload_power_mw(
                    n,
                    gspec.capacity_mw,
                    gspec.availability_frac,
                    step_h,
                    rng if gspec.stochastic_outages else None,
                    gspec.mean_outage_h,
                ) * online(gspec)
        # PPAs (contract for difference against the tariff)
        contracted = np.zeros(n)
        settlement = np.zeros(n)
        for ppa in g.ppas:
            if ppa.kind == "baseload":
                q = trf.ppa_baseload_mw(
                    clock.local_times(wall_offset_h),
                    ppa.block_mw,
                    ppa.start_hour,
                    ppa.end_hour,
                )
            elif ppa.kind == "solar":  # 1.2 DC/AC, default tilt, equator-facing
                q = pv_mw(ppa.capacity_mw * 1.2, 1.2, None, 180.0 if loc.latitude_deg >= 0 else 0.0)
            else:
                q = cls._wind(site, weather, 1, None) * ppa.capacity_mw / gen.NREL_5MW.rated_mw
            contracted += q
            settlement += trf.ppa_settlement_usd(q, ppa.strike_usd_per_mwh, price, step_h)
        b = site.energy.battery
        battery = None
        if b is not None:
            battery = Battery(
                energy_mwh=b.energy_mwh,
                power_mw=b.power_mw,
                round_trip_efficiency_frac=b.round_trip_efficiency_frac,
                soc_min_frac=b.soc_min_frac,
                soc_max_frac=b.soc_max_frac,
                initial_soc_frac=b.initial_soc_frac,
                reserve_soc_frac=b.reserve_soc_frac,
            )
        out = cls(
            site=site,
            clock=clock,
            grid_cap_mw=cap,
            export_cap_mw=np.full(n, g.export_capacity_mw),
            price_usd_per_mwh=price,
            carbon_gco2_per_kwh=carbon,
            must_run_mw=must_run,
            gas_units=gas,
            battery=battery,
            policy=b.policy if b is not None else "backup_only",
            # peak shaving holds import at the *nominal* cap: during a disconnection the battery is not
            # drained ahead of running gas (the shortfall merit order applies instead)
            peak_target_mw=(b.peak_shaving_target_mw or (base_mw if np.isfinite(base_mw) else None))
            if b is not None
            else None,
            ppa_contracted_mw=contracted,
            ppa_settlement_usd=settlement,
            events=events_df,
            generator_names=[x.name for x in site.energy.generation],
        )
        if battery is not None and out.policy in ("price_arbitrage", "carbon_aware"):
            sig = price if out.policy == "price_arbitrage" else carbon
            k = max(1, round(battery.duration_h / step_h))
            out.charge_mask, out.discharge_mask = dsp.daily_signal_masks(sig, round(24 / step_h), k, k)
        pc = site.power_capping
        if pc.flexible_training_frac > 0:
            flag = np.zeros(n, dtype=bool)
            if pc.pause_training_above_price_usd_per_mwh is not None:
                flag |= price > pc.pause_training_above_price_usd_per_mwh
            if pc.pause_training_above_carbon_gco2_per_kwh is not None:
                flag |= carbon > pc.pause_training_above_carbon_gco2_per_kwh
            out.flex_pause_frac = np.where(flag, pc.flexible_training_frac, 0.0)
        out.prepared = dsp.prepare_dispatch(
            n,
            dsp.DispatchInputs(
                step_h,
                out.grid_cap_mw,
                out.export_cap_mw,
                out.must_run_mw,
                out.gas_units,
                out.battery,
                out.policy,
                price_usd_per_mwh=price,
                carbon_gco2_per_kwh=carbon,
                peak_shaving_target_mw=out.peak_target_mw,
                charge_mask=out.charge_mask,
                discharge_mask=out.discharge_mask,
                gas_available_frac=np.array(gas_avail).reshape(len(gas), n) if gas else None,
                battery_available_frac=online(b) if b is not None else None,
            ),
        )
        return out

    @staticmethod
    def _wind(
        site: Site, weather: Mapping[str, np.ndarray], n_turbines: int, spec: WindGenerator | None
    ) -> np.ndarray:
        if "wind_speed_m_per_s" not in weather:
            raise ValueError(
                f"sites[{site.name}].energy.generation: wind needs a climate with wind speed "
                "(a weather file or a synthetic climate that provides wind_speed_m_per_s)"
            )
        v = gen.hub_height_wind_speed_m_per_s(
            weather["wind_speed_m_per_s"],
            spec.measurement_height_m if spec else 10.0,
            spec.hub_height_m if spec else 90.0,
            spec.shear_exponent if spec else 1.0 / 7.0,
        )
        return gen.wind_power_mw(v, n_turbines, losses_frac=spec.losses_frac if spec else 0.1)

    @staticmethod
    def _price(
        tariff: object,
        site: Site,
        clock: Clock,
        resolve_path: Callable[[str], Path] | None,
        wall_offset_h: float,
    ) -> np.ndarray:
        times = clock.times
        if isinstance(tariff, FlatTariff):
            return trf.flat_price_usd_per_mwh(times, tariff.price_usd_per_mwh)
        if isinstance(tariff, TimeOfUseTariff):
            rules = [
                trf.TouRule(p.price_usd_per_mwh, p.start_hour, p.end_hour, tuple(p.weekdays), tuple(p.months))
                for p in tariff.periods
            ]
            return trf.time_of_use_price_usd_per_mwh(
                clock.local_times(wall_offset_h), tariff.base_price_usd_per_mwh, rules
            )
        if isinstance(tariff, SeriesTariff):
            path = resolve_path(tariff.path) if resolve_path else tariff.path
            df = pd.read_csv(str(path))
            missing = {"time", "price_usd_per_mwh"} - set(df.columns)
            if missing:
                raise ValueError(f"sites[{site.name}].grid.tariff.path: CSV lacks columns {sorted(missing)}")
            st = pd.DatetimeIndex(pd.to_datetime(df["time"], utc=True)).tz_localize(None)
            prices = df["price_usd_per_mwh"].to_numpy(dtype=float)
            if tariff.repeat_yearly:
                # the hour-of-year helper that weather replay uses (Feb 29 folds onto Feb 28)
                return trf.yearly_series_price_usd_per_mwh(times, st, prices)
            return trf.series_price_usd_per_mwh(times, st, prices)
        raise TypeError(f"unsupported tariff {type(tariff).__name__}")  # pragma: no cover

    @staticmethod
    def _carbon(
        site: Site,
        clock: Clock,
        weather: Mapping[str, np.ndarray],
        resolve_path: Callable[[str], Path] | None = None,
    ) -> np.ndarray:
        g, n = site.grid, clock.n_steps
        c = g.carbon
        if c is None:
            return np.full(n, g.carbon_intensity_gco2_per_kwh)
        if c.annual_mean_gco2_per_kwh is not None:
            mean = c.annual_mean_gco2_per_kwh
        elif c.region_code is not None:
            mean = carbon_phys.annual_grid_intensity_gco2_per_kwh(c.region_code)
        else:
            mean = g.carbon_intensity_gco2_per_kwh
        if c.profile == "flat":
            return np.full(n, float(mean))
        local = clock.times + pd.Timedelta(hours=_local_offset_h(site, resolve_path))
        return carbon_phys.synthetic_intensity_gco2_per_kwh(
            local,
            mean,
            c.solar_dip_frac,
            c.evening_peak_frac,
            c.seasonal_amplitude_frac,
            site.location.latitude_deg,
            weather.get("ghi_w_per_m2"),
        )

    # --------------------------------------------------------------------------------------- dispatch
    @property
    def constrained(self) -> bool:
        """Whether supply can ever fall short (finite grid cap anywhere)."""
        return bool(np.any(np.isfinite(self.grid_cap_mw)))

    @property
    def needs_feedback(self) -> bool:
        """Whether the supply stage can ever reduce throughput (supply shortfalls or flexible training)."""
        return self.constrained or self.flex_pause_frac is not None

    def dispatch(
        self,
        demand_mw: np.ndarray,
        step0: int = 0,
        carry: bool = False,
        commit_demand_mw: np.ndarray | None = None,
    ) -> dsp.DispatchResult:
        """Dispatch steps ``step0 .. step0 + len(demand_mw)``; with ``carry`` continue from the stored state.

        ``commit_demand_mw`` decides gas starts and stops (default: the demand), see
        :func:`gigawatt.physics.dispatch.dispatch`.
        """
        assert self.prepared is not None
        commit = None if commit_demand_mw is None else np.maximum(commit_demand_mw, demand_mw)
        res = self.prepared.run(np.clip(demand_mw, 0.0, None), step0, self.state if carry else None, commit)
        if carry:
            self.state = res.final_state
        return res

    def unserved_block_mw(
        self, demand_mw: np.ndarray, step0: int, commit_demand_mw: np.ndarray | None = None
    ) -> np.ndarray:
        """Unserved power [MW] of a look-ahead block starting at ``step0`` (lean path).

        Starts from the battery and gas state at the end of step ``step0 − 1`` as last dispatched, and
        records the block's state path, so a block may be re-decided from any earlier step (the controller
        recomputes its look-ahead window when the load changes).
        """
        assert self.prepared is not None
        if self._raw_state is None:
            n, n_gas = self.clock.n_steps, len(self.gas_units)
            soc0, online0, countdown0 = self.prepared._initial(None)
            self._raw_state = (
                soc0,
                online0,
                countdown0,
                np.zeros(n),
                np.zeros((n_gas, n), dtype=np.bool_),
                np.zeros((n_gas, n), dtype=np.int64),
            )
        soc_init, online_init, countdown_init, soc_path, online_path, countdown_path = self._raw_state
        if step0 == 0:
            soc0, online0, countdown0 = soc_init, online_init, countdown_init
        else:
            p = step0 - 1
            soc0 = float(soc_path[p])
            online0 = np.ascontiguousarray(online_path[:, p])
            countdown0 = np.ascontiguousarray(countdown_path[:, p])
        d = np.ascontiguousarray(np.clip(demand_mw, 0.0, None), dtype=float)
        commit = None
        if commit_demand_mw is not None:
            commit = np.ascontiguousarray(np.maximum(commit_demand_mw, d), dtype=float)
        out = self.prepared.run_raw(d, step0, soc0, online0, countdown0, commit)
        t = slice(step0, step0 + d.size)
        soc_path[t] = out[5] if self.battery is not None else 0.0
        online_path[:, t] = out[11]
        countdown_path[:, t] = out[12]
        return np.asarray(out[6], dtype=float)

    # ----------------------------------------------------------------------------------------- outputs
    def accounts(
        self,
        res: dsp.DispatchResult,
        demand_full_mw: np.ndarray,
        dark_demand_mw: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Per-step columns (plain names) and KPIs of a whole-horizon dispatch.

        ``energy_cost_usd`` = grid energy at the tariff − export at the tariff + PPA settlement + gas fuel and
        variable O&M + each month's demand charge (booked at the step of the monthly peak).
        ``emissions_kgco2`` = location-based Scope 2 + Scope 1 on-site fuel. ``unserved_mw`` = demand at full
        throughput − power supplied (removed by power capping, or blacked out). ``overdraw_mw`` = the part of
        the power drawn that supply could not meet (the feedback lag: load that rose inside a decided block),
        so that exactly: grid + generation + discharge = facility power − overdraw + charge + export +
        curtailed. ``blackout_mw`` = ``dark_demand_mw`` (facility demand of the halls that lost power, which
        draw nothing) + ``overdraw_mw``: the load left without supply after power capping.
        """
        step_h = self.clock.step_h
        price, ci = self.price_usd_per_mwh, self.carbon_gco2_per_kwh
        cols: dict[str, np.ndarray] = {
            "facility_demand_mw": demand_full_mw,
            "grid_export_mw": res.grid_export_mw,
        }
        for name in self.generator_names:
            cols[f"generation_{name}_mw"] = res.generation_mw[name]
        n = self.clock.n_steps
        has_b = self.battery is not None
        cols["battery_charge_mw"] = res.battery_charge_mw
        cols["battery_discharge_mw"] = res.battery_discharge_mw
        cols["battery_soc_frac"] = res.battery_soc_frac if has_b else np.full(n, np.nan)
        cols["curtailed_mw"] = res.curtailed_generation_mw
        grid_cost = trf.energy_cost_usd(res.grid_import_mw - res.grid_export_mw, price, step_h)
        fuel_cost = np.zeros(n)
        scope1 = np.zeros(n)
        for u in self.gas_units:
            fuel_cost += gen.gas_fuel_cost_usd(res.generation_mw[u.name], u, step_h)
            scope1 += gen.gas_emissions_kgco2(res.generation_mw[u.name], u, step_h)
        rate = self.site.grid.demand_charge_usd_per_kw_month
        demand_by_month, demand_step = trf.demand_charges_usd(self.clock.times, res.grid_import_mw, rate)
        cost = grid_cost + self.ppa_settlement_usd + fuel_cost + demand_step
        loc = carbon_phys.location_based_emissions_kgco2(res.grid_import_mw, ci, step_h)
        c = self.site.grid.carbon
        resid = ci if c is None or c.residual_mix_gco2_per_kwh is None else c.residual_mix_gco2_per_kwh
        cert = (c.certificates_mwh_per_year if c is not None else 0.0) * self.clock.n_steps * step_h / 8760.0
        market = carbon_phys.market_based_emissions_kgco2(
            res.grid_import_mw,
            step_h,
            resid,
            self.ppa_contracted_mw,
            cert,
            c.matching if c is not None else "annual",
        )
        cols["energy_price_usd_per_mwh"] = price
        cols["carbon_intensity_gco2_per_kwh"] = ci
        cols["emissions_scope2_location_kgco2"] = loc
        cols["emissions_scope2_market_kgco2"] = market
        cols["emissions_scope1_kgco2"] = scope1
        served = res.served_mw
        # Demand removed by capping or blacked out; gaps below the same relative tolerance that marks a step
        # as capped (1e-6 of demand, at least 1 W per MW) are float round-off of a served step, snapped to 0.
        gap_mw = demand_full_mw - served
        cols["unserved_mw"] = np.where(gap_mw > 1e-6 * np.maximum(demand_full_mw, 1.0), gap_mw, 0.0)
        dark = np.zeros(n) if dark_demand_mw is None else np.asarray(dark_demand_mw, dtype=float)
        cols["overdraw_mw"] = res.unserved_mw
        cols["blackout_mw"] = dark + res.unserved_mw
        cols["grid_import_mw"] = res.grid_import_mw
        cols["energy_cost_usd"] = cost
        cols["emissions_kgco2"] = loc + scope1
        capped = demand_full_mw - res.demand_mw > 1e-6 * np.maximum(demand_full_mw, 1.0)
        kpis = {
            "energy_cost_usd": float(cost.sum()),
            "grid_energy_cost_usd": float(grid_cost.sum()),
            "demand_charges_usd": float(demand_by_month["demand_charge_usd"].sum()),
            "ppa_settlement_usd": float(self.ppa_settlement_usd.sum()),
            "fuel_cost_usd": float(fuel_cost.sum()),
            "emissions_scope2_location_tco2": float(loc.sum() / 1e3),
            "emissions_scope2_market_tco2": float(market.sum() / 1e3),
            "emissions_scope1_tco2": float(scope1.sum() / 1e3),
            "hours_capped_h": float(capped.sum() * step_h),
            "unserved_energy_mwh": float(cols["unserved_mw"].sum() * step_h),
            "blackout_energy_mwh": float(cols["blackout_mw"].sum() * step_h),
            "overdraw_energy_mwh": float(res.unserved_mw.sum() * step_h),
            "curtailed_energy_mwh": float(res.curtailed_generation_mw.sum() * step_h),
            "grid_export_energy_mwh": float(res.grid_export_mw.sum() * step_h),
            "battery_cycles": equivalent_full_cycles(res.battery_discharge_mw, step_h, self.battery)
            if self.battery is not None
            else 0.0,
            "grid_events": float(len(self.events)),
        }
        for name in self.generator_names:
            kpis[f"generation_{name}_energy_mwh"] = float(res.generation_mw[name].sum() * step_h)
        kpis["islanded_ride_through_h"] = self.islanded_ride_through_h(float(np.max(demand_full_mw)))
        n_servers = sum(rg.n_servers for h in self.site.halls for rg in h.racks)
        horizon_h = self.clock.n_steps * step_h
        kpis["emissions_embodied_tco2"] = (
            carbon_phys.embodied_emissions_kgco2(self.site.n_accelerators, n_servers, horizon_h) / 1e3
        )
        return cols, kpis

    def islanded_ride_through_h(self, load_mw: float, horizon_h: float = 168.0) -> float:
        """Hours the site serves ``load_mw`` with no grid: battery from full SoC, gas from cold, firm
        baseload at its expected output (solar and wind not counted); ``inf`` beyond ``horizon_h``."""
        if load_mw <= 0:
            return float("inf")
        firm = {
            g.name: np.full(1, g.capacity_mw * g.availability_frac)
            for g in self.site.energy.generation
            if isinstance(g, BaseloadGenerator)
        }
        b = self.battery
        if b is not None:
            b = replace(
                b, initial_soc_frac=b.soc_max_frac, reserve_soc_frac=b.soc_min_frac
            )  # full, all usable
        n = max(1, round(horizon_h / self.clock.step_h))
        must = {k: np.repeat(v, n) for k, v in firm.items()}
        return dsp.islanded_ride_through_h(load_mw, self.clock.step_h, must, self.gas_units, b, horizon_h)


# ------------------------------------------------------------------------------------------ all sites

#: Columns that add up across sites (campus totals are their sums).
_ADDITIVE = (
    "facility_demand_mw",
    "blackout_mw",
    "overdraw_mw",
    "grid_export_mw",
    "battery_charge_mw",
    "battery_discharge_mw",
    "curtailed_mw",
    "emissions_scope2_location_kgco2",
    "emissions_scope2_market_kgco2",
    "emissions_scope1_kgco2",
)
#: Columns that :func:`gigawatt.result.build_timeseries` already writes from the ``site_*`` flows.
_FROM_FLOWS = ("grid_import_mw", "unserved_mw", "energy_cost_usd", "emissions_kgco2")


def regional_curtailment_events(
    sites: Sequence[Site], clock: Clock, rng_for_region: Callable[[str], np.random.Generator]
) -> dict[str, list[dsp.CurtailmentEvent]]:
    """Stochastic grid events of each grid region, drawn once per region (correlated outages).

    Every site with ``grid.region`` set and a ``grid.stochastic_curtailment`` shares its region's events:
    Poisson arrivals at ``rate_per_year`` and exponential (or fixed) durations of ``mean_duration_h``, taken
    from the first such site of the region (``gigawatt check`` requires the region's sites to agree), drawn
    from the region's own stream ``rng_for_region(region)``; so two sites of one region see the same event
    times and sites of different regions independent ones. The returned events carry ``cap_frac = 0``; each
    site applies its own ``cap_frac`` (:meth:`SiteSupply.build`).

    Returns
    -------
    dict
        ``{region: [CurtailmentEvent, ...]}`` for each region with stochastic curtailment.
    """
    out: dict[str, list[dsp.CurtailmentEvent]] = {}
    for s in sites:
        g = s.grid
        if g.region is None or g.stochastic_curtailment is None or g.region in out:
            continue
        sc = g.stochastic_curtailment
        out[g.region] = dsp.poisson_curtailment_events(
            clock.times, sc.rate_per_year, sc.mean_duration_h, rng_for_region(g.region), 0.0,
            sc.fixed_duration, sc.reason,
        )  # fmt: skip
    return out


class SupplyStage:
    """Stage 3 of the facility controller for every site: dispatch, power available, accounts.

    Parameters
    ----------
    sites : list of Site
    clock : Clock
    weather : list of mappings
        Per-site weather arrays (``dry_bulb_c`` and, when available, irradiance and wind speed).
    rng_for_site : callable
        ``rng_for_site(site_name) -> numpy.random.Generator`` (a named stream from the scenario seed).
    rng_for_region : callable, optional
        ``rng_for_region(region) -> numpy.random.Generator``: the stream of a grid region's stochastic
        curtailment events (``sites[].grid.region``), drawn once and shared by the region's sites. Default:
        ``rng_for_site("grid region <region>")``.
    region_windows : mapping, optional
        ``{region: [CurtailmentWindow, ...]}``: scheduled windows of each grid region
        (``Scenario.grid_regions``), applied to every site of the region.
    resolve_path : callable, optional
        Resolves relative paths in the scenario (price series files).
    wall_clock : str
        ``Scenario.wall_clock``: clock of time-of-use periods and PPA hours (``site_local`` or ``utc``).
    """

    def __init__(
        self,
        sites: Sequence[Site],
        clock: Clock,
        weather: Sequence[Mapping[str, np.ndarray]],
        rng_for_site: Callable[[str], np.random.Generator],
        resolve_path: Callable[[str], Path] | None = None,
        wall_clock: str = "site_local",
        rng_for_region: Callable[[str], np.random.Generator] | None = None,
        region_windows: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        self.clock = clock
        if rng_for_region is None:
            rng_for_region = lambda region: rng_for_site(f"grid region {region}")  # noqa: E731
        regional = regional_curtailment_events(sites, clock, rng_for_region)
        self.sites = [
            SiteSupply.build(
                s,
                clock,
                w,
                rng_for_site(s.name),
                resolve_path,
                wall_clock,
                regional.get(s.grid.region or ""),
                (region_windows or {}).get(s.grid.region or "", ()),
            )
            for s, w in zip(sites, weather, strict=True)
        ]

    @property
    def constrained(self) -> bool:
        """Whether any site's supply can fall short."""
        return any(s.constrained for s in self.sites)

    @property
    def needs_feedback(self) -> bool:
        """Whether the supply stage can reduce throughput (the controller must then look ahead)."""
        return any(s.needs_feedback for s in self.sites)

    def flex_pause_frac(self, hall_site: np.ndarray, step0: int, step1: int) -> np.ndarray | None:
        """Share of each hall's training load paused by carbon-/price-aware scheduling, (T, H), or None."""
        if all(s.flex_pause_frac is None for s in self.sites):
            return None
        out = np.zeros((step1 - step0, hall_site.size))
        for si, s in enumerate(self.sites):
            if s.flex_pause_frac is not None:
                out[:, hall_site == si] = s.flex_pause_frac[step0:step1, None]
        return out

    def firm_capacity_kw(self, step0: int, step1: int) -> np.ndarray:
        """Supply each site has for certain in steps ``step0..step1`` [kW], array (m, S): the grid import cap in
        force (0 before energisation or during a disconnection) plus must-run generation, leaving out the
        battery and dispatchable gas (a lower bound of what :meth:`available_kw` can deliver)."""
        t = slice(step0, step1)
        cols = []
        for s in self.sites:
            firm = np.array(s.grid_cap_mw[t], dtype=float)
            for q in s.must_run_mw.values():
                firm = firm + q[t]
            cols.append(firm * 1e3)
        return np.stack(cols, axis=1)

    @property
    def has_state(self) -> bool:
        """Whether any site carries dispatch state from step to step (a battery or gas units)."""
        return any(s.battery is not None or s.gas_units for s in self.sites)

    def sync_state(self, site_power_kw: np.ndarray, site_demand_full_kw: np.ndarray, step0: int) -> None:
        """Re-dispatch steps ``step0 .. step0 + len`` with the facility power actually drawn [kW] (T, S), gas
        commitment following the demand at full throughput [kW] (T, S) as in :meth:`finalize`, so the battery
        and gas state the next look-ahead starts from follows the load that happened, not the load that was
        predicted when those steps were decided."""
        for si, s in enumerate(self.sites):
            if s.battery is not None or s.gas_units:
                s.unserved_block_mw(
                    np.clip(site_power_kw[:, si], 0.0, None) / 1e3, step0, site_demand_full_kw[:, si] / 1e3
                )

    def available_kw(self, site_demand_kw: np.ndarray, step0: int) -> np.ndarray:
        """Power each site can supply to its facility in steps ``step0..`` [kW], dispatching block by block.

        ``site_demand_kw`` (T, S) is the facility demand at full throughput; the battery and gas state carry
        over to the next call.
        """
        out = np.empty_like(site_demand_kw, dtype=float)
        for si, s in enumerate(self.sites):
            d = np.clip(site_demand_kw[:, si] / 1e3, 0.0, None)
            out[:, si] = (d - s.unserved_block_mw(d, step0)) * 1e3
        return out

    def finalize(
        self,
        site_power_kw: np.ndarray,
        site_demand_full_kw: np.ndarray,
        site_dark_demand_kw: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, float], pd.DataFrame]:
        """Whole-horizon dispatch of the power actually drawn; returns flows, columns, KPIs and grid events.

        Parameters
        ----------
        site_power_kw : array (T, S)
            Facility power drawn (after throttling and power capping) [kW].
        site_demand_full_kw : array (T, S)
            Facility demand at full throughput [kW] (for ``unserved_mw`` and hours capped), dark halls included.
        site_dark_demand_kw : array (T, S), optional
            Facility demand of the halls that lost power [kW] (part of ``blackout_mw``; they draw nothing).

        Returns
        -------
        flows : dict of arrays (T, S)
            ``site_grid_import_kw``, ``site_unserved_kw``, ``site_energy_cost_usd``, ``site_emissions_kgco2``,
            ``site_emissions_scope2_location_kgco2``.
        columns : dict of arrays (T,)
            Extra time-series columns (plain names for one site; ``"<site>:<col>"`` plus campus totals of
            additive columns for several).
        kpis : dict
            Energy KPIs (per site as ``"<site>:<kpi>"`` when there are several; campus values are sums,
            except ``islanded_ride_through_h`` (minimum over sites) and ``battery_cycles`` (maximum)).
        events : DataFrame
            Grid curtailment events.
        """
        n_s = len(self.sites)
        flows = {
            k: np.zeros_like(site_power_kw, dtype=float)
            for k in (
                "site_grid_import_kw",
                "site_unserved_kw",
                "site_energy_cost_usd",
                "site_emissions_kgco2",
                "site_emissions_scope2_location_kgco2",
            )
        }
        columns: dict[str, np.ndarray] = {}
        kpis: dict[str, float] = {}
        events = []
        for si, s in enumerate(self.sites):
            s.state = None
            res = s.dispatch(site_power_kw[:, si] / 1e3, commit_demand_mw=site_demand_full_kw[:, si] / 1e3)
            dark = None if site_dark_demand_kw is None else site_dark_demand_kw[:, si] / 1e3
            cols, k = s.accounts(
                res, np.maximum(site_demand_full_kw[:, si], site_power_kw[:, si]) / 1e3, dark
            )
            flows["site_grid_import_kw"][:, si] = cols["grid_import_mw"] * 1e3
            flows["site_unserved_kw"][:, si] = cols["unserved_mw"] * 1e3
            flows["site_energy_cost_usd"][:, si] = cols["energy_cost_usd"]
            flows["site_emissions_kgco2"][:, si] = cols["emissions_kgco2"]
            flows["site_emissions_scope2_location_kgco2"][:, si] = cols["emissions_scope2_location_kgco2"]
            extra = {c: v for c, v in cols.items() if c not in _FROM_FLOWS}
            if n_s == 1:
                columns.update(extra)
                kpis.update(k)
            else:
                columns.update({f"{s.site.name}:{c}": v for c, v in extra.items()})
                for c, col in extra.items():
                    if c in _ADDITIVE or c.startswith("generation_"):
                        columns[c] = columns.get(c, np.zeros(self.clock.n_steps)) + col
                for key, val in k.items():
                    kpis[f"{s.site.name}:{key}"] = val
                    if (
                        key == "islanded_ride_through_h"
                    ):  # the campus rides through as long as its weakest site
                        kpis[key] = min(kpis.get(key, float("inf")), val)
                    elif key == "battery_cycles":  # the most-cycled battery
                        kpis[key] = max(kpis.get(key, 0.0), val)
                    else:
                        kpis[key] = kpis.get(key, 0.0) + val
            if len(s.events):
                events.append(s.events)
        ev = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
        return flows, columns, kpis, ev


# ------------------------------------------------------------------------------------------ power capping

#: Workload kinds of the ledger phases (UTIL, TRAIN_COMPUTE, TRAIN_STALL, PREFILL, DECODE) for capping.
PHASE_KIND = ("other", "training", "training", "inference", "inference")


@dataclass
class CapDecision:
    """Per-hall outcome of the power-capping policy for a block of steps."""

    progress_frac: np.ndarray  # (T, H) work-progress factor (DVFS throughput × running fraction)
    dyn_power_scale: np.ndarray  # (T, H) dynamic IT power relative to its full-throughput value
    dvfs_throughput_frac: np.ndarray  # (T, H) clock (DVFS) throughput factor of the running load
    running_frac: np.ndarray  # (T, H) dynamic-power-weighted fraction of the load not paused or shed
    capped: np.ndarray  # (T, H) bool: some action was taken
    unserved_kw: np.ndarray  # (T, S) facility power no action could remove
    training_paused_frac: dict[int, np.ndarray] = field(default_factory=dict)
    """Per training priority level: (T, H) fraction of that level's training load paused in each hall."""
    training_paused_default_frac: np.ndarray | None = None
    """(T, H) paused fraction of training not attributed to a priority level (halls without a share)."""


def plan_power_cap(
    it_base_kw: np.ndarray,
    dyn_kind_kw: np.ndarray,
    available_site_kw: np.ndarray,
    hall_site: np.ndarray,
    site_facility_kw: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    orders: list[list[str]],
    min_power_frac: float,
    throughput_of_power_frac: Callable[[np.ndarray], np.ndarray],
    training_priority_share: Sequence[Mapping[int, float]] | None = None,
) -> CapDecision:
    """Apply each site's power-capping policy so its facility power fits under the supply available.

    Each hall's training load is one :class:`~gigawatt.physics.capping.LoadBlock` per priority level
    (``dyn_kind_kw[..., 1] · share_p``), so ``pause_training`` pauses the site's lowest priority level
    first (in every hall) before touching a higher one; the hall's running fraction (and hence its power)
    depends only on the total paused load.

    Parameters
    ----------
    it_base_kw : array (T, H)
        IT power no action removes (idle accelerators, hosts, network, storage) [kW].
    dyn_kind_kw : array (T, H, 3)
        Dynamic (above-idle) accelerator power at the current throughput, split by workload kind
        (other, training, inference) [kW].
    available_site_kw : array (T, S)
        Supply available to each site's facility [kW].
    hall_site : array (H,)
        Site index of each hall.
    site_facility_kw : callable ``(it_hall_kw (m, H_s), step_idx (m,), site) -> (m,)``
        Facility power of one site for the given IT power of its halls (monotone in IT power).
    orders : list of list of str
        Capping order per site (:class:`gigawatt.scenario.energy.PowerCapping`).
    min_power_frac, throughput_of_power_frac
        DVFS floor on the dynamic power fraction and the DVFS curve (facility physics).
    training_priority_share : sequence of mapping, optional
        Per hall: share (summing to 1) of its training load by priority level (e.g. running GPUs by job
        priority, weighted by their dynamic power). Halls without one form a single training block of
        priority 0 whose paused fraction is reported in ``training_paused_default_frac``.
    """
    from gigawatt.physics.capping import LoadBlock, solve_power_cap

    n, n_h = it_base_kw.shape
    n_s = available_site_kw.shape[1]
    progress = np.ones((n, n_h))
    scale = np.ones((n, n_h))
    dvfs_thr = np.ones((n, n_h))
    running = np.ones((n, n_h))
    capped = np.zeros((n, n_h), dtype=bool)
    unserved = np.zeros((n, n_s))
    train_paused: dict[int, np.ndarray] = {}
    train_default = np.zeros((n, n_h))
    for si in range(n_s):
        halls = np.flatnonzero(hall_site == si)
        if halls.size == 0:
            continue
        blocks: list[LoadBlock] = []
        block_hall: list[int] = []
        train_block: list[tuple[int, int | None]] = []  # (block, priority or None if unattributed)
        for j, h in enumerate(halls):
            for k, kind in enumerate(("other", "training", "inference")):
                d = dyn_kind_kw[:, h, k]
                if not np.any(d > 0):
                    continue
                share = training_priority_share[int(h)] if training_priority_share is not None else {}
                if kind == "training" and share:
                    for prio, frac in sorted(share.items()):
                        if frac > 0:
                            train_block.append((len(blocks), prio))
                            blocks.append(LoadBlock(j, kind, prio, d * frac / 1e3, f"{h}:{kind}:{prio}"))
                            block_hall.append(j)
                    continue
                if kind == "training":
                    train_block.append((len(blocks), None))
                blocks.append(LoadBlock(j, kind, 0, d / 1e3, f"{h}:{kind}"))
                block_hall.append(j)

        def fac(it_mw: np.ndarray, idx: np.ndarray, si: int = si) -> np.ndarray:
            return np.asarray(site_facility_kw(it_mw * 1e3, idx, si), dtype=float) / 1e3

        order = [*orders[si], *(a for a in ("shed_other",) if a not in orders[si])]
        res = solve_power_cap(
            it_base_kw[:, halls] / 1e3,
            blocks,
            available_site_kw[:, si] / 1e3,
            fac,
            order,
            min_power_frac,
            throughput_of_power_frac,
        )
        dyn_full = dyn_kind_kw[:, halls, :].sum(axis=2)
        dyn_after = res.it_power_mw * 1e3 - it_base_kw[:, halls]
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(dyn_full > 0, dyn_after / dyn_full, 1.0)
        scale[:, halls] = np.clip(s, 0.0, 1.0)
        progress[:, halls] = res.hall_throughput_frac
        dvfs_thr[:, halls] = np.asarray(throughput_of_power_frac(res.power_frac), dtype=float)[:, None]
        bh = np.asarray(block_hall, dtype=np.int64)
        for j in range(halls.size):
            members = np.flatnonzero(bh == j)
            if members.size:
                w = np.stack([blocks[b].dynamic_mw for b in members], axis=1)
                wsum = w.sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = (w * (1.0 - res.paused_frac[:, members])).sum(axis=1) / wsum
                running[:, halls[j]] = np.where(wsum > 0, r, 1.0)
        capped[:, halls] = res.capped[:, None]
        unserved[:, si] = res.unserved_mw * 1e3
        for b, level in train_block:
            h = halls[blocks[b].hall]
            if level is None:
                train_default[:, h] = res.paused_frac[:, b]
            else:
                train_paused.setdefault(level, np.zeros((n, n_h)))[:, h] = res.paused_frac[:, b]
    return CapDecision(progress, scale, dvfs_thr, running, capped, unserved, train_paused, train_default)
