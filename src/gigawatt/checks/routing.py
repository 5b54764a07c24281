"""Cross-checks of inference services placed on several sites (``placements`` and ``routing``).

Kept apart from :mod:`gigawatt.checks.inference` (one target) so that the routing checks read in one place; run
by :func:`gigawatt.checks.problems.scenario_problems`. See ``docs/models/inference.md`` §9.
"""

from __future__ import annotations

from typing import Any

from gigawatt.checks.inference import model_spec, serving_config, slo_problems
from gigawatt.checks.jurisdictions import site_jurisdictions
from gigawatt.perf.llm import MODEL_PRESETS, AcceleratorPerf, kv_cache_capacity_tokens
from gigawatt.scenario.resolve import placement_names, target_groups
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.routing import SUM_TOL

__all__ = ["routing_problems"]


def routing_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Cross-checks of services with several placements (every problem, with its field path).

    Each placement's hall and rack group exist, hold the GPUs asked for and the model (KV cache) with the
    service's tensor parallelism; no hall is named twice; labels are unique; each site lies in the service's
    ``allowed_jurisdictions`` (data residency: the router never sends a request outside them); ``weighted``
    needs a weight on every placement, summing to 1; features that do not combine with placements yet.
    """
    problems: list[tuple[str, str]] = []
    wl: Any
    for wi, wl in enumerate(sc.workloads):
        if getattr(wl, "kind", None) != "inference":
            continue
        path = f"workloads[{wi}]"
        placements = getattr(wl, "placements", None)
        routing = getattr(wl, "routing", None)
        if not placements:
            if routing is not None:
                problems.append((f"{path}.routing", "routing needs placements (two or more GPU targets)"))
            continue
        for field, val in (
            ("shared_with_training", wl.shared_with_training),
            ("serving.disaggregation", wl.serving.disaggregation),
            ("request_windows", wl.request_windows or None),
        ):
            if val is not None:
                problems.append((f"{path}.{field}", "not supported with placements yet; use one target"))
        policy = routing.policy if routing is not None else "nearest"
        if routing is None and len(placements) > 1:
            problems.append((f"{path}.routing", "a service with several placements needs a routing block"))
        if policy == "weighted":
            missing = [k for k, p in enumerate(placements) if p.weight_frac is None]
            for k in missing:
                problems.append(
                    (f"{path}.placements[{k}].weight_frac", "routing policy 'weighted' needs a weight here")
                )
            if not missing:
                total = sum(float(p.weight_frac) for p in placements)
                if abs(total - 1.0) > SUM_TOL:
                    problems.append(
                        (f"{path}.placements", f"weight_frac must sum to 1 (they sum to {total:g})")
                    )
        names = placement_names(wl, sc)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(
                (
                    f"{path}.placements",
                    f"placement names must be unique; repeated: {', '.join(twice)} (set name)",
                )
            )
        seen: dict[tuple[int, int], int] = {}
        allowed = getattr(wl, "allowed_jurisdictions", None)
        for k, p in enumerate(placements):
            ppath = f"{path}.placements[{k}].target"
            try:
                groups = target_groups(sc, p.target)
            except KeyError as exc:
                problems.append((ppath, str(exc.args[0])))
                continue
            s, h, g = groups[0]
            if (s, h) in seen and p.target.rack_group is None:
                problems.append((f"{ppath}.hall", f"hall already used by placements[{seen[(s, h)]}]"))
            seen.setdefault((s, h), k)
            cap = sum(sc.sites[a].halls[b].racks[c].n_accelerators for a, b, c in groups)
            n = p.target.gpus if p.target.gpus is not None else cap
            if p.target.gpus is not None and p.target.gpus > cap:
                problems.append(
                    (
                        f"{ppath}.gpus",
                        f"GPU group of {p.target.gpus} is larger than its target, which has {cap}",
                    )
                )
            elif wl.serving.tensor_parallel > n:
                problems.append(
                    (
                        f"{ppath}.gpus",
                        f"{wl.serving.tensor_parallel} GPUs per replica exceed the placement's {n} GPUs",
                    )
                )
            if allowed is not None and k > 0:  # placements[0] is the service's target, checked with it
                site = sc.sites[s]
                if not site_jurisdictions(site) & set(allowed):
                    problems.append(
                        (
                            f"{ppath}.hall",
                            f"site {site.name!r} is in jurisdiction "
                            f"{site.jurisdiction or site.location.country_code!r}, outside the workload's "
                            f"allowed_jurisdictions {list(allowed)}: the router would send requests there; "
                            "place the service in one of them, or widen allowed_jurisdictions",
                        )
                    )
            if k > 0 and (not isinstance(wl.model, str) or wl.model in MODEL_PRESETS):
                accel = AcceleratorPerf.from_mapping(sc.sites[s].halls[h].racks[g].server.accelerator_spec())
                try:
                    kv_cache_capacity_tokens(model_spec(wl.model), accel, serving_config(wl))
                except ValueError as exc:
                    problems.append((f"{ppath}.hall", f"the model does not fit here: {exc}"))
                else:  # an SLO this placement's hardware cannot meet at any replica count
                    for spath, msg in slo_problems(sc, wi, wl.model_copy(update={"target": p.target})):
                        problems.append((spath, f"on placements[{k}] ({sc.sites[s].name}): {msg}"))
    return problems
