"""Base class for every scenario model: strict, declarative, no behaviour; shared field types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "Jurisdiction",
    "ScopeName",
    "StrictModel",
    "UtcDatetime",
    "models_in",
]

#: Range of dates a scenario may use. pandas nanosecond timestamps span 1677-09-21 … 2262-04-11; the range
#: is narrower so that a start plus a long horizon (and the weather/tariff calendars built on it) stays
#: representable.
EARLIEST_DATE = dt.datetime(1900, 1, 1)
LATEST_DATE = dt.datetime(2200, 1, 1)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to naive UTC (naive values are taken as UTC) and check its range."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if not EARLIEST_DATE <= value < LATEST_DATE:
        raise ValueError(
            f"date {value.isoformat()} is outside the supported range "
            f"{EARLIEST_DATE.year}-01-01 … {LATEST_DATE.year - 1}-12-31"
        )
    return value


#: A point in time as naive UTC: a timezone, if given, is converted to UTC, so zoned and naive values compare.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_naive_utc)]


def _scope_name(value: str) -> str:
    if not value:
        raise ValueError("name must not be empty")
    bad = sorted({c for c in value if c in "/:"})
    if bad:
        raise ValueError(
            f"name {value!r} must not contain {' or '.join(repr(c) for c in bad)}: results name columns "
            "'<site>/<hall>:<column>' and '<workload>:<column>'"
        )
    if len(value) > 100:
        raise ValueError("name must be at most 100 characters")
    return value


#: Name of a site, hall or workload: it scopes result columns, so it may not contain ``/`` or ``:``.
ScopeName = Annotated[str, AfterValidator(_scope_name)]

#: A legal jurisdiction for data residency: an ISO 3166-1 alpha-2 country code (``US``, ``DE``) or a free label
#: (``EU``, ``US-gov``); letters, digits, ``_``, ``-`` and ``.``, at most 64 characters.
Jurisdiction = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class StrictModel(BaseModel):
    """Pydantic model that rejects unknown fields, NaN and infinities, and validates on assignment.

    Units live in field names (``power_kw``, ``temp_c``); ``_frac`` fields are fractions in [0, 1].
    Every float field is finite (``allow_inf_nan=False``): ``.inf`` and ``.nan`` in a file are input errors.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
    )


def models_in(tp: Any) -> list[type[BaseModel]]:
    """The pydantic models a field annotation may hold (unwrapping lists, optionals, unions, ``Annotated``)."""
    out: list[type[BaseModel]] = []
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    for arg in getattr(tp, "__args__", ()) or ():
        out.extend(models_in(arg))
    meta = getattr(tp, "__metadata__", None)
    if meta is not None:
        out.extend(models_in(getattr(tp, "__origin__", None)))
    return out
