"""Command line: ``gigawatt run|check|schema|catalog``.

Input problems print one ``path: message`` line each and exit with status 2; other failures print one line
and exit 1 (``--debug`` shows the traceback). Nothing prints a traceback by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

EXIT_INPUT = 2
EXIT_FAILURE = 1


def _print_table(rows: list[tuple[str, str]]) -> None:
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
    from gigawatt.scenario.limits import ResourceLimits

    if args.no_limits:
        return False
    base = ResourceLimits.from_env()
    if not args.limit:
        return base if base is not None else False
    return ResourceLimits.parse(",".join(args.limit), base or ResourceLimits())


def _cmd_run(args: argparse.Namespace) -> int:
    import gigawatt as gw
    from gigawatt.errors import ScenarioError
    from gigawatt.result import check_output_dir

    if args.out is not None:
        try:  # before simulating: an unusable folder fails now, not after an hour of simulation
            check_output_dir(args.out)
        except (ValueError, OSError) as exc:
            raise ScenarioError([("--out", str(exc))], "the command line") from None
    sc = gw.load_scenario(args.scenario, limits=_limits(args))  # type: ignore[arg-type]
    print(
        f"Simulating {sc.name!r}: {sc.n_accelerators:,} accelerators, {sc.horizon_h:g} h at {sc.step_s:g} s steps ..."
    )
    res = gw.simulate(sc, seed=args.seed)
    s = res.summary()
    _print_table([(str(k), _fmt(float(v))) for k, v in s.items()])
    if args.out is not None:
        out = res.to_dir(args.out, plots=not args.no_plots)
        print(f"Wrote results to {out}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    import gigawatt as gw
    from gigawatt.scenario.feasibility import scenario_warnings

    sc = gw.load_scenario(args.scenario, limits=_limits(args))  # type: ignore[arg-type]  # errors (exit 2) include the static feasibility errors
    print(
        f"OK: {sc.name!r} — {len(sc.sites)} site(s), {sum(len(s.halls) for s in sc.sites)} hall(s), "
        f"{sc.n_accelerators:,} accelerators, {len(sc.workloads)} workload(s)"
    )
    warnings = scenario_warnings(sc)  # targets a run may miss: listed, exit status stays 0
    if warnings:
        print(f"{len(warnings)} warning(s):")
        for path, msg in warnings:
            print(f"warning: {path}: {msg}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from gigawatt.scenario.io import scenario_schema

    text = json.dumps(scenario_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def _cmd_catalog(args: argparse.Namespace) -> int:
    import pandas as pd

    from gigawatt import catalog

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
            print(
                df[
                    ["max_rack_density_kw", "typical_rack_density_kw", "design_pue", "liquid_capture_frac"]
                ].to_string()
            )
        elif args.what == "climates":
            df = catalog.climates()
            print(df[["category", "koppen", "kind", "station"]].to_string())
        else:
            for name in catalog.scenario_names():
                print(name)
    if args.what in ("accelerators", "cooling", "climates"):
        api = {"accelerators": "accelerators", "cooling": "cooling_technologies", "climates": "climates"}
        print(f"\nSources: see the 'source' column (gigawatt.catalog.{api[args.what]}()).")
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gigawatt", description="Simulate AI datacenters for capacity planning.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="simulate a scenario and print its KPIs")
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
    r.add_argument("--no-plots", action="store_true", help="skip plots when writing --out")
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
        choices=["accelerators", "cooling", "climates", "scenarios"],
    )
    k.set_defaults(func=_cmd_catalog)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    from gigawatt.errors import ScenarioError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
