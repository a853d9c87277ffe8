"""Rule tier-agent-limit: tenants at their tier's limit pass; above it they fail."""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE

from policies.tier_limits import validate_tier_agent_limit
from tests.policies.resources import (
    CONTAINER,
    TENANT,
    container,
    policy_resource,
    run_stack_rule,
    stack_args,
)


def agents(tier: str, count: int, tenant: str = TENANT) -> list[PolicyResource]:
    return [
        policy_resource(CONTAINER, container(tier, f"agent-{i}", tenant), f"{tenant}-agent-{i}")
        for i in range(count)
    ]


def reports(resources: list[PolicyResource]) -> list[Any]:
    return run_stack_rule(validate_tier_agent_limit, stack_args(resources))


def test_each_tier_at_its_limit_passes() -> None:
    fleet = agents("starter", 1, "cust-a-1767225600") + agents("growth", 3, "cust-b-1767225600")
    fleet += agents("enterprise", 20, "cust-c-1767225600")
    assert reports(fleet) == []


def test_starter_with_two_agents_fails() -> None:
    ((message, urn),) = reports(agents("starter", 2))
    assert message.startswith(f"tenant {TENANT}: 2 agent containers exceed the starter")
    assert "max_agents of 1 (catalog tiers.starter.max_agents)" in message
    assert "move the tenant to a larger tier" in message and urn is None


def test_enterprise_above_twenty_fails() -> None:
    ((message, _),) = reports(agents("enterprise", 21))
    assert "21 agent containers exceed the enterprise tier's max_agents of 20" in message


def test_tenants_are_counted_apart() -> None:
    fleet = agents("starter", 1, "cust-a-1767225600") + agents("starter", 1, "cust-b-1767225600")
    assert reports(fleet) == []


def test_mixed_tier_labels_fail() -> None:
    mixed = agents("growth", 1) + [
        policy_resource(CONTAINER, container("starter", "other"), "other")
    ]
    ((message, _),) = reports(mixed)
    assert "labelled with several tiers (growth, starter)" in message


def test_unknown_labels_are_not_violations() -> None:
    unknown = [
        policy_resource(
            CONTAINER, {**container("starter", f"a{i}"), "labels": UNKNOWN_ARRAY_VALUE}, f"a{i}"
        )
        for i in range(3)
    ]
    assert reports(unknown) == []
