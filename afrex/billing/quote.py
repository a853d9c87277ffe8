"""Quotes and the tier comparison, from the catalog alone (no cloud, no stacks).

A quote is one month of a plan: base, agent overage, vertical premium, support
and extra tasks make the subtotal; annual billing takes the catalog's discount
off it. Money is rounded half-up to cents per line and totals are sums of lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from afrex.catalog import Catalog
from afrex.errors import BadInput
from afrex.pricing import PlanPrice, cents, plan_price

MAX_EXTRA_TASKS = 100_000_000  # keeps every amount far inside Decimal's precision


def check_choice(kind: str, option: str, value: str, choices: Any) -> str:
    """`value` if it names one of `choices`, else bad input naming them."""
    if value not in choices:
        raise BadInput(f"unknown {kind} '{value}'", f"use {option} {' | '.join(choices)}")
    return value


@dataclass(frozen=True)
class Quote:
    """One month of a plan, line by line, and what it comes to per year and per agent."""

    plan: PlanPrice
    extra_tasks: int
    task_price: Decimal
    tasks: Decimal
    annual: bool
    discount_pct: Decimal
    discount: Decimal

    @property
    def subtotal(self) -> Decimal:
        return self.plan.total + self.tasks

    @property
    def monthly_total(self) -> Decimal:
        return self.subtotal - self.discount

    @property
    def annual_total(self) -> Decimal:
        return self.monthly_total * 12

    @property
    def cost_per_agent(self) -> Decimal:
        return cents(self.monthly_total / self.plan.agents)

    def lines(self) -> list[tuple[str, Decimal]]:
        """The breakdown as (label, amount) rows; the total is their sum."""
        plan = self.plan
        rows = [
            (f"{plan.tier} base ({plan.agents - plan.overage_agents} agents)", plan.base),
            (f"overage: {plan.overage_agents} agents", plan.overage),
            (f"{plan.vertical} premium {plan.premium_pct}%", plan.premium),
            (f"{plan.support_level} support", plan.support),
            (f"extra tasks: {self.extra_tasks} x ${self.task_price}", self.tasks),
        ]
        if self.annual:
            rows.append((f"annual discount {self.discount_pct}%", -self.discount))
        return rows

    def as_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "tier": plan.tier,
            "vertical": plan.vertical,
            "support": plan.support_level,
            "agents": plan.agents,
            "billing": "annual" if self.annual else "monthly",
            "base": plan.base,
            "overageAgents": plan.overage_agents,
            "overage": plan.overage,
            "premiumPct": plan.premium_pct,
            "premium": plan.premium,
            "supportPrice": plan.support,
            "extraTasks": self.extra_tasks,
            "taskOverage": self.tasks,
            "subtotal": self.subtotal,
            "annualDiscountPct": self.discount_pct if self.annual else Decimal(0),
            "annualDiscount": -self.discount,
            "monthlyTotal": self.monthly_total,
            "annualTotal": self.annual_total,
            "costPerAgent": self.cost_per_agent,
        }


def price_quote(
    catalog: Catalog,
    tier: str,
    agents: int,
    vertical: str,
    support: str,
    annual: bool = False,
    extra_tasks: int = 0,
) -> Quote:
    """The quote for exactly this plan (inputs already checked)."""
    plan = plan_price(catalog, tier, agents, vertical, support)
    task_price = catalog.billing.extra_task_price
    tasks = cents(task_price * extra_tasks)
    pct = catalog.billing.annual_discount_pct
    discount = cents((plan.total + tasks) * pct / 100) if annual else Decimal("0.00")
    return Quote(plan, extra_tasks, task_price, tasks, annual, pct, discount)


def quote(
    catalog: Catalog,
    *,
    tier: str | None,
    agents: int | None,
    vertical: str = "general",
    support: str = "standard",
    annual: bool = False,
    extra_tasks: int = 0,
) -> Quote:
    """A quote for `tier` (with its included agents unless `agents` is given), or for
    `agents` on the cheapest tier that holds them."""
    check_choice("vertical", "--vertical", vertical, catalog.verticals)
    check_choice("support level", "--support", support, catalog.support)
    if not 0 <= extra_tasks <= MAX_EXTRA_TASKS:
        raise BadInput(
            f"--extra-tasks {extra_tasks} is out of range", f"use 0 to {MAX_EXTRA_TASKS:,}"
        )
    if tier is None and agents is None:
        raise BadInput("a quote needs --tier or --agents", "e.g. afrex quote --tier growth")
    if agents is not None:
        check_agents(catalog, agents)
    if tier is None:
        assert agents is not None
        return cheapest_fit(catalog, agents, vertical, support, annual, extra_tasks)
    check_choice("tier", "--tier", tier, catalog.tiers)
    plan = catalog.tiers[tier]
    count = plan.agents_included if agents is None else agents
    if count > plan.max_agents:
        raise BadInput(
            f"--agents {count} exceeds the {tier} tier limit of {plan.max_agents}",
            "drop --tier to get the cheapest tier that fits",
        )
    return price_quote(catalog, tier, count, vertical, support, annual, extra_tasks)


def check_agents(catalog: Catalog, agents: int) -> int:
    """`agents` if some tier can hold it, else bad input saying why."""
    if agents < 1:
        raise BadInput(f"--agents {agents} is not a number of agents", "use 1 or more")
    largest = max(tier.max_agents for tier in catalog.tiers.values())
    if agents > largest:
        raise BadInput(
            f"--agents {agents}: no tier holds more than {largest} agents",
            "split the agents across tenants",
        )
    return agents


def cheapest_fit(
    catalog: Catalog, agents: int, vertical: str, support: str, annual: bool, extra_tasks: int
) -> Quote:
    """The quote of the cheapest tier that holds `agents` (ties go to the smaller tier)."""
    quotes = [
        price_quote(catalog, name, agents, vertical, support, annual, extra_tasks)
        for name, tier in catalog.tiers_by_size()
        if agents <= tier.max_agents
    ]
    return min(quotes, key=lambda q: q.monthly_total)


@dataclass(frozen=True)
class TierOption:
    """One row of the comparison: a tier, whether it holds the agents, and its price.

    A tier too small for the agents is priced at its own limit, and says so.
    """

    tier: str
    fits: bool
    reason: str
    quote: Quote
    cheapest: bool = False

    @property
    def annual_billed(self) -> Decimal:
        """A year on annual billing: twelve discounted months."""
        monthly = self.quote.plan.total
        return (monthly - cents(monthly * self.quote.discount_pct / 100)) * 12

    def as_dict(self) -> dict[str, Any]:
        plan = self.quote.plan
        return {
            "tier": self.tier,
            "fits": self.fits,
            "reason": self.reason,
            "cheapest": self.cheapest,
            "agentsPriced": plan.agents,
            "monthly": plan.total,
            "annual": plan.total * 12,
            "annualBilled": self.annual_billed,
            "costPerAgent": cents(plan.total / plan.agents),
        }


def compare(
    catalog: Catalog, agents: int, vertical: str = "general", support: str = "standard"
) -> list[TierOption]:
    """Every tier for `agents` agents, smallest first; the cheapest that fits is marked."""
    check_choice("vertical", "--vertical", vertical, catalog.verticals)
    check_choice("support level", "--support", support, catalog.support)
    if agents < 1:
        raise BadInput(f"--agents {agents} is not a number of agents", "use 1 or more")
    options = []
    for name, tier in catalog.tiers_by_size():
        fits = agents <= tier.max_agents
        count = agents if fits else tier.max_agents
        plural = "s" if tier.max_agents > 1 else ""
        reason = "" if fits else f"holds at most {tier.max_agents} agent{plural}"
        options.append(
            TierOption(name, fits, reason, price_quote(catalog, name, count, vertical, support))
        )
    fitting = [o for o in options if o.fits]
    if not fitting:
        return options
    best = min(fitting, key=lambda o: o.quote.monthly_total)
    return [TierOption(o.tier, o.fits, o.reason, o.quote, o is best) for o in options]
