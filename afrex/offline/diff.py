"""What a change does to each tenant's plan: resources added, changed, removed.

Works on the plan's JSON form (`afrex plan --json`), so a base plan produced
by another checkout's code compares with this one's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_RUNTIME = "docker"  # a plan without a `runtime` output is a Docker tenant's
STATE_HOME = {"docker": "its Docker volumes", "ecs": "its EFS access points"}


@dataclass
class TenantDiff:
    """Per tenant: resources (type, name) that appear, change or disappear."""

    stack: str
    status: str  # "added", "removed", "changed", "unchanged"
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: tuple[str, str] | None = None  # (from, to) runtime when the tenant changes runtime

    @property
    def warning(self) -> str | None:
        """What an operator must do when the tenant moves between runtimes: its agents'
        state stays behind, so it is backed up before `pulumi up` and restored after."""
        if self.moved is None:
            return None
        before, after = self.moved
        return (
            f"{self.stack} moves from {before} to {after}: its agents are replaced and their "
            f"state is not carried over. Before `pulumi up`, back it up with `afrex backup "
            f"create --tenant {self.stack}`; after it, restore it into "
            f"{STATE_HOME.get(after, after)} with `afrex backup restore --tenant {self.stack} "
            f"--backup-id <id>` (ids: `afrex backup list --tenant {self.stack}`)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": self.status,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "moved": {"from": self.moved[0], "to": self.moved[1]} if self.moved else None,
            "warning": self.warning,
        }


def _resources(tenant: dict[str, Any]) -> dict[str, str]:
    return {
        f"{row['type']} {row['name']}": str(row.get("digest") or row.get("settings"))
        for row in tenant.get("resources", [])
    }


def _runtime(tenant: dict[str, Any]) -> str:
    outputs = tenant.get("outputs")
    runtime = outputs.get("runtime") if isinstance(outputs, dict) else None
    return runtime if isinstance(runtime, str) and runtime else DEFAULT_RUNTIME


def diff_tenant(stack: str, base: dict[str, Any] | None, head: dict[str, Any] | None) -> TenantDiff:
    """Compare one tenant's planned resources at the base and at the head."""
    if head is None:
        return TenantDiff(stack, "removed", removed=sorted(_resources(base or {})))
    if base is None:
        return TenantDiff(stack, "added", added=sorted(_resources(head)))
    before, after = _resources(base), _resources(head)
    diff = TenantDiff(
        stack,
        "unchanged",
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
    )
    if diff.added or diff.removed or diff.changed or base.get("error") != head.get("error"):
        diff.status = "changed"
    if not base.get("error") and not head.get("error") and _runtime(base) != _runtime(head):
        diff.moved = (_runtime(base), _runtime(head))
    return diff


def diff_fleet(base: dict[str, Any], head: dict[str, Any]) -> list[TenantDiff]:
    """Every tenant of either plan, in stack order."""
    before = {t["stack"]: t for t in base.get("tenants", [])}
    after = {t["stack"]: t for t in head.get("tenants", [])}
    return [
        diff_tenant(s, before.get(s), after.get(s)) for s in sorted(before.keys() | after.keys())
    ]
