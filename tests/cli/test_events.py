"""`afrex events`: the fleet's event log, filtered by tenant and date."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.events import Event, open_event_log
from tests.billing.fleet import Fleet

runner = CliRunner()
ACME, GLOBEX = "cust-acme-1767225600", "cust-globex-1767225600"


@pytest.fixture
def logged(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    monkeypatch.delenv("AFREX_EVENTS", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    log = open_event_log(fleet.root)
    onboarded = {"company": "[b]Acme[/b]", "tier": "growth", "agents": ["a1", "a2"]}
    log.record(Event("tenant.onboarded", ACME, onboarded, "ops", datetime(2026, 10, 1, tzinfo=UTC)))
    scaled = {
        "before": {"tier": "growth", "agentCount": 2},
        "after": {"tier": "enterprise", "agentCount": 4},
        "added": ["a3", "a4"],
        "effective": "2026-11-02T10:00:00Z",
    }
    log.record(Event("tenant.scaled", ACME, scaled, "ops", datetime(2026, 11, 2, 10, tzinfo=UTC)))
    log.record(Event("tenant.onboarded", GLOBEX, {}, "ops", datetime(2026, 11, 3, tzinfo=UTC)))
    return fleet


def test_json_filtered_by_tenant_and_since(logged: Fleet) -> None:
    result = runner.invoke(
        app, ["events", "--tenant", ACME, "--since", "2026-11-01", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)
    assert (event["kind"], event["who"], event["when"]) == (
        "tenant.scaled",
        "ops",
        "2026-11-02T10:00:00Z",
    )


def test_the_table_is_one_literal_line_per_event(logged: Fleet) -> None:
    result = runner.invoke(app, ["events"])
    assert result.exit_code == 0, result.output
    assert "[b]Acme[/b]: growth, 2 agent(s)" in result.stdout
    assert "growth x2 -> enterprise x4, from 2026-11-02T10:00:00Z (+a3, +a4)" in result.stdout
    assert "3 event(s)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["--tenant", "acme"], "--tenant 'acme' is not a tenant id"),
    ],
)
def test_bad_input_is_one_line(logged: Fleet, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["events", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {message}")
