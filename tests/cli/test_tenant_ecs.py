"""`afrex tenant new --runtime ecs [--platform-stack NAME]`: a stack file for a tenant on
the ECS platform (no Docker host; the local profile's endpoints cover its services),
read back through the door and planned offline; bad combinations are one line, exit 2,
nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.events import open_event_log
from afrex.spec import PLATFORM_STACK_KEY
from afrex.tenants import load_tenant
from tests.billing.fleet import Fleet, ready_to_onboard

runner = CliRunner()
NEW = ["tenant", "new", "--name", "Acme Legal", "--email", "ceo@acme.example", "--tier"]


@pytest.fixture
def project(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    return ready_to_onboard(fleet, monkeypatch)


def written(fleet: Fleet) -> dict[str, Any]:
    (path,) = (fleet.root / "stacks").glob("Pulumi.cust-*.yaml")
    config: dict[str, Any] = yaml.safe_load(path.read_text())["config"]
    return config


def test_an_ecs_tenant_on_the_local_platform(project: Fleet) -> None:
    result = runner.invoke(
        app, [*NEW, "growth", "--vertical", "legal", "--runtime", "ecs", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runtime"] == "ecs"
    assert data["platformStack"] == "organization/afrex-platform/local"
    assert any("organization/afrex-platform/local must be up first" in s for s in data["nextSteps"])
    config = written(project)
    assert config["afrex:tenant"]["runtime"] == "ecs"
    assert config[PLATFORM_STACK_KEY] == "organization/afrex-platform/local"
    assert "docker:host" not in config
    (endpoints,) = config["aws:endpoints"]
    assert {"ecs", "efs", "ec2", "cloudwatchlogs", "secretsmanager", "s3", "iam"} <= set(endpoints)
    tenant = load_tenant(data["tenant"])  # the door reads it as every command will
    assert tenant.spec.runtime == "ecs"
    (event,) = open_event_log(project.root).read()
    assert event.details["runtime"] == "ecs"


def test_an_ecs_tenant_on_aws_names_its_platform(project: Fleet) -> None:
    result = runner.invoke(
        app,
        [*NEW, "starter", "--vertical", "general", "--runtime", "ecs", "--profile", "aws",
         "--platform-stack", "organization/afrex-platform/prod"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "on ECS (organization/afrex-platform/prod)" in result.stdout
    config = written(project)
    assert config[PLATFORM_STACK_KEY] == "organization/afrex-platform/prod"
    assert "docker:host" not in config and "aws:region" in config


def test_a_docker_tenant_is_written_as_before(project: Fleet) -> None:
    result = runner.invoke(app, [*NEW, "starter", "--vertical", "general"])
    assert result.exit_code == 0, result.output
    config = written(project)
    assert "runtime" not in config["afrex:tenant"]
    assert PLATFORM_STACK_KEY not in config and "docker:host" in config


def test_a_dry_run_plans_the_ecs_tenant_offline(project: Fleet) -> None:
    result = runner.invoke(
        app, [*NEW, "starter", "--vertical", "general", "--runtime", "ecs", "--dry-run"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "aws:ecs:Service" in result.stdout and "docker:index:Container" not in result.stdout
    assert project.files() == ["Pulumi.yaml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runtime", "ecs", "--docker-host", "ssh://agents-07"], "--docker-host is for docker"),
        (["--platform-stack", "organization/afrex-platform/prod"], "is for --runtime ecs"),
        (["--runtime", "ecs", "--profile", "aws"], "--runtime ecs with --profile aws needs"),
        (
            ["--runtime", "ecs", "--platform-stack", "prod"],
            "--platform-stack: 'prod' is not <organization>/<project>/<stack>",
        ),
    ],
)
def test_bad_combinations_are_one_line_exit_2_and_write_nothing(
    project: Fleet, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*NEW, "growth", "--vertical", "legal", *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0]
    assert project.files() == ["Pulumi.yaml"]
