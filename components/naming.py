"""Names and tags shared by every part of a tenant."""

from __future__ import annotations

from afrex.spec import TenantSpec

COMPONENT_PREFIX = "afrex:hosted"


def physical_name(spec: TenantSpec, *parts: str) -> str:
    """A cloud/Docker name for a tenant's resource: `afrex-<tenant>-<parts>`."""
    return "-".join(("afrex", spec.tenant_id, *parts))


def labels(spec: TenantSpec) -> dict[str, str]:
    """Labels/tags every tenant resource carries, so operators can find them."""
    return {
        "afrex.tenant": spec.tenant_id,
        "afrex.tier": spec.tier,
        "afrex.vertical": spec.vertical,
        "afrex.managed-by": "pulumi",
    }


def aws_tags(spec: TenantSpec) -> dict[str, str]:
    """The same facts as AWS tags (AWS keys may not contain every character)."""
    return {key.replace("afrex.", "afrex:"): value for key, value in labels(spec).items()}
