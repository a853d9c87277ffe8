"""Revenue from the fleet: MRR and ARR by tier and vertical, and the way to the goal.

A tenant's MRR is its current plan's monthly price, less the annual discount
when it is billed yearly; ARR is twelve times MRR. The gap to the catalog's
`arr_goal` is shown as how many new customers of each tier, at list price
(included agents, no premium, standard support, monthly billing), would close it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from afrex.catalog import Catalog
from afrex.pricing import monthly_recurring, plan_price
from afrex.spec import TenantSpec

LIST_VERTICAL = "general"
LIST_SUPPORT = "standard"


@dataclass(frozen=True)
class Slice:
    """Tenants of one tier or vertical and what they bring in."""

    name: str
    tenants: int
    mrr: Decimal

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tenants": self.tenants, "mrr": self.mrr, "arr": self.arr}


@dataclass(frozen=True)
class Revenue:
    """The fleet's recurring revenue and its distance to the ARR goal."""

    by_tenant: dict[str, Decimal]
    by_tier: list[Slice]
    by_vertical: list[Slice]
    goal: Decimal
    to_close: dict[str, int]

    @property
    def mrr(self) -> Decimal:
        return sum(self.by_tenant.values(), Decimal("0.00"))

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    @property
    def progress_pct(self) -> Decimal:
        return (self.arr * 100 / self.goal).quantize(Decimal("0.01"))

    @property
    def gap(self) -> Decimal:
        return max(self.goal - self.arr, Decimal("0.00"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenants": len(self.by_tenant),
            "mrr": self.mrr,
            "arr": self.arr,
            "arrGoal": self.goal,
            "progressPct": self.progress_pct,
            "gap": self.gap,
            "byTier": [s.as_dict() for s in self.by_tier],
            "byVertical": [s.as_dict() for s in self.by_vertical],
            "customersToCloseGap": self.to_close,
            "byTenant": self.by_tenant,
        }


def list_price_arr(catalog: Catalog, tier: str) -> Decimal:
    """A year of one new customer on `tier` at list price."""
    included = catalog.tiers[tier].agents_included
    return plan_price(catalog, tier, included, LIST_VERTICAL, LIST_SUPPORT).total * 12


def revenue(catalog: Catalog, tenants: Iterable[TenantSpec]) -> Revenue:
    """MRR and ARR of `tenants`, sliced by tier and vertical, against the goal."""
    specs = list(tenants)
    mrr = {
        spec.tenant_id: monthly_recurring(
            catalog,
            plan_price(catalog, spec.tier, len(spec.agents), spec.vertical, spec.support),
            spec.billing,
        )
        for spec in specs
    }
    by_tier = _slices(catalog.tiers, [(s.tier, mrr[s.tenant_id]) for s in specs])
    by_vertical = _slices(catalog.verticals, [(s.vertical, mrr[s.tenant_id]) for s in specs])
    gap = max(catalog.arr_goal - sum(mrr.values(), Decimal(0)) * 12, Decimal(0))
    to_close = {
        tier: int((gap / list_price_arr(catalog, tier)).to_integral_value(ROUND_CEILING))
        for tier, _ in catalog.tiers_by_size()
    }
    return Revenue(mrr, by_tier, by_vertical, catalog.arr_goal, to_close)


def _slices(names: Iterable[str], amounts: list[tuple[str, Decimal]]) -> list[Slice]:
    return [
        Slice(
            name,
            sum(1 for key, _ in amounts if key == name),
            sum((value for key, value in amounts if key == name), Decimal("0.00")),
        )
        for name in names
    ]


def fleet_revenue(catalog: Catalog | None = None) -> Revenue:
    """Revenue of every tenant stack in the project."""
    from afrex.catalog import load_catalog
    from afrex.tenants import load_tenants

    catalog = catalog or load_catalog()
    return revenue(catalog, [tenant.spec for tenant in load_tenants(catalog=catalog)])
