"""Rule `agent-sla-alarms` (stack level): every agent (Docker container or ECS
service) has its tier's burn-rate alarms.

For each agent and each window of the catalog's `sla_alerting.windows`, a metric
alarm on `<namespace>/<metric>` with dimensions {Tenant, Agent}, the window's long
and short periods, and the threshold `1 - burn_rate * error_budget` of the agent's
tier (the catalog's `burn_threshold`, which the component uses too).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from afrex.catalog import BurnWindow, Catalog
from policies.ecs_props import SERVICE, tagged_identity
from policies.props import UNKNOWN, is_unknown, lookup, number
from policies.tenancy import AGENT_CONTAINER, METRIC_ALARM, agent_identity, catalog, tier_of

NAME = "agent-sla-alarms"
TOLERANCE = 1e-9
COMPARISON = "LessThanThreshold"
WILDCARD = ("*", "*")


def expected_threshold(cat: Catalog, tier: str, window: BurnWindow) -> Decimal:
    """The tier's alarm threshold for a window, computed as the component does."""
    return cat.burn_threshold(tier, window)


def _alarms_by_agent(resources: list[PolicyResource]) -> dict[tuple[str, str], list[Any]]:
    """Metric alarms on the SLA metric, keyed by (tenant, agent); unknown keys under `*`."""
    alerting = catalog().sla_alerting
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for alarm in resources:
        if alarm.resource_type != METRIC_ALARM:
            continue
        props = alarm.props
        if lookup(props, "namespace") not in (alerting.namespace, UNKNOWN):
            continue
        if lookup(props, "metricName") not in (alerting.metric, UNKNOWN):
            continue
        tenant, agent = lookup(props, "dimensions", "Tenant"), lookup(props, "dimensions", "Agent")
        key = WILDCARD if is_unknown(tenant) or is_unknown(agent) else (str(tenant), str(agent))
        found[key].append(props)
    return found


def _matches(alarm: Any, threshold: Decimal) -> bool:
    operator = lookup(alarm, "comparisonOperator")
    if operator not in (COMPARISON, UNKNOWN):
        return False
    value = lookup(alarm, "threshold")
    if value is UNKNOWN:
        return True
    known = number(value)
    return known is not None and abs(known - float(threshold)) < TOLERANCE


def _window_problem(alarms: list[Any], period: int, threshold: Decimal, unsure: bool) -> str | None:
    """Why no alarm covers this window span, or None when one does (or it cannot be told)."""
    candidates = [
        a for a in alarms if lookup(a, "period") is UNKNOWN or number(lookup(a, "period")) == period
    ]
    if not candidates:
        return None if unsure else "is missing"
    if any(_matches(alarm, threshold) for alarm in candidates):
        return None
    shown = ", ".join(
        f"{lookup(a, 'comparisonOperator')} {lookup(a, 'threshold')}" for a in candidates
    )
    return f"has {shown}"


def _agent_problems(
    tenant: str, tier: str, agent: str, alarms: dict[tuple[str, str], list[Any]]
) -> list[str]:
    cat = catalog()
    mine = alarms.get((tenant, agent), [])
    unsure = bool(alarms.get(WILDCARD))
    problems = []
    for window in cat.sla_alerting.windows:
        threshold = expected_threshold(cat, tier, window)
        for span, period in (("long", window.long_seconds), ("short", window.short_seconds)):
            problem = _window_problem(mine, period, threshold, unsure)
            if problem is None:
                continue
            want = f"{COMPARISON} {threshold} over {period}s"
            problems.append(
                f"agent {agent} of tenant {tenant}: {window.name} {span}-window alarm "
                f"({cat.sla_alerting.namespace}/{cat.sla_alerting.metric}) {problem}; the {tier} "
                f"tier needs {want} (catalog sla_alerting and tiers.{tier}.sla_uptime_pct), "
                "build the alarms with HostedTenant (components/sla_alarms.py)"
            )
    return problems


def _agents(resources: list[PolicyResource]) -> list[tuple[PolicyResource, Any]]:
    """Every agent: Docker containers (by labels) and ECS services (by tags)."""
    found: list[tuple[PolicyResource, Any]] = []
    for resource in resources:
        if resource.resource_type == AGENT_CONTAINER:
            found.append((resource, agent_identity(resource.props)))
        elif resource.resource_type == SERVICE:
            found.append((resource, tagged_identity(resource.props)))
    return found


def validate_agent_sla_alarms(args: StackValidationArgs, report: ReportViolation) -> None:
    """Report every agent (container or ECS service) lacking an SLA alarm for its tier."""
    alarms = _alarms_by_agent(args.resources)
    for agent, identity in _agents(args.resources):
        if identity is None or not identity.known or tier_of(identity.tier) is None:
            continue  # unknown during preview, or bad labels (agent-container-hardening)
        for problem in _agent_problems(identity.tenant, identity.tier, identity.agent, alarms):
            report(problem, agent.urn)


agent_sla_alarms = StackValidationPolicy(
    name=NAME,
    description=(
        "Every agent (container or ECS service) has burn-rate SLA alarms whose thresholds "
        "match its tier."
    ),
    validate=validate_agent_sla_alarms,
    enforcement_level=EnforcementLevel.MANDATORY,
)
