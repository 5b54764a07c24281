"""Checks of workload references: unknown halls or groups, GPU claims beyond a target, jobs beyond their pool."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from gigawatt.checks.feasibility import training_usable_gpus
from gigawatt.checks.inference import inference_problems
from gigawatt.scenario.resolve import target_groups
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.targets import GpuTarget, PoolTarget

__all__ = ["target_problems"]


def _span_problems(
    sc: Scenario, wi: int, wl: Any, groups: list[tuple[int, int, int]]
) -> list[tuple[str, str]]:
    """A training pool over several sites needs ``cross_site``; ``cross_site`` and ``campus_link`` need a pool
    that can use them."""
    sites = sorted({s for s, _, _ in groups})
    halls = {(s, h) for s, h, _ in groups}
    out: list[tuple[str, str]] = []
    if len(sites) > 1 and wl.cross_site is None:
        names = [sc.sites[s].name for s in sites]
        out.append(
            (
                f"workloads[{wi}].target",
                f"a training pool's halls must be in one site unless the workload gives cross_site; these halls "
                f"lie in sites {names}: add cross_site (the link's bandwidth_gbit_per_s and the jobs' method: "
                "data_parallel | diloco; docs/models/training.md §4) or target halls of one site",
            )
        )
    if len(sites) == 1 and wl.cross_site is not None:
        out.append(
            (
                f"workloads[{wi}].cross_site",
                f"the pool lies in one site ({sc.sites[sites[0]].name!r}): remove cross_site or add halls of "
                "other sites to the target (halls: [...] or sites: [...])",
            )
        )
    if len(halls) == 1 and wl.campus_link is not None:
        out.append(
            (
                f"workloads[{wi}].campus_link",
                "the pool is one hall: remove campus_link or target several halls (halls: [...] or site: ...)",
            )
        )
    return out


def target_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Problems with workload references: unknown halls or groups, GPU groups larger than what they target,
    exclusive GPU claims that add up to more than a hall has, missing trace files."""
    problems: list[tuple[str, str]] = []
    claimed: dict[tuple[int, int, int], float] = defaultdict(float)
    for wi, wl in enumerate(sc.workloads):
        target: Any = getattr(wl, "target", None)
        if not isinstance(target, GpuTarget | PoolTarget):
            continue
        path = f"workloads[{wi}].target"
        try:
            groups = target_groups(sc, target)
        except KeyError as exc:
            problems.append((path, str(exc.args[0])))
            continue
        cap = sum(sc.sites[s].halls[h].racks[g].n_accelerators for s, h, g in groups)
        if target.gpus is not None and target.gpus > cap:
            problems.append(
                (
                    f"{path}.gpus",
                    f"GPU group of {target.gpus} is larger than its target, which has {cap} GPUs",
                )
            )
        if getattr(wl, "kind", None) == "inference":
            problems.extend(inference_problems(sc, wi, wl))
        exclusive = getattr(wl, "kind", None) in ("utilization", "training") or (
            getattr(wl, "kind", None) == "inference" and getattr(wl, "shared_with_training", None) is None
        )
        if exclusive:  # exclusive GPU claims
            n = float(target.gpus if target.gpus is not None else cap)
            for s, h, g in groups:  # spread proportionally to group size
                claimed[(s, h, g)] += n * sc.sites[s].halls[h].racks[g].n_accelerators / cap
        if getattr(wl, "kind", None) == "training":
            problems.extend(_span_problems(sc, wi, wl, groups))
            pool = target.gpus if target.gpus is not None else cap
            usable, gpn = training_usable_gpus(sc, wl)
            spare = wl.scheduler.spare_nodes  # type: ignore[union-attr]
            for ji, job in enumerate(wl.jobs):  # type: ignore[union-attr]
                if job.gpus > pool:
                    problems.append(
                        (
                            f"workloads[{wi}].jobs[{ji}].gpus",
                            f"job of {job.gpus} GPUs is larger than its pool ({pool})",
                        )
                    )
                elif job.gpus > usable and usable > 0:  # usable 0: the spare_nodes check says it once
                    problems.append(
                        (
                            f"workloads[{wi}].jobs[{ji}].gpus",
                            f"job of {job.gpus} GPUs is larger than its pool's usable {usable} GPUs (whole "
                            f"nodes of {gpn} GPUs, minus {spare} spare node(s)); lower the job's GPUs, "
                            "spare_nodes or grow the target",
                        )
                    )
        prof = getattr(wl, "profile", None)
        if getattr(prof, "kind", None) == "trace":
            p = sc.resolve_path(prof.path)  # type: ignore[union-attr]
            if not p.exists():
                problems.append((f"workloads[{wi}].profile.path", f"trace file not found: {p}"))
    for (s, h, g), n in claimed.items():
        cap_g = sc.sites[s].halls[h].racks[g].n_accelerators
        if n > cap_g + 1e-9:
            problems.append(
                (
                    f"sites[{s}].halls[{h}].racks[{g}]",
                    f"utilization/training/inference workloads claim {n:.0f} GPUs but the group has {cap_g}; "
                    "reduce target.gpus or target other groups",
                )
            )
    return problems
