"""The policy pack: every rule, and the gRPC server the engine (or `afrex plan`) talks to."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, PolicyPack

from policies.agent_alarms import agent_sla_alarms
from policies.agent_container import agent_container_hardening
from policies.backup_bucket import backup_bucket_complete, backup_bucket_settings
from policies.ecs_service import (
    ecs_service_network,
    ecs_tier_agent_limit,
    log_group_retention,
    tenant_security_group,
)
from policies.ecs_task import (
    ecs_efs_volumes,
    ecs_task_hardening,
    ecs_task_secrets,
    ecs_task_sizing,
)
from policies.gateway_token import gateway_token_secret
from policies.tier_limits import tier_agent_limit

PACK_NAME = "afrex-guardrails"

POLICIES: list[Policy] = [
    tier_agent_limit,
    backup_bucket_settings,
    backup_bucket_complete,
    agent_container_hardening,
    agent_sla_alarms,
    gateway_token_secret,
    ecs_task_sizing,
    ecs_task_hardening,
    ecs_task_secrets,
    ecs_efs_volumes,
    ecs_service_network,
    ecs_tier_agent_limit,
    tenant_security_group,
    log_group_retention,
]


def serve() -> None:
    """Start the analyzer server: prints its port on stdout, then serves until killed."""
    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.MANDATORY,
        description=(
            "AfrexAI guardrails: tier agent limits, backup buckets, hardened agent containers "
            "and ECS tasks, SLA alarms per tier and secret gateway tokens; limits from "
            "afrex/catalog.yaml."
        ),
    )
