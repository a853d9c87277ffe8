"""Which tenant, tier and agent a resource belongs to, from its labels and tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from afrex.catalog import Catalog, Tier, load_catalog
from policies.props import is_unknown, labels

AGENT_CONTAINER = "docker:index/container:Container"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TENANT_LABEL = "afrex.tenant"
TIER_LABEL = "afrex.tier"
AGENT_LABEL = "afrex.agent"
IDENTITY_LABELS = (TENANT_LABEL, TIER_LABEL, AGENT_LABEL)


@dataclass(frozen=True)
class AgentIdentity:
    """An agent container's labels; a field is None when absent, UNKNOWN when not known yet."""

    tenant: Any
    tier: Any
    agent: Any

    @property
    def known(self) -> bool:
        return all(isinstance(v, str) and not is_unknown(v) for v in self.fields())

    def fields(self) -> tuple[Any, Any, Any]:
        return (self.tenant, self.tier, self.agent)


def agent_identity(props: Any) -> AgentIdentity | None:
    """The container's tenant/tier/agent labels, or None when its labels are unknown."""
    found = labels(props)
    if not isinstance(found, dict):
        return None
    return AgentIdentity(*(found.get(name) for name in IDENTITY_LABELS))


def catalog() -> Catalog:
    """The catalog every rule reads (`AFREX_CATALOG` or the packaged one; cached)."""
    return load_catalog()


def tier_of(name: Any) -> Tier | None:
    """The catalog's tier of that name, or None for a missing/unknown/unlisted tier."""
    if not isinstance(name, str) or is_unknown(name):
        return None
    return catalog().tiers.get(name)
