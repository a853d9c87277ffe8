"""`afrex fleet ...` on Podman, moto (CloudWatch, S3) and file:// / s3:// backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import s3
from tests.afrex.backups.deployed import DeployedFleet, agent_image, deployed
from tests.afrex.fleetview.livefleet import (
    ALPHA,
    BRAVO,
    CHARLIE,
    DELTA,
    HEALTHY,
    NOWHERE,
    STOPPED,
    UNHEALTHY,
    LiveFleet,
    healthcheck,
    lifecycle,
    live_fleet,
)
from tests.engine import engine
from tests.helpers import ROOT, cli_heavy_imports
from tests.services import free_port

__all__ = ["agent_image", "deployed", "engine", "live_fleet"]
runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def warnings(result: object) -> list[str]:
    stderr = str(getattr(result, "stderr", ""))
    assert "Traceback" not in stderr
    return [ln for ln in stderr.splitlines() if ln.strip()]


def test_issues_exit_1_with_every_kind_and_name_the_unreachable_engine(
    live_fleet: LiveFleet,
) -> None:
    result = runner.invoke(app, ["fleet", "issues", "--format", "json", "--timeout", "20"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    kinds = {(i["tenant"], i["kind"]) for i in data["issues"]}
    assert {(ALPHA, "agent-down"), (ALPHA, "agent-unhealthy"), (ALPHA, "alarm")} <= kinds
    assert {(BRAVO, "never-deployed"), (CHARLIE, "drifted"), (CHARLIE, "no-lifecycle")} <= kinds
    assert (CHARLIE, "catalog-changed") in kinds and not any(t == DELTA for t, _ in kinds)
    (line,) = warnings(result)
    assert line.startswith(f"warning: Docker engine {NOWHERE}: ") and "1 tenant(s) unknown" in line
    assert data["sources"]["unknown"][0]["tenants"] == [DELTA]


def test_status_table_and_json(live_fleet: LiveFleet) -> None:
    result = runner.invoke(app, ["fleet", "status", "--timeout", "20"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "1 running, 1 unhealthy, 1 stopped" in result.stdout
    assert "1 ALARM:" in result.stdout and live_fleet.firing in result.stdout
    assert "not deployed" in result.stdout and "drifted" in result.stdout
    data = json.loads(runner.invoke(app, ["fleet", "status", "--format", "json"]).stdout)
    rows = {row["tenant"]: row for row in data["tenants"]}
    assert rows[ALPHA]["agentDetail"] == {
        HEALTHY: "running",
        STOPPED: "stopped",
        UNHEALTHY: "unhealthy",
    }
    assert rows[DELTA]["agentStates"]["unknown"] == 1


def test_summary_counts_revenue_and_top_problems(live_fleet: LiveFleet) -> None:
    result = runner.invoke(app, ["fleet", "summary", "--format", "json", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tenants"] == 4 and data["deployment"] == {
        "deployed": 2,
        "drifted": 1,
        "not deployed": 1,
    }
    assert data["agentStates"]["running"] == 1 and data["alarmsFiring"] == 1
    assert data["mrr"] == "9500.00" and data["arrGoal"] == "11000000.00"  # 4500 + 3 x 1500 + 500
    assert data["topProblems"][0] == {
        "kind": "agent-down",
        "title": "agent not running",
        "count": 2,
        "tenants": [ALPHA, CHARLIE],
    }
    table = runner.invoke(app, ["fleet", "summary"], env=WIDE)
    assert "MRR $9,500.00, ARR $114,000.00" in table.stdout


def test_show_one_tenant_with_its_use_and_events(live_fleet: LiveFleet) -> None:
    result = runner.invoke(app, ["fleet", "show", ALPHA, "--format", "json", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    usage = {u["agent"]: u for u in data["usage"]}
    assert usage[HEALTHY]["state"] == "running" and usage[HEALTHY]["memoryMb"] is not None
    assert usage[HEALTHY]["memoryLimitMb"] == 1536 and usage[HEALTHY]["restarts"] == 0
    assert usage[STOPPED]["state"] == "exited" and usage[STOPPED]["cpuCores"] is None
    assert data["backupLifecycle"]["state"] == "ok"
    assert {a["name"] for a in data["alarms"] if a["state"] == "ALARM"} >= {live_fleet.firing}
    table = runner.invoke(app, ["fleet", "show", ALPHA], env=WIDE)
    assert table.exit_code == 0 and "issue: SLA alarm in ALARM" in table.stdout


def test_usage_per_agent_against_the_tier(live_fleet: LiveFleet) -> None:
    result = runner.invoke(app, ["fleet", "usage", "--format", "json", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    rows = {(r["tenant"], r["agent"]): r for r in json.loads(result.stdout)["agents"]}
    assert rows[(ALPHA, HEALTHY)]["cpuLimit"] == 1.0
    assert rows[(CHARLIE, "general-assistant")]["state"] == "missing"
    assert rows[(DELTA, "general-assistant")]["state"] == "unknown"
    assert any(NOWHERE in line for line in warnings(result))


def test_list_needs_no_live_source(live_fleet: LiveFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["fleet", "list"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert warnings(result) == [] and "4 tenant(s), MRR $9,500.00" in result.stdout


def test_unreachable_cloudwatch_and_s3_are_unknown_and_the_rest_comes_back(
    live_fleet: LiveFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["fleet", "status", "--format", "json", "--skip", "docker"])
    assert result.exit_code == 0, result.output
    rows = {row["tenant"]: row for row in json.loads(result.stdout)["tenants"]}
    assert rows[ALPHA]["alarmsFiring"] is None and rows[ALPHA]["deployment"] == "deployed"
    (line,) = warnings(result)
    assert line.startswith("warning: CloudWatch: cannot connect to CloudWatch at http://127.0.0.1:")
    issues = runner.invoke(app, ["fleet", "issues", "--skip", "docker", "--skip", "alarms"])
    assert issues.exit_code == 1  # never deployed, drifted: known without S3
    assert [ln for ln in warnings(issues) if "S3" in ln][0].startswith("warning: S3 (backup")


def test_bad_skip_and_timeout_are_bad_input(live_fleet: LiveFleet) -> None:
    result = runner.invoke(app, ["fleet", "status", "--timeout", "0"])
    assert result.exit_code == 2
    assert warnings(result) == ["error: --timeout 0.0 is not a number of seconds; use e.g. 10"]
    unknown = runner.invoke(app, ["fleet", "show", "cust-nobody-1767225600"])
    assert unknown.exit_code == 2 and "unknown stack cust-nobody-1767225600" in unknown.stderr


@pytest.fixture
def healthy(deployed: DeployedFleet) -> DeployedFleet:
    """One deployed tenant with nothing wrong."""
    view = deployed.deploy("cust-all-good-1767225600", tier="starter", healthcheck=True)
    for agent in view.agents:
        healthcheck(deployed, agent.container, expect_ok=True)
    lifecycle(str(view.bucket), 90)
    return deployed


def test_a_fleet_without_issues_exits_0(healthy: DeployedFleet) -> None:
    result = runner.invoke(app, ["fleet", "issues", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    assert "0 issue(s) on 0 of 1 tenant(s)" in result.stdout and warnings(result) == []


def test_the_same_state_in_an_s3_backend(
    healthy: DeployedFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3().create_bucket(Bucket="afrex-state")
    state = healthy.root / "state"
    for path in state.rglob("*"):
        if path.is_file():
            key = str(path.relative_to(state))
            s3().put_object(Bucket="afrex-state", Key=f"fleet/{key}", Body=path.read_bytes())
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://afrex-state/fleet")
    monkeypatch.setenv("AFREX_EVENTS", str(healthy.root / "events"))
    result = runner.invoke(app, ["fleet", "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["tenants"]
    assert row["deployment"] == "deployed" and row["agentStates"]["running"] == 1
    for path in state.rglob("*.json"):
        path.unlink()  # the file:// copy is gone: only S3 answers
    again = runner.invoke(app, ["fleet", "issues"])
    assert again.exit_code == 0, again.output


def test_fleet_and_events_never_import_the_infrastructure_sdks(live_fleet: LiveFleet) -> None:
    pre = f"import os; os.environ['AFREX_PROJECT'] = {str(live_fleet.root)!r}\n"
    heavy = {"pulumi", "pulumi_aws", "pulumi_docker"}
    for args in (["fleet", "list"], ["fleet", "status", "--skip", "docker"], ["events"]):
        assert cli_heavy_imports(args, pre) & heavy == set(), args


def test_the_probe_sees_pulumi_docker(tmp_path: Path) -> None:
    assert "pulumi_docker" in cli_heavy_imports(["--help"], pre="import pulumi_docker\n")


def test_a_fresh_process_prints_nothing_on_stderr(healthy: DeployedFleet) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "afrex.cli.main", "fleet", "summary", "--timeout", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
