"""`afrex fleet summary`: the fleet in a screen: counts, revenue against the goal,
and the top problems."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from afrex.billing.revenue import Revenue, revenue
from afrex.fleetview.issues import KINDS, Issue, find_issues
from afrex.fleetview.snapshot import Snapshot
from afrex.fleetview.status import AGENT_STATES, TenantStatus, fleet_status

TOP = 5  # problems shown, and tenants named per problem


@dataclass(frozen=True)
class Problem:
    """One kind of issue across the fleet: how many, and the first tenants with it."""

    kind: str
    count: int
    tenants: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": KINDS[self.kind],
            "count": self.count,
            "tenants": list(self.tenants),
        }


@dataclass(frozen=True)
class FleetSummary:
    """Counts by deployment, tier and agent state; revenue; top problems."""

    tenants: int
    deployment: dict[str, int]
    tiers: dict[str, int]
    agents: int
    agent_states: dict[str, int] | None
    alarms_firing: int | None
    revenue: Revenue
    problems: list[Problem]
    issues: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenants": self.tenants,
            "deployment": self.deployment,
            "tiers": self.tiers,
            "agents": self.agents,
            "agentStates": self.agent_states,
            "alarmsFiring": self.alarms_firing,
            "mrr": self.revenue.mrr,
            "arr": self.revenue.arr,
            "arrGoal": self.revenue.goal,
            "progressPct": self.revenue.progress_pct,
            "gap": self.revenue.gap,
            "issues": self.issues,
            "topProblems": [p.as_dict() for p in self.problems],
        }


def top_problems(issues: list[Issue], limit: int = TOP) -> list[Problem]:
    """Issue kinds by how many tenants have them, most first."""
    tenants: dict[str, list[str]] = defaultdict(list)
    for issue in issues:
        if issue.tenant not in tenants[issue.kind]:
            tenants[issue.kind].append(issue.tenant)
    ranked = sorted(tenants.items(), key=lambda item: (-len(item[1]), item[0]))
    return [Problem(kind, len(names), tuple(names[:TOP])) for kind, names in ranked[:limit]]


def _agent_totals(rows: list[TenantStatus]) -> dict[str, int] | None:
    counted: Counter[str] = Counter()
    asked = False
    for row in rows:
        if row.agent_states is not None:
            asked = True
            counted.update(row.agent_states)
    return {state: counted[state] for state in AGENT_STATES} if asked else None


def fleet_summary(snapshot: Snapshot) -> FleetSummary:
    rows = fleet_status(snapshot)
    issues = find_issues(snapshot)
    firing = [row.firing for row in rows if row.firing is not None]
    specs = [view.tenant.spec for view in snapshot.views]
    return FleetSummary(
        tenants=len(rows),
        deployment=dict(Counter(row.deployment for row in rows)),
        tiers={name: sum(1 for s in specs if s.tier == name) for name in snapshot.catalog.tiers},
        agents=sum(len(spec.agents) for spec in specs),
        agent_states=_agent_totals(rows),
        alarms_firing=sum(len(f) for f in firing) if snapshot.alarms is not None else None,
        revenue=revenue(snapshot.catalog, specs),
        problems=top_problems(issues),
        issues=len(issues),
    )


def mrr_total(rows: list[TenantStatus]) -> Decimal:
    return sum((row.mrr for row in rows), Decimal("0.00"))
