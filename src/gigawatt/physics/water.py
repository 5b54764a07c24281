"""Water use of evaporative heat rejection: cooling towers and direct evaporative air coolers; WUE.

Cooling tower make-up water = evaporation + blowdown + drift::

    E = f_lat · Q_tower / h_fg                  evaporation [kg/s] (Q in kW, h_fg in kJ/kg)
    B = E / (CoC − 1)                           blowdown keeps dissolved solids at CoC × make-up level
    D = f_drift · Q_tower / (c_p,w · R)         drift, a fraction of the circulating flow (range R [K])

Direct evaporative air coolers evaporate exactly the water that cools the outside air (adiabatic
saturation), ``E = ṁ_air c_p,air ΔT_evap / h_fg``, plus blowdown at their own cycles of concentration.
Dry coolers and closed loops use none. Water usage effectiveness ``WUE = site water [L] / IT energy [kWh]``
(The Green Grid WP#35).

References
----------
.. [1] ASHRAE, *HVAC Systems and Equipment* handbook, 2020, ch. 40 "Cooling towers" (evaporation ≈ 0.00085 ×
   flow × range[°F], i.e. ≈ 80-90 % of heat leaves as latent heat; blowdown = E/(CoC − 1); drift
   0.0005-0.001 % of flow with modern eliminators).
.. [2] The Green Grid, "Water usage effectiveness (WUE): a Green Grid data center sustainability metric",
   White Paper #35, 2011.
.. [3] Meta 2023 Sustainability Report (data-center WUE 0.26 L/kWh, 2022); Microsoft 2024 Environmental
   Sustainability Report (WUE 0.30 L/kWh, FY23).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "evaporative_cooler_water_kg_per_s",
    "tower_water_kg_per_s",
    "wue_l_per_kwh",
]

FloatArray = npt.NDArray[np.float64]

#: Latent heat of vaporisation of water at ≈ 30 °C [kJ/kg] (steam tables).
LATENT_HEAT_KJ_PER_KG = 2430.0
#: Share of tower heat leaving as latent heat (ASHRAE rule of thumb 0.00085 gal per gal·°F ⇒ ≈ 0.85).
TOWER_LATENT_FRAC = 0.85
#: Cycles of concentration of tower water (typical 3-6; estimate 5).
CYCLES_OF_CONCENTRATION = 5.0
#: Drift loss as a fraction of circulating water flow (modern drift eliminators 0.0005-0.001 %; ASHRAE 2020).
DRIFT_FRAC = 1e-5
#: Cooling tower range (hot minus cold water) [K] used to convert heat into circulating flow (estimate 5.5 K).
TOWER_RANGE_K = 5.5
#: Specific heat of water [kJ/(kg K)].
CP_WATER_KJ_PER_KG_K = 4.186
#: Cycles of concentration of direct evaporative media (estimate; bleed-off keeps media clean).
EVAPORATIVE_CYCLES_OF_CONCENTRATION = 4.0


def tower_water_kg_per_s(
    heat_to_tower_kw: npt.ArrayLike,
    *,
    latent_frac: npt.ArrayLike = TOWER_LATENT_FRAC,
    cycles_of_concentration: npt.ArrayLike = CYCLES_OF_CONCENTRATION,
    drift_frac: npt.ArrayLike = DRIFT_FRAC,
    range_k: npt.ArrayLike = TOWER_RANGE_K,
) -> dict[str, FloatArray]:
    """Evaporation, blowdown and drift of cooling towers [kg/s] (1 kg ≈ 1 L).

    Parameters
    ----------
    heat_to_tower_kw : array_like
        Heat rejected through evaporative towers [kW].
    latent_frac, cycles_of_concentration, drift_frac, range_k : array_like
        See module constants.

    Returns
    -------
    dict
        ``evaporation_kg_per_s``, ``blowdown_kg_per_s``, ``drift_kg_per_s``, ``total_kg_per_s``.
    """
    q = np.maximum(np.asarray(heat_to_tower_kw, dtype=float), 0.0)
    evap = np.asarray(latent_frac, dtype=float) * q / LATENT_HEAT_KJ_PER_KG
    coc = np.asarray(cycles_of_concentration, dtype=float)
    if np.any(coc <= 1.0):
        raise ValueError("cycles_of_concentration must be > 1")
    blow = evap / (coc - 1.0)
    drift = (
        np.asarray(drift_frac, dtype=float) * q / (CP_WATER_KJ_PER_KG_K * np.asarray(range_k, dtype=float))
    )
    return {
        "evaporation_kg_per_s": evap,
        "blowdown_kg_per_s": blow,
        "drift_kg_per_s": drift,
        "total_kg_per_s": evap + blow + drift,
    }


def evaporative_cooler_water_kg_per_s(
    evaporation_kg_per_s: npt.ArrayLike, cycles_of_concentration: float = EVAPORATIVE_CYCLES_OF_CONCENTRATION
) -> FloatArray:
    """Make-up water of direct evaporative coolers [kg/s]: ``E (1 + 1/(CoC − 1))``."""
    e = np.maximum(np.asarray(evaporation_kg_per_s, dtype=float), 0.0)
    return e * (1.0 + 1.0 / (cycles_of_concentration - 1.0))


def wue_l_per_kwh(water_l: npt.ArrayLike, it_energy_kwh: npt.ArrayLike) -> FloatArray:
    """Water usage effectiveness [L/kWh] = site water / IT energy (The Green Grid WP#35); 0 where no IT energy."""
    w = np.asarray(water_l, dtype=float)
    e = np.asarray(it_energy_kwh, dtype=float)
    return np.where(e > 0, w / np.where(e > 0, e, 1.0), 0.0)
