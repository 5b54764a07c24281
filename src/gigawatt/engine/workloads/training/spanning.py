"""Jobs across halls and sites: packing placement and the communication factor of a spanning job.

Used by pools with a :class:`~gigawatt.engine.workloads.training.specs.SpanSpec` (a workload that declares
``campus_link`` and/or ``cross_site``); other pools keep first-fit placement and no penalty.

*Placement* (:func:`pack_nodes`): a job goes into one hall if one has enough free nodes (the hall with the
fewest free nodes that fits: best fit, leaving large holes for large jobs), else into one site (best fit over
sites; inside it the halls with the most free nodes first, so it crosses as few halls as it can), else over
sites with the most free nodes first. Cost O(rack groups of the pool) per start — events, not GPUs.

*Progress*: a job with GPUs in several halls and/or sites progresses at its slowest hall's factor (as any
multi-hall job) × its communication factor :math:`f` (:func:`gigawatt.perf.crosssite.span_throughput_factor`),
set when it is placed and each time it (re)starts computing (a replacement node may move it). The work lost to
:math:`f` is accounted as ``comm_gpu_hours`` (a term of the GPU-hour identity). A job whose ``model_params``
is unknown (jobs given by ``flops``/``duration_h`` without it, jobs of a mix) pays no penalty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from gigawatt.engine.workloads.training.specs import PoolSpec, SpanLink, SpanSpec
from gigawatt.engine.workloads.training.state import EngineState, Job, Pool
from gigawatt.perf.crosssite import ring_allreduce_s, span_throughput_factor

__all__ = ["Spanning", "pack_nodes", "span_factor"]


def pack_nodes(
    free: Mapping[int, int],
    group_idx: Sequence[int],
    group_hall: Sequence[int],
    group_site: Sequence[int],
    need: int,
) -> dict[int, int]:
    """Nodes to take per group for a job of ``need`` nodes: one hall if possible, then one site, then fewest sites.

    Parameters
    ----------
    free : mapping of int to int
        Free nodes per group.
    group_idx, group_hall, group_site : sequence of int
        The pool's groups in order, with the hall and site of each.
    need : int
        Nodes the job needs (at most the free nodes in total).

    Returns
    -------
    dict of int to int
        Nodes taken per group (groups with none left out), in taking order.
    """
    halls: dict[int, list[int]] = {}
    hall_site: dict[int, int] = {}
    for g, h, s in zip(group_idx, group_hall, group_site, strict=True):
        halls.setdefault(h, []).append(g)
        hall_site[h] = s
    hall_free = {h: sum(free.get(g, 0) for g in gs) for h, gs in halls.items()}
    fits = [h for h, n in hall_free.items() if n >= need]
    if fits:
        order = [min(fits, key=lambda h: hall_free[h])]  # best fit, first in pool order on ties
    else:
        site_halls: dict[int, list[int]] = {}
        for h in halls:
            site_halls.setdefault(hall_site[h], []).append(h)
        site_free = {s: sum(hall_free[h] for h in hs) for s, hs in site_halls.items()}
        fits = [s for s, n in site_free.items() if n >= need]
        if fits:
            sites = [min(fits, key=lambda s: site_free[s])]
        else:
            sites = sorted(site_free, key=lambda s: -site_free[s])
        order = [h for s in sites for h in sorted(site_halls[s], key=lambda h: -hall_free[h])]
    take: dict[int, int] = {}
    left = need
    for h in order:
        for g in halls[h]:
            if left == 0:
                return take
            n = min(left, free.get(g, 0))
            if n:
                take[g] = n
                left -= n
    if left:
        raise RuntimeError("internal: packing without enough free nodes")
    return take


def _bandwidth_gbit_per_s(link: SpanLink, gpus_smallest: int) -> float:
    """Bottleneck bandwidth of a boundary [Gbit/s]: the aggregate, or per GPU × GPUs of the smallest island."""
    return min(link.bandwidth_gbit_per_s, link.bandwidth_gbit_per_s_per_gpu * gpus_smallest)


def span_factor(
    span: SpanSpec,
    pool: PoolSpec,
    gpus_by_group: Mapping[int, int],
    model_params: float | None,
    step_s: float | None,
) -> tuple[float, int, int]:
    """Communication factor of a placement, and the halls and sites it spans.

    Campus: per site the job touches in several halls, a ring over those halls on the campus link (sites in
    parallel: the slowest counts). Sites: a ring over the sites on the wide-area link, at the largest one-way
    latency between any two of them.

    Returns
    -------
    tuple
        ``(f, n_halls, n_sites)``: the factor in (0, 1] (1 when nothing crosses a priced boundary or the job's
        size is unknown), the number of halls and of sites holding the job's GPUs.
    """
    by_hall: dict[int, int] = {}
    hall_site: dict[int, int] = {}
    for g, n in gpus_by_group.items():
        k = pool.group_idx.index(g)
        h = pool.hall_of(g)
        by_hall[h] = by_hall.get(h, 0) + n
        hall_site[h] = span.group_site[k]
    by_site: dict[int, int] = {}
    for h, n in by_hall.items():
        by_site[hall_site[h]] = by_site.get(hall_site[h], 0) + n
    n_halls, n_sites = len(by_hall), len(by_site)
    if model_params is None or step_s is None or n_halls == 1:
        return 1.0, n_halls, n_sites
    campus_s = 0.0
    if span.campus is not None:
        link = span.campus
        for s in by_site:
            gpus = [n for h, n in by_hall.items() if hall_site[h] == s]
            if len(gpus) > 1:
                t = ring_allreduce_s(
                    model_params * link.bytes_per_param,
                    len(gpus),
                    _bandwidth_gbit_per_s(link, min(gpus)),
                    link.latency_s,
                )
                campus_s = max(campus_s, float(t))
    wan_s = 0.0
    wan = span.wan
    if wan is not None and n_sites > 1:
        pairs = dict(wan.pair_latency_s)
        sites = sorted(by_site)
        lat = max(pairs.get((a, b), wan.latency_s) for i, a in enumerate(sites) for b in sites[i + 1 :])
        wan_s = float(
            ring_allreduce_s(
                model_params * wan.bytes_per_param,
                n_sites,
                _bandwidth_gbit_per_s(wan, min(by_site.values())),
                lat,
            )
        )
    if campus_s == 0.0 and wan_s == 0.0:
        return 1.0, n_halls, n_sites
    f = float(
        span_throughput_factor(
            step_s,
            campus_s,
            wan_s,
            span.inner_steps if n_sites > 1 else 1,
            0.0 if span.campus is None else span.campus.overlap_frac,
            0.0 if wan is None else wan.overlap_frac,
        )
    )
    return (f if math.isfinite(f) and f > 0 else 1e-9), n_halls, n_sites


class Spanning(EngineState):
    """Packing placement and the communication factor of jobs of pools with a span spec."""

    def _allocate_packed(self, pool: Pool, job: Job) -> None:
        """Take the job's nodes by :func:`pack_nodes` and set its communication factor."""
        spec = pool.spec
        assert spec.span is not None
        take = pack_nodes(
            pool.free,
            spec.group_idx,
            spec.group_hall or (spec.hall_idx,) * len(spec.group_idx),
            spec.span.group_site,
            job.n_nodes,
        )
        gpn = spec.gpus_per_node
        left_gpus = job.spec.n_gpus
        job.nodes_by_group = {}
        job.gpus_by_group = {}
        for g, n in take.items():
            pool.free[g] -= n
            job.nodes_by_group[g] = n
            gpus = min(n * gpn, left_gpus)
            job.gpus_by_group[g] = gpus
            left_gpus -= gpus
        self._update_span(job)

    def _update_span(self, job: Job) -> None:
        """Set the job's communication factor from its current placement (and the most halls/sites it spanned)."""
        pool = self.pools[job.pool]
        span = pool.spec.span
        if span is None:
            return
        f, n_halls, n_sites = span_factor(
            span, pool.spec, job.gpus_by_group, job.spec.model_params, job.spec.step_s
        )
        job.comm_factor = f
        if n_halls > job.span_halls:
            job.span_halls = n_halls
            if n_halls > 1:
                job.span_where = tuple(sorted({pool.spec.hall_map[g] for g in job.gpus_by_group}))
        job.span_sites = max(job.span_sites, n_sites)

    def _take_replacement_near(self, pool: Pool, g: int) -> int | None:
        """A replacement node for a failed node of group ``g``: the nearest one — same group, then same hall,
        then same site, then anywhere — a hot spare before a free node at each distance (a failure should not
        move a job to another site when a node is at hand nearby). ``None``: no idle node."""
        spec = pool.spec
        assert spec.span is not None
        hall, site = spec.hall_map[g], spec.span.group_site[spec.group_idx.index(g)]
        sites = dict(zip(spec.group_idx, spec.span.group_site, strict=True))
        tiers = (
            lambda gg: gg == g,
            lambda gg: spec.hall_map[gg] == hall,
            lambda gg: sites[gg] == site,
            lambda gg: True,
        )
        for near in tiers:
            for bucket in (pool.spare, pool.free):
                for gg, n in bucket.items():
                    if n > 0 and near(gg):
                        bucket[gg] -= 1
                        return gg
        return None

    def _hold_unpowered(self, pool: Pool, groups: Sequence[int]) -> None:
        """Move the idle (free and spare) nodes of dark groups out of reach of the scheduler."""
        for g in groups:
            pool.unpowered[g] = pool.unpowered.get(g, 0) + pool.free.get(g, 0) + pool.spare.get(g, 0)
            pool.free[g] = 0
            pool.spare[g] = 0

    def _set_power_span(self, pool: Pool, hall_idx: int, powered: bool, cause: str) -> None:
        """A hall of a pool with priced links loses or regains power.

        On loss, every running job with nodes in the hall is interrupted as by a failure of class ``power``
        (work since its last checkpoint lost; a job spanning halls or sites computes in lockstep, so all of it
        stops) and requeued; the hall's idle nodes leave the scheduler's reach (nodes repaired, replaced,
        commissioned or given back by another workload meanwhile join them). Jobs elsewhere keep running, and the queue is scheduled on the lit halls (a
        requeued job may restart there at once, paying its start-up time and, if it now spans, its
        communication factor). On return the held nodes rejoin (spares topped up first) and the pool is
        scheduled. Events ``power_lost``/``power_restored`` carry the hall's first rack group.
        """
        spec = pool.spec
        pi = self._pool_index[spec.name]
        groups = [g for g in spec.group_idx if spec.hall_of(g) == hall_idx]
        if powered:
            if hall_idx not in pool.span_dark:
                return
            pool.span_dark.discard(hall_idx)
            self._event("power_restored", None, pi, groups[0], cause)
            for g in groups:
                n = pool.unpowered.pop(g, 0)
                if g in pool.retired:
                    continue
                to_spare = min(n, max(spec.spare_nodes - pool.n_spare, 0))
                pool.spare[g] = pool.spare.get(g, 0) + to_spare
                pool.free[g] += n - to_spare
            self._schedule(pool)
            return
        if hall_idx in pool.span_dark:
            return
        pool.span_dark.add(hall_idx)
        self._event("power_lost", None, pi, groups[0], cause)
        self._hold_unpowered(pool, groups)  # before any interruption can schedule onto them
        dark = set(groups)
        for job in sorted(pool.running.values(), key=lambda j: j.idx):
            if not any(g in dark for g in job.nodes_by_group):
                continue
            lost = self._lose_work(job)
            job.count_interruption("power")
            self._event("power_loss", job, pi, -1, cause, lost * job.spec.n_gpus / 3600.0)
            for g in [g for g in job.nodes_by_group if g in dark]:  # its dark nodes stay held, not freed
                pool.unpowered[g] += job.nodes_by_group.pop(g)
            mx = job.spec.max_interruptions
            if mx is not None and sum(job.n_int.values()) > mx:
                self._fail_job(job, f"more than {mx} interruptions")
            else:
                self._requeue(job, "requeue", cause)
        self._schedule(pool)
