"""`afrex capacity`: the table flags a full host and names the tenants to move, JSON for
machines, bad input exits 2 with one line, and no Pulumi SDK (or boto3) is loaded."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from afrex.cli.main import app
from tests.afrex.test_capacity import BIG, ECS, HOST_A, HOST_B, inventory, mixed
from tests.billing.fleet import Fleet
from tests.helpers import cli_heavy_imports

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
__all__ = ["mixed"]  # the fixture


def test_table_flags_the_full_host_and_names_what_to_move(mixed: Fleet) -> None:
    result = runner.invoke(app, ["capacity"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert f"over: move {BIG}" in result.stdout
    assert "29184 MB of 32768 (89.1%)" in result.stdout and "21.0 of 16 (131.3%)" in result.stdout
    assert ECS in result.stdout and "$648.72" in result.stdout
    assert "enterprise" in result.stdout and "$72.08" in result.stdout  # per agent
    assert f"warning: {HOST_B} is not in" in result.stderr


def test_json_for_machines(mixed: Fleet) -> None:
    result = runner.invoke(app, ["capacity", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["hosts_over_limit"] == [HOST_A] and data["hosts_without_size"] == [HOST_B]
    (host,) = [h for h in data["hosts"] if h["host"] == HOST_A]
    assert host["move"] == [BIG] and host["memory_pct"] == "89.1"
    assert data["ecs"]["totals"]["monthly"] == "648.72"
    assert data["limit_pct"] == "80"
    assert {t["tier"] for t in data["fargate_per_tier"]} == {"starter", "growth", "enterprise"}


@pytest.mark.parametrize(
    ("args", "hosts"),
    [
        (["capacity", "--inventory", "nope.yaml"], None),
        (["capacity"], {HOST_A: {"memory_mb": "lots", "cpus": 4}}),
    ],
)
def test_bad_input_is_one_line_exit_2(
    mixed: Fleet, args: list[str], hosts: dict[str, object] | None
) -> None:
    if hosts is not None:
        inventory(mixed, hosts)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    (message,) = result.stderr.strip().splitlines()
    assert message.startswith("error: ") and "Traceback" not in result.output
    assert runner.invoke(app, ["capacity", "--format", "xml"]).exit_code == 2


def test_an_inventory_with_an_alias_is_refused(mixed: Fleet) -> None:
    (mixed.root / "hosts.yaml").write_text(
        "hosts:\n  ssh://a: &size {memory_mb: 4096, cpus: 2}\n  ssh://b: *size\n"
    )
    result = runner.invoke(app, ["capacity"])
    assert result.exit_code == 2 and "alias" in result.stderr.lower()
    assert yaml.safe_load((mixed.root / "hosts.yaml").read_text())  # nothing rewritten


def test_capacity_loads_no_pulumi_sdk_nor_boto3() -> None:
    assert cli_heavy_imports(["capacity", "--format", "json"]) == set()
