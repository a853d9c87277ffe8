"""What needs an operator: `afrex fleet issues` (exit 1 when it finds any).

Flags, per tenant: agents not running or unhealthy, paging alarms in ALARM,
stacks never deployed, stacks whose file changed since the last deployment
(the exported `configDigest`), a deployed catalog digest that is not today's,
and a deployed backup bucket without its lifecycle rule (or missing). Facts a
source could not provide are not guessed at: the snapshot names them unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from afrex.deployed import TenantView
from afrex.fleetview.snapshot import Snapshot
from afrex.fleetview.status import agent_state, firing_alarms

KINDS = {
    "agent-down": "agent not running",
    "agent-unhealthy": "agent unhealthy",
    "alarm": "SLA alarm in ALARM",
    "never-deployed": "stack never deployed",
    "drifted": "stack file changed since the last deployment",
    "catalog-changed": "deployed with another catalog",
    "no-lifecycle": "backup bucket without its lifecycle rule",
    "no-bucket": "backup bucket missing",
}
AGENT_KINDS = {"stopped": "agent-down", "missing": "agent-down", "unhealthy": "agent-unhealthy"}


@dataclass(frozen=True)
class Issue:
    """One problem of one tenant, with what to do about it."""

    tenant: str
    kind: str
    detail: str
    fix: str

    @property
    def title(self) -> str:
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
        }


def _deployment_issues(snapshot: Snapshot, view: TenantView) -> list[Issue]:
    tenant = view.id
    if not view.deployed:
        return [Issue(tenant, "never-deployed", "no state in the backend", f"afrex up -s {tenant}")]
    found = []
    if view.drifted:
        found.append(
            Issue(
                tenant,
                "drifted",
                "the stack file's contract or settings differ from the deployed configDigest",
                f"afrex up -s {tenant}",
            )
        )
    deployed_catalog = view.output("catalogDigest")
    if deployed_catalog != snapshot.catalog.digest:
        found.append(
            Issue(
                tenant,
                "catalog-changed",
                f"deployed with catalog {str(deployed_catalog)[:12] or 'unknown'}, today's is "
                f"{snapshot.catalog.digest[:12]}",
                f"afrex up -s {tenant}",
            )
        )
    return found


def _live_issues(snapshot: Snapshot, view: TenantView) -> list[Issue]:
    tenant = view.id
    found = []
    for agent in view.agents:
        status = snapshot.container(tenant, agent.name)
        kind = AGENT_KINDS.get(agent_state(status)) if status is not None else None
        if kind is not None and status is not None:
            what = status.health if kind == "agent-unhealthy" else status.state
            found.append(
                Issue(
                    tenant,
                    kind,
                    f"{agent.name} ({agent.container}) is {what} on {status.engine}",
                    f"afrex fleet show {tenant}; restart it or run afrex up -s {tenant}",
                )
            )
    for name in firing_alarms(snapshot, view) or ():
        found.append(Issue(tenant, "alarm", name, f"afrex sla check --tenant {tenant}"))
    check = (snapshot.lifecycle or {}).get(tenant)
    if check is not None and check.state in ("missing", "no-bucket"):
        kind = "no-lifecycle" if check.state == "missing" else "no-bucket"
        found.append(
            Issue(tenant, kind, f"{check.bucket}: {check.detail}", f"afrex up -s {tenant}")
        )
    return found


def find_issues(snapshot: Snapshot) -> list[Issue]:
    """Every issue of every tenant, in stack-name order."""
    found: list[Issue] = []
    for view in snapshot.views:
        found.extend(_deployment_issues(snapshot, view))
        if view.deployed:
            found.extend(_live_issues(snapshot, view))
    return found
