"""Per tenant: what it bought, whether it is deployed as written, how its agents and
alarms are doing (`afrex fleet list` and `afrex fleet status`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from afrex.containers import ContainerStatus
from afrex.deployed import TenantView
from afrex.fleetview.snapshot import Snapshot
from afrex.pricing import monthly_recurring, plan_price

AGENT_STATES = ("running", "starting", "unhealthy", "stopped", "missing", "unknown")


def agent_state(status: ContainerStatus | None) -> str:
    """One word for an agent's container: running, starting, unhealthy, stopped
    (exited, created, paused, dead, restarting), missing or unknown."""
    if status is None or status.state == "unknown":
        return "unknown"
    if status.state == "missing":
        return "missing"
    if not status.running:
        return "stopped"
    if status.health == "unhealthy":
        return "unhealthy"
    return "starting" if status.health == "starting" else "running"


def deployment(view: TenantView) -> str:
    """deployed, drifted (the stack file changed since its last `pulumi up`) or not deployed."""
    if not view.deployed:
        return "not deployed"
    return "drifted" if view.drifted else "deployed"


def mrr(snapshot: Snapshot, view: TenantView) -> Decimal:
    spec = view.tenant.spec
    price = plan_price(snapshot.catalog, spec.tier, len(spec.agents), spec.vertical, spec.support)
    return monthly_recurring(snapshot.catalog, price, spec.billing)


@dataclass(frozen=True)
class TenantStatus:
    """One row of `afrex fleet status` (and, without live facts, of `fleet list`)."""

    tenant: str
    company: str
    tier: str
    vertical: str
    agents: int
    mrr: Decimal
    deployment: str
    updated: str
    agent_states: dict[str, int] | None = None  # None: containers not asked
    firing: tuple[str, ...] | None = None  # paging alarms in ALARM; None: unknown
    agent_detail: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "company": self.company,
            "tier": self.tier,
            "vertical": self.vertical,
            "agents": self.agents,
            "mrr": self.mrr,
            "deployment": self.deployment,
            "updated": self.updated,
            "agentStates": self.agent_states,
            "agentDetail": self.agent_detail,
            "alarmsFiring": list(self.firing) if self.firing is not None else None,
        }


def firing_alarms(snapshot: Snapshot, view: TenantView) -> tuple[str, ...] | None:
    """The tenant's paging alarms in ALARM; None when CloudWatch was not asked or unknown."""
    if snapshot.alarms is None:
        return None
    alarms = snapshot.alarms.of(view.id) if view.deployed else []
    if alarms is None:
        return None
    return tuple(a.name for a in alarms if a.firing and a.pages)


def tenant_status(snapshot: Snapshot, view: TenantView) -> TenantStatus:
    spec = view.tenant.spec
    states: dict[str, int] | None = None
    detail: dict[str, str] = {}
    if snapshot.containers is not None:
        for agent in view.agents:
            detail[agent.name] = agent_state(snapshot.container(view.id, agent.name))
        counted = Counter(detail.values())
        states = {name: counted[name] for name in AGENT_STATES}
    return TenantStatus(
        tenant=view.id,
        company=spec.company,
        tier=spec.tier,
        vertical=spec.vertical,
        agents=len(spec.agents),
        mrr=mrr(snapshot, view),
        deployment=deployment(view),
        updated=view.state.updated if view.state is not None else "",
        agent_states=states,
        firing=firing_alarms(snapshot, view),
        agent_detail=detail,
    )


def fleet_status(snapshot: Snapshot) -> list[TenantStatus]:
    """Every tenant's row, in stack-name order."""
    return [tenant_status(snapshot, view) for view in snapshot.views]
