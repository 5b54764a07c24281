"""Electrical power chain losses: transformer, UPS, PDU, with redundancy.

Each stage has installed capacity ``S`` and a loss polynomial in its per-unit load ``x = P_out / S``::

    loss = S · (a0 + a1 x + a2 x²)        (no-load + proportional + quadratic/copper terms)

Redundancy sets how much capacity shares the load: with ``N`` units needed for the design load, ``N``
installs N units, ``N+1`` installs N+1 and ``2N`` installs 2N, so the installed capacity is
``S = design_load · r`` with ``r = 1, (N+1)/N, 2`` and every unit runs at the same lower partial load.

The chain (upstream of the IT equipment, whose PSU losses are counted in IT power)::

    P_pdu_in = P_it + loss_pdu(P_it)
    P_ups_in = P_pdu_in + loss_ups(P_pdu_in)
    P_tx_in  = P_ups_in + P_cooling + P_other + loss_tx(P_ups_in + P_cooling + P_other)

Mechanical and house loads bypass the UPS and PDUs but pass through the medium-voltage transformers.

References
----------
.. [1] U.S. DOE, "Energy conservation program: energy conservation standards for distribution transformers",
   10 CFR 431.196 (2016 levels): liquid-immersed medium-voltage 2500 kVA ≥ 99.53 % efficient at 50 % load.
.. [2] M. Ton and B. Fortenbery, "High performance buildings: data centers - uninterruptible power supplies
   (UPS)", LBNL / EPRI report for the California Energy Commission, 2005 (double-conversion UPS efficiency
   86-95 % from 25 % to 100 % load in measured units; newer units better).
.. [3] ENERGY STAR, "Uninterruptible power supplies specification v2.0", 2019 (minimum average efficiency
   for > 10 kVA units ≈ 0.97; eco/multi-mode ≈ 0.99).
.. [4] N. Rasmussen, "Electrical efficiency modeling for data centers", Schneider Electric (APC) White Paper
   113, rev. 2 (no-load, proportional and square-law loss model of UPS, PDU and transformers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LossCoefficients:
    """No-load, proportional and quadratic loss terms as fractions of installed capacity."""

    no_load_frac: float
    proportional_frac: float
    quadratic_frac: float
    source: str


#: Default loss coefficients per stage kind (fractions of installed capacity). Values chosen so the
#: efficiency curves match the cited data at 25/50/100 % load (estimates fitted to those points).
LOSS_PRESETS: dict[str, LossCoefficients] = {
    # 99.5 % at 50 % load, 99.3 % at 100 % (DOE 10 CFR 431.196 medium-voltage liquid-immersed).
    "transformer": LossCoefficients(0.001, 0.0, 0.006, "DOE 10 CFR 431.196 (2016); Rasmussen WP113"),
    # Legacy double conversion: 91.8 % at 25 %, 94.5 % at 50 %, 95.7 % at 100 % (Ton & Fortenbery 2005).
    "ups_double_conversion": LossCoefficients(
        0.015, 0.02, 0.01, "Ton & Fortenbery 2005 (LBNL); Rasmussen WP113"
    ),
    # Modern transformerless double conversion: ≈ 96.5 % at 50 %, 97 % at 100 % (ENERGY STAR UPS v2.0).
    "ups_modern": LossCoefficients(0.008, 0.015, 0.007, "ENERGY STAR UPS v2.0 (2019)"),
    # Eco / multi-mode or rack battery backup (OCP-style): ≈ 99 % (ENERGY STAR UPS v2.0 multi-mode).
    "ups_eco": LossCoefficients(0.002, 0.006, 0.002, "ENERGY STAR UPS v2.0 (2019), multi-mode"),
    "none": LossCoefficients(0.0, 0.0, 0.0, "no stage"),
    # PDU / remote power panel and branch wiring: ≈ 1.5 % at full load, 0.8 % at 50 % (Rasmussen WP113).
    "pdu": LossCoefficients(0.002, 0.003, 0.01, "Rasmussen WP113"),
    "pdu_legacy": LossCoefficients(0.004, 0.005, 0.015, "Rasmussen WP113 (transformer-based PDU)"),
}


def redundancy_capacity_factor(redundancy: str, n_units: int = 4) -> float:
    """Installed / needed capacity for a redundancy scheme: ``N`` → 1, ``N+1`` → (n+1)/n, ``2N`` → 2."""
    key = redundancy.upper().replace(" ", "")
    if key == "N":
        return 1.0
    if key == "N+1":
        if n_units < 1:
            raise ValueError("redundancy N+1 needs n_units >= 1")
        return (n_units + 1) / n_units
    if key == "2N":
        return 2.0
    raise ValueError(f"unknown redundancy {redundancy!r}: use 'N', 'N+1' or '2N'")


def stage_loss_kw(
    load_kw: npt.ArrayLike,
    installed_kw: npt.ArrayLike,
    no_load_frac: npt.ArrayLike,
    proportional_frac: npt.ArrayLike,
    quadratic_frac: npt.ArrayLike,
) -> FloatArray:
    """Loss of one chain stage [kW]: ``S (a0 + a1 x + a2 x²)``, ``x = P / S`` (per-unit load of every unit).

    Parameters
    ----------
    load_kw : array_like
        Output power of the stage [kW].
    installed_kw : array_like
        Installed capacity including redundancy [kW]; 0 means no stage (no loss).
    no_load_frac, proportional_frac, quadratic_frac : array_like
        Loss coefficients as fractions of installed capacity.
    """
    p = np.asarray(load_kw, dtype=float)
    s = np.asarray(installed_kw, dtype=float)
    safe = np.where(s > 0, s, 1.0)
    x = p / safe
    loss = safe * (
        np.asarray(no_load_frac, dtype=float)
        + np.asarray(proportional_frac, dtype=float) * x
        + np.asarray(quadratic_frac, dtype=float) * x**2
    )
    return np.where(s > 0, loss, 0.0)


def stage_efficiency(
    load_frac: npt.ArrayLike, no_load_frac: float, proportional_frac: float, quadratic_frac: float
) -> FloatArray:
    """Efficiency of a stage at per-unit load ``x``: ``x / (x + a0 + a1 x + a2 x²)``."""
    x = np.asarray(load_frac, dtype=float)
    return x / (x + no_load_frac + proportional_frac * x + quadratic_frac * x**2)


@dataclass(frozen=True)
class ElectricalLosses:
    """Loss of each stage [kW] and the chain input [kW] (arrays of the load's shape)."""

    pdu_loss_kw: FloatArray
    ups_loss_kw: FloatArray
    transformer_loss_kw: FloatArray

    @property
    def total_kw(self) -> FloatArray:
        """Sum of all stage losses [kW]."""
        return self.pdu_loss_kw + self.ups_loss_kw + self.transformer_loss_kw


def it_path_losses_kw(
    it_kw: npt.ArrayLike,
    pdu_installed_kw: npt.ArrayLike,
    pdu_coeffs: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
    ups_installed_kw: npt.ArrayLike,
    ups_coeffs: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
) -> tuple[FloatArray, FloatArray]:
    """PDU and UPS losses on the IT path [kW] (PDU first, UPS feeds the PDU input)."""
    it = np.asarray(it_kw, dtype=float)
    pdu = stage_loss_kw(it, pdu_installed_kw, *pdu_coeffs)
    ups = stage_loss_kw(it + pdu, ups_installed_kw, *ups_coeffs)
    return pdu, ups


def transformer_loss_kw(
    load_kw: npt.ArrayLike,
    installed_kw: npt.ArrayLike,
    coeffs: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
) -> FloatArray:
    """Medium-voltage transformer loss [kW] on the total downstream load (IT path input + mechanical + house)."""
    return stage_loss_kw(load_kw, installed_kw, *coeffs)
