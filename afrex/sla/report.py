"""A month's SLA per tenant and agent, the breaches, and the dashboard's order.

The report is the invoice's own arithmetic, never a copy: the same reader
(`CloudWatchTelemetry.measure`, range-checked) over the same window, the same
tier (`month_segments` + `main_tier`: the tier held for most of the month) and
the same `check_sla`, so a report and an invoice of one month can never
disagree. A month still running is read up to the current minute, as a draft
invoice is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from afrex.billing.invoice import SlaCheck, check_sla, first_billed_day
from afrex.billing.period import Month, main_tier, month_segments
from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput
from afrex.spec import TenantSpec
from afrex.telemetry import CloudWatchTelemetry, Dropped, Uptime
from afrex.tenants import load_tenants

Reader = Callable[[Catalog], CloudWatchTelemetry]


def cloudwatch_reader(catalog: Catalog) -> CloudWatchTelemetry:
    return CloudWatchTelemetry.for_catalog(catalog)


@dataclass(frozen=True)
class Window:
    """The month judged and the part of it read: [start, end); `through` for a month
    still running (its last day so far)."""

    month: Month
    start: datetime
    end: datetime
    through: date | None

    @property
    def partial(self) -> bool:
        return self.through is not None

    @classmethod
    def of(cls, month_text: str | None, now: datetime) -> Window:
        current = Month.of(now)
        month = Month.parse(month_text) if month_text is not None else current
        if month > current:
            raise BadInput(f"--month {month} has not started yet", f"use {current} or earlier")
        if month == current:
            end = max(now.replace(second=0, microsecond=0), month.start + timedelta(minutes=1))
            return cls(month, month.start, end, now.date())
        return cls(month, month.start, month.end, None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "from": _iso(self.start),
            "to": _iso(self.end),
            "monthToDate": self.partial,
        }


@dataclass(frozen=True)
class AgentUptime:
    """One agent's measured uptime over the window (None: no samples)."""

    agent: str
    uptime: Uptime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "measured": self.uptime is not None,
            "uptimePct": self.uptime.pct if self.uptime else None,
            "samples": self.uptime.samples if self.uptime else 0,
        }


@dataclass(frozen=True)
class TenantSla:
    """A tenant's month: the invoice's SLA check, and the agents behind it."""

    tenant: str
    company: str
    sla: SlaCheck
    agents: tuple[AgentUptime, ...]
    dropped: tuple[Dropped, ...] = ()

    @property
    def met(self) -> bool | None:
        return None if self.sla.uptime is None else self.sla.credit_pct == 0

    @property
    def margin(self) -> Decimal | None:
        """Uptime minus target, in points (negative: breached)."""
        return None if self.sla.uptime is None else self.sla.uptime.pct - self.sla.target_pct

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "company": self.company,
            **self.sla.as_dict(),
            "met": self.met,
            "agents": [a.as_dict() for a in self.agents],
            "ignoredSamples": [d.as_dict() for d in self.dropped],
        }


@dataclass(frozen=True)
class SlaReport:
    """Every tenant's SLA for a month, and who was not judged."""

    window: Window
    tenants: list[TenantSla]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return [d.text() for t in self.tenants for d in t.dropped]

    def worst_first(self) -> list[TenantSla]:
        """Measured tenants from the smallest margin up, then the unmeasured."""
        measured = [t for t in self.tenants if t.margin is not None]
        unmeasured = [t for t in self.tenants if t.margin is None]
        return sorted(measured, key=lambda t: (t.margin, t.tenant)) + unmeasured

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.window.as_dict(),
            "tenants": [t.as_dict() for t in self.tenants],
            "skipped": self.skipped,
            "credits": sum(1 for t in self.tenants if t.sla.credit_pct),
        }


def judged_specs(
    catalog: Catalog, window: Window, tenant: str | None, now: datetime
) -> tuple[list[TenantSpec], dict[str, str]]:
    """The tenants that existed in the window's month (one asked for by id must have)."""
    only = [tenant] if tenant else None
    specs = [t.spec for t in load_tenants(catalog=catalog, only=only, now=now)]
    judged, skipped = [], {}
    for spec in specs:
        first = first_billed_day(spec)
        if Month.of(first) <= window.month:
            judged.append(spec)
        elif tenant is not None:
            raise BadInput(
                f"tenant {tenant} did not exist in {window.month} (provisioned {first})",
                f"use --month {Month.of(first)} or later",
            )
        else:
            skipped[spec.tenant_id] = f"provisioned {first}, after {window.month}"
    return judged, skipped


def tenant_sla(
    catalog: Catalog,
    spec: TenantSpec,
    window: Window,
    uptime: Uptime | None,
) -> SlaCheck:
    """The SLA check an invoice of this window makes: its main tier, `check_sla`."""
    segments = month_segments(spec.history, window.month, window.through)
    return check_sla(catalog, main_tier(segments), uptime)


def sla_report(
    month_text: str | None = None,
    tenant: str | None = None,
    now: datetime | None = None,
    reader: Reader = cloudwatch_reader,
    catalog: Catalog | None = None,
) -> SlaReport:
    """The month's SLA of every tenant (or one): uptime, target, met, credit."""
    now = now or datetime.now(UTC)
    window = Window.of(month_text, now)
    catalog = catalog or load_catalog()
    specs, skipped = judged_specs(catalog, window, tenant, now)
    if not specs:
        return SlaReport(window, [], skipped)
    measured = reader(catalog).measure(window.start, window.end, agents_of(specs))
    tenants = []
    for spec in specs:
        names = sorted({a for t, a in measured.by_agent if t == spec.tenant_id} | set(spec.agents))
        agents = tuple(AgentUptime(a, measured.by_agent.get((spec.tenant_id, a))) for a in names)
        dropped = tuple(d for d in measured.dropped if d.tenant == spec.tenant_id)
        check = tenant_sla(catalog, spec, window, measured.by_tenant.get(spec.tenant_id))
        tenants.append(TenantSla(spec.tenant_id, spec.company, check, agents, dropped))
    return SlaReport(window, tenants, skipped)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def agents_of(specs: Sequence[TenantSpec]) -> dict[str, set[str]]:
    """Each tenant's configured agents (the reader adds those that published since)."""
    return {spec.tenant_id: set(spec.agents) for spec in specs}
