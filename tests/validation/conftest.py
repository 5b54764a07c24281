"""Validation bookkeeping: each check records what it compared, what kind of evidence it is, and the outcome.

Tests take the ``validation`` fixture and call it::

    validation("Llama 3 unexpected interruptions, 54 days, 16,384 H100", model=411, reference=419,
               tolerance="Poisson 99 % band [367, 472]", source="Llama 3 Herd of Models, 2024, Table 5",
               kind="calibrated", within=True)

``kind`` (required) says what the comparison is evidence of; one of :data:`KINDS`:

* ``independent``: a published measurement that no model constant was calibrated or fitted to;
* ``calibrated``: a model constant was chosen to reproduce this very figure;
* ``fitted``: several constants were fitted (least squares) to a set of points that includes this one;
* ``theory``: a closed-form or hand-computed result (queueing theory, Young/Daly, an analytic special case);
* ``cross-tier``: one fidelity tier of gigawatt against another (fleet mode vs the request-level simulator);
* ``invariant``: an identity that holds by construction if the code is right (conservation, bookkeeping,
  replay of an input file, arithmetic).

``within`` says whether the model lies inside the published reference: ``True``, ``False`` (recorded as
"outside reference" even though the test passes: the test then asserts something else, e.g. that the gap is
documented), or ``None`` when not applicable (invariants, theory). A test that fails records "failed".

The ``regression_band`` fixture records a band drawn around the model's own past results (to catch unintended
changes). Such bands are not evidence and are listed separately in the report, never counted as validation.

``make validation`` runs this folder with ``GIGAWATT_VALIDATION_REPORT=docs/validation.md``: the records, with
each test's outcome, become the validation report: a headline with counts per kind and outcome, the list of
checks outside their reference, then one section per test file, headed by the model document it validates
(``docs/models/<first word of the file name>.md``) and the test module's docstring. Tests that recorded
nothing (skipped for missing data, or failed before recording) are listed too. Without the variable nothing
is written.
"""

from __future__ import annotations

import numbers
import os
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: Kinds of evidence, in report order, with what each means.
KINDS: dict[str, str] = {
    "independent": "the model against a published measurement that no model constant was calibrated or fitted "
    "to: the only kind that is evidence the model is right beyond its own inputs",
    "calibrated": "a model constant was chosen to reproduce this very figure: shows the calibration survives "
    "the simulation, not that the model is right",
    "fitted": "several constants were fitted (least squares) to a set of points that includes this one: "
    "shows the quality of the fit, not predictive power",
    "theory": "the simulation against a closed-form or hand-computed result (queueing theory, Young/Daly, an "
    "analytic special case): checks the numerics, not the physical assumptions",
    "cross-tier": "one fidelity tier of gigawatt against another (fleet mode vs the request-level simulator): "
    "the fast tier approximates the slow one; neither is thereby shown to match reality",
    "invariant": "an identity that holds by construction if the code is right (energy balance, bookkeeping, "
    "exact replay of an input file, arithmetic): a bug check, no evidence about the world",
}
OUTCOMES: tuple[str, ...] = ("passed", "outside reference", "failed")


@dataclass
class Record:
    test: str
    check: str
    model: str
    reference: str
    tolerance: str
    source: str
    kind: str
    within: bool | None
    outcome: str = "passed"


@dataclass
class Band:
    test: str
    check: str
    model: str
    band: str
    reason: str
    outcome: str = "passed"


_RECORDS: list[Record] = []
_BANDS: list[Band] = []
_MODULE_DOCS: dict[str, str] = {}
_UNRECORDED: dict[str, str] = {}  # nodeid -> outcome (with reason) of tests that recorded nothing


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, numbers.Integral):
        return f"{int(v):,}"
    if isinstance(v, numbers.Real):
        return f"{float(v):,.4g}"
    return str(v)


def add_record(
    test: str,
    check: str,
    *,
    model: Any,
    reference: Any,
    tolerance: str,
    source: str,
    kind: str,
    within: bool | None = None,
) -> Record:
    """Validate and store one comparison (the body of the ``validation`` fixture)."""
    if kind not in KINDS:
        raise ValueError(f"validation kind={kind!r}: must be one of {', '.join(KINDS)}")
    if within is not None and not isinstance(within, bool | np.bool_):
        raise ValueError(f"validation within={within!r}: must be True, False or None")
    within = None if within is None else bool(within)
    rec = Record(test, check, _fmt(model), _fmt(reference), tolerance, source, kind, within)
    _RECORDS.append(rec)
    return rec


