"""Base class for every scenario model: strict, declarative, no behaviour."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Pydantic model that rejects unknown fields and validates on assignment.

    Units live in field names (``power_kw``, ``temp_c``); ``_frac`` fields are fractions in [0, 1].
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
    )
