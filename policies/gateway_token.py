"""Rule `gateway-token-secret` (advisory): gateway tokens only from secret values.

The analyzer protocol hands a pack secret values already unwrapped, so the pack
cannot prove a token came from a Pulumi secret. It checks what the engine does
show: the agent container sets OPENCLAW_GATEWAY_TOKEN, lists `envs` in its
additional secret outputs (so the token is secret in state), and the token is not
copied into any other, plain property. The mandatory gate is the program itself:
it refuses a stack whose `afrex:gatewayToken` is not a secret. Messages never
include the token.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policies.props import Unknown, elements, is_unknown, lookup
from policies.tenancy import AGENT_CONTAINER

NAME = "gateway-token-secret"
TOKEN_ENV = "OPENCLAW_GATEWAY_TOKEN"
PLAIN_PROPERTIES = ("labels", "hostname", "command", "entrypoints", "name", "healthcheck")


def gateway_token(envs: list[Any]) -> str | None:
    """The token set in a container's `envs` (`K=V` strings), or None."""
    for entry in envs:
        if isinstance(entry, str) and entry.startswith(f"{TOKEN_ENV}="):
            return entry.partition("=")[2]
    return None


def _mentions(value: Any, token: str) -> bool:
    if isinstance(value, str):
        return token in value
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return any(_mentions(item, token) for item in items)
    return False


def _plain(value: Any) -> Any:
    """A proxied property as plain dicts/lists (unknowns stay sentinel strings)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    items = elements(value)
    if isinstance(items, list) and not hasattr(value, "keys"):
        return [_plain(item) for item in items]
    if hasattr(value, "keys"):
        return {key: _plain(lookup(value, key)) for key in value}
    return None


def validate_gateway_token(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report an agent container whose gateway token could end up in plain text."""
    if args.resource_type != AGENT_CONTAINER:
        return
    envs = elements(args.props, "envs")
    if isinstance(envs, Unknown) or any(is_unknown(e) for e in envs):
        return
    token = gateway_token(envs)
    fix = "take it from config.require_secret('gatewayToken') as HostedTenant does"
    if not token:
        report(f"envs: no {TOKEN_ENV}; the gateway would run without auth, {fix}", None)
        return
    if "envs" not in (args.opts.additional_secret_outputs or []):
        report(
            f"envs: sets {TOKEN_ENV} but is not in additional_secret_outputs, so the token could "
            f"be stored in plain text; add additional_secret_outputs=['envs'] and {fix}",
            None,
        )
    leaked = [p for p in PLAIN_PROPERTIES if _mentions(_plain(lookup(args.props, p)), token)]
    if leaked:
        report(
            f"{', '.join(leaked)}: contain{'s' if len(leaked) == 1 else ''} the gateway token "
            f"in plain text; keep {TOKEN_ENV} only in the secret envs",
            None,
        )


gateway_token_secret = ResourceValidationPolicy(
    name=NAME,
    description=(
        "Gateway tokens only from secret values: OPENCLAW_GATEWAY_TOKEN set, envs kept secret, "
        "the token nowhere in plain properties (advisory: the engine unwraps secrets for packs)."
    ),
    validate=validate_gateway_token,
    enforcement_level=EnforcementLevel.ADVISORY,
)
