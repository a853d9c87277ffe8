"""Tenants on ECS, deployed into moto over HTTP, for the operations commands' tests.

`deploy_ecs` writes an ECS tenant's stack file (`runtime: ecs` on the code's platform
stack), runs the real program under mocks for its outputs and its resources, and
creates in moto what those name: the platform's VPC, subnets, security groups,
cluster and EFS file system (once per test), then per agent the EFS access point,
the task definition as the program registers it, and the service; the tenant's
bucket in S3 and its SLA topic in SNS. The outputs are rewritten to moto's ids and
ARNs and written as the stack's checkpoint in the project's `file://` backend.

What moto cannot do, and how the tests stand in for it (each test says which it
relies on):
- it runs no container. A service never starts a task: `run_service_task` starts one
  the way ECS would (RunTask with group `service:<name>`). A one-off task does
  nothing: `OneOffSimulator` runs the task's command, read back from moto (the
  registered definition's entry point and mounts, the RunTask's command override),
  as `python -m afrex.archive_task` on this machine, a local folder per access point
  standing in for the EFS mount. Network, IAM roles, EFS mounting and the image are
  not exercised.
- a task's state moves one step towards STOPPED each time it is described (moto's
  default state machine), so one-off tasks "end" after a few polls with exit code 0;
  `pinned_tasks` keeps tasks RUNNING instead. A container's health is always HEALTHY.
- services report running = desired as soon as the desired count is updated.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from afrex import clients
from afrex.deployed import TenantView, read_tenant
from afrex.ecs_oneoff import ENTRY_POINT, OneOffTask
from afrex.offline.runtime import PlannedResource, run_stack
from afrex.secretvalues import unwrap_secrets
from afrex.spec import PLATFORM_STACK_KEY
from afrex.stackfiles import find_project, read_stack
from tests.afrex.backups.deployed import DeployedFleet
from tests.statefixture import secret_marker, write_checkpoint

PLATFORM = "organization/afrex-platform/prod"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER_NAME = "afrex-agents"


@dataclass(frozen=True)
class EcsPlatform:
    """The platform's pieces, made in moto (they stand for the platform stack's outputs)."""

    cluster: str
    subnets: list[str]
    groups: list[str]
    file_system: str


def make_platform() -> EcsPlatform:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    # The platform's VPC has DNS hostnames (moto needs them to attach a task's interface).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.40.0.0/20", "us-east-1a"), ("10.40.16.0/20", "us-east-1b"))
    ]
    groups = [
        ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for name in ("tenant-agents", "efs-clients")
    ]
    file_system = clients.efs().create_file_system(CreationToken="afrex-state", Encrypted=True)
    cluster = clients.ecs().create_cluster(clusterName=CLUSTER_NAME)["cluster"]["clusterArn"]
    return EcsPlatform(str(cluster), subnets, groups, str(file_system["FileSystemId"]))


@pytest.fixture
def platform(on_moto: DeployedFleet) -> EcsPlatform:
    """The platform stack's outputs, once the fleet is on moto (`on_moto`)."""
    return make_platform()


Calls = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def ecs_calls() -> Iterator[Calls]:
    """Every ECS request the code makes, as sent (a botocore hook on boto3's session)."""
    seen: Calls = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, copy.deepcopy(params)))

    events = boto3._get_default_session().events
    events.register("provide-client-params.ecs", record, unique_id="afrex-test-ecs-calls")
    try:
        yield seen
    finally:
        events.unregister("provide-client-params.ecs", unique_id="afrex-test-ecs-calls")


