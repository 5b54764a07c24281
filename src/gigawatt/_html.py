"""Small HTML renderings for Jupyter (``_repr_html_``)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gigawatt.result import Result
    from gigawatt.scenario.root import Scenario


def scenario_html(sc: Scenario) -> str:
    rows = []
    for s in sc.sites:
        for h in s.halls:
            for rg in h.racks:
                acc = (
                    rg.server.accelerator
                    if isinstance(rg.server.accelerator, str)
                    else rg.server.accelerator.name
                )
                rows.append(
                    f"<tr><td>{html.escape(s.name)}</td><td>{html.escape(h.name)}</td><td>{html.escape(rg.name)}</td>"
                    f"<td>{html.escape(h.cooling.technology)}</td><td>{html.escape(acc)}</td>"
                    f"<td style='text-align:right'>{rg.count}</td><td style='text-align:right'>{rg.n_accelerators:,}</td>"
                    f"<td style='text-align:right'>{rg.count * rg.rack_power_kw() / 1e3:,.1f}</td></tr>"
                )
    wl = ", ".join(f"{html.escape(w.name)} ({w.kind})" for w in sc.workloads) or "none"
    return (
        f"<div><b>Scenario {html.escape(sc.name)}</b>: {sc.horizon_h:g} h from {sc.start:%Y-%m-%d %H:%M}, "
        f"step {sc.step_s:g} s, seed {sc.seed}<br>"
        "<table><tr><th>site</th><th>hall</th><th>rack group</th><th>cooling</th><th>accelerator</th>"
        "<th>racks</th><th>GPUs</th><th>nameplate IT [MW]</th></tr>"
        + "".join(rows)
        + f"</table>Workloads: {wl}</div>"
    )


def result_html(res: Result) -> str:
    s = res.summary()
    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td style='text-align:right'>{v:,.4g}</td></tr>"
        for k, v in s.items()
    )
    extra = []
    for name in ("jobs", "events", "services", "requests"):
        df = getattr(res, name)
        if df is not None:
            extra.append(f"{name}: {len(df):,} rows")
    return (
        f"<div><b>Result of {html.escape(res.scenario.name)}</b> (seed {res.seed}; "
        f"timeseries {res.timeseries.shape[0]:,} steps × {res.timeseries.shape[1]} columns"
        + ("; " + "; ".join(extra) if extra else "")
        + f")<table><tr><th>metric</th><th>value</th></tr>{body}</table></div>"
    )
