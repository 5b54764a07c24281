"""Resolving references inside a scenario: workload targets → halls and rack groups (site, hall, group indices).

The checks of those references live in :mod:`gigawatt.checks.targets`."""

from __future__ import annotations

from typing import Any

from gigawatt.catalog import suggest
from gigawatt.scenario.root import Scenario
from gigawatt.scenario.targets import GpuTarget, PoolTarget

__all__ = ["resolve_hall", "target_capacity_gpus", "target_groups"]


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
    groups of every hall of a :class:`PoolTarget`, whose halls may lie in several sites: whether the workload
    allows that is checked in :mod:`gigawatt.checks.targets`)."""
    if isinstance(target, PoolTarget):
        if target.site is not None or target.sites is not None:
            names = [s.name for s in sc.sites]
            pairs = []
            for site in [target.site] if target.site is not None else target.sites or []:
                if site not in names:
                    hint = suggest(site, names)
                    raise KeyError(
                        f"unknown site {site!r}"
                        + (f"; did you mean {hint!r}?" if hint else f"; sites: {names}")
                    )
                si = names.index(site)
                pairs += [(si, hi) for hi in range(len(sc.sites[si].halls))]
        else:
            pairs = [resolve_hall(sc, ref) for ref in target.halls or []]
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


def placement_names(wl: Any, sc: Scenario | None = None) -> list[str]:
    """Labels of a service's placements (``placements[].name``, default the site, or ``<site>-<hall>``)."""
    out: list[str] = []
    refs = [p.target.hall for p in wl.placements]
    sites: list[str] = []
    for ref in refs:
        site = ref.split("/", 1)[0] if "/" in ref else None
        if site is None and sc is not None:
            try:
                site = sc.sites[resolve_hall(sc, ref)[0]].name
            except KeyError:
                site = None
        sites.append(site or ref)
    for p, site, ref in zip(wl.placements, sites, refs, strict=True):
        if p.name is not None:
            out.append(p.name)
        elif sites.count(site) > 1:
            out.append(f"{site}-{ref.rsplit('/', 1)[-1]}")
        else:
            out.append(site)
    return out
