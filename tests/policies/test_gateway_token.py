"""Rule gateway-token-secret (advisory): the token stays in secret envs only."""

from __future__ import annotations

from typing import Any

from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE

from policies.gateway_token import validate_gateway_token
from tests.policies.resources import CONTAINER, TOKEN, container, resource_args, run_resource_rule


def problems(props: dict[str, Any], secret_outputs: list[str] | None = None) -> list[str]:
    outputs = ["envs"] if secret_outputs is None else secret_outputs
    args = resource_args(CONTAINER, props, secret_outputs=outputs)
    return run_resource_rule(validate_gateway_token, args)


def test_token_in_secret_envs_passes() -> None:
    assert problems(container()) == []


def test_secret_wrapped_envs_pass() -> None:
    """The engine sends secrets as signature objects; the pack unwraps them."""
    props = container()
    props["envs"] = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": props["envs"],
    }
    assert problems(props) == []


def test_missing_token_is_reported() -> None:
    props = {**container(), "envs": ["NODE_OPTIONS=--max-old-space-size=1152"]}
    (found,) = problems(props)
    assert "no OPENCLAW_GATEWAY_TOKEN" in found


def test_envs_not_marked_secret_is_reported() -> None:
    (found,) = problems(container(), secret_outputs=[])
    assert "not in additional_secret_outputs" in found and TOKEN not in found


def test_token_copied_into_a_label_is_reported_without_the_value() -> None:
    props = container()
    props["labels"].append({"label": "debug.token", "value": TOKEN})
    (found,) = problems(props)
    assert found.startswith("labels: contains the gateway token in plain text")
    assert TOKEN not in found


def test_unknown_envs_are_not_violations() -> None:
    assert problems({**container(), "envs": UNKNOWN_ARRAY_VALUE}) == []
