"""Property tests: totals are sums of lines, proration of a whole month is the
monthly price, annual billing never costs more, credits never exceed their cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from afrex.billing.invoice import build_invoice
from afrex.billing.period import Month
from afrex.billing.quote import price_quote
from afrex.catalog import Catalog, load_catalog
from afrex.pricing import monthly_recurring, plan_price
from afrex.spec import TenantSpec, parse_tenant
from afrex.telemetry import Uptime

CATALOG = load_catalog()
TIERS = sorted(CATALOG.tiers)
VERTICALS = sorted(CATALOG.verticals)
SUPPORT = sorted(CATALOG.support)
CENT = Decimal("0.01")
FAR_FUTURE = datetime(2040, 1, 1, tzinfo=UTC)  # history up to 2027 is not "ahead"


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    tier = draw(st.sampled_from(TIERS))
    agents = draw(st.integers(1, CATALOG.tiers[tier].max_agents))
    return {"tier": tier, "agents": agents, "support": draw(st.sampled_from(SUPPORT))}


@st.composite
def tenants(draw: st.DrawFn) -> TenantSpec:
    """A tenant created in 2025-2026 with up to 4 later plan changes."""
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 700_000)))
    gaps = draw(st.lists(st.integers(1, 90 * 24 * 60), max_size=4))
    moments = [start]
    for gap in gaps:
        moments.append(moments[-1] + timedelta(minutes=gap))
    history = [{"effective": m.isoformat(), **draw(plans())} for m in moments]
    last = history[-1]
    raw = {
        "company": "Prop",
        "contact": "ops@prop.example",
        "tier": last["tier"],
        "support": last["support"],
        "vertical": draw(st.sampled_from(VERTICALS)),
        "billing": draw(st.sampled_from(["monthly", "annual"])),
        "agents": [f"agent-{n:02d}" for n in range(last["agents"])],
        "history": history,
    }
    tenant_id = f"cust-prop-{int(start.timestamp())}"
    return parse_tenant(tenant_id, {"afrex:tenant": raw}, CATALOG, now=FAR_FUTURE)


def months_of(spec: TenantSpec) -> st.SearchStrategy[Month]:
    first = Month.of(spec.history[0].effective)
    index = first.year * 12 + first.month - 1
    return st.integers(index, index + 30).map(lambda i: Month(i // 12, i % 12 + 1))


uptimes = st.one_of(
    st.none(),
    st.builds(
        lambda samples, down: Uptime(samples=samples, up=Decimal(samples - min(down, samples))),
        st.integers(1, 100_000),
        st.integers(0, 100_000),
    ),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), spec=tenants(), uptime=uptimes)
def test_invoice_total_is_the_sum_of_its_cent_lines(
    data: st.DataObject, spec: TenantSpec, uptime: Uptime | None
) -> None:
    month = data.draw(months_of(spec))
    invoice = build_invoice(CATALOG, spec, month, uptime)
    assert all(line.amount == line.amount.quantize(CENT) for line in invoice.lines)
    assert invoice.total == sum(line.amount for line in invoice.lines)
    charges = [ln.amount for ln in invoice.lines if ln.kind not in ("discount", "credit")]
    assert invoice.subtotal == sum(charges)
    first_day = spec.history[0].effective.date()
    expected_days = month.days - (first_day.day - 1 if Month.of(first_day) == month else 0)
    assert invoice.days_billed == expected_days


@settings(max_examples=150, deadline=None)
@given(
    plan=plans(),
    vertical=st.sampled_from(VERTICALS),
    billing=st.sampled_from(["monthly", "annual"]),
    month=st.builds(Month, st.integers(2026, 2030), st.integers(1, 12)),
)
def test_a_full_month_prorated_is_the_monthly_price(
    plan: dict[str, Any], vertical: str, billing: str, month: Month
) -> None:
    created = datetime(2025, 6, 1, tzinfo=UTC)
    raw = {
        "company": "Whole",
        "contact": "ops@whole.example",
        "vertical": vertical,
        "billing": billing,
        "tier": plan["tier"],
        "support": plan["support"],
        "agents": [f"agent-{n:02d}" for n in range(plan["agents"])],
    }
    spec = parse_tenant(f"cust-whole-{int(created.timestamp())}", {"afrex:tenant": raw}, CATALOG)
    invoice = build_invoice(CATALOG, spec, month, None)
    price = plan_price(CATALOG, plan["tier"], plan["agents"], vertical, plan["support"])
    assert invoice.subtotal == price.total
    assert invoice.total == monthly_recurring(CATALOG, price, billing)


@given(
    plan=plans(),
    vertical=st.sampled_from(VERTICALS),
    extra_tasks=st.integers(0, 1_000_000),
)
def test_annual_never_costs_more_than_monthly(
    plan: dict[str, Any], vertical: str, extra_tasks: int
) -> None:
    args = (CATALOG, plan["tier"], plan["agents"], vertical, plan["support"])
    monthly = price_quote(*args, annual=False, extra_tasks=extra_tasks)
    annual = price_quote(*args, annual=True, extra_tasks=extra_tasks)
    assert annual.monthly_total <= monthly.monthly_total
    assert annual.annual_total <= monthly.annual_total
    for quote in (monthly, annual):
        assert quote.monthly_total == sum(amount for _, amount in quote.lines())


def credit_cap(catalog: Catalog) -> Decimal:
    steps = [step.credit_pct for step in catalog.sla_credits.steps]
    return max([catalog.sla_credits.below_target_pct, *steps])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), spec=tenants(), uptime=uptimes)
def test_a_credit_never_exceeds_its_cap(
    data: st.DataObject, spec: TenantSpec, uptime: Uptime | None
) -> None:
    invoice = build_invoice(CATALOG, spec, data.draw(months_of(spec)), uptime)
    credits = [-line.amount for line in invoice.lines if line.kind == "credit"]
    after_discount = invoice.total + sum(credits)
    assert len(credits) <= 1
    for credit in credits:
        assert 0 < credit <= after_discount * credit_cap(CATALOG) / 100 + Decimal("0.005")
        assert invoice.sla.credit_pct <= credit_cap(CATALOG)
    if uptime is None or uptime.pct >= invoice.sla.target_pct:
        assert credits == []
