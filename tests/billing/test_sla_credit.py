"""SLA credits from `Up` samples served over HTTP by a local moto server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from typer.testing import CliRunner

from afrex.billing.period import Month
from afrex.cli.main import app
from afrex.telemetry import CloudWatchTelemetry
from tests.billing.fleet import ACME, Fleet, acme

runner = CliRunner()
NAMESPACE = "AfrexAI/Agents"
OCTOBER = Month(2026, 10)


def publish_up(endpoint: str, tenant: str, agent: str, up: int, down: int, month: Month) -> None:
    """`up` samples of 1 then `down` samples of 0, a minute apart from the 2nd of `month`."""
    client = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")
    start = month.start + timedelta(days=1)
    values = [1.0] * up + [0.0] * down
    data = [
        {
            "MetricName": "Up",
            "Dimensions": [{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}],
            "Timestamp": start + timedelta(minutes=i),
            "Value": value,
        }
        for i, value in enumerate(values)
    ]
    for first in range(0, len(data), 1000):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=data[first : first + 1000])  # type: ignore[arg-type]


def october_invoice() -> dict[str, object]:
    result = runner.invoke(app, ["invoice", "--tenant", ACME, "--month", "2026-10", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    ("up", "down", "credit_pct", "credit"),
    [
        (999, 1, "0", None),  # 99.9%: the growth target is met
        (998, 2, "10", "-545.00"),  # 99.8%: below target
        (985, 15, "25", "-1362.50"),  # 98.5%: below 99.0
        (940, 60, "50", "-2725.00"),  # 94.0%: below 95.0
    ],
)
def test_credit_from_measured_uptime(
    fleet: Fleet, aws_endpoint: str, up: int, down: int, credit_pct: str, credit: str | None
) -> None:
    acme(fleet)  # growth all October: 5,450.00
    publish_up(aws_endpoint, ACME, "legal-researcher", up - up // 2, down - down // 2, OCTOBER)
    publish_up(aws_endpoint, ACME, "contract-reviewer", up // 2, down // 2, OCTOBER)
    data = october_invoice()
    sla = data["sla"]
    assert isinstance(sla, dict) and isinstance(data["lines"], list)
    assert sla["measured"] is True and sla["samples"] == 1000
    assert sla["uptimePct"] == f"{Decimal(up) / 10:.4f}"
    assert sla["creditPct"] == credit_pct and sla["targetPct"] == "99.9"
    credits = [line["amount"] for line in data["lines"] if line["kind"] == "credit"]
    assert credits == ([credit] if credit else [])
    assert Decimal(str(data["total"])) == Decimal("5450.00") + Decimal(credit or 0)


def test_no_samples_means_no_credit_and_says_so(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    publish_up(aws_endpoint, ACME, "legal-researcher", 0, 50, Month(2026, 9))  # wrong month
    publish_up(aws_endpoint, "cust-other-1767225600", "legal-researcher", 0, 50, OCTOBER)
    data = october_invoice()
    sla = data["sla"]
    assert isinstance(sla, dict)
    assert sla["measured"] is False and sla["uptimePct"] is None
    assert "not measured" in sla["note"] and data["total"] == "5450.00"
    html = (fleet.invoices / "2026-10" / f"INV-{ACME}-2026-10.html").read_text()
    assert "uptime not measured" in html


def test_agents_no_longer_configured_still_count(aws_endpoint: str) -> None:
    publish_up(aws_endpoint, ACME, "retired-agent", 90, 10, OCTOBER)
    publish_up(aws_endpoint, ACME, "legal-researcher", 100, 0, OCTOBER)
    reader = CloudWatchTelemetry.connect(NAMESPACE, "Up")
    measured = reader.uptime(OCTOBER.start, OCTOBER.end, {ACME: ["legal-researcher"], "x": []})
    assert set(measured) == {ACME}
    assert (measured[ACME].samples, measured[ACME].pct) == (200, Decimal("95.0000"))


def test_the_target_is_the_tier_of_most_of_the_month(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)  # March: starter for 15 days, growth for 16 -> growth's 99.9% target
    publish_up(aws_endpoint, ACME, "legal-researcher", 997, 3, Month(2026, 3))
    result = runner.invoke(app, ["invoice", "--tenant", ACME, "--month", "2026-03", "--json"])
    data = json.loads(result.stdout)
    assert data["sla"]["tier"] == "growth" and data["sla"]["creditPct"] == "10"
    assert data["lines"][-1] == {
        "kind": "credit",
        "description": data["lines"][-1]["description"],
        "amount": "-361.13",  # 10% of 3,611.29, half up
        "from": None,
        "to": None,
        "days": 0,
    }
    assert data["total"] == "3250.16"


def test_unreachable_cloudwatch_fails_with_exit_1(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme(fleet)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    result = runner.invoke(
        app, ["invoice", "--tenant", ACME, "--month", "2026-10"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1
    assert "cannot read uptime from CloudWatch" in result.stderr
    assert not fleet.invoices.exists()


def test_publish_helper_covers_the_month(aws_endpoint: str) -> None:
    publish_up(aws_endpoint, ACME, "legal-researcher", 3, 1, OCTOBER)
    client = boto3.client("cloudwatch", endpoint_url=aws_endpoint, region_name="us-east-1")
    stats = client.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="Up",
        Dimensions=[
            {"Name": "Tenant", "Value": ACME},
            {"Name": "Agent", "Value": "legal-researcher"},
        ],
        StartTime=datetime(2026, 10, 1, tzinfo=UTC),
        EndTime=datetime(2026, 11, 1, tzinfo=UTC),
        Period=86400 * 31,
        Statistics=["SampleCount", "Sum"],
    )
    (point,) = stats["Datapoints"]
    assert (point["SampleCount"], point["Sum"]) == (4.0, 3.0)
