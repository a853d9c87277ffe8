"""The operations commands on a mixed fleet: a Docker tenant whose agent runs on Podman,
and an ECS tenant deployed into moto's ECS, EFS and S3 over HTTP
(tests/afrex/ecsfleet.py). No command branches on the runtime: `fleet status`,
`issues`, `show`, `usage`, `sla check` and `backup create`/`restore` take both.

moto runs no container (tests/afrex/ecsfleet.py): the ECS agents' service tasks are
started by the test as ECS would start them and pinned RUNNING while a command reads
them; their gateway container is always HEALTHY in moto; one-off archive and restore
tasks are simulated by running their command (read back from moto) here, against a
local folder standing in for the agent's EFS access point.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import cloudwatch
from afrex.deployed import TenantView, read_tenant
from tests.afrex.backups.deployed import IMAGE, LABEL, PORT, DeployedFleet, agent_image, deployed
from tests.afrex.ecsfleet import (
    EcsPlatform,
    OneOffSimulator,
    deploy_ecs,
    make_platform,
    pinned_tasks,
    run_service_task,
    simulate_one_offs,
)
from tests.afrex.fleetview.livefleet import healthcheck
from tests.engine import engine
from tests.helpers import cli_heavy_imports, heavy_imports
from tests.services import free_port
from tests.statefixture import write_checkpoint

__all__ = ["agent_image", "deployed", "engine"]
runner = CliRunner()
WIDE = {"COLUMNS": "250"}
DOCKER = "cust-mixed-docker-1767225600"
ECS = "cust-mixed-ecs-1767225600"
STATE = "/home/node/.openclaw"


@dataclass
class Mixed:
    fleet: DeployedFleet
    platform: EcsPlatform
    endpoint: str
    docker: TenantView
    ecs: TenantView

    @property
    def ecs_agents(self) -> list[str]:
        return [agent.name for agent in self.ecs.agents]


def _docker_tenant(fleet: DeployedFleet) -> TenantView:
    """A starter tenant whose one agent runs on Podman, its gateway published on 127.0.0.1."""
    view = fleet.deploy(DOCKER, tier="starter", healthcheck=True)
    (agent,) = view.agents
    container = fleet.client.containers.get(agent.container)
    container.remove(force=True)
    port = free_port()
    fleet.client.containers.run(
        IMAGE,
        ["/bin/busybox", "httpd", "-f", "-p", str(PORT), "-h", "/www"],
        name=agent.container,
        detach=True,
        ports={f"{PORT}/tcp": ("127.0.0.1", port)},
        volumes={agent.volume: {"bind": STATE, "mode": "rw"}},
        labels={LABEL: "1", "afrex.tenant": DOCKER, "afrex.agent": agent.name},
        healthcheck={
            "test": ["CMD", "/bin/wget", "-q", "-O-", f"http://127.0.0.1:{PORT}/healthz"],
            "interval": 3600 * 10**9,
            "retries": 1,
        },
    )
    healthcheck(fleet, agent.container, expect_ok=True)
    assert view.state is not None
    outputs = dict(view.state.outputs)
    outputs["agents"] = [{**outputs["agents"][0], "gatewayAddress": f"127.0.0.1:{port}"}]
    write_checkpoint(fleet.root / "state", "afrex", DOCKER, outputs)
    return read_tenant(DOCKER)


@pytest.fixture
def mixed(deployed: DeployedFleet, aws_endpoint: str) -> Mixed:
    platform = make_platform()
    docker = _docker_tenant(deployed)
    ecs = deploy_ecs(deployed, platform, ECS, tier="growth")
    return Mixed(deployed, platform, aws_endpoint, docker, ecs)


@pytest.fixture
def running(mixed: Mixed) -> Iterator[Mixed]:
    """The ECS tenant's first and last agents' tasks running (pinned), the middle one none."""
    with pinned_tasks(mixed.endpoint):
        run_service_task(mixed.ecs, mixed.ecs_agents[0])
        run_service_task(mixed.ecs, mixed.ecs_agents[2])
        yield mixed


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), env=WIDE)
    assert "Traceback" not in result.output + str(result.stderr)
    return result


def test_fleet_status_issues_and_show_read_both_runtimes(running: Mixed) -> None:
    first, idle, last = running.ecs_agents
    status = invoke("fleet", "status", "--format", "json", "--timeout", "20")
    assert status.exit_code == 0, status.output
    rows = {row["tenant"]: row for row in json.loads(status.stdout)["tenants"]}
    assert rows[DOCKER]["agentDetail"] == {"general-assistant": "running"}
    assert rows[ECS]["agentDetail"] == {first: "running", idle: "stopped", last: "running"}

    issues = invoke("fleet", "issues", "--format", "json", "--timeout", "20")
    assert issues.exit_code == 1
    down = [i for i in json.loads(issues.stdout)["issues"] if i["kind"] == "agent-down"]
    (issue,) = down
    assert issue["tenant"] == ECS
    assert issue["detail"].startswith(f"{idle} (afrex-{ECS}-{idle}) is stopped on ECS cluster")

    show = invoke("fleet", "show", ECS, "--format", "json", "--timeout", "20")
    assert show.exit_code == 0, show.output
    data = json.loads(show.stdout)
    assert data["runtime"] == "ecs" and data["dockerHost"] == ""
    containers = {c["agent"]: c for c in data["containers"]}
    assert containers[first]["engine"] == "ECS cluster afrex-agents"
    assert containers[first]["health"] == "healthy"
    usage = {u["agent"]: u for u in data["usage"]}
    assert usage[first]["allocatedCpu"] == 1.0 and usage[first]["allocatedMemoryMb"] == 2048
    assert usage[first]["cpuCores"] is None and usage[first]["memoryMb"] is None
    assert "use not measured" in usage[first]["note"]
    assert data["unknown"] == []
    docker = json.loads(invoke("fleet", "show", DOCKER, "--format", "json").stdout)
    assert docker["runtime"] == "docker" and docker["dockerHost"].startswith("unix://")


def test_fleet_usage_gives_ecs_allocations_beside_docker_measurements(running: Mixed) -> None:
    result = invoke("fleet", "usage", "--format", "json", "--timeout", "20")
    assert result.exit_code == 0, result.output
    rows = {(r["tenant"], r["agent"]): r for r in json.loads(result.stdout)["agents"]}
    assert list(rows)[0][0] == DOCKER  # the fleet's order kept across runtimes
    docker = rows[(DOCKER, "general-assistant")]
    assert docker["memoryMb"] is not None and docker["note"] is None
    first, idle, _ = running.ecs_agents
    ecs = rows[(ECS, first)]
    assert (ecs["cpuLimit"], ecs["memoryLimitMb"]) == (1.0, 2048)  # the tier's Fargate size
    assert ecs["note"].startswith("task allocated 1 vCPU / 2048 MB (the tier's size)")
    assert rows[(ECS, idle)]["state"] == "stopped"
    assert rows[(ECS, idle)]["note"].startswith("no running task")


def _up_samples(tenant: str, agent: str, metric: str = "Up") -> list[float]:
    now = datetime.now(UTC)
    stats = cloudwatch().get_metric_statistics(
        Namespace="AfrexAI/Agents",
        MetricName=metric,
        Dimensions=[{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=7200,
        Statistics=["Sum"],
    )
    return [point["Sum"] for point in stats["Datapoints"]]


def test_sla_check_judges_docker_agents_by_http_and_ecs_agents_by_task_health(
    running: Mixed,
) -> None:
    first, idle, last = running.ecs_agents
    result = invoke("sla", "check", "--format", "json")
    assert result.exit_code == 1, result.output  # the ECS agent without a task is down
    data = json.loads(result.stdout)
    probes = {(p["tenant"], p["agent"]): p for p in data["probes"]}
    docker = probes[(DOCKER, "general-assistant")]
    assert docker["up"] and docker["httpStatus"] == 200
    ecs = probes[(ECS, first)]
    assert ecs["up"] and ecs["httpStatus"] is None and ecs["containerHealth"] == "healthy"
    assert ecs["reason"].startswith("judged by the ECS health check")
    assert not probes[(ECS, idle)]["up"]
    assert probes[(ECS, idle)]["reason"].startswith(f"service afrex-{ECS}-{idle} is stopped")
    assert data["metricsPublished"] == 4 + 1  # an Up per agent, a response time for Docker's
    assert _up_samples(ECS, first) == [1.0] and _up_samples(ECS, idle) == [0.0]
    assert _up_samples(ECS, first, "ResponseTimeMs") == []
    assert data["problems"] == []


def test_an_unreachable_aws_endpoint_leaves_docker_agents_known(
    mixed: Mixed, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", nowhere)
    result = invoke("fleet", "status", "--format", "json", "--timeout", "40", "--skip", "alarms",
                    "--skip", "backups")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {row["tenant"]: row for row in json.loads(result.stdout)["tenants"]}
    assert rows[DOCKER]["agentDetail"] == {"general-assistant": "running"}
    assert rows[ECS]["agentStates"]["unknown"] == 3
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    (line,) = lines
    assert line.startswith(f"warning: ECS cluster afrex-agents: cannot connect to ECS at {nowhere}")
    assert line.endswith("(1 tenant(s) unknown)")

    check = invoke("sla", "check", "--format", "json")
    data = json.loads(check.stdout)
    assert [(p["tenant"], p["up"]) for p in data["probes"]] == [(DOCKER, True)]
    assert "ECS cluster afrex-agents: 3 agent(s) not judged" in data["problems"][0]
    assert check.exit_code == 1


@pytest.fixture
def simulated(mixed: Mixed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OneOffSimulator:
    """One-off tasks run here (module docstring)."""
    return simulate_one_offs(tmp_path, monkeypatch)


def test_backup_create_and_restore_on_both_runtimes(
    mixed: Mixed, simulated: OneOffSimulator
) -> None:
    folders = {}
    for agent in mixed.ecs.agents:
        assert agent.ecs is not None
        folders[agent.name] = simulated.folder(agent.ecs.access_point, STATE)
        (folders[agent.name] / "memory.json").write_text(f'{{"agent": "{agent.name}"}}')
    mixed.fleet.sh(mixed.docker, "general-assistant", f"echo docker > {STATE}/memory.json")

    created = invoke("backup", "create", "--format", "json")
    assert created.exit_code == 0, created.output
    run = json.loads(created.stdout)
    assert run["created"] == 2 and run["failed"] == 0
    tenants = {t["tenant"]: t for t in run["tenants"]}
    assert len(tenants[ECS]["agents"]) == 3 and len(tenants[DOCKER]["agents"]) == 1
    backup = run["backupId"]

    listed = json.loads(invoke("backup", "list", "--tenant", ECS, "--format", "json").stdout)
    assert [(b["backupId"], b["complete"]) for b in listed["backups"]] == [(backup, True)]

    first = mixed.ecs_agents[0]
    (folders[first] / "memory.json").write_text("lost since the backup")
    restored = invoke("backup", "restore", "--tenant", ECS, "--backup-id", backup,
                      "--agent", first, "--yes", "--format", "json")  # fmt: skip
    assert restored.exit_code == 0, restored.output
    assert (folders[first] / "memory.json").read_text() == f'{{"agent": "{first}"}}'
    assert [a["agent"] for a in json.loads(restored.stdout)["restored"]] == [first]


def test_fleet_and_sla_on_ecs_load_no_pulumi_sdk(mixed: Mixed) -> None:
    """(The agents have no running task here: `sla check` exits 1, and still loads none.)"""
    assert not cli_heavy_imports(["fleet", "status"]) & {"pulumi", "pulumi_aws", "pulumi_docker"}
    probe = (
        "from typer.testing import CliRunner\n"
        "from afrex.cli.main import app\n"
        "assert CliRunner().invoke(app, ['sla', 'check']).exit_code == 1\n"
    )
    loaded = heavy_imports(probe)
    assert "boto3" in loaded and not loaded & {"pulumi", "pulumi_aws", "pulumi_docker"}


def test_the_tables_show_ecs_agents(running: Mixed) -> None:
    first, idle, _ = running.ecs_agents
    status = invoke("fleet", "status", "--timeout", "20")
    assert status.exit_code == 0 and "2 running, 1 stopped" in status.stdout
    show = invoke("fleet", "show", ECS, "--timeout", "20")
    assert show.exit_code == 0 and f"afrex-{ECS}-{idle}" in show.stdout
    assert "; ECS cluster " in show.stdout  # where it runs, not an empty Docker host
    usage = invoke("fleet", "usage", "--timeout", "20")
    assert usage.exit_code == 0 and first in usage.stdout
    assert "1 allocated / 1" in usage.stdout and "use not measured" in usage.stdout
    check = invoke("sla", "check")
    assert check.exit_code == 1 and "judged by the ECS health check" in check.stdout
