"""Rule agent-sla-alarms: each agent has its tier's burn-rate alarms, else it fails."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from policies.agent_alarms import validate_agent_sla_alarms
from tests.policies.resources import (
    ALARM,
    CONTAINER,
    alarms,
    container,
    policy_resource,
    run_stack_rule,
    stack_args,
)

AGENT = "legal-researcher"


def stack(alarm_props: list[dict[str, Any]], tier: str = "growth") -> list[PolicyResource]:
    resources = [policy_resource(CONTAINER, container(tier, AGENT), AGENT)]
    resources += [policy_resource(ALARM, props, props["name"]) for props in alarm_props]
    return resources


def reports(resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    return run_stack_rule(validate_agent_sla_alarms, stack_args(resources))


@pytest.mark.parametrize("tier", ["starter", "growth", "enterprise"])
def test_alarms_built_for_the_tier_pass(tier: str) -> None:
    assert reports(stack(alarms(tier), tier)) == []


def test_missing_alarms_are_reported_against_the_container() -> None:
    found = reports(stack(alarms()[1:]))
    assert len(found) == 1
    message, urn = found[0]
    assert "agent legal-researcher of tenant" in message
    assert "page-fast long-window alarm (AfrexAI/Agents/Up) is missing" in message
    assert urn is not None and urn.endswith(f"::{AGENT}")


def test_no_alarms_at_all_reports_every_window() -> None:
    assert len(reports(stack([]))) == 4


def test_threshold_of_another_tier_is_reported() -> None:
    """A growth agent watched with starter thresholds: alarms exist but are too lax."""
    found = reports(stack(alarms("starter"), "growth"))
    assert len(found) == 4
    assert (
        "has LessThanThreshold 0.928; the growth tier needs LessThanThreshold 0.9856" in found[0][0]
    )


def test_wrong_operator_is_reported() -> None:
    edited = alarms()
    edited[0]["comparisonOperator"] = "GreaterThanThreshold"
    ((message, _),) = reports(stack(edited))
    assert "has GreaterThanThreshold" in message


def test_alarm_of_another_agent_does_not_count() -> None:
    assert len(reports(stack(alarms(agent="someone-else")))) == 4


def test_unknown_values_are_not_violations() -> None:
    unknown_threshold = alarms()
    for props in unknown_threshold:
        props["threshold"] = UNKNOWN_NUMBER_VALUE
    assert reports(stack(unknown_threshold)) == []
    unknown_dimensions = alarms()
    for props in unknown_dimensions:
        props["dimensions"] = {"Tenant": UNKNOWN_STRING_VALUE, "Agent": AGENT}
    assert reports(stack(unknown_dimensions)) == []
