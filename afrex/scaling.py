"""Scaling a tenant: more agents, fewer agents, another tier, with billing kept right.

Every change is worked out in full before anything is touched: the new agent
list (new agents from the vertical's roster, never a name already used), the
tier (the smallest that holds the new count when the current one cannot, or,
scaling down, the smallest that still holds it), and a dated entry appended to
`history` (now, UTC, whole seconds), so invoices prorate the change by the day.
The edited stack file (only its `afrex:tenant` block rewritten, see
`afrex.stackedit`) goes back through the one door (`afrex.tenants`) before it
is written. Scaling down archives each removed agent's state to the tenant's
backup bucket first (from its container, or for a tenant on ECS by a one-off task
beside the agent's EFS state: `afrex.archive.archive_removed_agent`); if an
archive fails, the stack file is left byte for byte as it was. `dry_run` computes
everything, including the offline plan diff and the price change for the rest of
the month, and writes nothing.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afrex.atomicfiles import write_atomic
from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput, OperationFailed
from afrex.events import Event, open_event_log
from afrex.pricing import monthly_recurring, plan_price
from afrex.spec import TENANT_KEY, TenantSpec
from afrex.stackedit import replace_tenant, stack_from_text
from afrex.stackfiles import Project, find_project
from afrex.tenants import Tenant, check_tenant_id, load_tenant, tenant_from_stack
from afrex.yamlsafe import parse_yaml

if TYPE_CHECKING:
    from afrex.archive import ArchiveResult
    from afrex.deployed import TenantView

Archiver = Callable[["TenantView", str, datetime], "ArchiveResult"]
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class PlanState:
    """A tenant's plan at one moment: tier, agents, support, and what it brings in a month."""

    tier: str
    agents: tuple[str, ...]
    support: str
    monthly: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "agents": list(self.agents),
            "agentCount": len(self.agents),
            "support": self.support,
            "monthly": self.monthly,
        }


@dataclass
class ScaleResult:
    """What a scaling did (or, with dry_run, would do)."""

    tenant: str
    action: str  # "up", "down" or "tier"
    before: PlanState
    after: PlanState
    effective: datetime
    path: Path
    dry_run: bool
    month: str = ""
    month_change: Decimal = Decimal("0.00")  # this month's invoice, after minus before
    days_left: int = 0  # days of the month billed at the new plan
    archived: list[dict[str, Any]] = field(default_factory=list)
    to_archive: list[str] = field(default_factory=list)  # dry run: would be archived
    not_archived: dict[str, str] = field(default_factory=dict)  # agent -> why not
    plan_diff: dict[str, Any] | None = None

    @property
    def added(self) -> list[str]:
        return [a for a in self.after.agents if a not in self.before.agents]

    @property
    def removed(self) -> list[str]:
        return [a for a in self.before.agents if a not in self.after.agents]

    @property
    def tier_changed(self) -> bool:
        return self.before.tier != self.after.tier

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "action": self.action,
            "dryRun": self.dry_run,
            "stackFile": str(self.path),
            "effective": _iso(self.effective),
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "added": self.added,
            "removed": self.removed,
            "tierChanged": self.tier_changed,
            "month": self.month,
            "monthChange": self.month_change,
            "daysAtNewPlan": self.days_left,
            "archived": self.archived,
            "toArchive": self.to_archive,
            "notArchived": self.not_archived,
            "planDiff": self.plan_diff,
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _plan_state(catalog: Catalog, spec: TenantSpec) -> PlanState:
    price = plan_price(catalog, spec.tier, len(spec.agents), spec.vertical, spec.support)
    monthly = monthly_recurring(catalog, price, spec.billing)
    return PlanState(spec.tier, tuple(spec.agents), spec.support, monthly)


def _largest(catalog: Catalog) -> tuple[str, int]:
    name, tier = catalog.tiers_by_size()[-1]
    return name, tier.max_agents


def new_agent_names(catalog: Catalog, spec: TenantSpec, count: int) -> list[str]:
    """`count` agents from the vertical's roster (numbered past its end) not yet used."""
    candidates = catalog.default_agents(spec.vertical, len(spec.agents) + count)
    return [name for name in candidates if name not in spec.agents][:count]


def plan_scale_up(catalog: Catalog, spec: TenantSpec, add: int) -> tuple[str, list[str]]:
    """(tier, agents) after adding `add` agents: the same tier if it holds them, else
    the smallest that does; past the largest tier's limit, bad input saying so."""
    if add < 1:
        raise BadInput(f"--add {add} is not a number of agents to add", "use 1 or more")
    count = len(spec.agents) + add
    tier = spec.tier if count <= catalog.tiers[spec.tier].max_agents else None
    tier = tier or catalog.smallest_tier_for(count)
    if tier is None:
        largest, limit = _largest(catalog)
        raise BadInput(
            f"--add {add}: {spec.tenant_id} would run {count} agents, and the largest tier "
            f"({largest}) holds at most {limit}",
            f"add at most {max(limit - len(spec.agents), 0)}, or split the agents across tenants",
        )
    return tier, [*spec.agents, *new_agent_names(catalog, spec, add)]


