"""Backups, scale-down archives and restores of agents on ECS, against moto's ECS, EFS
and S3 over HTTP.

What is real: every ECS request the code makes (RegisterTaskDefinition, RunTask,
DescribeTasks, UpdateService, StopTask, ...) goes to moto, which checks and stores
it; the tests read back what moto holds (the registered definition, the task's
overrides) and the requests as sent. The archives, checksums and manifests are
written to moto's S3 by the very entry point the tasks run.

What is simulated, because moto runs no container: the one-off task's effect.
tests/afrex/ecsfleet.py's `OneOffSimulator` takes each task's command back from
moto (the definition's entry point and mounts, the RunTask command override) and
runs it here as `python -m afrex.archive_task`, a local folder per EFS access
point standing in for the mount. So the task's network, IAM roles, EFS mounting and
the ops image itself are not exercised; moto then reports the task STOPPED with exit
code 0 after a few polls, and the service's tasks are started by the test as ECS
would start them.
"""

from __future__ import annotations

import copy
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from afrex import ecs_backup, ecs_oneoff
from afrex.backups.create import create_backups
from afrex.backups.restore import restore_backup
from afrex.backups.store import read_manifest
from afrex.catalog import load_catalog
from afrex.cli.main import app
from afrex.clients import ecs as ecs_client
from afrex.clients import s3
from afrex.deployed import TenantView, read_tenant
from afrex.ecs_oneoff import OneOffTask, TaskEnd, failure
from afrex.errors import BadInput, OperationFailed
from afrex.events import open_event_log
from tests.afrex.backups.deployed import DeployedFleet, on_moto
from tests.afrex.ecsfleet import (
    Calls,
    EcsPlatform,
    OneOffSimulator,
    deploy_ecs,
    ecs_calls,
    platform,
    run_service_task,
    simulate_one_offs,
)
from tests.statefixture import write_checkpoint

__all__ = ["ecs_calls", "on_moto", "platform"]
TENANT = "cust-ecs-backup-1767225600"
STATE = load_catalog().gateway.state_path
runner = CliRunner()


@pytest.fixture
def simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OneOffSimulator:
    """One-off tasks started through moto, their command run here (module docstring)."""
    return simulate_one_offs(tmp_path, monkeypatch)


def state_of(simulator: OneOffSimulator, view: TenantView, agent: str) -> Path:
    deployed = view.agent(agent)
    assert deployed.ecs is not None
    return simulator.folder(deployed.ecs.access_point, STATE)


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def fill(folder: Path, agent: str) -> dict[str, bytes]:
    (folder / "agents").mkdir(exist_ok=True)
    (folder / "agents" / "sessions.json").write_text(f'{{"agent": "{agent}"}}\n')
    (folder / "openclaw.json").write_text('{"gateway": {}}\n')
    return files(folder)


