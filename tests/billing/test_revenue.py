"""`afrex revenue`: MRR and ARR by tier and vertical, and the road to the ARR goal."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from afrex.billing.revenue import list_price_arr, revenue
from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.spec import parse_tenant
from tests.billing.fleet import Fleet, acme

runner = CliRunner()


def test_revenue_of_the_example_fleet() -> None:
    result = runner.invoke(app, ["revenue", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # 5,450 (growth legal priority) + 1,650 (starter healthcare) + 0.85 x 20,270 (annual)
    assert data["mrr"] == "24329.50" and data["arr"] == "291954.00"
    assert data["arrGoal"] == "11000000.00" and data["progressPct"] == "2.65"
    assert data["gap"] == "10708046.00"
    tiers = {row["name"]: row for row in data["byTier"]}
    assert tiers["enterprise"] == {
        "name": "enterprise",
        "tenants": 1,
        "mrr": "17229.50",
        "arr": "206754.00",
    }
    verticals = {row["name"]: row["tenants"] for row in data["byVertical"]}
    assert verticals == {"legal": 1, "finance": 1, "healthcare": 1, "realestate": 0, "general": 0}
    # ceil(10,708,046 / 18,000), / 54,000, / 144,000
    assert data["customersToCloseGap"] == {"starter": 595, "growth": 199, "enterprise": 75}


def test_revenue_table(fleet: Fleet) -> None:
    acme(fleet)
    result = runner.invoke(app, ["revenue"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Revenue by tier" in result.stdout and "Revenue by vertical" in result.stdout
    assert "fleet: 1 tenants, MRR $5,450.00, ARR $65,400.00" in result.stdout
    assert "0.59% of the $11,000,000.00 goal" in result.stdout
    assert "608 starter, 203 growth, 76 enterprise" in result.stdout


def test_goal_reached_leaves_no_gap(catalog: Catalog) -> None:
    raw = {
        "contact": "cfo@big.example",
        "tier": "enterprise",
        "agents": [f"agent-{n:02d}" for n in range(20)],
    }
    fleet = [
        parse_tenant(
            f"cust-big{n}-1767225600", {"afrex:tenant": {**raw, "company": f"Big{n}"}}, catalog
        )
        for n in range(30)
    ]
    report = revenue(catalog, fleet)  # 30 x 31,800 x 12 = 11,448,000
    assert report.arr == Decimal("11448000.00")
    assert report.gap == 0 and set(report.to_close.values()) == {0}
    assert list_price_arr(catalog, "growth") == Decimal("54000.00")


def test_a_bad_stack_is_bad_input(fleet: Fleet) -> None:
    fleet.add("cust-broken-1767225600", tier="platinum")
    result = runner.invoke(app, ["revenue"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "afrex:tenant.tier: unknown tier 'platinum'" in result.stderr
