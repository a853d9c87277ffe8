"""`afrex plan` on the example fleet, and `afrex --help` staying light."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from afrex.cli.main import app
from tests.helpers import cli_heavy_imports

runner = CliRunner()


def test_plan_of_the_example_fleet() -> None:
    result = runner.invoke(app, ["plan"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "offline plan" in result.output
    assert "cust-globex-finance-1769904000" in result.output
    assert "fleet: 3 tenants, 16 agents" in result.output


def test_plan_json_totals() -> None:
    result = runner.invoke(app, ["plan", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["offline"] is True
    assert data["fleet"]["tenants"] == 3 and data["fleet"]["agents"] == 16
    # 5,450 (growth legal priority) + 1,650 (starter healthcare) + 0.85 x 20,270 (annual)
    assert data["fleet"]["mrr"] == "24329.50"
    assert "[secret]" in json.dumps(data) and "OPENCLAW_GATEWAY_TOKEN=" not in result.stdout


def test_plan_of_one_stack() -> None:
    result = runner.invoke(app, ["plan", "--json", "--stack", "cust-northwind-clinic-1772323200"])
    assert result.exit_code == 0, result.output
    (tenant,) = json.loads(result.stdout)["tenants"]
    assert tenant["tier"] == "starter" and tenant["agents"] == 1


def test_unknown_stack_is_bad_input() -> None:
    result = runner.invoke(app, ["plan", "--stack", "cust-nobody-1"])
    assert result.exit_code == 2
    assert "unknown stack cust-nobody-1" in result.output


def test_help_imports_no_infrastructure_sdk() -> None:
    assert cli_heavy_imports(["--help"]) == set()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("afrex ")