def write_ecs_stack(fleet: DeployedFleet, tenant_id: str, **tenant: Any) -> Path:
    fleet.add_stack(tenant_id, **tenant)
    path = fleet.root / "stacks" / f"Pulumi.{tenant_id}.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["afrex:tenant"]["runtime"] = "ecs"
    data["config"][PLATFORM_STACK_KEY] = PLATFORM
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def register_task(ecs: Any, task: dict[str, Any], file_system: str, access_point: str) -> str:
    """Register a planned task definition (its inputs, secrets unwrapped) in moto's ECS,
    its EFS volume pointed at `file_system` and `access_point` (the plan's ids are
    placeholders); its ARN."""
    volumes = json.loads(json.dumps(task["volumes"]))
    efs_volume = volumes[0]["efsVolumeConfiguration"]
    efs_volume["fileSystemId"] = file_system
    efs_volume["authorizationConfig"]["accessPointId"] = access_point
    registered = ecs.register_task_definition(
        family=task["family"],
        containerDefinitions=json.loads(task["containerDefinitions"]),
        cpu=task["cpu"],
        memory=task["memory"],
        networkMode=task["networkMode"],
        requiresCompatibilities=task["requiresCompatibilities"],
        runtimePlatform=task["runtimePlatform"],
        executionRoleArn=task["executionRoleArn"],
        taskRoleArn=task["taskRoleArn"],
        volumes=volumes,
        tags=[{"key": k, "value": v} for k, v in task["tags"].items()],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def _network(platform: EcsPlatform) -> Any:
    return {
        "awsvpcConfiguration": {
            "subnets": platform.subnets,
            "securityGroups": platform.groups,
            "assignPublicIp": "DISABLED",
        }
    }


def _deploy_agent(platform: EcsPlatform, agent: dict[str, Any], task: PlannedResource) -> None:
    owner = 200000 + len(agent["name"])
    point = clients.efs().create_access_point(
        ClientToken=agent["stateRoot"],
        FileSystemId=platform.file_system,
        PosixUser={"Uid": owner, "Gid": owner},
        RootDirectory={"Path": agent["stateRoot"]},
    )
    ecs = clients.ecs()
    inputs = dict(unwrap_secrets(task.inputs))
    task_arn = register_task(ecs, inputs, platform.file_system, str(point["AccessPointId"]))
    service = ecs.create_service(
        cluster=platform.cluster,
        serviceName=agent["serviceName"],
        taskDefinition=task_arn,
        desiredCount=1,
        launchType="FARGATE",
        platformVersion="1.4.0",
        networkConfiguration=_network(platform),
    )["service"]
    agent.update(
        service=service["serviceArn"],
        taskDefinition=task_arn,
        accessPoint=point["AccessPointId"],
        accessPointArn=point["AccessPointArn"],
        volume=point["AccessPointId"],
    )


def deploy_ecs(
    fleet: DeployedFleet,
    platform: EcsPlatform,
    tenant_id: str,
    tier: str = "starter",
    **tenant: Any,
) -> TenantView:
    """An ECS tenant deployed into moto (see the module docstring); its view."""
    tenant.setdefault("vertical", "general")
    path = write_ecs_stack(fleet, tenant_id, tier=tier, **tenant)
    planned = run_stack(read_stack(path), find_project(fleet.root))
    assert planned.error is None, planned.error
    outputs: dict[str, Any] = json.loads(json.dumps(planned.outputs))
    for key in planned.secret_outputs:
        outputs[key] = secret_marker()
    tasks = {r.inputs["family"]: r for r in planned.resources if r.type == TASK}
    for agent in outputs["agents"]:
        _deploy_agent(platform, agent, tasks[agent["taskFamily"]])
    outputs["cluster"] = platform.cluster
    outputs["ecs"].update(
        cluster=platform.cluster,
        clusterName=CLUSTER_NAME,
        subnets=platform.subnets,
        securityGroups=platform.groups,
        fileSystemId=platform.file_system,
    )
    clients.s3().create_bucket(Bucket=outputs["bucketName"])
    clients.sns().create_topic(Name=outputs["snsTopicArn"].rpartition(":")[2])
    write_checkpoint(fleet.root / "state", "afrex", tenant_id, outputs)
    return read_tenant(tenant_id)


def run_service_task(view: TenantView, agent: str) -> str:
    """Start the agent's service task as ECS would (moto's services start none)."""
    placement, deployed = view.ecs, view.agent(agent)
    assert placement is not None and deployed.ecs is not None
    task = clients.ecs().run_task(
        cluster=placement.cluster,
        taskDefinition=deployed.ecs.task_definition,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(placement.subnets),
                "securityGroups": list(placement.security_groups),
                "assignPublicIp": "DISABLED",
            }
        },
        group=f"service:{deployed.ecs.service_name}",
        startedBy="ecs-svc/1",
    )["tasks"][0]
    return str(task["taskArn"])


