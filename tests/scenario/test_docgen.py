"""docs/scenario.md is generated from the models and must be current."""

from __future__ import annotations

from tests.conftest import REPO

from gigawatt.scenario.docgen import scenario_reference_markdown


def test_scenario_doc_is_current() -> None:
    current = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    assert current == scenario_reference_markdown(), "docs/scenario.md is stale: run `make docs`"


def test_every_field_documented() -> None:
    md = scenario_reference_markdown()
    for name in (
        "horizon_h",
        "step_s",
        "import_capacity_mw",
        "servers_per_rack",
        "host_overhead_w",
        "utilization_frac",
    ):
        assert f"`{name}`" in md
    for line in md.splitlines():
        if line.startswith("| `"):
            assert line.rstrip().endswith("|")
