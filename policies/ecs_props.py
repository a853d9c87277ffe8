"""What the ECS rules read: resource types, a resource's tenant/tier/agent from its
AWS tags, and a task definition's container definitions (a JSON string on the wire).

Anything unknown during preview is `UNKNOWN` (see policies/props.py): a rule skips
what it cannot see yet, it never reports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from afrex.catalog import FargateSize
from policies.props import UNKNOWN, Unknown, is_unknown, lookup
from policies.tenancy import catalog

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
TENANT_TAG = "afrex:tenant"
TIER_TAG = "afrex:tier"
AGENT_TAG = "afrex:agent"
TOKEN_ENV = "OPENCLAW_GATEWAY_TOKEN"


@dataclass(frozen=True)
class TaggedIdentity:
    """A resource's afrex tags; a field is None when absent, UNKNOWN when not known yet."""

    tenant: Any
    tier: Any
    agent: Any

    @property
    def known(self) -> bool:
        return all(
            isinstance(v, str) and v and not is_unknown(v)
            for v in (self.tenant, self.tier, self.agent)
        )


def tagged_identity(props: Any) -> TaggedIdentity | None:
    """The resource's tenant/tier/agent tags, or None when its tags are unknown."""
    tags = lookup(props, "tags")
    if is_unknown(tags):
        return None
    return TaggedIdentity(
        *(None if tags is None else lookup(tags, key) for key in (TENANT_TAG, TIER_TAG, AGENT_TAG))
    )


def fargate_size(props: Any) -> tuple[str, FargateSize] | None:
    """(tier, its Fargate size) from the resource's `afrex:tier` tag, or None."""
    identity = tagged_identity(props)
    tier = identity.tier if identity else None
    if not isinstance(tier, str) or is_unknown(tier):
        return None
    size = catalog().fargate.sizes.get(tier)
    return (tier, size) if size is not None else None


def container_definitions(props: Any) -> list[dict[str, Any]] | Unknown:
    """The task's containers (plain dicts), `[]` when absent or not JSON, or UNKNOWN."""
    raw = lookup(props, "containerDefinitions")
    if is_unknown(raw):
        return UNKNOWN
    if not isinstance(raw, str):
        return []
    try:
        found = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(found, list):
        return []
    return [c for c in found if isinstance(c, dict)]


def units(value: Any) -> int | None:
    """A task's cpu/memory (strings like "1024" on the wire, or numbers), else None."""
    if isinstance(value, bool) or is_unknown(value):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
