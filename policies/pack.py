"""The policy pack: every rule, and the gRPC server the engine (or `afrex plan`) talks to."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, PolicyPack

from policies.agent_alarms import agent_sla_alarms
from policies.agent_container import agent_container_hardening
from policies.backup_bucket import backup_bucket_complete, backup_bucket_settings
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
]


def serve() -> None:
    """Start the analyzer server: prints its port on stdout, then serves until killed."""
    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.MANDATORY,
        description=(
            "AfrexAI guardrails: tier agent limits, backup buckets, hardened agent containers, "
            "SLA alarms per tier and secret gateway tokens; limits from afrex/catalog.yaml."
        ),
    )
