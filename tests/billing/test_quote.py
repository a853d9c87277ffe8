"""Quotes and the tier comparison: worked examples, the CLI tables and JSON, bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from afrex.billing.quote import compare, quote
from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.errors import BadInput

runner = CliRunner()
WIDE = {"COLUMNS": "160"}


def monthly(
    catalog: Catalog, tier: str, vertical: str = "general", support: str = "standard"
) -> Decimal:
    return quote(catalog, tier=tier, agents=None, vertical=vertical, support=support).monthly_total


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("starter", "1500.00"), ("growth", "4500.00"), ("enterprise", "12000.00")],
)
def test_every_tier_at_list_price(catalog: Catalog, tier: str, expected: str) -> None:
    assert monthly(catalog, tier=tier) == Decimal(expected)


@pytest.mark.parametrize(
    ("vertical", "expected"),
    [
        ("legal", "4950.00"),
        ("healthcare", "4950.00"),
        ("finance", "4725.00"),
        ("realestate", "4500.00"),
        ("general", "4500.00"),
    ],
)
def test_every_vertical_premium_on_growth(catalog: Catalog, vertical: str, expected: str) -> None:
    assert monthly(catalog, tier="growth", vertical=vertical) == Decimal(expected)


@pytest.mark.parametrize(
    ("support", "expected"),
    [("standard", "1500.00"), ("priority", "2000.00"), ("dedicated", "3500.00")],
)
def test_every_support_level_on_starter(catalog: Catalog, support: str, expected: str) -> None:
    assert monthly(catalog, tier="starter", support=support) == Decimal(expected)


def test_enterprise_overage_finance_priority_annual(catalog: Catalog) -> None:
    q = quote(
        catalog, tier="enterprise", agents=12, vertical="finance", support="priority", annual=True
    )
    assert (q.plan.base, q.plan.overage, q.plan.premium) == (
        Decimal("12000.00"),
        Decimal("5400.00"),
        Decimal("870.00"),
    )
    expected = Decimal("0.85") * (12000 + 5400 + Decimal("0.05") * 17400 + 500)
    assert q.monthly_total == expected == Decimal("15954.50")
    assert q.discount == Decimal("2815.50")
    assert q.annual_total == Decimal("191454.00")
    assert q.cost_per_agent == Decimal("1329.54")  # 15,954.50 / 12, half up


def test_extra_tasks_are_in_the_discounted_subtotal(catalog: Catalog) -> None:
    q = quote(catalog, tier="growth", agents=None, extra_tasks=101, annual=True)
    assert q.tasks == Decimal("50.50")
    assert q.subtotal == Decimal("4550.50")
    assert q.discount == Decimal("682.58")  # 15% of 4,550.50 = 682.575, half up
    assert q.monthly_total == Decimal("3867.92")


@pytest.mark.parametrize(
    ("agents", "tier", "total"),
    [(1, "starter", "1500.00"), (2, "growth", "4500.00"), (4, "enterprise", "12000.00")]
    + [(10, "enterprise", "13800.00"), (20, "enterprise", "31800.00")],
)
def test_agents_alone_pick_the_cheapest_tier(
    catalog: Catalog, agents: int, tier: str, total: str
) -> None:
    q = quote(catalog, tier=None, agents=agents)
    assert (q.plan.tier, q.monthly_total) == (tier, Decimal(total))


def test_compare_marks_the_cheapest_tier_that_fits(catalog: Catalog) -> None:
    options = {o.tier: o for o in compare(catalog, 3)}
    assert not options["starter"].fits and options["starter"].reason == "holds at most 1 agent"
    assert options["growth"].cheapest and options["growth"].fits
    assert options["enterprise"].fits and not options["enterprise"].cheapest
    assert options["enterprise"].quote.plan.total == Decimal("12000.00")


def test_quote_table() -> None:
    result = runner.invoke(app, ["quote", "--tier", "growth", "--vertical", "legal"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Quote: growth, 3 agents, legal, standard support, monthly billing" in result.stdout
    assert "legal premium 10%" in result.stdout and "$450.00" in result.stdout
    assert "monthly total" in result.stdout and "$4,950.00" in result.stdout
    assert "$1,650.00" in result.stdout  # per agent


def test_quote_json_for_agents_alone() -> None:
    args = ["quote", "--agents", "12", "--vertical", "finance", "--support", "priority"]
    result = runner.invoke(app, [*args, "--annual", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tier"] == "enterprise" and data["overageAgents"] == 3
    assert data["subtotal"] == "18770.00" and data["annualDiscount"] == "-2815.50"
    assert data["monthlyTotal"] == "15954.50" and data["annualTotal"] == "191454.00"


def test_compare_table_and_json() -> None:
    result = runner.invoke(app, ["compare", "--agents", "2"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "no: holds at most 1 agent" in result.stdout
    assert "growth (cheapest)" in result.stdout
    data = json.loads(runner.invoke(app, ["compare", "--agents", "12", "--json"]).stdout)
    rows = {row["tier"]: row for row in data["tiers"]}
    assert rows["enterprise"]["cheapest"] and rows["enterprise"]["monthly"] == "17400.00"
    assert rows["enterprise"]["annualBilled"] == "177480.00"  # 12 x 0.85 x 17,400
    assert rows["growth"]["reason"] == "holds at most 3 agents"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quote", "--tier", "platinum"], "unknown tier 'platinum'; use --tier starter | growth"),
        (["quote", "--agents", "0"], "--agents 0 is not a number of agents; use 1 or more"),
        (["quote", "--agents", "21"], "no tier holds more than 20 agents"),
        (["quote", "--tier", "growth", "--agents", "4"], "exceeds the growth tier limit of 3"),
        (["quote", "--tier", "growth", "--vertical", "mining"], "unknown vertical 'mining'"),
        (["quote", "--tier", "growth", "--support", "gold"], "unknown support level 'gold'"),
        (["quote", "--tier", "growth", "--extra-tasks", "-1"], "--extra-tasks -1 is out of range"),
        (["quote"], "a quote needs --tier or --agents"),
        (["compare", "--agents", "0"], "--agents 0 is not a number of agents"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line


def test_domain_raises_bad_input(catalog: Catalog) -> None:
    with pytest.raises(BadInput, match="platinum"):
        quote(catalog, tier="platinum", agents=None)
