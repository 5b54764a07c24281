"""Command line: ``gigawatt run|check|schema|catalog|sweep|costs|buildout``.

Input problems print one ``path: message`` line each and exit with status 2; other failures print one line
and exit 1 (``--debug`` shows the traceback). Nothing prints a traceback by default.

``-v`` shows the library's INFO logs (the ``gigawatt`` logger) on stderr; ``-q`` prints only errors (no
KPI table, no progress, no warnings).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import yaml

import gigawatt as gw
from gigawatt import catalog, economics
from gigawatt.buildout import BuildoutPlan, lead_times, load_buildout, run_buildout
from gigawatt.checks.feasibility import scenario_warnings
from gigawatt.checks.limits import ResourceLimits
from gigawatt.errors import GigawattWarning, ScenarioError
from gigawatt.physics.cooling_designs import cooling_designs
from gigawatt.result import _size, check_output_dir, dir_size_bytes
from gigawatt.scenario.io import scenario_schema
from gigawatt.sweep import load_sweep_spec, sweep_from_spec

__all__ = ["main"]

EXIT_INPUT = 2
EXIT_FAILURE = 1


#: Set by :func:`main` from ``-q``: when True, :func:`_say` and :func:`_print_table` print nothing.
_QUIET = False


def _say(*parts: object) -> None:
    """Print a line on stdout unless ``-q``."""
    if not _QUIET:
        print(*parts)


def _print_table(rows: list[tuple[str, str]]) -> None:
    if _QUIET:
        return
    w = max((len(k) for k, _ in rows), default=0)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")


def _fmt(v: float) -> str:
    if v != v:  # NaN
        return "n/a"
    if abs(v) >= 1e5:
        return f"{v:,.0f}"
    return f"{v:,.4g}" if abs(v) < 10 else f"{v:,.1f}"


def _limits(args: argparse.Namespace) -> object:
    """Resource limits from ``--no-limits`` / ``--limit KEY=VALUE`` (over the environment's)."""
    if args.no_limits:
        return False
    base = ResourceLimits.from_env()
    if not args.limit:
        return base if base is not None else False
    return ResourceLimits.parse(",".join(args.limit), base or ResourceLimits())


def _cmd_run(args: argparse.Namespace) -> int:

    if args.out is not None:
        try:  # before simulating: an unusable folder fails now, not after an hour of simulation
            check_output_dir(args.out)
        except (ValueError, OSError) as exc:
            raise ScenarioError([("--out", str(exc))], "the command line") from None
    sc = gw.load_scenario(args.scenario, limits=_limits(args))  # type: ignore[arg-type]
    if args.buildout is not None:
        sc = _buildout_outcome(sc, args.buildout)
    _say(
        f"Simulating {sc.name!r}: {sc.n_accelerators:,} accelerators, {sc.horizon_h:g} h at {sc.step_s:g} s steps ..."
    )
    progress = not (_QUIET or args.no_progress)
    res = gw.simulate(sc, seed=args.seed, progress=progress)
    s = res.summary()
    _print_table([(str(k), _fmt(float(v))) for k, v in s.items()])
    if args.out is not None:
        t0 = time.perf_counter()
        out = res.to_dir(args.out, plots=not args.no_plots, events=args.events, format=args.format)
        files = sorted(str(p.relative_to(out)) for p in out.iterdir() if not p.name.startswith("."))
        _say(
            f"Wrote results to {out} ({_size(dir_size_bytes(out))} in {time.perf_counter() - t0:.1f} s): "
            + ", ".join(files)
        )
    return 0


def _buildout_outcome(sc: gw.Scenario, outcome: str) -> gw.Scenario:
    """The scenario of one outcome of its build-out plan (``--buildout``: target, pNN, mean, a fraction or
    draw:i)."""
    if sc.buildout is None:
        raise ScenarioError([("--buildout", "the scenario has no buildout plan")], "the command line")
    text = outcome.strip().lower()
    try:
        if text.startswith("draw:"):
            return sc.with_buildout(draw=int(text.removeprefix("draw:")))
        try:
            return sc.with_buildout(float(text))
        except ValueError:
            return sc.with_buildout(text)
    except (ValueError, IndexError) as exc:
        raise ScenarioError(
            [("--buildout", f"{exc} (use target, pNN, mean, a fraction or draw:i)")], "the command line"
        ) from None


def _cmd_check(args: argparse.Namespace) -> int:

    sc = gw.load_scenario(args.scenario, limits=_limits(args))  # type: ignore[arg-type]  # errors (exit 2) include the static feasibility errors
    _say(
        f"OK: {sc.name!r} — {len(sc.sites)} site(s), {sum(len(s.halls) for s in sc.sites)} hall(s), "
        f"{sc.n_accelerators:,} accelerators, {len(sc.workloads)} workload(s)"
    )
    warnings = scenario_warnings(sc)  # targets a run may miss: listed, exit status stays 0
    if warnings:
        _say(f"{len(warnings)} warning(s):")
        for path, msg in warnings:
            _say(f"warning: {path}: {msg}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(scenario_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def _cmd_catalog(args: argparse.Namespace) -> int:
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 40):
        if args.what == "accelerators":
            df = catalog.accelerators()
            cols = [
                "vendor",
                "tdp_w",
                "idle_w",
                "bf16_dense_tflops",
                "fp8_dense_tflops",
                "hbm_gb",
                "hbm_bandwidth_tbps",
                "list_price_usd",
            ]
            print(df[cols].to_string())
        elif args.what == "cooling":
            df = catalog.cooling_technologies()
            print(df[["max_rack_density_kw", "typical_rack_density_kw", "liquid_capture_frac"]].to_string())

            designs = pd.DataFrame(
                [
                    (d.name, d.technology, d.liquid_capture_frac, d.extends or "")
                    for d in cooling_designs().values()
                ],
                columns=["design", "technology", "liquid_capture_frac", "extends"],
            ).set_index("design")
            print("\nplant designs (cooling.design):")
            print(designs.to_string())
        elif args.what == "climates":
            df = catalog.climates()
            print(df[["category", "koppen", "kind", "station"]].to_string())
        elif args.what in ("costs", "cloud", "providers"):
            table = {
                "costs": economics.cost_catalog,
                "cloud": economics.cloud_prices,
                "providers": economics.cloud_providers,
            }[args.what]()
            print(table.to_string())
        elif args.what == "lead_times":
            print(lead_times().to_string())
        else:
            for name in catalog.scenario_names():
                print(name)
    if args.what in ("accelerators", "cooling", "climates"):
        api = {"accelerators": "accelerators", "cooling": "cooling_technologies", "climates": "climates"}
        print(f"\nSources: see the 'source' column (gigawatt.catalog.{api[args.what]}()).")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    spec, base_dir = load_sweep_spec(args.spec)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    res = sweep_from_spec(
        spec,
        base_dir,
        store=out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=False if (args.no_progress or _QUIET) else None,
    )
    res.to_dir(out)
    n_ok = int((res.table["status"] == "ok").sum())
    _say(f"{len(res.table)} runs ({res.table['variant'].nunique()} variants × seeds): {n_ok} ok")
    headline = [
        k
        for k in ("facility_energy_mwh", "pue", "energy_cost_usd", "unserved_energy_mwh", "emissions_tco2")
        if k in res.table.columns
    ]
    if n_ok and headline:
        summary = res.summary(headline)
        summary.to_csv(out / "summary.csv")
        means = summary.xs("mean", axis=1, level=1)
        with pd.option_context("display.width", 200, "display.max_columns", 12):
            _say(means.to_string(float_format=lambda v: f"{v:,.4g}"))
    if len(res.failed):
        _say(f"{len(res.failed)} run(s) did not complete (their errors are in {out / 'table.parquet'}):")
        for _, row in res.failed.head(10).iterrows():
            _say(
                f"  variant {row['variant']}, seed {row['seed']}: {row['status']}: {str(row['error'])[:200]}"
            )
    _say(f"Rows in {out} (re-running the same command resumes and skips what is done)")
    return 0 if n_ok else EXIT_FAILURE


def _cmd_costs(args: argparse.Namespace) -> int:
    prices = None
    if args.prices:
        prices = yaml.safe_load(Path(args.prices).read_text(encoding="utf-8"))
        if not isinstance(prices, dict):
            raise ValueError(f"--prices {args.prices}: must hold a mapping of economics fields")
    sc = gw.load_scenario(args.scenario)
    if args.out:
        check_output_dir(args.out)
    _say(f"Simulating {sc.name!r} ({sc.horizon_h:g} h), then pricing it ...")
    res = gw.simulate(sc, seed=args.seed)
    rep = economics.costs(res, prices)
    _print_table([(str(k), _fmt(float(v))) for k, v in rep.kpis.items() if ":" not in str(k)])
    if args.out:
        out = rep.to_dir(args.out)
        _say(f"Wrote the cost report to {out}")
    return 0


def _is_scenario_file(path: str) -> bool:
    """Whether a file holds a scenario (its top level has ``sites``) rather than a plan on its own."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "sites" in data


def _cmd_buildout(args: argparse.Namespace) -> int:
    source: gw.Scenario | BuildoutPlan = (
        gw.load_scenario(args.plan) if _is_scenario_file(args.plan) else load_buildout(args.plan)
    )
    draws = run_buildout(source, draws=args.draws, seed=args.seed)
    with pd.option_context("display.width", 200, "display.max_columns", 12):
        _say(f"{draws.n_draws:,} draws of {len(draws.phase_names)} phase(s)")
        _say(draws.summary().to_string())
        _say("\nDriving items (share of draws in which the item sets the phase's online date):")
        _say(draws.criticality(driving=True).head(10).to_string())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        draws.summary().to_csv(out / "summary.csv")
        draws.to_frame().to_parquet(out / "draws.parquet")
        _say(f"Wrote summary.csv and draws.parquet to {out}")
    return 0


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum`` (a usage error, exit 2, otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum} (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum} (got {value})")
        return value

    return parse


_seed = _int_at_least(0)
_positive_int = _int_at_least(1)


def _out_dir(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a path (got an empty one)")
    return text


def _limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--limit",
        action="append",
        metavar="KEY=VALUE",
        help="raise a resource limit, e.g. --limit max_steps=5e6 (see docs/robustness.md); repeatable",
    )
    p.add_argument("--no-limits", action="store_true", help="switch the resource limits off")


def _verbosity_args(p: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v``/``-q`` on the main parser and on ``run`` (``gigawatt -v run`` and ``gigawatt run -v`` both work)."""
    default: object = 0 if top else argparse.SUPPRESS
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=1,
        dest="verbosity",
        default=default,
        help="show progress logs (INFO) of the library on stderr",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=-1,
        dest="verbosity",
        default=default,
        help="print only errors",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gigawatt", description="Simulate AI datacenters for capacity planning.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    _verbosity_args(p, top=True)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="simulate a scenario and print its KPIs")
    _verbosity_args(r, top=False)
    r.add_argument(
        "scenario", nargs="?", default="reference", help="scenario file or bundled name (default: reference)"
    )
    r.add_argument(
        "--out",
        "-o",
        type=_out_dir,
        help="write results (summary.csv, timeseries.parquet, plots, ...) to this folder (new, empty, or an "
        "earlier result, which is replaced)",
    )
    r.add_argument("--seed", type=_seed, default=None, help="override the scenario seed (an integer >= 0)")
    r.add_argument(
        "--buildout",
        default=None,
        metavar="OUTCOME",
        help="simulate this outcome of the scenario's build-out plan: target (what the scenario holds), pNN "
        "(each phase at that percentile of its online date), mean, a fraction, or draw:i (one Monte Carlo draw)",
    )
    r.add_argument("--no-plots", action="store_true", help="skip plots when writing --out")
    r.add_argument(
        "--events",
        choices=["summary", "all"],
        default="summary",
        help="events table in --out: checkpoints aggregated per job (summary, default) or every event (all)",
    )
    r.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default="parquet",
        help="format of the jobs/events/services/requests tables in --out (default parquet)",
    )
    r.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress on stderr (default: a bar on a terminal, a few lines otherwise)",
    )
    _limit_args(r)
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("check", help="validate a scenario; exit 2 listing every problem")
    c.add_argument("scenario")
    _limit_args(c)
    c.set_defaults(func=_cmd_check)
    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("--out", "-o", type=_out_dir, help="write to a file instead of stdout")
    s.set_defaults(func=_cmd_schema)
    k = sub.add_parser("catalog", help="list presets")
    k.add_argument(
        "what",
        nargs="?",
        default="accelerators",
        choices=[
            "accelerators",
            "cooling",
            "climates",
            "scenarios",
            "costs",
            "cloud",
            "providers",
            "lead_times",
        ],
    )
    k.set_defaults(func=_cmd_catalog)
    w = sub.add_parser("sweep", help="run a sweep file into a resumable store (docs/planning.md)")
    w.add_argument("spec", help="sweep file (YAML): base, set, design, axes, derived, seeds")
    w.add_argument("--out", "-o", type=_out_dir, required=True, help="store folder (created; re-runs resume)")
    w.add_argument(
        "--workers", type=_positive_int, default=None, help="local worker processes (default: cores)"
    )
    w.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786) instead")
    w.add_argument("--no-progress", action="store_true", help="no progress bar")
    w.set_defaults(func=_cmd_sweep)
    co = sub.add_parser("costs", help="simulate a scenario and price it (capex, opex, TCO per GPU-hour)")
    co.add_argument("scenario")
    co.add_argument("--prices", help="YAML mapping laid over the scenario's economics section")
    co.add_argument("--seed", type=_seed, default=None)
    co.add_argument("--out", "-o", type=_out_dir, help="write the cost table, KPIs and plots here")
    co.set_defaults(func=_cmd_costs)
    b = sub.add_parser("buildout", help="Monte Carlo of a build-out plan: online dates under lead-time risk")
    b.add_argument("plan", help="build-out plan (YAML), or a scenario with a buildout section")
    b.add_argument("--draws", type=_positive_int, default=None, help="override the plan's number of draws")
    b.add_argument("--seed", type=_seed, default=None)
    b.add_argument("--out", "-o", type=_out_dir, help="write summary.csv and draws.parquet here")
    b.set_defaults(func=_cmd_buildout)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    global _QUIET
    parser = build_parser()
    args = parser.parse_args(argv)
    verbosity = int(getattr(args, "verbosity", 0))
    _QUIET = verbosity < 0
    handler = _setup_logging(verbosity)
    try:
        with warnings.catch_warnings():
            if _QUIET:
                warnings.simplefilter("ignore")
            else:  # the library's warnings are for the user: shown once each, one line
                warnings.simplefilter("default", GigawattWarning)
                warnings.showwarning = _show_warning
            return int(args.func(args))
    except ScenarioError as exc:
        if args.debug:
            raise
        head = (
            f"{len(exc.problems)} problem(s) in {exc.source}:"
            if exc.source
            else f"{len(exc.problems)} problem(s):"
        )
        print(head, file=sys.stderr)
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        _QUIET = False
        if handler is not None:
            lg = logging.getLogger("gigawatt")
            lg.removeHandler(handler)
            lg.setLevel(logging.NOTSET)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Warnings on the command line: one ``warning: message`` line on stderr (no source line)."""
    print(f"warning: {message}", file=sys.stderr)


def _setup_logging(verbosity: int) -> logging.Handler | None:
    """``-v``: INFO logs of the ``gigawatt`` logger on stderr; ``-q``: only errors; else warnings and up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = logging.INFO if verbosity > 0 else logging.ERROR if verbosity < 0 else logging.WARNING
    handler.setLevel(level)
    lg = logging.getLogger("gigawatt")
    lg.addHandler(handler)
    lg.setLevel(level)
    return handler


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
