"""Integrity checks on the shipped catalog data (``src/gigawatt/data/*.csv``).

These tests read the CSV files directly (not through ``gigawatt.catalog``) so that a bad edit to the data
is caught even if the loader is lenient. Ranges are physical sanity bounds; the spot checks pin a few
datasheet values so that a sparse figure pasted into a dense column, or a typo, fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import gigawatt

DATA_DIR = Path(gigawatt.__file__).parent / "data"

ACCELERATOR_COLUMNS = [
    "name",
    "vendor",
    "form_factor",
    "tdp_w",
    "idle_w",
    "idle_is_estimate",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "hbm_gb",
    "hbm_bandwidth_tbps",
    "list_price_usd",
    "price_is_estimate",
    "training_power_frac",
    "source",
    "notes",
]
COOLING_COLUMNS = [
    "name",
    "description",
    "max_rack_density_kw",
    "typical_rack_density_kw",
    "liquid_capture_frac",
    "source",
    "notes",
]
REQUIRED_ACCELERATORS = {
    "A100-SXM",
    "H100-SXM",
    "H100-PCIe",
    "H200",
    "B200",
    "B300",
    "GB200",
    "MI300X",
    "MI325X",
    "MI355X",
    "TPU-v5p",
    "TPU-v6e",
    "Trainium2",
    "Gaudi3",
    "L40S",
}
NUMERIC_ACCELERATOR_COLUMNS = [
    "tdp_w",
    "idle_w",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "hbm_gb",
    "hbm_bandwidth_tbps",
    "list_price_usd",
    "training_power_frac",
]


@pytest.fixture(scope="module")
def accelerators() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "accelerators.csv")


@pytest.fixture(scope="module")
def cooling() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "cooling.csv")


def _by_name(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("name")


# --------------------------------------------------------------------------------------------------
# accelerators.csv
# --------------------------------------------------------------------------------------------------


def test_accelerator_columns_exact(accelerators: pd.DataFrame) -> None:
    assert list(accelerators.columns) == ACCELERATOR_COLUMNS


def test_accelerator_required_rows_present(accelerators: pd.DataFrame) -> None:
    missing = REQUIRED_ACCELERATORS - set(accelerators["name"])
    assert not missing, f"missing catalog rows: {sorted(missing)}"


def test_accelerator_names_unique_and_clean(accelerators: pd.DataFrame) -> None:
    names = accelerators["name"]
    assert names.notna().all()
    assert names.is_unique, f"duplicate names: {names[names.duplicated()].tolist()}"
    assert (names == names.str.strip()).all(), "names must not carry leading/trailing spaces"


@pytest.mark.parametrize("column", ["source", "vendor", "form_factor"])
def test_accelerator_text_fields_non_empty(accelerators: pd.DataFrame, column: str) -> None:
    values = accelerators[column]
    empty = accelerators.loc[values.isna() | (values.astype(str).str.strip() == ""), "name"]
    assert empty.empty, f"{column} empty for: {empty.tolist()}"


def test_accelerator_numeric_columns_parse(accelerators: pd.DataFrame) -> None:
    for column in NUMERIC_ACCELERATOR_COLUMNS:
        assert pd.api.types.is_numeric_dtype(accelerators[column]), f"{column} is not numeric"
    required = ["tdp_w", "idle_w", "bf16_dense_tflops", "hbm_gb", "hbm_bandwidth_tbps", "training_power_frac"]
    for column in required:
        assert accelerators[column].notna().all(), f"{column} has empty cells"


@pytest.mark.parametrize("column", ["idle_is_estimate", "price_is_estimate"])
def test_accelerator_booleans_parse(accelerators: pd.DataFrame, column: str) -> None:
    assert pd.api.types.is_bool_dtype(accelerators[column]), (
        f"{column} must contain only true/false, got dtype {accelerators[column].dtype}"
    )


def test_tdp_in_range(accelerators: pd.DataFrame) -> None:
    tdp = accelerators["tdp_w"]
    bad = accelerators.loc[~tdp.between(50, 2000), "name"]
    assert bad.empty, f"tdp_w outside [50, 2000] W for {bad.tolist()}"


def test_idle_positive_and_below_tdp(accelerators: pd.DataFrame) -> None:
    idle, tdp = accelerators["idle_w"], accelerators["tdp_w"]
    bad = accelerators.loc[~((idle > 0) & (idle < tdp)), "name"]
    assert bad.empty, f"idle_w must satisfy 0 < idle_w < tdp_w for {bad.tolist()}"
    # An idle floor above half of TDP would mean a unit mix-up (e.g. a system figure in a per-GPU row).
    assert (idle / tdp < 0.5).all()


def test_bf16_in_range(accelerators: pd.DataFrame) -> None:
    bad = accelerators.loc[~accelerators["bf16_dense_tflops"].between(50, 5000), "name"]
    assert bad.empty, f"bf16_dense_tflops outside [50, 5000] for {bad.tolist()}"


def test_fp8_at_least_bf16_when_present(accelerators: pd.DataFrame) -> None:
    has_fp8 = accelerators["fp8_dense_tflops"].notna()
    rows = accelerators[has_fp8]
    bad = rows.loc[rows["fp8_dense_tflops"] < rows["bf16_dense_tflops"], "name"]
    assert bad.empty, f"fp8_dense_tflops < bf16_dense_tflops for {bad.tolist()}"


@pytest.mark.parametrize("name", ["A100-SXM", "TPU-v5p"])
def test_fp8_empty_where_unsupported(accelerators: pd.DataFrame, name: str) -> None:
    # A100 has no FP8 tensor cores; the TPU v5p datasheet gives no FP8 figure (int8 only).
    assert np.isnan(_by_name(accelerators).loc[name, "fp8_dense_tflops"])


def test_hbm_in_range(accelerators: pd.DataFrame) -> None:
    bad_gb = accelerators.loc[~accelerators["hbm_gb"].between(16, 400), "name"]
    assert bad_gb.empty, f"hbm_gb outside [16, 400] for {bad_gb.tolist()}"
    bad_bw = accelerators.loc[~accelerators["hbm_bandwidth_tbps"].between(0.5, 15), "name"]
    assert bad_bw.empty, f"hbm_bandwidth_tbps outside [0.5, 15] TB/s for {bad_bw.tolist()}"


def test_training_power_frac_in_range(accelerators: pd.DataFrame) -> None:
    frac = accelerators["training_power_frac"]
    bad = accelerators.loc[~((frac > 0.3) & (frac <= 1.0)), "name"]
    assert bad.empty, f"training_power_frac outside (0.3, 1.0] for {bad.tolist()}"
    # Training power must sit above idle, or the IT-power model would be non-monotonic.
    assert (frac * accelerators["tdp_w"] > accelerators["idle_w"]).all()


def test_prices_positive_and_flags_consistent(accelerators: pd.DataFrame) -> None:
    price = accelerators["list_price_usd"]
    assert (price.dropna() > 0).all()
    # An estimate flag on an empty price is meaningless: flag only priced rows.
    flagged = accelerators.loc[price.isna() & accelerators["price_is_estimate"], "name"]
    assert flagged.empty, f"price_is_estimate true but no price: {flagged.tolist()}"


def test_estimates_explained_in_notes(accelerators: pd.DataFrame) -> None:
    """Every row flagged as an estimate says so (and whose) in its notes."""
    flagged = accelerators[accelerators["idle_is_estimate"] | accelerators["price_is_estimate"]]
    notes = flagged["notes"].fillna("").str.lower()
    bad = flagged.loc[~notes.str.contains("estimate"), "name"]
    assert bad.empty, f"estimate flagged but not explained in notes: {bad.tolist()}"


# Dense (not sparse) datasheet values, pinned to catch sparse figures or unit slips.
DATASHEET_SPOT_CHECKS = [
    ("A100-SXM", "bf16_dense_tflops", 312.0),  # NVIDIA A100 datasheet (2021)
    ("A100-SXM", "tdp_w", 400.0),  # NVIDIA A100 datasheet (2021)
    ("H100-SXM", "bf16_dense_tflops", 989.4),  # NVIDIA H100 datasheet: 1979 sparse / 2
    ("H100-SXM", "fp8_dense_tflops", 1978.9),  # NVIDIA H100 datasheet: 3958 sparse / 2
    ("H100-SXM", "tdp_w", 700.0),  # NVIDIA H100 datasheet
    ("H100-SXM", "hbm_bandwidth_tbps", 3.35),  # NVIDIA H100 datasheet
    ("H200", "hbm_gb", 141.0),  # NVIDIA H200 datasheet
    ("H200", "hbm_bandwidth_tbps", 4.8),  # NVIDIA H200 datasheet
    ("B200", "fp8_dense_tflops", 4500.0),  # DGX B200 datasheet: 72 PFLOPS sparse / 8 GPUs / 2
    ("GB200", "bf16_dense_tflops", 2500.0),  # GB200 NVL72 datasheet: 360 PFLOPS sparse / 72 / 2
    ("MI300X", "bf16_dense_tflops", 1307.4),  # AMD MI300X data sheet
    ("MI300X", "hbm_gb", 192.0),  # AMD MI300X data sheet
    ("MI355X", "tdp_w", 1400.0),  # AMD MI355X data sheet (TBP)
    ("TPU-v5p", "bf16_dense_tflops", 459.0),  # Google Cloud TPU v5p docs
    ("TPU-v6e", "bf16_dense_tflops", 918.0),  # Google Cloud TPU v6e docs
    ("Trainium2", "fp8_dense_tflops", 1299.0),  # AWS Neuron docs, Trainium2 architecture
    ("Gaudi3", "bf16_dense_tflops", 1835.0),  # Intel Gaudi 3 white paper
    ("L40S", "hbm_bandwidth_tbps", 0.864),  # NVIDIA L40S datasheet (GDDR6)
]


@pytest.mark.parametrize(("name", "column", "expected"), DATASHEET_SPOT_CHECKS)
def test_datasheet_spot_checks(accelerators: pd.DataFrame, name: str, column: str, expected: float) -> None:
    assert_allclose(_by_name(accelerators).loc[name, column], expected, rtol=0.005)


def test_tpu_v4_power_matches_published_measurements(accelerators: pd.DataFrame) -> None:
    row = _by_name(accelerators).loc["TPU-v4"]
    # Google Cloud TPU v4 docs: measured min/mean/max power 90/170/192 W per chip.
    assert_allclose([row["idle_w"], row["tdp_w"]], [90.0, 192.0])
    assert_allclose(row["training_power_frac"], 170.0 / 192.0, rtol=0.01)


# --------------------------------------------------------------------------------------------------
# cooling.csv
# --------------------------------------------------------------------------------------------------


def test_cooling_columns_and_rows(cooling: pd.DataFrame) -> None:
    assert list(cooling.columns) == COOLING_COLUMNS
    assert list(cooling["name"]) == ["air", "rdhx", "dlc", "immersion"]


@pytest.mark.parametrize("column", ["source", "description"])
def test_cooling_text_fields_non_empty(cooling: pd.DataFrame, column: str) -> None:
    values = cooling[column]
    assert not (values.isna() | (values.astype(str).str.strip() == "")).any(), f"{column} empty"


def test_cooling_max_density_ordering(cooling: pd.DataFrame) -> None:
    kw = _by_name(cooling)["max_rack_density_kw"]
    assert kw["air"] < kw["rdhx"] < kw["dlc"] <= kw["immersion"]


def test_air_limit_near_physical_ceiling(cooling: pd.DataFrame) -> None:
    # Issue #2: air cooling's physical limit is about 41 kW per rack.
    assert_allclose(_by_name(cooling).loc["air", "max_rack_density_kw"], 41.0, atol=10.0)


def test_cooling_typical_below_max(cooling: pd.DataFrame) -> None:
    typical, peak = cooling["typical_rack_density_kw"], cooling["max_rack_density_kw"]
    assert ((typical > 0) & (typical <= peak)).all()


def test_liquid_capture_frac(cooling: pd.DataFrame) -> None:
    frac = _by_name(cooling)["liquid_capture_frac"]
    assert frac.between(0.0, 1.0).all(), frac.to_dict()
    assert frac["air"] == 0.0
    assert 0.7 <= frac["dlc"] <= 0.85  # cold plates capture ~70-85 % of IT heat (issue #2)
    assert frac["immersion"] >= 0.95
