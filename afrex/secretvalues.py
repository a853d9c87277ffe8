"""How Pulumi marks a secret value on the wire and in state, and the helpers
that mask it for display or unwrap it for a check (never for printing)."""

from __future__ import annotations

from typing import Any

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET_PLACEHOLDER = "[secret]"


def is_secret(value: Any) -> bool:
    """A `{sig: secret, value|ciphertext: ...}` marker."""
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def mask_secrets(value: Any) -> Any:
    """Replace every secret-marked value with `[secret]` (for display and JSON)."""
    if is_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {key: mask_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def unwrap_secrets(value: Any) -> Any:
    """The values inside secret markers (for checks that must read them)."""
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value