def archived_files(bucket: str, key: str, tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "check.tar.gz"
    path.write_bytes(s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    found = {}
    with tarfile.open(path) as tar:
        for member in tar:
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                found[member.name.removeprefix(".openclaw/")] = extracted.read()
    return found


def calls_of(calls: Calls, name: str) -> list[dict[str, Any]]:
    return [params for operation, params in calls if operation == name]


def test_backup_create_runs_an_archive_task_per_agent_into_the_docker_layout(
    on_moto: DeployedFleet,
    platform: EcsPlatform,
    simulator: OneOffSimulator,
    ecs_calls: Calls,
    tmp_path: Path,
) -> None:
    view = deploy_ecs(on_moto, platform, TENANT, tier="growth")
    wanted = {a.name: fill(state_of(simulator, view, a.name), a.name) for a in view.agents}
    ecs_calls.clear()

    run = create_backups(TENANT, now=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))

    (result,) = run.tenants
    assert result.status == "created", result.reason
    bucket = str(view.bucket)
    manifest = read_manifest(s3(), bucket, TENANT, "20261102-030405")
    assert manifest is not None and [a.agent for a in manifest.agents] == list(wanted)
    for archived in manifest.agents:  # the Docker path's keys, and what the folders held
        assert archived.key == f"backups/20261102-030405/{archived.agent}.tar.gz"
        assert archived_files(bucket, archived.key, tmp_path) == wanted[archived.agent]
    assert [r.returncode for r in simulator.runs] == [0, 0, 0]

    placement = view.ecs
    assert placement is not None
    runs = calls_of(ecs_calls, "RunTask")
    assert len(runs) == 3  # one task per agent, all started, then waited for together
    waits = [
        i for i, (n, p) in enumerate(ecs_calls) if n == "DescribeTasks" and len(p["tasks"]) == 3
    ]
    assert waits and waits[0] > max(i for i, (n, _) in enumerate(ecs_calls) if n == "RunTask")
    for request, agent in zip(runs, view.agents, strict=True):
        assert request["cluster"] == placement.cluster and request["launchType"] == "FARGATE"
        assert request["platformVersion"] == "1.4.0" and request["count"] == 1
        assert request["networkConfiguration"] == {
            "awsvpcConfiguration": {
                "subnets": list(placement.subnets),
                "securityGroups": list(placement.security_groups),
                "assignPublicIp": "DISABLED",
            }
        }
        (override,) = request["overrides"]["containerOverrides"]
        assert override["command"][:3] == ["archive", "--source", STATE]
        assert {"key": "afrex:agent", "value": agent.name} in request["tags"]
    for registered, agent in zip(
        calls_of(ecs_calls, "RegisterTaskDefinition"), view.agents, strict=True
    ):
        assert agent.ecs is not None
        assert registered["family"] == f"{agent.ecs.task_family}-archive"
        assert registered["taskRoleArn"] == placement.task_role_arn  # write-only to the bucket
        assert registered["executionRoleArn"] == placement.execution_role_arn
        (container,) = registered["containerDefinitions"]
        assert container["user"] == "1000:1000" and container["readonlyRootFilesystem"]
        assert container["privileged"] is False
        assert container["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
        assert container["image"] == load_catalog().fargate.ops_image.reference
        assert container["mountPoints"][0] == {
            "sourceVolume": "state", "containerPath": STATE, "readOnly": True,
        }  # fmt: skip
        assert container["logConfiguration"]["options"]["awslogs-group"] == placement.log_group
        state, _scratch = registered["volumes"]
        assert state["efsVolumeConfiguration"] == {
            "fileSystemId": placement.file_system_id,
            "transitEncryption": "ENABLED",
            "authorizationConfig": {"accessPointId": agent.ecs.access_point, "iam": "ENABLED"},
        }

    ecs_calls.clear()
    again = create_backups(TENANT, now=datetime(2026, 11, 2, 4, 0, 0, tzinfo=UTC))
    assert again.tenants[0].status == "created"
    assert calls_of(ecs_calls, "RegisterTaskDefinition") == []  # the same definitions reused


def test_a_task_that_wrote_nothing_fails_the_tenant_in_one_line(
    on_moto: DeployedFleet, platform: EcsPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No simulation here: moto "runs" the task (it stops with exit 0 and does nothing)."""
    monkeypatch.setattr(ecs_oneoff, "POLL_S", 0.01)
    deploy_ecs(on_moto, platform, TENANT, tier="starter")
    run = create_backups(TENANT)
    (result,) = run.tenants
    assert result.status == "failed" and result.reason is not None
    assert "ended without writing s3://afrex-backups-" in result.reason
    assert "/afrex/tenants/" + TENANT in result.reason and "\n" not in result.reason
    kinds = [e.kind for e in open_event_log(on_moto.root).read(tenant=TENANT)]
    assert kinds == ["backup.failed"]


def test_a_task_ending_badly_is_named_with_its_log() -> None:
    task = OneOffTask("researcher", "archive", "arn:aws:ecs:us-east-1:1:task/c/abc123", "/afrex/t")
    end = ecs_oneoff._end(
        task,
        {"stoppedReason": "Essential container in task exited",
         "containers": [{"name": "afrex-ops", "exitCode": 1, "reason": "OutOfMemoryError"}]},
    )  # fmt: skip
    assert end == TaskEnd(task, 1, "Essential container in task exited; OutOfMemoryError")

    class View:
        id = "cust-x-1767225600"

    text = failure(end, View())  # type: ignore[arg-type]
    assert text == (
        "the archive task of agent researcher of cust-x-1767225600 ended with exit 1: "
        "Essential container in task exited; OutOfMemoryError (its log group /afrex/t, "
        "stream researcher-archive/afrex-ops/abc123)"
    )


def test_scale_down_archives_the_ecs_agent_before_the_stack_file_changes(
    on_moto: DeployedFleet, platform: EcsPlatform, simulator: OneOffSimulator
) -> None:
    view = deploy_ecs(on_moto, platform, TENANT, tier="growth")
    last = view.agents[-1].name
    wanted = fill(state_of(simulator, view, last), last)
    result = runner.invoke(
        app, ["scale", "down", "--tenant", TENANT, "--remove", "1", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    listed = s3().list_objects_v2(Bucket=str(view.bucket), Prefix="archived-agents/")
    keys = sorted(item["Key"] for item in listed["Contents"])
    assert len(keys) == 2 and keys[0].startswith(f"archived-agents/{last}/")
    assert keys[1] == keys[0] + ".sha256"
    assert archived_files(str(view.bucket), keys[0], simulator.scratch) == wanted
    events = open_event_log(on_moto.root).read(tenant=TENANT)
    assert [e.kind for e in events][:1] == ["agent.archived"]


def test_restore_scales_the_service_down_runs_a_restore_task_and_waits_for_it(
    on_moto: DeployedFleet,
    platform: EcsPlatform,
    simulator: OneOffSimulator,
    ecs_calls: Calls,
) -> None:
    view = deploy_ecs(on_moto, platform, TENANT, tier="starter")
    (agent,) = view.agents
    folder = state_of(simulator, view, agent.name)
    backed_up = fill(folder, agent.name)
    run = create_backups(TENANT, now=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))
    assert run.tenants[0].status == "created"
    (folder / "openclaw.json").write_text("changed since the backup")
    (folder / "new.txt").write_text("made since the backup")
    task = run_service_task(view, agent.name)  # the gateway's task, as ECS runs it
    ecs_calls.clear()

    result = restore_backup(TENANT, "20261102-030405", wait_seconds=30)

    assert files(folder) == backed_up
    (restored,) = result.agents
    assert (restored.agent, restored.container, restored.state) == (
        agent.name, agent.container, "running",
    )  # fmt: skip
    placement = view.ecs
    assert placement is not None and agent.ecs is not None
    updates = calls_of(ecs_calls, "UpdateService")
    assert updates == [
        {"cluster": placement.cluster, "service": agent.container, "desiredCount": 0},
        {"cluster": placement.cluster, "service": agent.container, "desiredCount": 1,
         "forceNewDeployment": True},
    ]  # fmt: skip
    (stopped,) = calls_of(ecs_calls, "StopTask")
    assert stopped["task"] == task and "backup restore" in stopped["reason"]
    names = [n for n, _ in ecs_calls]
    assert names.index("StopTask") < names.index("RunTask")  # one writer on the state
    (registered,) = calls_of(ecs_calls, "RegisterTaskDefinition")
    assert registered["family"] == f"{agent.ecs.task_family}-restore"
    assert registered["taskRoleArn"] == placement.restore_role_arn != placement.task_role_arn
    assert registered["containerDefinitions"][0]["mountPoints"][0]["readOnly"] is False
    (request,) = calls_of(ecs_calls, "RunTask")
    command = request["overrides"]["containerOverrides"][0]["command"]
    assert command[:3] == ["restore", "--target", STATE] and "--sha256" in command
    assert simulator.runs[-1].returncode == 0
    kinds = [e.kind for e in open_event_log(on_moto.root).read(tenant=TENANT)]
    assert kinds[-1] == "backup.restored"


def test_restore_needs_the_restore_role_and_changes_nothing_without_it(
    on_moto: DeployedFleet, platform: EcsPlatform, simulator: OneOffSimulator
) -> None:
    view = deploy_ecs(on_moto, platform, TENANT, tier="starter")
    (agent,) = view.agents
    fill(state_of(simulator, view, agent.name), agent.name)
    create_backups(TENANT, now=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))
    assert view.state is not None
    outputs = copy.deepcopy(view.state.outputs)
    del outputs["ecs"]["restoreRoleArn"]  # deployed before restore roles existed
    write_checkpoint(on_moto.root / "state", "afrex", TENANT, outputs)
    before = ecs_client().describe_services(cluster=platform.cluster, services=[agent.container])

    with pytest.raises(OperationFailed) as failed:
        restore_backup(TENANT, "20261102-030405")
    assert "deployed without a restore role" in str(failed.value)
    assert "afrex up -s " + TENANT in str(failed.value)
    after = ecs_client().describe_services(cluster=platform.cluster, services=[agent.container])
    assert after["services"][0]["desiredCount"] == before["services"][0]["desiredCount"] == 1


def test_an_ecs_tenant_without_a_cluster_in_its_outputs_is_told_to_redeploy(
    on_moto: DeployedFleet, platform: EcsPlatform
) -> None:
    view = deploy_ecs(on_moto, platform, TENANT, tier="starter")
    assert view.state is not None
    outputs = copy.deepcopy(view.state.outputs)
    outputs["ecs"]["subnets"] = []
    write_checkpoint(on_moto.root / "state", "afrex", TENANT, outputs)
    with pytest.raises(BadInput, match="redeploy it"):
        ecs_backup.archive_on_ecs(
            read_tenant(TENANT), {"general-assistant": "k"}, s3(), load_catalog()
        )
