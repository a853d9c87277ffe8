"""Reading resource properties safely: values unknown during preview are not violations.

The engine hands a pack properties in wire format (camelCase keys, numbers as
floats) wrapped in proxies that raise `UnknownValueError` when a value is not
known yet (an id or ARN during `pulumi preview`). `lookup` turns both that error
and the raw unknown sentinels into `UNKNOWN`, so a rule can skip the check
instead of failing the whole policy for the resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

UNKNOWN_SENTINELS: Final = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class Unknown:
    """A value the engine will only know after the update (never a violation)."""

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Final = Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def lookup(props: Any, *path: str | int) -> Any:
    """The value at `path`, `None` when absent, or `UNKNOWN` when not known yet."""
    current = props
    for key in path:
        if is_unknown(current):
            return UNKNOWN
        try:
            if isinstance(key, int):
                if not is_list(current) or key >= len(current):
                    return None
            elif not isinstance(current, Mapping) or key not in current:
                return None
            current = current[key]
        except UnknownValueError:
            return UNKNOWN
    return UNKNOWN if is_unknown(current) else current


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def elements(props: Any, *path: str | int) -> list[Any] | Unknown:
    """The items of the list at `path` (empty when absent), or `UNKNOWN`."""
    value = lookup(props, *path)
    if is_unknown(value):
        return UNKNOWN
    if not is_list(value):
        return []
    return [lookup(value, index) for index in range(len(value))]


def number(value: Any) -> float | None:
    """A known number (floats on the wire), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def labels(props: Any) -> dict[str, Any] | Unknown:
    """Docker labels (a list of `{label, value}`) as a dict; values may be `UNKNOWN`."""
    items = elements(props, "labels")
    if isinstance(items, Unknown):
        return UNKNOWN
    found: dict[str, Any] = {}
    for item in items:
        name = lookup(item, "label")
        if isinstance(name, str) and not is_unknown(name):
            found[name] = lookup(item, "value")
    return found