def _moto_api(endpoint: str, action: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/state-manager/{action}",
        data=json.dumps(body).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@contextmanager
def pinned_tasks(endpoint: str) -> Iterator[None]:
    """moto's tasks stay as they are (RUNNING) however often they are described."""
    _moto_api(endpoint, "set-transition", {"model_name": "ecs::task", "transition": {
        "progression": "manual", "times": 10**9}})  # fmt: skip
    try:
        yield
    finally:
        _moto_api(endpoint, "unset-transition", {"model_name": "ecs::task"})


@dataclass
class LocalRun:
    """A one-off task's command, as run here in its place."""

    task: OneOffTask
    command: list[str]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class OneOffSimulator:
    """Runs each one-off task's command locally (see the module docstring): the task's
    definition and command override are read back from moto, the state mount is the
    access point's folder under `efs`, the scratch mount a folder under `scratch`."""

    efs: Path
    scratch: Path
    runs: list[LocalRun] = field(default_factory=list)

    def folder(self, access_point: str, state_path: str) -> Path:
        """The local stand-in for an access point mounted at `state_path` (same name)."""
        path = self.efs / access_point / Path(state_path).name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, ecs: Any, cluster: str, task: OneOffTask) -> LocalRun:
        (described,) = ecs.describe_tasks(cluster=cluster, tasks=[task.arn])["tasks"]
        (override,) = described["overrides"]["containerOverrides"]
        definition = ecs.describe_task_definition(taskDefinition=described["taskDefinitionArn"])
        definition = definition["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        assert container["name"] == override["name"] and container["entryPoint"] == ENTRY_POINT
        mounts = {}
        for volume in definition["volumes"]:
            for point in container["mountPoints"]:
                if point["sourceVolume"] != volume["name"]:
                    continue
                efs = volume.get("efsVolumeConfiguration")
                local = (
                    self.folder(efs["authorizationConfig"]["accessPointId"], point["containerPath"])
                    if efs
                    else self.scratch
                )
                mounts[point["containerPath"]] = str(local)
        command = [mounts.get(argument, argument) for argument in override["command"]]
        done = subprocess.run(
            [sys.executable, "-m", "afrex.archive_task", *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        run = LocalRun(task, command, done.returncode, done.stdout, done.stderr)
        self.runs.append(run)
        return run


def simulate_one_offs(folder: Path, monkeypatch: pytest.MonkeyPatch) -> OneOffSimulator:
    """From now on, every one-off task afrex/ecs_backup.py starts through moto also has its
    command run here (`OneOffSimulator`), and waits poll every 10 ms."""
    from afrex import ecs_backup, ecs_oneoff

    simulator = OneOffSimulator(folder / "efs", folder / "scratch")
    simulator.scratch.mkdir(parents=True)

    def start(ecs: Any, view: TenantView, *args: Any) -> OneOffTask:
        task = ecs_oneoff.start(ecs, view, *args)
        assert view.ecs is not None
        simulator.run(ecs, view.ecs.cluster, task)
        return task

    monkeypatch.setattr(ecs_backup, "start", start)
    monkeypatch.setattr(ecs_oneoff, "POLL_S", 0.01)
    monkeypatch.setattr(ecs_backup, "POLL_S", 0.01)
    return simulator
