"""Inference services in the engine: fleet mode over the horizon, request-level windows, shared pools.

``start()`` builds the service's demand per control step, sizes and autoscales replicas in fleet mode
(:func:`gigawatt.perf.fleet.simulate_fleet`) and adds the replicas' PREFILL / DECODE GPU occupancy to the
ledger as per-step profiles. With ``shared_with_training`` a simpy process takes the replicas' nodes from the
training workload's pool at each change (preempting preemptible jobs when short) and gives them back when
demand falls. ``finish()`` re-evaluates the service with the hall throughput factor actually in force and the
replicas actually obtained, and simulates the request-level windows.

Coupling (documented one-pass): the autoscaler decides replicas at full throughput; throttling then shows as
higher latency, lower SLO attainment and, at saturation, dropped demand, not as extra replicas. When a shared
pool cannot supply all replicas, the ledger still carries the requested occupancy for the short steps
(reported as ``<service>:pool_shortfall_replicas``).

Power loss: in steps where the service's hall is dark (a blackout, ``flows["dark_hall"]``) no replica is
ready, so the demand of those steps is dropped (or queued up to ``max_queue_s``), and after power returns the
replicas come back after ``scale_up_delay_s`` (a cold start: weights reloaded). Served requests and SLO
attainment fall accordingly.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
import simpy

from gigawatt.checks.inference import model_spec, serving_config, token_samples
from gigawatt.engine.inference_sim import simulate_requests
from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.perf import demand as dm
from gigawatt.perf.fleet import (
    SLO,
    AutoscalerConfig,
    DisaggregatedPerf,
    FleetResult,
    ReplicaPerf,
    TokenStats,
    evaluate_fleet,
    simulate_disaggregated_fleet,
    simulate_fleet,
)
from gigawatt.perf.llm import (
    AcceleratorPerf,
    ServingConfig,
    iteration_coeffs,
    kv_bytes_per_token,
    kv_cache_capacity_tokens,
    phase_power_w,
)
from gigawatt.physics.phases import Phase
from gigawatt.scenario.inference import InferenceWorkload, ProfileDemand, TraceDemand

__all__ = [
    "SERVICE_COLUMNS",
    "InferenceHandler",
    "dark_replicas",
]

#: Per-service time-series columns (prefixed ``"<service>:"``).
SERVICE_COLUMNS = (
    "demand_rps",
    "served_rps",
    "dropped_rps",
    "replicas",
    "utilization_frac",
    "ttft_p50_s",
    "ttft_p99_s",
    "tpot_p50_s",
    "tpot_p99_s",
    "slo_attainment_frac",
    "tokens_per_s",
)


def dark_replicas(
    ready: np.ndarray, starting: np.ndarray, dark: np.ndarray, restart_s: float, step_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ready and starting replicas per step when the hall is dark in steps ``dark`` (bool).

    In a dark step no replica is ready or starting; for the ``ceil(restart_s / step_s)`` steps after a dark
    stretch the replicas that would have been ready are starting again (cold start) instead.
    """
    ready = np.asarray(ready).copy()
    starting = np.asarray(starting).copy()
    d = np.asarray(dark, dtype=bool)
    k = int(np.ceil(restart_s / step_s - 1e-9))
    recovering = np.zeros_like(d)
    if k > 0:
        ends = np.flatnonzero(d[:-1] & ~d[1:]) + 1  # first lit step after each dark stretch
        for e in ends:
            recovering[e : e + k] = True
        recovering &= ~d
    starting = np.where(recovering, starting + ready, starting)
    ready = np.where(recovering | d, 0, ready)
    starting = np.where(d, 0, starting)
    return ready, starting