def plan_scale_down(
    catalog: Catalog,
    spec: TenantSpec,
    remove: int | None,
    names: Sequence[str] | None,
    keep_tier: bool = False,
) -> tuple[str, list[str]]:
    """(tier, agents) after removing the last `remove` agents, or exactly `names`; the
    tier becomes the smallest that holds what is left (unless `keep_tier`)."""
    if (remove is None) == (names is None):
        raise BadInput("give either --remove N or --agents a,b", "e.g. --remove 1")
    if names is not None:
        unknown = [n for n in names if n not in spec.agents]
        if unknown or not names:
            shown = ", ".join(repr(n) for n in unknown) or "no agent"
            raise BadInput(
                f"--agents: {shown} is not an agent of {spec.tenant_id}",
                f"its agents: {', '.join(spec.agents)}",
            )
        gone = set(names)
    else:
        assert remove is not None
        if remove < 1:
            raise BadInput(f"--remove {remove} is not a number to remove", "use 1 or more")
        gone = set(spec.agents[-remove:])
    kept = [a for a in spec.agents if a not in gone]
    if not kept:
        raise BadInput(
            f"{spec.tenant_id} runs {len(spec.agents)} agent(s); removing {len(gone)} leaves none",
            "a tenant keeps at least one agent (offboarding is not scaling)",
        )
    smallest = catalog.smallest_tier_for(len(kept))
    return (spec.tier if keep_tier or smallest is None else smallest), kept


def plan_tier_change(catalog: Catalog, spec: TenantSpec, tier: str) -> tuple[str, list[str]]:
    """(tier, agents) on `tier`: the agents stay; a tier that cannot hold them is refused."""
    if tier not in catalog.tiers:
        raise BadInput(f"unknown tier '{tier}'", f"use --tier {' | '.join(catalog.tiers)}")
    if tier == spec.tier:
        raise BadInput(f"{spec.tenant_id} is on the {tier} tier already", "choose another tier")
    limit = catalog.tiers[tier].max_agents
    if len(spec.agents) > limit:
        raise BadInput(
            f"{spec.tenant_id} runs {len(spec.agents)} agents and the {tier} tier holds at most "
            f"{limit}",
            f"scale down first: afrex scale down --tenant {spec.tenant_id} "
            f"--remove {len(spec.agents) - limit}",
        )
    return tier, list(spec.agents)


def dated_change(spec: TenantSpec, now: datetime) -> datetime:
    """When the change takes effect: now in whole UTC seconds, and at least one second
    after the last recorded change (history is strictly increasing)."""
    moment = now.astimezone(UTC).replace(microsecond=0)
    return max(moment, spec.history[-1].effective + ONE_SECOND)


def edited_tenant(
    raw: dict[str, Any], spec: TenantSpec, tier: str, agents: list[str], effective: datetime
) -> dict[str, Any]:
    """The stack file's `afrex:tenant` object with the new plan and a dated history entry
    (entries already written are kept as written)."""
    history = raw.get("history") or [
        {**change.model_dump(mode="json"), "effective": _iso(change.effective)}
        for change in spec.history
    ]
    entry = {"effective": _iso(effective), "tier": tier, "agents": len(agents)}
    entry["support"] = spec.support
    return {**raw, "tier": tier, "agents": list(agents), "history": [*history, entry]}


def scale_up(tenant_id: str, add: int, **options: Any) -> ScaleResult:
    """Add `add` agents (moving up a tier when the current one cannot hold them)."""
    return _scale(tenant_id, "up", lambda c, s: plan_scale_up(c, s, add), **options)


def scale_down(
    tenant_id: str,
    remove: int | None = None,
    names: Sequence[str] | None = None,
    keep_tier: bool = False,
    **options: Any,
) -> ScaleResult:
    """Remove the last `remove` agents or exactly `names`, archiving each one's state first."""

    def decide(catalog: Catalog, spec: TenantSpec) -> tuple[str, list[str]]:
        return plan_scale_down(catalog, spec, remove, names, keep_tier)

    return _scale(tenant_id, "down", decide, **options)


def change_tier(tenant_id: str, tier: str, **options: Any) -> ScaleResult:
    """Move to `tier`, keeping the agents (a tier too small for them is refused)."""
    return _scale(tenant_id, "tier", lambda c, s: plan_tier_change(c, s, tier), **options)