def settle_outcome(rec: Record, test_outcome: str) -> None:
    """Outcome of a record from its test's outcome: a failed test fails its records; a passing test records
    "outside reference" where the model lies outside the published reference (``within=False``)."""
    if test_outcome == "failed":
        rec.outcome = "failed"
    elif test_outcome == "passed":
        rec.outcome = "outside reference" if rec.within is False else "passed"
    else:
        rec.outcome = test_outcome


@pytest.fixture
def validation(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record one comparison (see the module docstring for ``kind`` and ``within``)."""
    _MODULE_DOCS.setdefault(request.node.nodeid.split("::")[0], request.module.__doc__ or "")

    def record(
        check: str,
        *,
        model: Any,
        reference: Any,
        tolerance: str,
        source: str,
        kind: str,
        within: bool | None = None,
    ) -> None:
        add_record(
            request.node.nodeid,
            check,
            model=model,
            reference=reference,
            tolerance=tolerance,
            source=source,
            kind=kind,
            within=within,
        )

    return record


@pytest.fixture
def regression_band(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record a band drawn around the model's own results (a guard against change, not evidence)."""
    _MODULE_DOCS.setdefault(request.node.nodeid.split("::")[0], request.module.__doc__ or "")

    def record(check: str, *, model: Any, band: str, reason: str) -> None:
        _BANDS.append(Band(request.node.nodeid, check, _fmt(model), band, reason))

    return record


def _climate_label(name: str) -> str:
    from gigawatt.physics import weather as w

    if w.climate_info(name).kind == "normals":
        return f"{name} (SYNTHESIZED from monthly normals)"
    return f"{name} (real TMY)"


@pytest.fixture
def climate_label() -> Callable[[str], str]:
    """A named climate with its provenance: ``"dublin (SYNTHESIZED typical year ...)"`` or ``"miami (real TMY)"``."""
    return _climate_label


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    outcome = yield
    rep = outcome.get_result()
    mine = [r for r in _RECORDS if r.test == item.nodeid]
    bands = [b for b in _BANDS if b.test == item.nodeid]
    if rep.when == "call" or (rep.failed and rep.when == "teardown"):
        for r in mine:
            if rep.failed or rep.when == "call":
                settle_outcome(r, rep.outcome)
        for b in bands:
            if rep.failed or rep.when == "call":
                b.outcome = rep.outcome
    if not mine and not bands and (rep.when == "call" or rep.skipped or rep.failed):
        status = rep.outcome
        if rep.skipped and isinstance(rep.longrepr, tuple):
            status += f": {rep.longrepr[2].removeprefix('Skipped: ')}"
        _UNRECORDED.setdefault(item.nodeid, status)
        module = getattr(item, "module", None)
        _MODULE_DOCS.setdefault(item.nodeid.split("::")[0], (module.__doc__ if module else None) or "")


def _markdown(doc: str) -> str:
    """A test module docstring as Markdown (reST literals and roles to backticks)."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", doc.strip())
    return text.replace("``", "`")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _headline() -> list[str]:
    counts = {(k, o): 0 for k in KINDS for o in OUTCOMES}
    for r in _RECORDS:
        if r.outcome in OUTCOMES:
            counts[(r.kind, r.outcome)] += 1
    total = {o: sum(counts[(k, o)] for k in KINDS) for o in OUTCOMES}
    lines = [
        f"**{len(_RECORDS)} recorded comparisons: {total['passed']} passed, "
        f"{total['outside reference']} outside reference, {total['failed']} failed.** "
        f"Only the {sum(counts[('independent', o)] for o in OUTCOMES)} *independent* comparisons test the model "
        "against the world beyond the figures it was built from "
        f"({counts[('independent', 'passed')]} inside their reference, "
        f"{counts[('independent', 'outside reference')]} outside, {counts[('independent', 'failed')]} failed); "
        "the other kinds check calibration, fit, numerics or code. Regression bands (below each section) are "
        "not counted.",
        "",
        "| kind | passed | outside reference | failed | total | what it means |",
        "|---|---|---|---|---|---|",
    ]
    for k, meaning in KINDS.items():
        n = [counts[(k, o)] for o in OUTCOMES]
        lines.append(_row([f"**{k}**", *(str(x) for x in n), str(sum(n)), meaning]))
    lines.append(_row(["**all**", *(str(total[o]) for o in OUTCOMES), str(len(_RECORDS)), ""]))
    lines += [
        "",
        "*passed*: inside the published reference (or, where no reference range applies, the asserted "
        "tolerance held). *outside reference*: the test passes (it asserts something else, e.g. a documented "
        "gap) but the model lies outside the published figure; such a result is a known gap of the model, "
        "never a pass. *failed*: the test's assertion failed.",
        "",
    ]
    outside = [r for r in _RECORDS if r.outcome != "passed"]
    if outside:
        lines += ["### Checks outside their reference or failed", ""]
        lines += ["| check | kind | model | reference | outcome |", "|---|---|---|---|---|"]
        lines += [_row([r.check, r.kind, r.model, r.reference, r.outcome]) for r in outside]
        lines.append("")
    return lines


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("GIGAWATT_VALIDATION_REPORT")
    if not target or not (_RECORDS or _UNRECORDED or _BANDS):
        return
    lines = [
        "# Validation report",
        "",
        "Generated by `make validation` from the checks in `tests/validation/`. Every check also runs in "
        "`make test`. Each record says what *kind* of evidence it is (see the table) and whether the model "
        "lies inside the published reference.",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
        *_headline(),
        "*model* is the value this version of gigawatt computes, *reference* the published figure (or theory) "
        "it is compared with, *tolerance* what the test asserts. Climates marked SYNTHESIZED are typical years "
        "generated from monthly climate normals (`gigawatt.physics.weather.synthesize_from_normals`), not "
        "measured weather: a check on them validates the model on an estimate of the climate.",
        "",
        "Evidence still missing (no citable figure compared yet): published WUE of individual sites by "
        "climate; per-campus PUE beyond one site (Google publishes a trailing-twelve-month PUE per campus); "
        "measured serving throughput of engines other than TensorRT-LLM (vLLM, SGLang) and of continuous "
        "batching (MLPerf Inference); measured facility power of a training cluster over time; the slowdown of a "
        "synchronous training run across datacenters on dedicated links (Gemini, Fairwater: none published).",
        "",
    ]
    by_file: dict[str, tuple[list[Record], list[Band]]] = {}
    for r in _RECORDS:
        by_file.setdefault(r.test.split("::")[0], ([], []))[0].append(r)
    for b in _BANDS:
        by_file.setdefault(b.test.split("::")[0], ([], []))[1].append(b)
    for nodeid in _UNRECORDED:
        by_file.setdefault(nodeid.split("::")[0], ([], []))
    for path, (recs, bands) in sorted(by_file.items()):
        stem = Path(path).stem.removeprefix("test_")
        lines += [f"## {stem.replace('_', ' ')}", ""]
        doc = DOCS / "models" / f"{stem.split('_')[0]}.md"
        head = f"Test: `{path}`."
        if doc.exists():
            head += f" Model: [docs/models/{doc.name}](models/{doc.name})."
        lines += [head, ""]
        if _MODULE_DOCS.get(path):
            lines += [_markdown(_MODULE_DOCS[path]), ""]
        if recs:
            lines += [
                "| check | kind | model | reference | tolerance | outcome | source |",
                "|---|---|---|---|---|---|---|",
            ]
            lines += [
                _row([r.check, r.kind, r.model, r.reference, r.tolerance, r.outcome, r.source]) for r in recs
            ]
            lines.append("")
        if bands:
            lines += [
                "Regression bands (drawn around the model's own results to catch unintended changes; "
                "not evidence, not counted above):",
                "",
                "| regression check | model | band | why this band | outcome |",
                "|---|---|---|---|---|",
            ]
            lines += [_row([b.check, b.model, b.band, b.reason, b.outcome]) for b in bands]
            lines.append("")
        missing = [(n, s) for n, s in _UNRECORDED.items() if n.split("::")[0] == path]
        if missing:
            lines += ["Tests without a recorded comparison:", ""]
            lines += [f"- `{n.split('::', 1)[1]}`: {s}" for n, s in missing]
            lines.append("")
    Path(target).write_text("\n".join(lines), encoding="utf-8")