class InferenceHandler(WorkloadHandler):
    """One LLM inference service (see module docstring)."""

    kind = "inference"

    @property
    def runs_processes(self) -> bool:
        """Profiles only, unless the service borrows nodes of a training pool (a simpy process)."""
        return self.spec.shared_with_training is not None

    def __init__(self, spec: InferenceWorkload, ctx: Any, index: int) -> None:
        super().__init__(spec, ctx, index)
        fleet = ctx.fleet
        self.groups = ctx.groups_for(spec.target)
        self.hall = int(fleet.group_hall[self.groups[0]])
        caps = fleet.n_gpus[self.groups].astype(float)
        self.pool_gpus = float(spec.target.gpus) if spec.target.gpus is not None else float(caps.sum())
        self.group_share: Any = caps / caps.sum()
        self.installed_cap: np.ndarray | None = None
        """GPUs of the service installed per step (a fleet that changes over time), or None (all)."""
        clock = ctx.clock
        if fleet.dated and np.isfinite(fleet.group_online_s[self.groups]).any():
            inst = fleet.installed_frac(clock.step_start_s, clock.step_s)[:, self.groups] * caps  # (T, g)
            total = inst.sum(axis=1)
            self.installed_cap = np.floor(np.minimum(self.pool_gpus, total) + 1e-9).astype(np.int64)
            # per group, per step: share of the installed GPUs (rows iterate as (T,) arrays)
            self.group_share = np.divide(
                inst, total[:, None], out=np.zeros_like(inst), where=total[:, None] > 0
            ).T
        self.accel = AcceleratorPerf.from_mapping(fleet.accelerators[int(self.groups[0])])
        self.model = model_spec(spec.model)
        self.cfg = serving_config(spec)
        self.tp = int(spec.serving.tensor_parallel)
        coeffs = iteration_coeffs(self.model, self.accel, self.cfg)
        self.kv_cap = kv_cache_capacity_tokens(self.model, self.accel, self.cfg)
        self.perf = ReplicaPerf(
            coeffs, self.kv_cap, spec.serving.max_batch_tokens, spec.serving.max_batch_seqs, self.tp
        )
        self.power = phase_power_w(self.accel)
        a = spec.autoscaling
        pool_r = int(self.pool_gpus // self.tp)
        if pool_r < 1:
            raise ValueError(
                f"workloads[{index}].serving.tensor_parallel: {self.tp} GPUs per replica do not fit "
                f"in the service's {self.pool_gpus:.0f} GPUs"
            )
        self.autoscaler = AutoscalerConfig(
            policy=a.policy,
            target_utilization_frac=a.target_utilization_frac,
            min_replicas=min(a.min_replicas, pool_r),
            max_replicas=a.max_replicas,
            scale_up_delay_s=a.scale_up_delay_s,
            scale_down_cooldown_s=a.scale_down_cooldown_s,
            fixed_replicas=a.fixed_replicas,
            overload=a.overload,
            max_queue_s=a.max_queue_s,
            pool_replicas=pool_r,
            min_utilization_frac=a.min_utilization_frac,
            scale_up=a.scale_up,
        )
        self.slo = SLO(
            ttft_s=spec.slo.ttft_s,
            tpot_s=spec.slo.tpot_s,
            quantile=spec.slo.quantile,
            attainment_frac=spec.slo.attainment_frac,
        )
        self.disagg: DisaggregatedPerf | None = None
        dis = spec.serving.disaggregation
        if dis is not None:
            self.p_groups = ctx.groups_for(dis.prefill_target)
            self.p_hall = int(fleet.group_hall[self.p_groups[0]])
            p_caps = fleet.n_gpus[self.p_groups].astype(float)
            p_pool = (
                float(dis.prefill_target.gpus) if dis.prefill_target.gpus is not None else float(p_caps.sum())
            )
            self.p_share = p_caps / p_caps.sum()
            self.p_accel = AcceleratorPerf.from_mapping(fleet.accelerators[int(self.p_groups[0])])
            p_tp = int(dis.prefill_tensor_parallel or self.tp)
            p_cfg = ServingConfig(
                tp=p_tp,
                weight_bytes=self.cfg.weight_bytes,
                kv_bytes=self.cfg.kv_bytes,
                memory_utilization_frac=self.cfg.memory_utilization_frac,
                compute_efficiency_frac=self.cfg.compute_efficiency_frac,
                bandwidth_efficiency_frac=self.cfg.bandwidth_efficiency_frac,
                kv_bandwidth_efficiency_frac=self.cfg.kv_bandwidth_efficiency_frac,
            )
            p_perf = ReplicaPerf(
                iteration_coeffs(self.model, self.p_accel, p_cfg),
                kv_cache_capacity_tokens(self.model, self.p_accel, p_cfg),
                spec.serving.max_batch_tokens,
                spec.serving.max_batch_seqs,
                p_tp,
            )
            self.disagg = DisaggregatedPerf(
                p_perf, self.perf, kv_bytes_per_token(self.model, self.cfg), dis.kv_link_bandwidth_gbps * p_tp
            )
            self.p_autoscaler = AutoscalerConfig(
                policy=a.policy,
                target_utilization_frac=a.target_utilization_frac,
                min_replicas=min(a.min_replicas, max(int(p_pool // p_tp), 1)),
                scale_up_delay_s=a.scale_up_delay_s,
                scale_down_cooldown_s=a.scale_down_cooldown_s,
                fixed_replicas=a.fixed_replicas,
                overload=a.overload,
                max_queue_s=a.max_queue_s,
                pool_replicas=max(int(p_pool // p_tp), 1),
                min_utilization_frac=a.min_utilization_frac,
            )
        self.fleet_result: FleetResult | None = None
        self.final_fleet_result: FleetResult | None = None  # as evaluated in finish (throttling, blackouts)
        self.trace_arrivals: pd.DataFrame | None = None
        self.obtained: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------- demand
    def _tokens(self) -> tuple[np.ndarray, np.ndarray]:
        return token_samples(self.spec, self.ctx.scenario, self.ctx.rng("workload", self.spec.name, "tokens"))

    def _demand(self) -> np.ndarray:
        """Demand per control step [1/s]; sets ``self.forecast_rps`` (the profile without random bursts)."""
        clock = self.ctx.clock
        self.forecast_rps: np.ndarray | None = None
        d = self.spec.demand
        if isinstance(d, TraceDemand):
            data, _ = dm.read_azure_trace(self.ctx.scenario.resolve_path(d.path))
            rep = dm.replay_trace(
                data,
                time_scale=d.time_scale,
                rate_scale=d.rate_scale,
                duration_s=clock.horizon_s,
                rng=self.ctx.rng("workload", self.spec.name, "trace"),
            )
            self.trace_arrivals = rep
            edges = np.append(clock.step_start_s, clock.horizon_s)
            return np.histogram(rep["arrival_s"].to_numpy(), bins=edges)[0] / clock.step_s
        assert isinstance(d, ProfileDemand)
        t_mid = clock.step_start_s + clock.step_s / 2
        # daily and weekly shapes on the scenario's wall clock (default: the site's local standard time)
        start = clock.start + pd.Timedelta(hours=self.ctx.wall_clock_offset_h(self.groups))
        start_h = start.hour + start.minute / 60 + start.second / 3600
        rate = d.peak_rps * dm.daily_profile_frac(t_mid, d.daily_peak_hour, d.daily_trough_frac, start_h)
        rate = rate * dm.weekly_profile_frac(
            t_mid + start_h * 3600.0, d.weekend_frac, int(start.day_of_week), d.weekend_transition_h
        )
        rate = rate * dm.growth_factor(t_mid, d.annual_growth_frac)
        forecast = rate
        if d.burst_factor > 1.0:
            rate = rate * dm.mmpp_multiplier(
                clock.n_steps,
                clock.step_s,
                self.ctx.rng("workload", self.spec.name, "bursts"),
                d.burst_factor,
                d.burst_interval_s,
                d.burst_mean_s,
            )
        if d.launch is not None:
            base = dm.launch_spike_rate_per_s(
                t_mid,
                d.launch.at_h * 3600.0,
                0.0,
                d.launch.peak_rps,
                d.launch.ramp_h * 3600.0,
                d.launch.decay_h * 3600.0,
            )
            rate = np.maximum(rate, base)
            forecast = np.maximum(forecast, base)
        if d.burst_factor > 1.0:
            self.forecast_rps = np.asarray(forecast, dtype=np.float64)
        return np.asarray(rate, dtype=np.float64)

    # -------------------------------------------------------------------------------------------- start
    def start(self) -> None:
        P, O = self._tokens()
        self.token_samples = (P, O)
        self.tokens = TokenStats.from_samples(P, O)
        self.demand_rps = self._demand()
        self.start_fleet()

    def start_fleet(self) -> None:
        """Size the fleet for ``self.demand_rps`` and add its GPU occupancy to the ledger (profiles kept in
        ``self.profiles`` so that :meth:`withdraw_fleet` can take them back)."""
        spec = self.spec
        self.profiles: list[tuple[int, Phase, np.ndarray]] = []
        if self.disagg is not None:
            self.fleet_result = self._disaggregated(1.0, 1.0, f"workloads[{self.index}] ({spec.name})")
            f = self.fleet_result.frame
            for g, share in zip(self.p_groups, self.p_share, strict=True):
                self._profile(int(g), Phase.PREFILL, f["prefill_gpus"].to_numpy() * share)
            for g, share in zip(self.groups, self.group_share, strict=True):
                self._profile(int(g), Phase.DECODE, f["decode_gpus"].to_numpy() * share)
            return
        res = simulate_fleet(
            self.demand_rps,
            self.ctx.clock.step_s,
            self.perf,
            self.tokens,
            slo=self.slo,
            autoscaler=self.autoscaler,
            router=spec.serving.router,
            phase_power_w=self.power,
            forecast_rps=self.forecast_rps,
            label=f"workloads[{self.index}] ({spec.name})",
        )
        self.fleet_result = res
        f = res.frame
        keep: Any = 1.0
        if self.installed_cap is not None:  # replicas beyond the installed GPUs do not run (or draw power)
            active = (f["prefill_gpus"] + f["decode_gpus"]).to_numpy(dtype=float)
            usable = (self.installed_cap // self.tp) * self.tp
            keep = np.ones_like(active)
            np.divide(usable.astype(float), active, out=keep, where=active > usable)
        for g, share in zip(self.groups, self.group_share, strict=True):
            self._profile(int(g), Phase.PREFILL, f["prefill_gpus"].to_numpy() * share * keep)
            self._profile(int(g), Phase.DECODE, f["decode_gpus"].to_numpy() * share * keep)
        if spec.shared_with_training is not None:
            self.obtained = np.zeros(self.ctx.clock.n_steps, dtype=np.int64)
            self.ctx.env.process(self._borrow_nodes(f["gpus"].to_numpy()))

    def _profile(self, group: int, phase: Phase, gpus: np.ndarray) -> None:
        self.ctx.ledger.add_profile(group, phase, gpus)
        self.profiles.append((group, phase, gpus))

    def withdraw_fleet(self) -> None:
        """Take the fleet's ledger profiles back (before sizing it again for other demand; not with a shared
        pool)."""
        for g, phase, gpus in self.profiles:
            self.ctx.ledger.add_profile(g, phase, -gpus)
        self.profiles = []

    def _disaggregated(self, thr_p: Any, thr_d: Any, label: str | None = None) -> FleetResult:
        assert self.disagg is not None
        return simulate_disaggregated_fleet(
            self.demand_rps,
            self.ctx.clock.step_s,
            self.disagg,
            self.tokens,
            slo=self.slo,
            prefill_autoscaler=self.p_autoscaler,
            decode_autoscaler=self.autoscaler,
            prefill_throughput_frac=thr_p,
            decode_throughput_frac=thr_d,
            prefill_power_w=phase_power_w(self.p_accel),
            decode_power_w=self.power,
            label=label,
        )

    def _borrow_nodes(self, gpus_per_step: np.ndarray) -> Generator[simpy.Event, None, None]:
        """Take/return training-pool nodes as the service's GPU need changes (one event per change)."""
        ctx = self.ctx
        name = self.spec.shared_with_training
        eng = ctx.training_pools.lookup(name, f"workloads[{self.index}].shared_with_training")
        pool = eng.pool_index(name)
        node_gpus = int(eng.pools[pool].spec.gpus_per_node)
        held: dict[int, int] = {}
        clock = ctx.clock
        need_nodes = np.ceil(gpus_per_step / node_gpus - 1e-9).astype(np.int64)
        change = np.flatnonzero(np.diff(np.concatenate([[-1], need_nodes])) != 0)
        assert self.obtained is not None
        for k in change:
            t = float(clock.step_start_s[k])
            if t > ctx.env.now:
                yield ctx.env.timeout(t - ctx.env.now)
            have = sum(held.values())
            want = int(need_nodes[k])
            if want > have:
                got = eng.acquire_nodes(pool, want - have, preempt=True)
                for g, n in got.items():
                    held[g] = held.get(g, 0) + n
            elif want < have:
                give: dict[int, int] = {}
                rest = have - want
                for g in sorted(held, reverse=True):
                    take = min(rest, held[g])
                    if take:
                        give[g] = take
                        held[g] -= take
                        rest -= take
                eng.release_nodes(pool, give)
            nxt = change[np.searchsorted(change, k, side="right")] if k != change[-1] else clock.n_steps
            self.obtained[k:nxt] = sum(held.values()) * node_gpus

    def before_finalize(self) -> None:
        """With a shared pool, active GPUs cannot exceed the GPUs the training pool actually lent.

        Where the pool fell short, the service's PREFILL/DECODE occupancy is scaled down to
        ``min(active, obtained)`` (the missing replicas draw no power; their demand shows as dropped or delayed
        in :meth:`finish`). The look-ahead during the run used the full request (a conservative estimate).
        """
        if self.obtained is None or self.fleet_result is None:
            return
        f = self.fleet_result.frame
        prefill = f["prefill_gpus"].to_numpy(dtype=float)
        decode = f["decode_gpus"].to_numpy(dtype=float)
        active = prefill + decode
        keep = np.ones_like(active)
        np.divide(self.obtained.astype(float), active, out=keep, where=active > self.obtained)
        cut = 1.0 - np.clip(keep, 0.0, 1.0)
        if not np.any(cut > 0):
            return
        for g, share in zip(self.groups, self.group_share, strict=True):
            self.ctx.ledger.add_profile(int(g), Phase.PREFILL, -prefill * cut * share)
            self.ctx.ledger.add_profile(int(g), Phase.DECODE, -decode * cut * share)

    # ------------------------------------------------------------------------------------------- finish
    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        spec = self.spec
        clock = self.ctx.clock
        name = spec.name
        res = self.fleet_result
        assert res is not None
        f0 = res.frame
        thr = np.clip(np.asarray(flows["throughput_frac"])[:, self.hall], 1e-6, 1.0)
        ready = f0["replicas"].to_numpy()
        starting = f0["replicas_starting"].to_numpy()
        shortfall = np.zeros_like(ready)
        cap_gpus = self.obtained
        if self.installed_cap is not None:  # the installed GPUs cap the replicas like a pool shortfall
            cap_gpus = self.installed_cap if cap_gpus is None else np.minimum(cap_gpus, self.installed_cap)
        if cap_gpus is not None:
            usable = cap_gpus // self.tp
            shortfall = np.maximum(ready + starting - usable, 0)
            ready = np.minimum(ready, usable)
            starting = np.minimum(starting, np.maximum(usable - ready, 0))
        dark: np.ndarray = np.zeros(clock.n_steps, dtype=bool)
        if "dark_hall" in flows:
            halls = [self.hall] if self.disagg is None else [self.hall, self.p_hall]
            dark = np.asarray(np.asarray(flows["dark_hall"], dtype=bool)[:, halls].any(axis=1))
        if dark.any():
            ready, starting = dark_replicas(
                ready, starting, dark, self.autoscaler.scale_up_delay_s, clock.step_s
            )
            thr = np.where(dark, 1e-6, thr)
        if self.disagg is not None:
            thr_p = np.clip(np.asarray(flows["throughput_frac"])[:, self.p_hall], 1e-6, 1.0)
            if np.any(thr < 1.0) or np.any(thr_p < 1.0):  # re-run (autoscalers see the throttling; see docs)
                res = self._disaggregated(thr_p, thr)
        elif np.any(thr < 1.0) or np.any(shortfall > 0) or dark.any():
            res = evaluate_fleet(
                self.demand_rps,
                clock.step_s,
                self.perf,
                self.tokens,
                ready,
                starting,
                slo=self.slo,
                overload=self.autoscaler.overload,
                max_queue_s=self.autoscaler.max_queue_s,
                router=spec.serving.router,
                throughput_frac=thr,
                phase_power_w=self.power,
            )
        self.final_replicas = (ready, starting, thr)
        self.final_fleet_result = res
        f = res.frame
        cols = {f"{name}:{c}": f[c].to_numpy(dtype=float) for c in SERVICE_COLUMNS}
        cols[f"{name}:gpus"] = f["gpus"].to_numpy(dtype=float)
        cols[f"{name}:gpu_power_mw"] = f["gpu_power_w"].to_numpy() / 1e6
        if cap_gpus is not None:
            cols[f"{name}:pool_shortfall_replicas"] = shortfall.astype(float)
        if self.disagg is not None:
            cols[f"{name}:prefill_replicas"] = f["prefill_replicas"].to_numpy(dtype=float)
            cols[f"{name}:decode_replicas"] = f["decode_replicas"].to_numpy(dtype=float)
        s = res.summary
        diag = self.fleet_result.diagnostics if self.fleet_result is not None else {}
        tok = float(s["output_tokens"])
        svc = {
            "service": name,
            "model": self.model.name,
            "accelerator": self.accel.name,
            "tensor_parallel": self.tp,
            "kv_capacity_tokens": self.kv_cap,
            "requests": float(s["requests"]),
            "served_requests": float(s["served_requests"]),
            "dropped_frac": float(s["dropped_frac"]),
            "slo_attainment_frac": float(s["slo_attainment_frac"]),
            "slo_target_frac": self.slo.attainment_frac,
            "slo_met": bool(s["slo_met"]),
            "slo_reachable": bool(diag.get("slo_reachable", True)),
            "max_replicas": int(diag.get("max_replicas", -1)),
            "capped_steps": int(diag.get("capped_steps", 0)),
            "peak_replicas": int(s["peak_replicas"]),
            "mean_replicas": float(s["mean_replicas"]),
            "peak_gpus": float(f["gpus"].max()),
            "gpu_hours": float(s["gpu_hours"]),
            "output_tokens": tok,
            "gpu_energy_mwh": float(s["gpu_energy_kwh"]) / 1e3,
            "accelerator_energy_per_token_j": float(s["accelerator_energy_per_token_j"]),
            "facility_energy_per_token_j": self._facility_energy_j(f, flows) / tok if tok > 0 else math.nan,
            "gpu_hours_per_million_tokens": float(s["gpu_hours_per_million_tokens"]),
            "ttft_p99_s_max": float(np.nanmax(f["ttft_p99_s"])) if f["served_rps"].gt(0).any() else math.nan,
            "tpot_p99_s_max": float(np.nanmax(f["tpot_p99_s"])) if f["served_rps"].gt(0).any() else math.nan,
        }
        kpis = {
            f"{name}:slo_attainment_frac": svc["slo_attainment_frac"],
            f"{name}:accelerator_energy_per_token_j": svc["accelerator_energy_per_token_j"],
            f"{name}:facility_energy_per_token_j": svc["facility_energy_per_token_j"],
            f"{name}:gpu_hours_per_million_tokens": svc["gpu_hours_per_million_tokens"],
            f"{name}:peak_replicas": float(svc["peak_replicas"]),
            f"{name}:dropped_frac": svc["dropped_frac"],
        }
        requests = self._request_windows(f, thr)
        if requests is not None and len(requests):
            for w, grp in requests.groupby("window"):
                ok = grp["status"] == 0
                svc[f"window{w}_ttft_p99_s"] = float(np.nanquantile(grp.loc[ok, "ttft_s"], 0.99))
                svc[f"window{w}_tpot_p99_s"] = float(np.nanquantile(grp.loc[ok, "tpot_s"], 0.99))
        return WorkloadOutput(columns=cols, services=pd.DataFrame([svc]), requests=requests, kpis=kpis)

    def _facility_energy_j(self, f: pd.DataFrame, flows: dict[str, np.ndarray]) -> float:
        """The service's facility energy [J]: the IT power of its servers, scaled by its hall's facility/IT ratio.

        Service IT power = its accelerator power (``gpu_power_w``) + the host power of the servers it holds
        (each group's host power per GPU × the service's GPUs there); facility power = IT power × the hall's
        ``facility_power / it_power`` in the same step (cooling, fans, electrical losses and other loads
        allocated in proportion to IT power, as a PUE).
        """
        needed = ("facility_power_kw", "it_power_kw", "host_power_kw")
        if any(np.asarray(flows.get(k)).ndim != 2 for k in needed):
            return math.nan
        fac, it, host = (np.asarray(flows[k], dtype=float) for k in needed)
        n_gpus = np.asarray(self.ctx.fleet.n_gpus, dtype=float)

        def part(power_w: np.ndarray, gpus: np.ndarray, hall: int, groups: Any, shares: Any) -> np.ndarray:
            host_w = sum(
                share * gpus * host[:, int(g)] * 1e3 / max(n_gpus[int(g)], 1.0)
                for g, share in zip(groups, shares, strict=True)
            )
            pue = np.divide(fac[:, hall], it[:, hall], out=np.ones(len(fac)), where=it[:, hall] > 0)
            return np.asarray((power_w + host_w) * pue)

        step_s = self.ctx.clock.step_s
        gpu_w = f["gpu_power_w"].to_numpy(dtype=float)
        gpus = f["gpus"].to_numpy(dtype=float)
        if self.disagg is None:
            return float(np.sum(part(gpu_w, gpus, self.hall, self.groups, self.group_share)) * step_s)
        pw = phase_power_w(self.p_accel)
        pre = f["prefill_gpus"].to_numpy(dtype=float)
        pool = f["prefill_pool_gpus"].to_numpy(dtype=float)
        pre_w = pre * pw["prefill"] + (pool - pre) * pw["idle"]
        e = part(pre_w, pool, self.p_hall, self.p_groups, self.p_share)
        e = e + part(gpu_w - pre_w, gpus - pool, self.hall, self.groups, self.group_share)
        return float(np.sum(e) * step_s)

    def _request_windows(self, f: pd.DataFrame, thr: np.ndarray) -> pd.DataFrame | None:
        spec = self.spec
        if not spec.request_windows:
            return None
        clock = self.ctx.clock
        P0, O0 = self.token_samples
        frames = []
        for wi, win in enumerate(spec.request_windows):
            t0 = win.start_h * 3600.0
            t1 = min(t0 + win.duration_h * 3600.0, clock.horizon_s)
            if t1 <= t0:
                continue
            # warm-up: start the replicas empty win.warmup_s earlier, report only requests from t0 on
            tw = max(t0 - win.warmup_s, 0.0)
            k0 = min(int(tw // clock.step_s), clock.n_steps - 1)
            k1 = max(k0 + 1, math.ceil(t1 / clock.step_s))
            rng = self.ctx.rng("workload", spec.name, "window", wi)
            if self.trace_arrivals is not None:
                tr = self.trace_arrivals
                sel = (tr["arrival_s"] >= tw) & (tr["arrival_s"] < t1)
                arr = tr.loc[sel, "arrival_s"].to_numpy()
                P = tr.loc[sel, "prompt_tokens"].to_numpy()
                O = tr.loc[sel, "output_tokens"].to_numpy()
            else:
                arr = dm.arrivals_from_rate_s(
                    self.demand_rps[k0:k1], clock.step_s, rng, start_s=k0 * clock.step_s
                )
                arr = arr[(arr >= tw) & (arr < t1)]
                idx = rng.integers(0, P0.size, arr.size)
                P, O = P0[idx], O0[idx]
            if arr.size > win.max_requests:
                raise ValueError(
                    f"workloads[{self.index}].request_windows[{wi}]: {arr.size} requests exceed "
                    f"max_requests={win.max_requests}; shorten the window or raise the limit"
                )
            kw = min(int(t0 // clock.step_s), clock.n_steps - 1)
            n_rep = max(int(f["replicas"].iloc[kw:k1].max()), 1)
            speed = float(np.mean(thr[kw:k1]))
            r = simulate_requests(
                arr,
                P,
                O,
                n_rep,
                self.perf.coeffs,
                self.kv_cap,
                max_batch_tokens=spec.serving.max_batch_tokens,
                max_batch_seqs=spec.serving.max_batch_seqs,
                chunked_prefill=spec.serving.chunked_prefill,
                router=spec.serving.router,
                speed_frac=speed,
            )
            df = r.to_frame()
            df = df[df["arrival_s"] >= t0].reset_index(drop=True)
            df.insert(0, "window", wi)
            df.insert(0, "service", spec.name)
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else None
