"""Finance functions against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gigawatt.economics import annualized_capex_usd, book_value_usd, capital_recovery_factor, irr, npv_usd


def test_capital_recovery_factor_hand_values() -> None:
    # r = 8 %, n = 5: 0.08 * 1.08^5 / (1.08^5 - 1) = 0.250456 (annuity tables)
    assert_allclose(capital_recovery_factor(0.08, 5), 0.250456, rtol=1e-5)
    assert_allclose(capital_recovery_factor(0.0, 4), 0.25, rtol=1e-12)
    assert_allclose(capital_recovery_factor(0.05, math.inf), 0.05, rtol=1e-12)
    with pytest.raises(ValueError, match="life_years"):
        capital_recovery_factor(0.05, 0)


def test_annualized_capex_with_residual_value() -> None:
    # 1,000 over 5 years at 8 % with 10 % residual: (1000 - 100/1.08^5) * CRF = (1000 - 68.058) * 0.250456
    a = annualized_capex_usd([1000.0, 1000.0], 0.08, [5.0, math.inf], [0.1, 0.0])
    assert_allclose(a, [(1000 - 100 / 1.08**5) * 0.2504565, 80.0], rtol=1e-6)
    # an annuity of A over n years repays C: PV(A) + PV(residual) == C
    pv = a[0] * (1 - 1.08**-5) / 0.08 + 100 / 1.08**5
    assert_allclose(pv, 1000.0, rtol=1e-9)


def test_book_value_straight_line() -> None:
    assert_allclose(book_value_usd(100.0, 10.0, 0.0, 4.0), 60.0, rtol=1e-12)
    assert_allclose(book_value_usd(100.0, 5.0, 0.1, 5.0), 10.0, rtol=1e-12)
    assert_allclose(book_value_usd(100.0, math.inf, 0.0, 30.0), 100.0, rtol=1e-12)


def test_npv_and_irr() -> None:
    cf = np.array([-100.0, 110.0])
    assert_allclose(npv_usd(cf, 0.10), 0.0, atol=1e-9)
    assert_allclose(irr(cf), 0.10, rtol=1e-8)
    cf2 = np.array([-1000.0, 300.0, 300.0, 300.0, 300.0, 300.0])
    r = irr(cf2)
    assert_allclose(npv_usd(cf2, r), 0.0, atol=1e-6)
    assert 0.15 < r < 0.16  # annuity tables: 5-year annuity factor 3.333 at ~15.24 %
    assert math.isnan(irr([-100.0, -10.0]))
