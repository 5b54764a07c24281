"""Battery energy storage: parameters, efficiencies, state-of-charge bookkeeping and cycle counting.

The state of charge (SoC) is the stored energy as a fraction of the energy capacity. With charge power
:math:`P_c` and discharge power :math:`P_d` (both measured at the point of connection, AC side) over a step
of :math:`\\Delta t` hours,

.. math:: SoC_{t+1} = SoC_t + \\frac{(\\eta_c P_c - P_d / \\eta_d)\\,\\Delta t}{E}

where the round-trip efficiency splits symmetrically, :math:`\\eta_c = \\eta_d = \\sqrt{\\eta_{rt}}`, unless
given separately.

References
----------
.. [Cole2023] W. Cole, A. Karmakar, "Cost Projections for Utility-Scale Battery Storage: 2023 Update",
   NREL/TP-6A40-85332, 2023: 4-hour lithium-ion systems, round-trip efficiency 85 % (AC–AC).
.. [EIA2021] U.S. EIA, "Utility-scale batteries and pumped storage return about 80 % of the electricity they
   store", Today in Energy, 12 Feb 2021: monthly average round-trip efficiency of U.S. utility-scale
   batteries ≈ 82 % (2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = ["Battery", "equivalent_full_cycles", "soc_trajectory_frac"]


@dataclass(frozen=True)
class Battery:
    """A battery energy storage system (BESS).

    Attributes
    ----------
    energy_mwh : float
        Energy capacity [MWh] (nameplate, 0–100 % SoC).
    power_mw : float
        Maximum charge and discharge power at the point of connection [MW].
    round_trip_efficiency_frac : float
        AC-to-AC round-trip efficiency (0–1]; 0.85 for a 4-h Li-ion system [Cole2023].
    soc_min_frac, soc_max_frac : float
        Operating SoC window (0–1). A 5–95 % window is a common operating practice (estimate).
    initial_soc_frac : float
        SoC at the start of the run.
    reserve_soc_frac : float
        SoC kept back for outages: price/carbon arbitrage and peak shaving discharge only above it, while
        supply shortfalls (grid outage, curtailment) may use the battery down to ``soc_min_frac``.
    charge_efficiency_frac, discharge_efficiency_frac : float, optional
        One-way efficiencies; default ``sqrt(round_trip_efficiency_frac)`` each.
    """

    energy_mwh: float
    power_mw: float
    round_trip_efficiency_frac: float = 0.85
    soc_min_frac: float = 0.05
    soc_max_frac: float = 0.95
    initial_soc_frac: float = 0.95
    reserve_soc_frac: float = 0.05
    charge_efficiency_frac: float | None = None
    discharge_efficiency_frac: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.energy_mwh <= 0:
            problems.append("energy_mwh: must be > 0")
        if self.power_mw <= 0:
            problems.append("power_mw: must be > 0")
        if not 0.0 < self.round_trip_efficiency_frac <= 1.0:
            problems.append("round_trip_efficiency_frac: must be within (0, 1]")
        if not 0.0 <= self.soc_min_frac < self.soc_max_frac <= 1.0:
            problems.append("soc_min_frac/soc_max_frac: need 0 <= soc_min_frac < soc_max_frac <= 1")
        if not self.soc_min_frac <= self.initial_soc_frac <= self.soc_max_frac:
            problems.append("initial_soc_frac: must lie within [soc_min_frac, soc_max_frac]")
        if not self.soc_min_frac <= self.reserve_soc_frac <= self.soc_max_frac:
            problems.append("reserve_soc_frac: must lie within [soc_min_frac, soc_max_frac]")
        for name in ("charge_efficiency_frac", "discharge_efficiency_frac"):
            v = getattr(self, name)
            if v is not None and not 0.0 < v <= 1.0:
                problems.append(f"{name}: must be within (0, 1]")
        if problems:
            raise ValueError("Battery: " + "; ".join(problems))

    @property
    def eta_charge(self) -> float:
        """One-way charge efficiency η_c."""
        if self.charge_efficiency_frac is not None:
            return float(self.charge_efficiency_frac)
        if self.discharge_efficiency_frac is not None:
            return float(self.round_trip_efficiency_frac / self.discharge_efficiency_frac)
        return float(np.sqrt(self.round_trip_efficiency_frac))

    @property
    def eta_discharge(self) -> float:
        """One-way discharge efficiency η_d."""
        if self.discharge_efficiency_frac is not None:
            return float(self.discharge_efficiency_frac)
        if self.charge_efficiency_frac is not None:
            return float(self.round_trip_efficiency_frac / self.charge_efficiency_frac)
        return float(np.sqrt(self.round_trip_efficiency_frac))

    @property
    def duration_h(self) -> float:
        """Energy-to-power ratio [h]."""
        return self.energy_mwh / self.power_mw

    @property
    def usable_energy_mwh(self) -> float:
        """Energy stored between the SoC limits [MWh]."""
        return self.energy_mwh * (self.soc_max_frac - self.soc_min_frac)


def soc_trajectory_frac(
    battery: Battery, charge_mw: ArrayLike, discharge_mw: ArrayLike, step_h: float
) -> FloatArray:
    """SoC at the end of each step from charge/discharge power (cumulative sum of the SoC equation).

    Parameters
    ----------
    battery : Battery
    charge_mw, discharge_mw : array_like, shape (n,)
        Charge and discharge power at the point of connection [MW], >= 0.
    step_h : float
        Step length [h].

    Returns
    -------
    ndarray, shape (n,)
        SoC at the end of each step (0–1).
    """
    c = np.asarray(charge_mw, dtype=float)
    d = np.asarray(discharge_mw, dtype=float)
    delta = (battery.eta_charge * c - d / battery.eta_discharge) * step_h / battery.energy_mwh
    return np.asarray(battery.initial_soc_frac + np.cumsum(delta), dtype=float)


def equivalent_full_cycles(discharge_mw: ArrayLike, step_h: float, battery: Battery) -> float:
    """Equivalent full cycles: energy discharged from the cells divided by the usable energy.

    .. math:: N = \\frac{\\sum_t P_d\\,\\Delta t / \\eta_d}{E\\,(SoC_{max} - SoC_{min})}
    """
    d = np.asarray(discharge_mw, dtype=float)
    return float(d.sum() * step_h / battery.eta_discharge / battery.usable_energy_mwh)
