"""`afrex fleet show ID`: one tenant, everything known about it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from afrex.errors import AfrexError
from afrex.events import Event, open_event_log
from afrex.fleetview.issues import Issue, find_issues
from afrex.fleetview.snapshot import DEFAULT_TIMEOUT_S, Snapshot, Unknown, take_snapshot
from afrex.fleetview.status import TenantStatus, tenant_status
from afrex.fleetview.usage import AgentUsage, fleet_usage, source_title
from afrex.tenants import check_tenant_id

RECENT_EVENTS = 10


@dataclass
class TenantDetail:
    """A tenant's contract, deployment, agents, alarms, backups, use and recent events."""

    snapshot: Snapshot
    status: TenantStatus
    issues: list[Issue]
    usage: list[AgentUsage] | None = None
    events: list[Event] | None = None
    unknown: list[Unknown] = field(default_factory=list)

    @property
    def view(self) -> Any:
        return self.snapshot.views[0]

    def as_dict(self) -> dict[str, Any]:
        view = self.view
        state = view.state
        alarms = self.snapshot.alarms.of(view.id) if self.snapshot.alarms is not None else None
        lifecycle = (self.snapshot.lifecycle or {}).get(view.id)
        containers = self.snapshot.containers
        return {
            "status": self.status.as_dict(),
            "contract": view.tenant.spec.model_dump(mode="json"),
            "runtime": view.runtime,
            "dockerHost": view.docker_host,
            "stackFile": str(view.tenant.stack.path),
            "deployed": {
                "updated": state.updated if state is not None else None,
                "resources": state.resources if state is not None else 0,
                "outputs": state.outputs if state is not None else {},
            },
            "containers": [c.as_dict() for c in containers.for_tenant(view.id)]
            if containers is not None
            else None,
            "alarms": [a.as_dict() for a in alarms] if alarms is not None else None,
            "backupLifecycle": lifecycle.as_dict() if lifecycle is not None else None,
            "usage": [u.as_dict() for u in self.usage] if self.usage is not None else None,
            "issues": [i.as_dict() for i in self.issues],
            "events": [e.as_dict() for e in self.events] if self.events is not None else None,
            "unknown": [u.as_dict() for u in self.unknown],
        }


def tenant_detail(
    tenant_id: str, skip: Collection[str] = (), timeout: float = DEFAULT_TIMEOUT_S
) -> TenantDetail:
    """Everything known about one tenant (live sources not in `skip`)."""
    check_tenant_id(tenant_id)
    snapshot = take_snapshot([tenant_id], skip, timeout)
    view = snapshot.views[0]
    detail = TenantDetail(snapshot, tenant_status(snapshot, view), find_issues(snapshot))
    detail.unknown = list(snapshot.unknown)
    if "docker" not in snapshot.skipped and view.deployed:
        detail.usage, unreachable = fleet_usage([view], snapshot.catalog, timeout)
        for source, reason in unreachable.items():
            title = f"{source_title(source)} (usage)"
            detail.unknown.append(Unknown(title, reason, (view.id,)))
    try:
        events = open_event_log(snapshot.project.root).read(tenant=view.id)
        detail.events = events[-RECENT_EVENTS:]
    except AfrexError as error:
        detail.unknown.append(Unknown("event log", str(error), (view.id,)))
    return detail
