"""A month's SLA from `Up` samples in moto: uptime, breach periods and credit, and the
invoice of the same month showing the same figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.sla.breaches import sla_breaches
from afrex.sla.report import sla_report
from tests.afrex.sla.telemetry_data import OCTOBER_START, hourly, publish
from tests.billing.fleet import ACME, Fleet, acme

runner = CliRunner()
NOVEMBER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
HOURS = 31 * 24
STOPPED = (9 * 24 + 6, 9 * 24 + 12)  # October 10, 06:00 to 12:00 UTC


def stopped_for_six_hours() -> None:
    """legal-researcher stopped six hours on October 10; contract-reviewer always up;
    compliance-monitor never measured."""
    publish(ACME, "legal-researcher", hourly(OCTOBER_START, HOURS, [STOPPED]))
    publish(ACME, "contract-reviewer", hourly(OCTOBER_START, HOURS))


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_breach_and_invoice_agree(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    stopped_for_six_hours()
    report = invoke("sla", "report", "--month", "2026-10", "--format", "json")
    (tenant,) = report["tenants"]
    expected = (Decimal(2 * HOURS - 6) * 100 / (2 * HOURS)).quantize(
        Decimal("0.0001"), "ROUND_FLOOR"
    )
    assert tenant["uptimePct"] == str(expected) == "99.5967"
    assert (tenant["tier"], tenant["targetPct"], tenant["met"]) == ("growth", "99.9", False)
    assert tenant["creditPct"] == "10" and tenant["samples"] == 2 * HOURS
    agents = {a["agent"]: a for a in tenant["agents"]}
    assert agents["legal-researcher"]["uptimePct"] == str(
        (Decimal(HOURS - 6) * 100 / HOURS).quantize(Decimal("0.0001"), "ROUND_FLOOR")
    )
    assert agents["contract-reviewer"]["uptimePct"] == "100.0000"
    assert agents["compliance-monitor"] == {
        "agent": "compliance-monitor",
        "measured": False,
        "uptimePct": None,
        "samples": 0,
    }

    breaches = invoke("sla", "breaches", "--month", "2026-10", "--format", "json")
    assert breaches["breaches"] == [
        {
            "tenant": ACME,
            "agent": "legal-researcher",
            "start": "2026-10-10T06:00:00Z",
            "end": "2026-10-10T12:00:00Z",
            "durationSeconds": 6 * 3600,
            "uptimePct": "0.0000",
            "samples": 6,
            "targetPct": "99.9",
        }
    ]

    invoice = invoke("invoice", "--tenant", ACME, "--month", "2026-10", "--json")
    assert invoice["sla"]["uptimePct"] == tenant["uptimePct"]
    assert invoice["sla"]["creditPct"] == tenant["creditPct"] == "10"
    credit = [line for line in invoice["lines"] if line["kind"] == "credit"]
    assert credit and credit[0]["amount"] == "-545.00"  # 10% of growth + legal premium + priority


def test_out_of_range_samples_change_neither_report_nor_invoice(
    fleet: Fleet, aws_endpoint: str
) -> None:
    acme(fleet)
    stopped_for_six_hours()
    clean = invoke("sla", "report", "--month", "2026-10", "--format", "json")["tenants"][0]
    bad_at = OCTOBER_START + timedelta(days=20, minutes=30)  # between two hourly samples
    publish(ACME, "contract-reviewer", [(bad_at, 5.0), (bad_at + timedelta(hours=2), -1.0)])
    result = runner.invoke(app, ["sla", "report", "--month", "2026-10", "--format", "json"])
    assert result.exit_code == 0, result.output
    dirty = json.loads(result.stdout)["tenants"][0]
    assert {k: dirty[k] for k in ("uptimePct", "samples", "creditPct")} == {
        k: clean[k] for k in ("uptimePct", "samples", "creditPct")
    }
    assert dirty["ignoredSamples"][0]["samples"] == 2
    assert "ignored 2 Up sample(s) outside [0, 1]" in result.stderr
    invoiced = runner.invoke(app, ["invoice", "--tenant", ACME, "--month", "2026-10", "--json"])
    assert invoiced.exit_code == 0, invoiced.output
    assert json.loads(invoiced.stdout)["sla"]["uptimePct"] == clean["uptimePct"]
    assert "ignored 2 Up sample(s)" in invoiced.stderr


def test_domain_functions_match_the_cli(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    stopped_for_six_hours()
    report = sla_report("2026-10", now=NOVEMBER)
    assert [t.tenant for t in report.worst_first()] == [ACME]
    assert report.tenants[0].margin == Decimal("99.5967") - Decimal("99.9")
    found = sla_breaches("2026-10", ACME, now=NOVEMBER)
    assert [(b.agent, b.duration) for b in found.breaches] == [
        ("legal-researcher", timedelta(hours=6))
    ]


def test_a_tenant_without_samples_is_not_measured(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    report = invoke("sla", "report", "--month", "2026-10", "--format", "json")
    (tenant,) = report["tenants"]
    assert (tenant["measured"], tenant["uptimePct"], tenant["met"], tenant["creditPct"]) == (
        False,
        None,
        None,
        "0",
    )
    assert invoke("sla", "breaches", "--month", "2026-10", "--format", "json")["breaches"] == []
    shown = runner.invoke(app, ["sla", "dashboard", "--month", "2026-10"])
    assert shown.exit_code == 0 and "no data" in shown.stdout
