"""Rule `tier-agent-limit` (stack level): a tenant runs no more agent containers than
its tier allows (catalog `tiers.<tier>.max_agents`).

The spec validation in `afrex` already refuses such a stack; this is the defence in
depth for a stack edited outside afrex (or a program changed by hand).
"""

from __future__ import annotations

from collections import defaultdict

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.props import is_unknown
from policies.tenancy import AGENT_CONTAINER, agent_identity, tier_of

NAME = "tier-agent-limit"


def _containers_by_tenant(resources: list[PolicyResource]) -> dict[str, list[PolicyResource]]:
    by_tenant: dict[str, list[PolicyResource]] = defaultdict(list)
    for resource in resources:
        if resource.resource_type != AGENT_CONTAINER:
            continue
        identity = agent_identity(resource.props)
        tenant = identity.tenant if identity else None
        if isinstance(tenant, str) and tenant and not is_unknown(tenant):
            by_tenant[tenant].append(resource)
    return by_tenant


def _tiers(containers: list[PolicyResource]) -> set[str]:
    found = set()
    for container in containers:
        identity = agent_identity(container.props)
        if identity and isinstance(identity.tier, str) and not is_unknown(identity.tier):
            found.add(identity.tier)
    return found


def validate_tier_agent_limit(args: StackValidationArgs, report: ReportViolation) -> None:
    """Report each tenant whose agent containers exceed its tier's max_agents."""
    for tenant, containers in sorted(_containers_by_tenant(args.resources).items()):
        tiers = _tiers(containers)
        if len(tiers) > 1:
            report(
                f"tenant {tenant}: agent containers are labelled with several tiers "
                f"({', '.join(sorted(tiers))}); a tenant has one tier, fix the afrex.tier labels",
                None,
            )
            continue
        tier_name = next(iter(tiers), None)
        tier = tier_of(tier_name)
        if tier_name is None or tier is None:
            continue  # unknown during preview, or an invalid label reported per container
        if len(containers) > tier.max_agents:
            report(
                f"tenant {tenant}: {len(containers)} agent containers exceed the {tier_name} "
                f"tier's max_agents of {tier.max_agents} (catalog tiers.{tier_name}.max_agents); "
                "remove agents or move the tenant to a larger tier with `afrex scale`",
                None,
            )


tier_agent_limit = StackValidationPolicy(
    name=NAME,
    description="A tenant runs no more agent containers than its tier's max_agents.",
    validate=validate_tier_agent_limit,
    enforcement_level=EnforcementLevel.MANDATORY,
)
