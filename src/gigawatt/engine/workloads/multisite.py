"""An inference service on several placements (sites): routing, spill-over, failover, network latency.

One :class:`~gigawatt.engine.workloads.inference.InferenceHandler` per placement sizes and runs the replicas
there (its own autoscaler, hardware, hall throughput and blackouts); this handler splits the service's demand
between them with :mod:`gigawatt.perf.routing` and puts the results together.

Sequence (one pass, like the single-site service; see ``docs/models/inference.md`` §9):

1. ``start``: the service's demand and token lengths (the same streams as a single-site service), the routing
   cost of every user region and placement (distance, round trip, the site's energy price or grid carbon
   intensity per step), each placement's capacity (largest replica count × one replica's capacity at
   ``routing.capacity_utilization_frac``) and the capacity-aware routing → each placement's demand; each
   placement sizes its fleet for it with its TTFT budget reduced by the mean round trip of its traffic.
2. ``before_finalize`` (after the run): placements that lost service (dark hall, or throughput × running
   fraction below ``routing.failover_below_frac``) are excluded from ``failover_delay_s`` after the outage
   starts until ``scale_up_delay_s`` after it ends; the demand is routed again and every placement whose
   demand changed is sized again (the survivors scale up reactively), so their energy lands in their sites.
3. ``finish``: each placement's columns (``<service>@<placement>:*``), the service's totals (``<service>:*``:
   served + dropped = demand, SLO attainment with each user's network round trip added to TTFT), failover
   events and KPIs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gigawatt.engine.clock import wall_clock_offset_h
from gigawatt.engine.energy import FlatTariff, SiteSupply
from gigawatt.engine.weather import site_weather
from gigawatt.engine.workloads.base import WorkloadHandler, WorkloadOutput
from gigawatt.engine.workloads.inference import SERVICE_COLUMNS, InferenceHandler
from gigawatt.perf import routing as rt
from gigawatt.perf.fleet import (
    SLO,
    LatencyDistribution,
    TokenStats,
    evaluate_fleet,
    mixture_quantile,
    prefill_time_idle_s,
    replica_capacity_per_s,
)
from gigawatt.scenario.resolve import placement_names

__all__ = ["MultiSiteInferenceHandler", "inference_handler"]


def inference_handler(spec: Any, ctx: Any, index: int) -> WorkloadHandler:
    """The handler of an inference service: one target, or several placements with routing."""
    if spec.placements and (len(spec.placements) > 1 or spec.routing is not None):
        return MultiSiteInferenceHandler(spec, ctx, index)
    return InferenceHandler(spec, ctx, index)


class MultiSiteInferenceHandler(WorkloadHandler):
    """An inference service with ``placements`` and ``routing`` (module docstring)."""

    kind = "inference"

    @property
    def runs_processes(self) -> bool:
        """Whether a placement runs a simpy process (one borrowing training nodes)."""
        return any(sub.runs_processes for sub in self.subs)

    def __init__(self, spec: Any, ctx: Any, index: int) -> None:
        super().__init__(spec, ctx, index)
        if spec.routing is None:
            raise ValueError(f"workloads[{index}].routing: a service with several placements needs routing")
        self.routing = spec.routing
        self.names = placement_names(spec, ctx.scenario)
        self.subs = [
            InferenceHandler(
                spec.model_copy(update={"target": p.target, "placements": None, "routing": None}), ctx, index
            )
            for p in spec.placements
        ]
        fleet = ctx.fleet
        self.site_idx = np.array([int(fleet.group_site[s.groups[0]]) for s in self.subs], dtype=np.int64)
        self.halls = np.array([s.hall for s in self.subs], dtype=np.int64)
        sites = [ctx.scenario.sites[int(i)] for i in self.site_idx]
        users = self.routing.users
        if users:
            self.user_share = np.array([u.share_frac for u in users], dtype=float)
            lat = np.array([u.latitude_deg for u in users])[:, None]
            lon = np.array([u.longitude_deg for u in users])[:, None]
            slat = np.array([s.location.latitude_deg for s in sites])[None, :]
            slon = np.array([s.location.longitude_deg for s in sites])[None, :]
            self.distance_km = rt.great_circle_km(lat, lon, slat, slon)  # (U, P)
            self.rtt_s = rt.network_rtt_s(
                self.distance_km,
                self.routing.route_factor,
                self.routing.fibre_speed_km_per_s,
                self.routing.network_overhead_s,
            )
        else:  # no user regions: no network latency
            self.user_share = np.ones(1)
            self.distance_km = np.zeros((1, len(self.subs)))
            self.rtt_s = np.zeros((1, len(self.subs)))
        self.failover_frac = np.zeros((ctx.clock.n_steps, len(self.subs)))
        self.down = np.zeros((ctx.clock.n_steps, len(self.subs)), dtype=bool)
        self.down_cause: list[np.ndarray] = []

    # ------------------------------------------------------------------------------------------ routing
    def _site_signal(self, what: str) -> np.ndarray:
        """(T, P) grid energy price [USD/MWh] or carbon intensity [gCO2/kWh] of each placement's site."""
        sc, clock = self.ctx.scenario, self.ctx.clock
        cache: dict[int, np.ndarray] = {}
        for si in np.unique(self.site_idx):
            site = sc.sites[int(si)]
            g = site.grid
            if what == "price":
                tariff = (
                    g.tariff
                    if g.tariff is not None
                    else FlatTariff(price_usd_per_mwh=g.energy_price_usd_per_mwh)
                )
                off = wall_clock_offset_h(sc.wall_clock, site, sc.resolve_path)
                cache[int(si)] = SiteSupply._price(tariff, site, clock, sc.resolve_path, off)
            else:
                needs_weather = g.carbon is not None and g.carbon.profile != "flat"
                weather = site_weather(site, clock, sc.resolve_path) if needs_weather else {}
                cache[int(si)] = SiteSupply._carbon(site, clock, weather, sc.resolve_path)
        return np.stack([np.broadcast_to(cache[int(si)], (clock.n_steps,)) for si in self.site_idx], axis=1)

    def _capacity_rps(self) -> np.ndarray:
        """(T, P) demand each placement takes before the router spills to the next choice [1/s]."""
        n = self.ctx.clock.n_steps
        util = self.routing.capacity_utilization_frac or self.spec.autoscaling.target_utilization_frac
        cols = []
        for sub in self.subs:
            a = sub.autoscaler
            max_r = a.pool_replicas if a.max_replicas is None else min(a.max_replicas, a.pool_replicas)
            reps = np.full(n, float(max_r))
            if sub.installed_cap is not None:
                reps = np.minimum(reps, sub.installed_cap // sub.tp)
            cols.append(reps * replica_capacity_per_s(sub.perf, self.tokens) * util)
        return np.stack(cols, axis=1)

    def _route(self, capacity: np.ndarray, available: np.ndarray) -> rt.RoutingResult:
        policy = self.routing.policy
        P = self.rtt_s.shape[1]
        if policy == "weighted":
            w = np.array([float(p.weight_frac or 0.0) for p in self.spec.placements])
            order = rt.preference_rank(-w)  # spill to the heavier weights first
            rank = np.array([[k, *[j for j in order if j != k]] for k in range(P)])
            r = rt.route_demand(self.demand_rps, w, rank, capacity, available)
            per_p = r.assigned_rps.sum(axis=1)  # (T, P); every user region in proportion to its share
            assigned = self.user_share[None, :, None] * per_p[:, None, :]
            return rt.RoutingResult(assigned, r.unrouted_rps, r.overflow_rps)
        if policy == "nearest":
            rank = rt.preference_rank(self.distance_km)  # (U, P)
        elif policy == "lowest_latency":
            rank = rt.preference_rank(self.rtt_s + self.prefill_idle_s[None, :])
        else:
            rank = rt.preference_rank(self.signal)[:, None, :]  # (T, 1, P): the same for every user
        return rt.route_demand(self.demand_rps, self.user_share, rank, capacity, available)

    def _apply(self, routed: rt.RoutingResult, only_changed: bool) -> None:
        """Give each placement its routed demand and size its fleet (again, when it changed)."""
        per_p = routed.placement_rps
        share = np.divide(
            per_p, self.demand_rps[:, None], out=np.zeros_like(per_p), where=self.demand_rps[:, None] > 0
        )
        w = routed.assigned_rps.sum(axis=0)  # (U, P) requests per user region and placement
        tot = w.sum(axis=0)
        self.design_rtt_s = np.divide(
            (w * self.rtt_s).sum(axis=0), tot, out=self.rtt_s.min(axis=0).astype(float), where=tot > 0
        )
        for k, sub in enumerate(self.subs):
            new = np.ascontiguousarray(per_p[:, k])
            if only_changed and np.allclose(new, sub.demand_rps, rtol=1e-12, atol=1e-12):
                continue
            if only_changed:
                sub.withdraw_fleet()
            sub.demand_rps = new
            sub.forecast_rps = None if self.forecast_rps is None else self.forecast_rps * share[:, k]
            if not only_changed:  # the TTFT budget left after the network round trip of the design routing
                s = sub.slo
                sub.slo = SLO(
                    ttft_s=max(s.ttft_s - float(self.design_rtt_s[k]), 1e-3),
                    tpot_s=s.tpot_s,
                    quantile=s.quantile,
                    attainment_frac=s.attainment_frac,
                )
            sub.start_fleet()
        self.routed = routed

    # -------------------------------------------------------------------------------------------- start
    def start(self) -> None:
        first = self.subs[0]
        P, O = first._tokens()  # the streams of the service's name, as for one site
        self.tokens = TokenStats.from_samples(P, O)
        self.demand_rps = first._demand()
        self.forecast_rps = first.forecast_rps
        for sub in self.subs:
            sub.token_samples = (P, O)
            sub.tokens = self.tokens
        self.prefill_idle_s = np.array([float(np.mean(prefill_time_idle_s(P, s.perf))) for s in self.subs])
        policy = self.routing.policy
        if policy in ("lowest_price", "lowest_carbon"):
            self.signal = self._site_signal("price" if policy == "lowest_price" else "carbon")
        self.capacity = self._capacity_rps()
        self.installed = self.capacity > 0
        self.nominal = self._route(self.capacity, self.installed)
        self._apply(self.nominal, only_changed=False)

    def before_finalize(self) -> None:
        """Fail over from placements that lost service during the run (module docstring, step 2)."""
        ctl = self.ctx.extras.get("controller")
        if ctl is not None:
            dark = np.asarray(ctl.dark_hall, dtype=bool)[:, self.halls]
            eff = (np.asarray(ctl.throughput_hall) * np.asarray(ctl.running_frac_hall))[:, self.halls]
            capped = eff < self.routing.failover_below_frac
            self.down = (dark | capped) & self.installed  # a hall not yet in service is not an outage
            self.down_cause = [dark, capped]
            if self.down.any():
                self.failover_frac = rt.failover_fraction(
                    self.down,
                    self.ctx.clock.step_s,
                    self.routing.failover_delay_s,
                    self.spec.autoscaling.scale_up_delay_s,
                )
                routed = self._failover_routing(self.failover_frac)
                self._apply(routed, only_changed=True)
        for sub in self.subs:
            sub.before_finalize()

    def _failover_routing(self, frac: np.ndarray) -> rt.RoutingResult:
        """Routing with placements excluded for the share ``frac`` (T, P) of each step.

        A step where a placement is detected down part-way is a time-weighted mix of the routing before
        detection (placements fully excluded in the step left out) and after it (every placement with a share
        excluded left out), weighted by the largest partial share in the step (exact for one placement
        detected in the step).
        """
        eps = 1e-12
        before = self._route(self.capacity, self.installed & (frac < 1.0 - eps))
        partial = (frac > eps) & (frac < 1.0 - eps)
        if not partial.any():
            return before
        after = self._route(self.capacity, self.installed & (frac <= eps))
        w = np.where(partial, frac, 0.0).max(axis=1)
        return rt.RoutingResult(
            (1.0 - w)[:, None, None] * before.assigned_rps + w[:, None, None] * after.assigned_rps,
            (1.0 - w) * before.unrouted_rps + w * after.unrouted_rps,
            (1.0 - w) * before.overflow_rps + w * after.overflow_rps,
        )

    # ------------------------------------------------------------------------------------------- finish
    def _attainment_with_network(self, k: int, served_att: np.ndarray) -> np.ndarray:
        """(T,) SLO attainment of placement ``k`` with each user region's round trip added to TTFT."""
        sub = self.subs[k]
        a = self.routed.assigned_rps[:, :, k]  # (T, U)
        tot = a.sum(axis=1)
        if not np.any(self.rtt_s[:, k] > 0) or not np.any(tot > 0):
            return served_att
        ready, starting, thr = sub.final_replicas
        out = np.zeros_like(tot)
        budgets: dict[float, np.ndarray] = {}
        for u in range(a.shape[1]):
            b = round(max(sub.spec.slo.ttft_s - float(self.rtt_s[u, k]), 1e-6), 9)
            budgets[b] = budgets.get(b, np.zeros_like(tot)) + a[:, u]
        own = round(sub.slo.ttft_s, 9)  # the budget the placement was sized and evaluated with
        for b, rate in budgets.items():
            if b == own:
                att = served_att
            else:  # with overload "drop" steps are independent: evaluate only where this budget has traffic
                idx = np.flatnonzero(rate > 0) if sub.autoscaler.overload == "drop" else np.arange(tot.size)
                if idx.size == 0:
                    continue
                slo = SLO(
                    ttft_s=b,
                    tpot_s=sub.slo.tpot_s,
                    quantile=sub.slo.quantile,
                    attainment_frac=sub.slo.attainment_frac,
                )
                res = evaluate_fleet(
                    sub.demand_rps[idx],
                    self.ctx.clock.step_s,
                    sub.perf,
                    self.tokens,
                    np.asarray(ready)[idx],
                    np.asarray(starting)[idx],
                    slo=slo,
                    overload=sub.autoscaler.overload,
                    max_queue_s=sub.autoscaler.max_queue_s,
                    router=sub.spec.serving.router,
                    throughput_frac=np.broadcast_to(thr, tot.shape)[idx],
                    phase_power_w=sub.power,
                )
                att = np.zeros_like(tot)
                att[idx] = res.frame["slo_attainment_frac"].to_numpy(dtype=float)
            out += np.divide(rate, tot, out=np.zeros_like(tot), where=tot > 0) * att
        return out

    def _latency(self, k: int) -> LatencyDistribution:
        """The latency distributions of placement ``k`` as evaluated in its ``finish``."""
        res = self.subs[k].final_fleet_result
        if res is None or res.latency is None:  # placements are colocated fleets (checked at load time)
            raise RuntimeError(f"placement {self.names[k]}: no latency distribution (finish not run?)")
        return res.latency

    def _ttft_mixture(
        self, q: float, own: np.ndarray, a: np.ndarray, placements: list[int], served: np.ndarray
    ) -> np.ndarray:
        """(T,) TTFT ``q``-quantile of the requests served by ``placements`` [s], each user region's round trip
        added (a mixture over placements and user regions, :func:`~gigawatt.perf.fleet.mixture_quantile`).

        ``own`` (T, P): each placement's own quantile without network; ``a`` (T, U, P) routed demand; a
        placement's requests of region ``u`` count with its served fraction.
        """
        demand = a.sum(axis=1)
        served_frac = np.divide(served, demand, out=np.zeros_like(served), where=demand > 0)
        parts, known = [], []
        for k in placements:
            dist = self._latency(k)
            for u in range(a.shape[1]):
                parts.append((dist, a[:, u, k] * served_frac[:, k], np.full(a.shape[0], self.rtt_s[u, k])))
                known.append(own[:, k])
        return mixture_quantile(q, parts, "ttft", known)

    def finish(self, flows: dict[str, np.ndarray]) -> WorkloadOutput:
        spec, clock = self.spec, self.ctx.clock
        name, step_s = spec.name, clock.step_s
        outs = [sub.finish(flows) for sub in self.subs]
        P = len(self.subs)
        D = self.demand_rps
        a = self.routed.assigned_rps  # (T, U, P)
        cols: dict[str, np.ndarray] = {}
        per: dict[str, np.ndarray] = {}
        nearest = np.argmin(self.distance_km, axis=1)  # (U,) each user region's nearest placement
        for c in (*SERVICE_COLUMNS, "gpus", "gpu_power_mw"):
            per[c] = np.stack([o.columns[f"{name}:{c}"] for o in outs], axis=1)
        att = np.stack(
            [self._attainment_with_network(k, per["slo_attainment_frac"][:, k]) for k in range(P)], axis=1
        )
        rate = a.sum(axis=1)  # (T, P)
        rtt_mean = np.divide(
            (a * self.rtt_s[None]).sum(axis=1), rate, out=np.zeros_like(rate), where=rate > 0
        )
        remote = np.divide(
            (a * (nearest[:, None] != np.arange(P)[None, :])[None]).sum(axis=1),
            rate,
            out=np.zeros_like(rate),
            where=rate > 0,
        )
        if not self.routing.users:
            remote = np.zeros_like(rate)
        served = per["served_rps"]
        for k, (pl, o) in enumerate(zip(self.names, outs, strict=True)):
            for key, arr in o.columns.items():
                cols[f"{name}@{pl}:{key.split(':', 1)[1]}"] = arr
            cols[f"{name}@{pl}:slo_attainment_frac"] = att[:, k]
            for q, col in ((0.5, "ttft_p50_s"), (0.99, "ttft_p99_s")):
                cols[f"{name}@{pl}:{col}"] = self._ttft_mixture(q, per[col], a, [k], served)
            cols[f"{name}@{pl}:network_rtt_s"] = rtt_mean[:, k]
            cols[f"{name}@{pl}:remote_share_frac"] = remote[:, k]
            cols[f"{name}@{pl}:failover_frac"] = self.failover_frac[:, k]
        total_served = served.sum(axis=1)
        cols[f"{name}:demand_rps"] = D.copy()
        cols[f"{name}:served_rps"] = total_served
        cols[f"{name}:dropped_rps"] = per["dropped_rps"].sum(axis=1) + self.routed.unrouted_rps
        reps = per["replicas"].sum(axis=1)
        cols[f"{name}:replicas"] = reps
        cols[f"{name}:utilization_frac"] = np.divide(
            (per["utilization_frac"] * per["replicas"]).sum(axis=1),
            reps,
            out=np.zeros_like(reps),
            where=reps > 0,
        )
        w = np.where(served > 0, served, 0.0)
        # the quantiles of all the service's requests: a mixture over placements (and user regions for TTFT)
        for q, col in ((0.5, "ttft_p50_s"), (0.99, "ttft_p99_s")):
            cols[f"{name}:{col}"] = self._ttft_mixture(q, per[col], a, list(range(P)), served)
        for q, col in ((0.5, "tpot_p50_s"), (0.99, "tpot_p99_s")):
            parts = [(self._latency(k), w[:, k], np.zeros(D.size)) for k in range(P)]
            cols[f"{name}:{col}"] = mixture_quantile(q, parts, "tpot", [per[col][:, k] for k in range(P)])
        rate_k = per["demand_rps"]
        cols[f"{name}:slo_attainment_frac"] = np.divide(
            (att * rate_k).sum(axis=1), D, out=np.ones_like(D), where=D > 0
        )
        for c in ("tokens_per_s", "gpus", "gpu_power_mw"):
            cols[f"{name}:{c}"] = per[c].sum(axis=1)
        cols[f"{name}:network_rtt_s"] = np.divide(
            (rtt_mean * served).sum(axis=1), total_served, out=np.zeros_like(D), where=total_served > 0
        )
        cols[f"{name}:remote_share_frac"] = np.divide(
            (remote * served).sum(axis=1), total_served, out=np.zeros_like(D), where=total_served > 0
        )
        cols[f"{name}:unrouted_rps"] = self.routed.unrouted_rps.copy()
        # ----------------------------------------------------------------------------- tables and KPIs
        events = self._failover_events()
        svcs = [o.services.iloc[0] for o in outs if o.services is not None]
        requests = float(D.sum() * step_s)
        served_req = float(total_served.sum() * step_s)
        tok = float(sum(s["output_tokens"] for s in svcs))
        gpu_energy_mwh = float(sum(s["gpu_energy_mwh"] for s in svcs))
        fac_j = float(
            sum(s["facility_energy_per_token_j"] * s["output_tokens"] for s in svcs if s["output_tokens"] > 0)
        )
        gpu_h = float(sum(s["gpu_hours"] for s in svcs))
        att_total = float((cols[f"{name}:slo_attainment_frac"] * D).sum() / D.sum()) if D.sum() > 0 else 1.0
        fo_time = [float(e) for e in events["failover_s"]] if len(events) else []
        svc = {
            "service": name,
            "model": self.subs[0].model.name,
            "accelerator": ",".join(dict.fromkeys(s.accel.name for s in self.subs)),
            "tensor_parallel": self.subs[0].tp,
            "kv_capacity_tokens": min(s.kv_cap for s in self.subs),
            "requests": requests,
            "served_requests": served_req,
            "dropped_frac": 1.0 - served_req / requests if requests > 0 else 0.0,
            "slo_attainment_frac": att_total,
            "slo_target_frac": self.subs[0].slo.attainment_frac,
            "slo_met": bool(att_total >= self.subs[0].slo.attainment_frac),
            "slo_reachable": all(bool(s["slo_reachable"]) for s in svcs),
            "max_replicas": int(sum(int(s["max_replicas"]) for s in svcs)),
            "capped_steps": int(sum(int(s["capped_steps"]) for s in svcs)),
            "peak_replicas": int(reps.max()) if reps.size else 0,
            "mean_replicas": float(reps.mean()) if reps.size else 0.0,
            "peak_gpus": float(cols[f"{name}:gpus"].max()),
            "gpu_hours": gpu_h,
            "output_tokens": tok,
            "gpu_energy_mwh": gpu_energy_mwh,
            "accelerator_energy_per_token_j": gpu_energy_mwh * 3.6e9 / tok if tok > 0 else math.nan,
            "facility_energy_per_token_j": fac_j / tok if tok > 0 else math.nan,
            "gpu_hours_per_million_tokens": gpu_h / tok * 1e6 if tok > 0 else math.nan,
            "ttft_p99_s_max": float(np.nanmax(cols[f"{name}:ttft_p99_s"]))
            if total_served.any()
            else math.nan,
            "tpot_p99_s_max": float(np.nanmax(cols[f"{name}:tpot_p99_s"]))
            if total_served.any()
            else math.nan,
            "placements": ",".join(self.names),
            "routing_policy": self.routing.policy,
            "failover_events": len(events),
            "failover_time_s_max": max(fo_time) if fo_time else 0.0,
        }
        for pl, s in zip(self.names, svcs, strict=True):
            svc[f"{pl}:served_requests"] = float(s["served_requests"])
        kpis = {
            f"{name}:slo_attainment_frac": att_total,
            f"{name}:accelerator_energy_per_token_j": svc["accelerator_energy_per_token_j"],
            f"{name}:facility_energy_per_token_j": svc["facility_energy_per_token_j"],
            f"{name}:gpu_hours_per_million_tokens": svc["gpu_hours_per_million_tokens"],
            f"{name}:peak_replicas": float(svc["peak_replicas"]),
            f"{name}:dropped_frac": svc["dropped_frac"],
            f"{name}:failover_events": float(len(events)),
            f"{name}:failover_time_s_max": svc["failover_time_s_max"],
            f"{name}:remote_share_frac": float(
                (cols[f"{name}:remote_share_frac"] * total_served).sum() / total_served.sum()
            )
            if total_served.sum() > 0
            else 0.0,
        }
        return WorkloadOutput(
            columns=cols, services=pd.DataFrame([svc]), events=events if len(events) else None, kpis=kpis
        )

    def _failover_events(self) -> pd.DataFrame:
        """One row per placement and outage stretch: start, site, cause, outage and failover durations."""
        clock = self.ctx.clock
        rows = []
        sc = self.ctx.scenario
        for k, pl in enumerate(self.names):
            for a, b in rt.outage_stretches(self.down[:, k]):
                dark = bool(self.down_cause[0][a:b, k].any()) if self.down_cause else False
                kept = float(np.sum(1.0 - self.failover_frac[a:b, k]) * clock.step_s)
                rows.append(
                    {
                        "time": clock.times[int(a)],
                        "site": sc.sites[int(self.site_idx[k])].name,
                        "kind": "failover",
                        "cause": "hall dark" if dark else "power capping below failover_below_frac",
                        "service": self.spec.name,
                        "placement": pl,
                        "duration_s": float((b - a) * clock.step_s),
                        "failover_s": kept,
                    }
                )
        return pd.DataFrame(rows)
