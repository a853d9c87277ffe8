"""A tenant's invoice for one month, from its dated plan history and uptime.

Plan charges are prorated by UTC day (see `period`): each run of days at one
plan bills its base, overage, vertical premium and support at
`monthly * days / days in month`, rounded per line, so a month without a change
costs exactly the monthly price. Annual billing takes the catalog's discount
off the subtotal; an SLA credit takes the catalog's percentage off the total
after discount when the month's measured uptime is below the target of the
tier in effect for most of the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from afrex.billing import money
from afrex.billing.period import Month, Segment, main_tier, month_segments
from afrex.catalog import Catalog
from afrex.errors import BadInput
from afrex.pricing import cents, plan_price
from afrex.spec import TenantSpec
from afrex.telemetry import Uptime

CHARGE_KINDS = ("plan", "overage", "premium", "support")


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice; charges carry the days they cover."""

    kind: str
    description: str
    amount: Decimal
    first: date | None = None
    last: date | None = None
    days: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "amount": self.amount,
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "days": self.days,
        }


@dataclass(frozen=True)
class SlaCheck:
    """The month's measured uptime against the main tier's target, and the credit."""

    tier: str
    target_pct: Decimal
    uptime: Uptime | None
    credit_pct: Decimal

    @property
    def note(self) -> str:
        if self.uptime is None:
            return "uptime not measured: no Up samples this month, so no SLA credit"
        verdict = f"below target: {self.credit_pct}% credit" if self.credit_pct else "target met"
        return (
            f"uptime {self.uptime.pct}% over {self.uptime.samples} samples; "
            f"{self.tier} target {self.target_pct}%; {verdict}"
        )

    @property
    def credit_text(self) -> str:
        uptime = self.uptime.pct if self.uptime else None
        return (
            f"SLA credit {self.credit_pct}%: uptime {uptime}% below the {self.tier} "
            f"target of {self.target_pct}%"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "measured": self.uptime is not None,
            "tier": self.tier,
            "targetPct": self.target_pct,
            "uptimePct": self.uptime.pct if self.uptime else None,
            "samples": self.uptime.samples if self.uptime else 0,
            "creditPct": self.credit_pct,
            "note": self.note,
        }


@dataclass(frozen=True)
class Invoice:
    """One tenant's bill for one month; its total is the sum of its lines."""

    tenant_id: str
    company: str
    contact: str
    month: Month
    vertical: str
    billing: str
    lines: tuple[InvoiceLine, ...]
    sla: SlaCheck
    catalog_digest: str
    draft_through: date | None = None

    @property
    def id(self) -> str:
        return invoice_id(self.tenant_id, self.month)

    @property
    def draft(self) -> bool:
        """A draft bills the current month's days so far; the final invoice comes after."""
        return self.draft_through is not None

    @property
    def issued(self) -> date:
        return self.draft_through or self.month.last_day

    @property
    def subtotal(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind in CHARGE_KINDS), Decimal("0.00"))

    @property
    def charges(self) -> list[InvoiceLine]:
        return [line for line in self.lines if line.kind in CHARGE_KINDS]

    @property
    def adjustments(self) -> list[InvoiceLine]:
        """The annual discount and the SLA credit, which follow the subtotal."""
        return [line for line in self.lines if line.kind not in CHARGE_KINDS]

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

    @property
    def days_billed(self) -> int:
        return sum(ln.days for ln in self.lines if ln.kind == "plan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant_id,
            "company": self.company,
            "contact": self.contact,
            "month": str(self.month),
            "issued": self.issued.isoformat(),
            "draft": self.draft,
            "currency": "USD",
            "vertical": self.vertical,
            "billing": self.billing,
            "daysInMonth": self.month.days,
            "daysBilled": self.days_billed,
            "lines": [ln.as_dict() for ln in self.lines],
            "subtotal": self.subtotal,
            "sla": self.sla.as_dict(),
            "total": self.total,
            "catalogDigest": self.catalog_digest,
        }


def invoice_id(tenant_id: str, month: Month) -> str:
    return f"INV-{tenant_id}-{month}"


def first_billed_day(spec: TenantSpec) -> date:
    """The first day the tenant is billed for: the day of its first plan."""
    return spec.history[0].effective.date()


def build_invoice(
    catalog: Catalog,
    spec: TenantSpec,
    month: Month,
    uptime: Uptime | None,
    draft_through: date | None = None,
) -> Invoice:
    """The tenant's invoice for `month` (a draft billing only the days up to
    `draft_through`); a month before it existed is bad input."""
    segments = month_segments(spec.history, month, draft_through)
    if not segments:
        first = first_billed_day(spec)
        raise BadInput(
            f"tenant {spec.tenant_id} did not exist in {month} (provisioned {first})",
            f"invoice {Month.of(first)} or later",
        )
    lines = [line for s in segments for line in segment_lines(catalog, spec.vertical, s, month)]
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    if spec.billing == "annual":
        pct = catalog.billing.annual_discount_pct
        lines.append(
            InvoiceLine("discount", f"annual billing discount {pct}%", -cents(subtotal * pct / 100))
        )
    after_discount = sum((line.amount for line in lines), Decimal("0.00"))
    sla = check_sla(catalog, main_tier(segments), uptime)
    if sla.credit_pct:
        credit = cents(after_discount * sla.credit_pct / 100)
        lines.append(InvoiceLine("credit", sla.credit_text, -credit))
    return Invoice(
        tenant_id=spec.tenant_id,
        company=spec.company,
        contact=spec.contact,
        month=month,
        vertical=spec.vertical,
        billing=spec.billing,
        lines=tuple(lines),
        sla=sla,
        catalog_digest=catalog.digest,
        draft_through=draft_through,
    )


def check_sla(catalog: Catalog, tier: str, uptime: Uptime | None) -> SlaCheck:
    target = catalog.tiers[tier].sla_uptime_pct
    credit = catalog.credit_pct(uptime.pct, target) if uptime else Decimal(0)
    return SlaCheck(tier=tier, target_pct=target, uptime=uptime, credit_pct=credit)


def segment_lines(
    catalog: Catalog, vertical: str, segment: Segment, month: Month
) -> list[InvoiceLine]:
    """Plan, overage, premium and support for a run of days, each prorated by the day."""
    price = plan_price(catalog, segment.tier, segment.agents, vertical, segment.support)
    included = segment.agents - price.overage_agents
    per_agent = money(catalog.tiers[segment.tier].overage_per_agent or Decimal(0))
    span = _span(segment, month)
    rows = [
        ("plan", f"{segment.tier} plan, {_agents(included)}{span}", price.base),
        (
            "overage",
            f"{price.overage_agents} agents over {included} x {per_agent}{span}",
            price.overage,
        ),
        (
            "premium",
            f"{vertical} premium {price.premium_pct}% of plan + overage{span}",
            price.premium,
        ),
        ("support", f"{segment.support} support{span}", price.support),
    ]
    return [
        InvoiceLine(
            kind,
            text,
            cents(monthly * segment.days / month.days),
            segment.first,
            segment.last,
            segment.days,
        )
        for kind, text, monthly in rows
        if kind == "plan" or monthly
    ]


def _agents(count: int) -> str:
    return f"{count} agent{'' if count == 1 else 's'}"


def _span(segment: Segment, month: Month) -> str:
    if segment.days == month.days:
        return ""
    first, last = segment.first, segment.last
    return f", {first:%b} {first.day}-{last.day} ({segment.days}/{month.days} days)"