def _scale(
    tenant_id: str,
    action: str,
    decide: Callable[[Catalog, TenantSpec], tuple[str, list[str]]],
    dry_run: bool = False,
    now: datetime | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
    archiver: Archiver | None = None,
) -> ScaleResult:
    check_tenant_id(tenant_id)
    project = project or find_project()
    catalog = catalog or load_catalog()
    now = now or datetime.now(UTC)
    tenant = load_tenant(tenant_id, project, catalog=catalog, now=now)
    path = tenant.stack.path
    original = path.read_bytes()
    tier, agents = decide(catalog, tenant.spec)
    effective = dated_change(tenant.spec, now)
    edited = _edit(tenant, original, tier, agents, effective)
    changed = tenant_from_stack(stack_from_text(path, _text(edited)), project, catalog, now)
    result = ScaleResult(
        tenant=tenant_id,
        action=action,
        before=_plan_state(catalog, tenant.spec),
        after=_plan_state(catalog, changed.spec),
        effective=effective,
        path=path,
        dry_run=dry_run,
    )
    _price_change(result, catalog, tenant.spec, changed.spec)
    view = _view(tenant_id, project, catalog) if result.removed else None
    if dry_run:
        result.plan_diff = _plan_diff(tenant, changed, project, catalog)
        if view is not None:
            for agent in result.removed:
                reason = _why_not_archived(view, agent)
                if reason:
                    result.not_archived[agent] = reason
                else:
                    result.to_archive.append(agent)
        return result
    if view is not None:
        _archive(result, view, archiver)
    _write(path, original, edited)
    _record(project, result)
    return result


def _text(data: bytes) -> str:
    return data.decode("utf-8-sig")


def _edit(
    tenant: Tenant, original: bytes, tier: str, agents: list[str], effective: datetime
) -> bytes:
    """The stack file's new bytes: only the tenant block rewritten (a BOM stays)."""
    source = str(tenant.stack.path)
    text = _text(original)
    config = parse_yaml(text, source).get("config") or {}
    raw = config.get(TENANT_KEY)
    assert isinstance(raw, dict)  # the door validated it
    new = replace_tenant(text, edited_tenant(raw, tenant.spec, tier, agents, effective), source)
    bom = original[: len(codecs.BOM_UTF8)] == codecs.BOM_UTF8
    return (codecs.BOM_UTF8 if bom else b"") + new.encode("utf-8")


def _price_change(result: ScaleResult, catalog: Catalog, old: TenantSpec, new: TenantSpec) -> None:
    """This month's invoice with the change against without it (billing's own arithmetic:
    the new plan counts from the first day that starts after the change)."""
    from afrex.billing.invoice import build_invoice
    from afrex.billing.period import Month

    month = Month.of(result.effective)
    before = build_invoice(catalog, old, month, None).total
    after = build_invoice(catalog, new, month, None).total
    result.month = str(month)
    result.month_change = after - before
    result.days_left = month.days - result.effective.day


def _view(tenant_id: str, project: Project, catalog: Catalog) -> TenantView:
    from afrex.deployed import read_tenant

    return read_tenant(tenant_id, project=project, catalog=catalog)


def _why_not_archived(view: TenantView, agent: str) -> str | None:
    """Why an agent has no state to archive, or None if it has."""
    if not view.deployed:
        return "the tenant was never deployed: no state to archive"
    if agent not in {a.name for a in view.agents}:
        return "not deployed yet: no state to archive"
    return None


def _archive(result: ScaleResult, view: TenantView, archiver: Archiver | None) -> None:
    """Archive each removed agent's state; the first failure stops the scaling."""
    if archiver is None:
        from afrex.archive import archive_removed_agent

        archiver = archive_removed_agent
    for agent in result.removed:
        reason = _why_not_archived(view, agent)
        if reason:
            result.not_archived[agent] = reason
            continue
        try:
            done = archiver(view, agent, result.effective)
        except OperationFailed as error:
            archived = ", ".join(a["agent"] for a in result.archived) or "none"
            raise OperationFailed(
                f"could not archive {agent} of {result.tenant} ({error.message}); the stack "
                f"file is unchanged (archived before the failure: {archived})",
                error.hint or "fix what failed and run the same command again",
            ) from None
        result.archived.append(done.as_dict())


def _write(path: Path, original: bytes, edited: bytes) -> None:
    """Replace the stack file, unless someone changed it since it was read."""
    try:
        current = path.read_bytes()
    except OSError as error:
        raise OperationFailed(f"cannot read {path} again: {error.strerror}", "retry") from None
    if current != original:
        raise OperationFailed(
            f"{path} changed while scaling (another operator?); nothing was written",
            "run the command again",
        )
    write_atomic(path, edited)


def _record(project: Project, result: ScaleResult) -> None:
    kind = "tenant.tier-changed" if result.action == "tier" else "tenant.scaled"
    details = result.as_dict()
    for key in ("planDiff", "toArchive", "dryRun"):
        details.pop(key)
    details["stackFile"] = str(result.path.relative_to(project.root))
    try:
        open_event_log(project.root).record(Event(kind, result.tenant, details))
    except OperationFailed as error:
        raise OperationFailed(
            f"{result.path.name} was updated, but the {kind} event was not recorded "
            f"({error.message})",
            "record it by hand in the event log; the change itself is done",
        ) from None


def _plan_diff(before: Tenant, after: Tenant, project: Project, catalog: Catalog) -> dict[str, Any]:
    """The offline plan of the stack file as it is and as it would be, compared."""
    from afrex.dryrun import plan_stacks
    from afrex.offline.diff import diff_tenant

    old, new = plan_stacks([before.stack, after.stack], project, catalog)
    diff = diff_tenant(before.id, old.as_base(), new.as_base()).as_dict()
    diff["error"] = new.error
    return diff
