"""Figures of the portal: every number with its unit and its source, and a missing one
as `null` with the reason (never 0). See `SCHEMA.md` beside this module."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SCHEMA = "afrex.portal.dashboard/1"
TWO = Decimal("0.01")


def figure(value: Any, unit: str, source: str, reason: str | None = None) -> dict[str, Any]:
    """`{"value", "unit", "source", "reason"}`; a None value must say why."""
    if value is None and not reason:
        raise ValueError("a missing figure needs a reason")
    return {
        "value": value,
        "unit": unit,
        "source": source,
        "reason": None if value is not None else reason,
    }


def missing(unit: str, source: str, reason: str) -> dict[str, Any]:
    return figure(None, unit, source, reason)


def number(value: Decimal) -> str:
    """A Decimal as JSON text: integral values without a fraction, others to 2 places."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.quantize(TWO, rounding=ROUND_HALF_UP))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
