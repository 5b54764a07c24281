"""Facility model: from hall IT power and weather to cooling, electrical losses, other load, PUE, throughput.

Placeholder physics (foundation): each hall runs at its cooling technology's *design PUE*; electrical losses
and other load are fixed fractions of IT power, cooling takes the rest of the design overhead:

``P_loss = f_loss · P_IT``, ``P_other = f_other · P_IT``,
``P_cool = max(0, (PUE_design − 1) · P_IT − P_loss − P_other)``,
``P_facility = P_IT + P_cool + P_loss + P_other``.

No throttling (throughput 1). The facility-physics model replaces this with weather-driven cooling; the
seam is :func:`facility_flows`, a pure function of arrays shaped ``(T, H)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HallPlant", "facility_flows"]


@dataclass(frozen=True)
class HallPlant:
    """Per-hall plant parameters as arrays (H,)."""

    design_pue: np.ndarray
    electrical_loss_frac: np.ndarray
    other_frac: np.ndarray

    @classmethod
    def from_halls(cls, halls: list) -> HallPlant:  # list[gigawatt.scenario.Hall]
        return cls(
            design_pue=np.array([h.cooling.resolved_design_pue() for h in halls], dtype=float),
            electrical_loss_frac=np.array([h.electrical.loss_frac for h in halls], dtype=float),
            other_frac=np.array([h.electrical.other_frac for h in halls], dtype=float),
        )

    @property
    def can_throttle(self) -> bool:
        """Whether this model can ever reduce throughput (decides if the controller must look ahead)."""
        return False


def facility_flows(
    plant: HallPlant,
    it_power_kw: np.ndarray,
    dry_bulb_c: np.ndarray,
) -> dict[str, np.ndarray]:
    """Facility power flows per step and hall.

    Parameters
    ----------
    plant
        Hall parameters.
    it_power_kw : array (T, H)
        IT power per hall [kW].
    dry_bulb_c : array (T, H)
        Ambient dry-bulb temperature at each hall's site [°C] (unused by the design-PUE placeholder).

    Returns
    -------
    dict of arrays (T, H)
        ``it_power_kw``, ``cooling_power_kw``, ``electrical_loss_kw``, ``other_power_kw``,
        ``facility_power_kw``, ``throughput_frac``.
    """
    it = np.asarray(it_power_kw, dtype=float)
    loss = it * plant.electrical_loss_frac
    other = it * plant.other_frac
    cooling = np.maximum((plant.design_pue - 1.0) * it - loss - other, 0.0)
    return {
        "it_power_kw": it,
        "cooling_power_kw": cooling,
        "electrical_loss_kw": loss,
        "other_power_kw": other,
        "facility_power_kw": it + cooling + loss + other,
        "throughput_frac": np.ones_like(it),
    }
