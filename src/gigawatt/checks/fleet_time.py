"""Checks of a fleet that changes over time: commissioning and decommissioning dates of halls and rack groups
against each other, the horizon and the workloads that use them (``docs/models/fleet_time.md``).

Field-level problems (a decommission date before the commission date) are raised by the models themselves
(:class:`~gigawatt.scenario.hardware.Hall`, :class:`~gigawatt.scenario.hardware.RackGroup`); this module holds
the cross-field ones, reported by ``gigawatt check`` with their paths.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gigawatt.scenario.hardware import online_span
from gigawatt.scenario.resolve import target_groups
from gigawatt.scenario.targets import GpuTarget, PoolTarget

__all__ = [
    "fleet_time_problems",
    "fleet_time_warnings",
    "group_online_span",
    "horizon_end",
    "refresh_source_paths",
]


def refresh_source_paths(problems: list[tuple[str, str]], data: Any) -> list[tuple[str, str]]:
    """``problems`` with the paths of rack groups added by a ``refresh`` (appended after a hall's groups in
    the loaded scenario, so their positions are not in the file) turned into the path of the refresh that
    wrote them (``…racks[i].refresh`` or ``…racks[i].refresh[k]``; a ``commission_date`` is its ``date``), so
    that the message names what the user wrote and carries its line. ``data`` is the raw input."""
    names: dict[str, str] = {}
    sites = data.get("sites") if isinstance(data, dict) else None
    for si, site in enumerate(sites if isinstance(sites, list) else []):
        halls = site.get("halls") if isinstance(site, dict) else None
        for hi, hall in enumerate(halls if isinstance(halls, list) else []):
            racks = hall.get("racks") if isinstance(hall, dict) else None
            if not isinstance(racks, list):
                continue
            j = len(racks)
            for ri, rack in enumerate(racks):
                ref = rack.get("refresh") if isinstance(rack, dict) else None
                entries = [ref] if isinstance(ref, dict) else ref if isinstance(ref, list) else []
                src = f"sites[{si}].halls[{hi}].racks[{ri}]"
                for k in range(len(entries)):
                    tag = "refresh" if isinstance(ref, dict) else f"refresh[{k}]"
                    names[f"sites[{si}].halls[{hi}].racks[{j}]"] = f"{src}.{tag}"
                    j += 1
                if entries and "decommission_date" not in rack:  # the old group retires at the first refresh
                    first = "refresh" if isinstance(ref, dict) else "refresh[0]"
                    names[f"{src}.decommission_date"] = f"{src}.{first}.date"
    if not names:
        return problems
    out = []
    for path, msg in problems:
        for old, new in names.items():
            if path == old or path.startswith(old + ".") or path.startswith(old + "["):
                rest = path[len(old) :]
                rest = ".date" if rest == ".commission_date" and not new.endswith(".date") else rest
                path = new + rest
                break
        out.append((path, msg))
    return out


def horizon_end(sc: Any) -> dt.datetime:
    """End of the simulated period (UTC, naive)."""
    return sc.start + dt.timedelta(hours=sc.horizon_h)


def group_online_span(sc: Any, si: int, hi: int, gi: int) -> tuple[dt.datetime, dt.datetime] | None:
    """The part of the horizon during which rack group ``(si, hi, gi)`` is installed (bounded by its hall's
    dates), or ``None`` when it never is."""
    hall = sc.sites[si].halls[hi]
    rg = hall.racks[gi]
    span = online_span(hall.commission_date, hall.decommission_date, sc.start, horizon_end(sc))
    if span is None:
        return None
    return online_span(rg.commission_date, rg.decommission_date, *span)


def fleet_time_problems(sc: Any) -> list[tuple[str, str]]:
    """``(path, message)`` for every cross-field problem of commissioning dates.

    Errors: a rack group commissioned before its hall or decommissioned after it; a workload whose target is
    never installed during the horizon (it would do nothing: most likely a wrong date or target); a
    disaggregated inference service whose targets are installed or retired *during* the horizon, or an
    inference service sharing the nodes of a training pool that has such groups (not modelled yet).
    """
    problems: list[tuple[str, str]] = []
    for si, site in enumerate(sc.sites):
        for hi, hall in enumerate(site.halls):
            hp = f"sites[{si}].halls[{hi}]"
            for gi, rg in enumerate(hall.racks):
                rp = f"{hp}.racks[{gi}]"
                if (
                    hall.commission_date is not None
                    and rg.commission_date is not None
                    and rg.commission_date < hall.commission_date
                ):
                    problems.append(
                        (
                            f"{rp}.commission_date",
                            f"rack group {rg.name!r} is commissioned ({rg.commission_date.isoformat()}) before "
                            f"its hall ({hall.commission_date.isoformat()}); commission it on or after the "
                            "hall's commission_date",
                        )
                    )
                if (
                    hall.decommission_date is not None
                    and rg.decommission_date is not None
                    and rg.decommission_date > hall.decommission_date
                ):
                    problems.append(
                        (
                            f"{rp}.decommission_date",
                            f"rack group {rg.name!r} is decommissioned ({rg.decommission_date.isoformat()}) after "
                            f"its hall ({hall.decommission_date.isoformat()}); retire it on or before the "
                            "hall's decommission_date",
                        )
                    )
                if (
                    hall.decommission_date is not None
                    and rg.commission_date is not None
                    and rg.commission_date >= hall.decommission_date
                ):
                    problems.append(
                        (
                            f"{rp}.commission_date",
                            f"rack group {rg.name!r} is commissioned ({rg.commission_date.isoformat()}) after "
                            f"its hall is decommissioned ({hall.decommission_date.isoformat()})",
                        )
                    )
    start, end = sc.start, horizon_end(sc)

    def dated_inside(target: Any) -> bool:
        try:
            groups = target_groups(sc, target)
        except KeyError:
            return False
        return any(group_online_span(sc, *g) != (start, end) for g in groups)

    training_targets = {wl.name: wl.target for wl in sc.workloads if getattr(wl, "kind", None) == "training"}
    for wi, wl in enumerate(sc.workloads):
        shared = getattr(wl, "shared_with_training", None)
        if shared is not None and (
            (shared in training_targets and dated_inside(training_targets[shared])) or dated_inside(wl.target)
        ):
            problems.append(
                (
                    f"workloads[{wi}].shared_with_training",
                    f"inference workload {wl.name!r} borrows nodes of training pool {shared!r}, and its target "
                    "or the pool has rack groups commissioned or decommissioned during the run; sharing is "
                    "only modelled for GPUs installed for the whole run",
                )
            )
        kind = getattr(wl, "kind", None)
        targets: list[tuple[str, Any]] = [(f"workloads[{wi}].target", getattr(wl, "target", None))]
        dis = getattr(getattr(wl, "serving", None), "disaggregation", None)
        if dis is not None:
            targets.append((f"workloads[{wi}].serving.disaggregation.prefill_target", dis.prefill_target))
        for path, target in targets:
            if not isinstance(target, GpuTarget | PoolTarget):
                continue
            try:
                groups = target_groups(sc, target)
            except KeyError:
                continue  # reported by the reference checks
            spans = [group_online_span(sc, *g) for g in groups]
            if all(s is None for s in spans):
                problems.append(
                    (
                        path,
                        f"workload {wl.name!r}: its target is never installed between {start.isoformat()} and "
                        f"{end.isoformat()} (check the commission_date/decommission_date of its hall and rack "
                        "groups, the target, or start/horizon_h)",
                    )
                )
                continue
            if kind == "inference" and dis is not None and any(s is None or s != (start, end) for s in spans):
                problems.append(
                    (
                        path,
                        f"inference workload {wl.name!r}: a disaggregated service (serving.disaggregation) "
                        "needs its targets installed for the whole run (a growing or shrinking prefill/decode "
                        "pool is not modelled yet); target rack groups installed from start to end of the "
                        "horizon, or serve without disaggregation",
                    )
                )
    return problems


def _peak_installed_gpus(sc: Any, groups: list[tuple[int, int, int]]) -> int:
    """Most accelerators of ``groups`` installed at the same time during the horizon."""
    spans = [(g, group_online_span(sc, *g)) for g in groups]
    starts = [sp[0] for _, sp in spans if sp is not None]
    best = 0
    for t in starts:
        n = sum(
            sc.sites[g[0]].halls[g[1]].racks[g[2]].n_accelerators
            for g, sp in spans
            if sp is not None and sp[0] <= t < sp[1]
        )
        best = max(best, n)
    return best


def fleet_time_warnings(sc: Any) -> list[tuple[str, str]]:
    """Warnings ``(path, message)``: training jobs larger than the most GPUs of their pool installed at one
    time during the horizon (they would wait in the queue to the end)."""
    out: list[tuple[str, str]] = []
    for wi, wl in enumerate(sc.workloads):
        if getattr(wl, "kind", None) != "training" or not isinstance(wl.target, GpuTarget | PoolTarget):
            continue
        try:
            groups = target_groups(sc, wl.target)
        except KeyError:
            continue
        if all(group_online_span(sc, *g) == (sc.start, horizon_end(sc)) for g in groups):
            continue
        peak = _peak_installed_gpus(sc, groups)
        for ji, job in enumerate(wl.jobs):
            if job.gpus > peak:
                out.append(
                    (
                        f"workloads[{wi}].jobs[{ji}].gpus",
                        f"job {job.name!r} needs {job.gpus} GPUs but at most {peak} of its pool are installed "
                        "at one time during the run (commission/decommission dates); it will wait in the queue",
                    )
                )
    return out
