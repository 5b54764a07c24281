"""The catalog API (the data itself is checked in test_catalog_data.py)."""

from __future__ import annotations

import pytest

from gigawatt import catalog


def test_lookup_case_insensitive_and_suggestions() -> None:
    assert catalog.accelerator("h100-sxm").name == "H100-SXM"
    with pytest.raises(KeyError, match="did you mean H100-SXM"):
        catalog.accelerator("H100")
    with pytest.raises(KeyError, match="did you mean MI300X"):
        catalog.accelerator("MI300")
    with pytest.raises(KeyError, match="cooling technology"):
        catalog.cooling("liquid-ish")


def test_accelerator_spec_fields() -> None:
    a = catalog.accelerator("A100-SXM")
    assert a.fp8_dense_tflops is None  # A100 has no FP8
    assert a.source and a.idle_w < a.tdp_w
    for name in catalog.accelerator_names():
        spec = catalog.accelerator(name)
        assert spec.name == name


def test_required_presets_present() -> None:
    need = {"A100-SXM", "H100-SXM", "H200", "B200", "B300", "GB200", "MI300X", "TPU-v5p", "Trainium2"}
    assert need <= set(catalog.accelerator_names())
    assert {"MI325X", "MI355X"} & set(catalog.accelerator_names())
    assert set(catalog.cooling_names()) == {"air", "rdhx", "dlc", "immersion"}
    assert "reference" in catalog.scenario_names()
