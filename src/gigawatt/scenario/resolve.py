"""Resolving references inside a scenario (workload targets → halls and rack groups) and cross-checks."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from gigawatt.catalog import suggest
from gigawatt.scenario.inference import inference_problems
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.workloads import GpuTarget, PoolTarget

__all__ = ["resolve_hall", "target_groups", "target_problems"]


def resolve_hall(sc: Scenario, ref: str) -> tuple[int, int]:
    """``(site_index, hall_index)`` of a hall reference ``"<site>/<hall>"`` or a unique ``"<hall>"``.

    Raises
    ------
    KeyError
        With a suggestion when the reference does not resolve or is ambiguous.
    """
    keys = sc.hall_keys()
    pairs = [(si, hi) for si, s in enumerate(sc.sites) for hi, _ in enumerate(s.halls)]
    if "/" in ref:
        if ref in keys:
            return pairs[keys.index(ref)]
    else:
        matches = [p for k, p in zip(keys, pairs, strict=True) if k.split("/", 1)[1] == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise KeyError(f"hall {ref!r} is ambiguous (in several sites); write '<site>/{ref}'")
    hint = suggest(ref, keys + [k.split("/", 1)[1] for k in keys])
    raise KeyError(f"unknown hall {ref!r}" + (f"; did you mean {hint!r}?" if hint else f"; halls: {keys}"))


def target_groups(sc: Scenario, target: GpuTarget | PoolTarget) -> list[tuple[int, int, int]]:
    """``(site, hall, rack_group)`` indices a target covers (all groups of the hall unless one is named; all
    groups of every hall of a :class:`PoolTarget`)."""
    if isinstance(target, PoolTarget):
        if target.site is not None:
            names = [s.name for s in sc.sites]
            if target.site not in names:
                hint = suggest(target.site, names)
                raise KeyError(
                    f"unknown site {target.site!r}"
                    + (f"; did you mean {hint!r}?" if hint else f"; sites: {names}")
                )
            si = names.index(target.site)
            pairs = [(si, hi) for hi in range(len(sc.sites[si].halls))]
        else:
            pairs = [resolve_hall(sc, ref) for ref in target.halls or []]
            if len({si for si, _ in pairs}) > 1:
                raise KeyError("a training pool's halls must be in one site")
            if len(set(pairs)) != len(pairs):
                raise KeyError("a hall is named twice")
        return [(si, hi, gi) for si, hi in pairs for gi in range(len(sc.sites[si].halls[hi].racks))]
    si, hi = resolve_hall(sc, target.hall)
    hall = sc.sites[si].halls[hi]
    if target.rack_group is None:
        return [(si, hi, gi) for gi in range(len(hall.racks))]
    names = [rg.name for rg in hall.racks]
    if target.rack_group not in names:
        hint = suggest(target.rack_group, names)
        raise KeyError(
            f"unknown rack group {target.rack_group!r} in hall {target.hall!r}"
            + (f"; did you mean {hint!r}?" if hint else f"; groups: {names}")
        )
    return [(si, hi, names.index(target.rack_group))]


def target_capacity_gpus(sc: Scenario, target: GpuTarget | PoolTarget) -> int:
    """Number of GPUs in the halls/groups a target covers."""
    return sum(sc.sites[si].halls[hi].racks[gi].n_accelerators for si, hi, gi in target_groups(sc, target))


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
            from gigawatt.scenario.feasibility import training_usable_gpus

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
