"""The monthly price of a plan, line by line, from the catalog.

Money is Decimal, rounded half-up to cents per line; a total is the sum of
its lines. Billing (quotes, invoices, proration) builds on `plan_price`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from afrex.catalog import Catalog

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Round to cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PlanPrice:
    """One month of a plan: tier base, agent overage, vertical premium, support."""

    tier: str
    vertical: str
    support_level: str
    agents: int
    base: Decimal
    overage_agents: int
    overage: Decimal
    premium_pct: Decimal
    premium: Decimal
    support: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.overage + self.premium + self.support

    def as_dict(self) -> dict[str, str | int]:
        """Plain values for stack outputs and JSON (money as strings)."""
        return {
            "tier": self.tier,
            "vertical": self.vertical,
            "support": self.support_level,
            "agents": self.agents,
            "base": str(self.base),
            "overageAgents": self.overage_agents,
            "overage": str(self.overage),
            "premiumPct": str(self.premium_pct),
            "premium": str(self.premium),
            "supportPrice": str(self.support),
            "total": str(self.total),
        }


def plan_price(catalog: Catalog, tier: str, agents: int, vertical: str, support: str) -> PlanPrice:
    """The monthly price of `agents` agents on `tier` for a `vertical` customer."""
    plan = catalog.tiers[tier]
    extra = max(0, agents - plan.agents_included)
    overage = cents((plan.overage_per_agent or Decimal(0)) * extra)
    base = cents(plan.monthly_price)
    premium_pct = catalog.verticals[vertical].premium_pct
    premium = cents((base + overage) * premium_pct / 100)
    return PlanPrice(
        tier=tier,
        vertical=vertical,
        support_level=support,
        agents=agents,
        base=base,
        overage_agents=extra,
        overage=overage,
        premium_pct=premium_pct,
        premium=premium,
        support=cents(catalog.support[support]),
    )


def monthly_recurring(catalog: Catalog, price: PlanPrice, billing: str) -> Decimal:
    """What a plan brings in per month: its price, less the annual discount if billed yearly."""
    if billing != "annual":
        return price.total
    return price.total - cents(price.total * catalog.billing.annual_discount_pct / 100)
