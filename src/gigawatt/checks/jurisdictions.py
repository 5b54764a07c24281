"""Jurisdictions of a site (data residency and sovereignty checks)."""

from __future__ import annotations

from typing import Any

__all__ = ["EU_MEMBER_COUNTRY_CODES", "site_jurisdictions"]


#: EU member states (ISO 3166-1 alpha-2; Greece is ``GR`` in ISO although the EU writes ``EL``): the 27 since
#: the United Kingdom left on 2020-02-01 (Treaty on European Union Art. 49/50; europa.eu, "EU countries").
#: ``allowed_jurisdictions: [EU]`` admits a site whose jurisdiction or country code is one of them.
EU_MEMBER_COUNTRY_CODES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


def site_jurisdictions(site: Any) -> frozenset[str]:
    """Jurisdictions a site belongs to: its ``jurisdiction`` (default ``location.country_code``), its country
    code, and ``EU`` when either is an EU member state."""
    own = {site.jurisdiction or site.location.country_code, site.location.country_code}
    if own & EU_MEMBER_COUNTRY_CODES:
        own.add("EU")
    return frozenset(own)
