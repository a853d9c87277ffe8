"""Rules on ECS services and the boundaries around them:

- `ecs-service-network`: an agent's service runs one Fargate task, with no public IP,
  in security groups, with the deployment circuit breaker rolling back failures.
- `ecs-tier-agent-limit` (stack): a tenant runs no more agent services (and task
  definitions) than its tier's max_agents.
- `tenant-security-group`: a tenant's security group lets nothing in (no tenant,
  and no one else, reaches another tenant's agents).
- `log-group-retention`: every log group expires its events.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.ecs_props import (
    LOG_GROUP,
    SECURITY_GROUP,
    SERVICE,
    TASK_DEFINITION,
    TENANT_TAG,
    tagged_identity,
    units,
)
from policies.props import Unknown, elements, is_unknown, lookup
from policies.tenancy import catalog, tier_of


def _service_problems(props: Any) -> list[str]:
    problems = []
    network = lookup(props, "networkConfiguration")
    if network is None:
        problems.append(
            "network_configuration: not set; give the service the platform's private subnets, "
            "the tenant's security group and assign_public_ip=False"
        )
    elif not is_unknown(network):
        if lookup(network, "assignPublicIp") is True:
            problems.append(
                "network_configuration.assign_public_ip: true gives the agent a public address; "
                "set it False (tasks reach model providers through the platform's NAT)"
            )
        groups = elements(network, "securityGroups")
        if not isinstance(groups, Unknown) and not groups:
            problems.append(
                "network_configuration.security_groups: none; add the tenant's security group"
            )
    desired = lookup(props, "desiredCount")
    if not is_unknown(desired) and (units(desired) or 0) > 1:
        problems.append(
            f"desired_count: {units(desired)}; an agent runs one task (one writer on its EFS "
            "state), set desired_count=1"
        )
    launch = lookup(props, "launchType")
    if not is_unknown(launch) and launch != "FARGATE":
        problems.append(f'launch_type: {launch or "unset"}; set launch_type="FARGATE"')
    breaker = lookup(props, "deploymentCircuitBreaker")
    if not is_unknown(breaker) and not (
        lookup(breaker, "enable") is True and lookup(breaker, "rollback") is True
    ):
        problems.append(
            "deployment_circuit_breaker: not enabled with rollback; set "
            "{enable: True, rollback: True} so a failing release rolls back by itself"
        )
    return problems


def validate_ecs_service_network(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report an agent service with a public IP, several tasks or no rollback."""
    if args.resource_type == SERVICE:
        for problem in _service_problems(args.props):
            report(problem, None)


def _count_by_tenant(resources: list[PolicyResource], kind: str) -> dict[tuple[str, str], int]:
    """Resources of `kind` per (tenant, tier) from their tags (unknown tags skipped)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for resource in resources:
        identity = tagged_identity(resource.props) if resource.resource_type == kind else None
        if identity is not None and identity.known:
            counts[(identity.tenant, identity.tier)] += 1
    return counts


def validate_ecs_tier_agent_limit(args: StackValidationArgs, report: ReportViolation) -> None:
    """Report each tenant running more agent services or task definitions than its tier."""
    for kind, what in ((SERVICE, "agent services"), (TASK_DEFINITION, "task definitions")):
        for (tenant, tier_name), count in sorted(_count_by_tenant(args.resources, kind).items()):
            tier = tier_of(tier_name)
            if tier is not None and count > tier.max_agents:
                report(
                    f"tenant {tenant}: {count} {what} exceed the {tier_name} tier's max_agents "
                    f"of {tier.max_agents} (catalog tiers.{tier_name}.max_agents); remove agents "
                    "or move the tenant to a larger tier with `afrex scale`",
                    None,
                )


def validate_tenant_security_group(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report a tenant's security group that lets any traffic in."""
    if args.resource_type != SECURITY_GROUP:
        return
    tenant = lookup(args.props, "tags", TENANT_TAG)
    if not isinstance(tenant, str) or is_unknown(tenant):
        return  # the platform's groups (EFS) have their own, narrow rules
    ingress = elements(args.props, "ingress")
    if not isinstance(ingress, Unknown) and ingress:
        report(
            f"ingress: {len(ingress)} rule(s) on tenant {tenant}'s security group; agents take "
            "no inbound connections (no tenant may reach another's), set ingress=[]",
            None,
        )


def validate_log_group_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report a log group that keeps events forever."""
    if args.resource_type != LOG_GROUP:
        return
    retention = lookup(args.props, "retentionInDays")
    if not is_unknown(retention) and not units(retention):
        days = catalog().fargate.log_retention_days
        report(
            f"retention_in_days: not set, so events are kept forever; set "
            f"retention_in_days={days} (catalog fargate.log_retention_days)",
            None,
        )


ecs_service_network = ResourceValidationPolicy(
    name="ecs-service-network",
    description="ECS agent services: one Fargate task, no public IP, security groups, "
    "circuit breaker with rollback.",
    validate=validate_ecs_service_network,
    enforcement_level=EnforcementLevel.MANDATORY,
)
ecs_tier_agent_limit = StackValidationPolicy(
    name="ecs-tier-agent-limit",
    description="A tenant runs no more ECS agent services or task definitions than its tier's "
    "max_agents.",
    validate=validate_ecs_tier_agent_limit,
    enforcement_level=EnforcementLevel.MANDATORY,
)
tenant_security_group = ResourceValidationPolicy(
    name="tenant-security-group",
    description="A tenant's security group has no ingress rules.",
    validate=validate_tenant_security_group,
    enforcement_level=EnforcementLevel.MANDATORY,
)
log_group_retention = ResourceValidationPolicy(
    name="log-group-retention",
    description="Every CloudWatch log group sets a retention.",
    validate=validate_log_group_retention,
    enforcement_level=EnforcementLevel.MANDATORY,
)
