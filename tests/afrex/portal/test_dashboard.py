"""Portal documents from samples in moto: measured figures with their sources, nulls
with reasons for a tenant without metrics, byte-identical reruns."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from afrex.cli.main import app
from tests.afrex.sla.telemetry_data import OCTOBER_START, hourly, publish
from tests.billing.fleet import ACME, Fleet, acme

runner = CliRunner()
QUIET = "cust-quiet-co-1767225600"
HOURS = 31 * 24


def seed() -> None:
    publish(ACME, "legal-researcher", hourly(OCTOBER_START, HOURS, [(24, 30)]))
    publish(ACME, "contract-reviewer", hourly(OCTOBER_START, HOURS))
    day = OCTOBER_START + timedelta(days=3)
    publish(
        ACME, "legal-researcher", [(day, 40.0), (day + timedelta(hours=1), 60.0)], "TasksCompleted"
    )
    publish(
        ACME, "legal-researcher", [(day, 300.0), (day + timedelta(hours=1), 100.0)], "TaskMinutes"
    )
    publish(
        ACME, "legal-researcher", [(day, 120.0), (day + timedelta(hours=1), 80.0)], "ResponseTimeMs"
    )


def generate(folder: Path, *args: str) -> Any:
    result = runner.invoke(
        app, ["portal", "all", "--month", "2026-10", "--output", str(folder), *args]
    )
    assert result.exit_code == 0, result.output
    return result


def test_measured_and_missing_figures(fleet: Fleet, aws_endpoint: str, tmp_path: Path) -> None:
    acme(fleet)
    fleet.add(QUIET, tier="starter", vertical="general")
    seed()
    out = tmp_path / "portal"
    generate(out)
    doc = json.loads((out / ACME / "dashboard.json").read_text())
    assert doc["schema"] == "afrex.portal.dashboard/1"
    assert (
        doc["tasksCompleted"]["value"] == "100"
        and "TasksCompleted Sum" in doc["tasksCompleted"]["source"]
    )
    assert doc["taskMinutes"]["value"] == "400"
    assert doc["hoursSaved"]["value"] == "20"  # 400 min x 3 / 60
    assert doc["costSavings"]["value"] == "700"  # 20 h x 35.00
    assert doc["pricePaid"]["value"] == "4905"  # the October invoice: 5,450 less the 10% credit
    assert doc["roiPct"]["value"] == "-85.73"  # (700 - 4905) / 4905
    assert doc["uptime"]["value"] == "99.5967" and doc["uptime"]["creditPct"] == "10"
    assert doc["responseTimeMs"]["mean"]["value"] == "100"
    agents = {a["name"]: a for a in doc["agents"]}
    researcher = agents["legal-researcher"]
    assert researcher["status"]["value"] == "up"
    assert researcher["lastHeartbeat"]["value"] == "2026-10-31T23:00:00Z"
    assert researcher["uptimeChart"][1] == {
        "start": "2026-10-02T00:00:00Z",
        "uptimePct": "75.0000",
        "samples": 24,
    }
    assert researcher["responseTimeMs"]["p95"]["value"] is None  # moto computes no percentiles
    assert "percentiles" in researcher["responseTimeMs"]["p95"]["reason"]
    monitor = agents["compliance-monitor"]
    assert monitor["uptime"]["value"] is None and monitor["uptime"]["reason"]
    assert monitor["status"] == {
        "value": None,
        "unit": "state",
        "source": monitor["status"]["source"],
        "reason": "no Up sample in the period's last 24 hours",
    }

    quiet = json.loads((out / QUIET / "dashboard.json").read_text())
    for name in ("tasksCompleted", "taskMinutes", "hoursSaved", "costSavings", "roiPct", "uptime"):
        assert quiet[name]["value"] is None, name
        assert quiet[name]["reason"], name
    assert quiet["pricePaid"]["value"] == "1500"
    assert quiet["responseTimeMs"]["mean"]["value"] is None
    assert quiet["uptime"]["met"] is None


def test_reruns_are_byte_identical(fleet: Fleet, aws_endpoint: str, tmp_path: Path) -> None:
    acme(fleet)
    seed()
    out = tmp_path / "portal"
    generate(out)
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    generate(out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first
    assert sorted(p.name for p in first) == ["dashboard.json", "index.html"]


def test_summary_sums_the_fleet(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    fleet.add(QUIET, tier="starter", vertical="general")
    seed()
    result = runner.invoke(app, ["portal", "summary", "--month", "2026-10", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["tenants"], data["agents"], data["tasksCompleted"]) == (2, 4, "100")
    assert data["costSavings"] == "700" and data["tenantsWithTaskData"] == 1
    assert data["arrGoal"] == "11000000.00" and data["mrr"] == "6950.00"  # 5,450 + 1,500
