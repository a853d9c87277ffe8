"""What the program registers for an ECS tenant, sent to the ECS and EFS APIs as the
provider sends it: botocore checks every request against the services' own models
(an unknown or mistyped field in a container definition is refused before it leaves)
and moto, over HTTP, stores and reads it back. This is also how the operations
commands will find an ECS tenant's services: cluster, service names and access
points come from the stack's outputs.

moto keeps the definitions but runs no task (no Fargate here): task health, the EFS
mount and the secret's injection are not exercised.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from afrex import clients
from afrex.offline.runtime import PlannedResource, PlannedStack
from afrex.secretvalues import unwrap_secrets
from afrex.stackfiles import Project
from tests.afrex.ecsfleet import register_task
from tests.components.ecs_stacks import of_type, run_ecs

TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"


@pytest.fixture(scope="module")
def growth(project: Project) -> PlannedStack:
    return run_ecs(project, "growth")


def plain(resource: PlannedResource) -> dict[str, Any]:
    return dict(unwrap_secrets(resource.inputs))


def _access_point(efs: Any, file_system: str, point: dict[str, Any]) -> str:
    root, user = point["rootDirectory"], point["posixUser"]
    info = root["creationInfo"]
    made = efs.create_access_point(
        FileSystemId=file_system,
        PosixUser={"Uid": int(user["uid"]), "Gid": int(user["gid"])},
        RootDirectory={
            "Path": root["path"],
            "CreationInfo": {
                "OwnerUid": int(info["ownerUid"]),
                "OwnerGid": int(info["ownerGid"]),
                "Permissions": info["permissions"],
            },
        },
        Tags=[{"Key": k, "Value": v} for k, v in point["tags"].items()],
    )
    return str(made["AccessPointId"])


def _network(ec2: Any) -> dict[str, list[str]]:
    """The platform's private subnets and the two groups, made in moto (the plan's ids are
    placeholders, so they stand in for them as the platform stack's outputs would)."""
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.40.0.0/20", "us-east-1a"), ("10.40.16.0/20", "us-east-1b"))
    ]
    groups = [
        ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for name in ("tenant-agents", "efs-clients")
    ]
    return {"subnets": subnets, "securityGroups": groups}


def _create_service(
    ecs: Any, cluster: str, service: dict[str, Any], task_arn: str, ids: dict[str, list[str]]
) -> None:
    network = {**service["networkConfiguration"], **ids}
    breaker = service["deploymentCircuitBreaker"]
    ecs.create_service(
        cluster=cluster,
        serviceName=service["name"],
        taskDefinition=task_arn,
        desiredCount=int(service["desiredCount"]),
        launchType=service["launchType"],
        platformVersion=service["platformVersion"],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": network["subnets"],
                "securityGroups": network["securityGroups"],
                "assignPublicIp": "ENABLED" if network["assignPublicIp"] else "DISABLED",
            }
        },
        deploymentConfiguration={
            "deploymentCircuitBreaker": breaker,
            "maximumPercent": int(service["deploymentMaximumPercent"]),
            "minimumHealthyPercent": int(service["deploymentMinimumHealthyPercent"]),
        },
        enableExecuteCommand=service["enableExecuteCommand"],
        enableECSManagedTags=service["enableEcsManagedTags"],
        propagateTags=service["propagateTags"],
        tags=[{"key": k, "value": v} for k, v in service["tags"].items()],
    )


def test_the_registrations_are_what_ecs_and_efs_accept_and_read_back(
    aws_endpoint: str, growth: PlannedStack
) -> None:
    ecs, efs = clients.ecs(), clients.efs()
    ids = _network(boto3.client("ec2"))
    file_system = efs.create_file_system(CreationToken="afrex-agent-state", Encrypted=True)
    fs_id = file_system["FileSystemId"]
    cluster = ecs.create_cluster(
        clusterName="afrex-agents", settings=[{"name": "containerInsights", "value": "enabled"}]
    )["cluster"]["clusterArn"]
    points = {plain(p)["tags"]["afrex:agent"]: plain(p) for p in of_type(growth, ACCESS_POINT)}
    tasks = {plain(t)["tags"]["afrex:agent"]: plain(t) for t in of_type(growth, TASK)}
    services = {plain(s)["tags"]["afrex:agent"]: plain(s) for s in of_type(growth, SERVICE)}
    made = {agent: _access_point(efs, fs_id, point) for agent, point in points.items()}
    for agent, task in tasks.items():
        task_arn = register_task(ecs, task, fs_id, made[agent])
        _create_service(ecs, cluster, services[agent], task_arn, ids)

    names = [a["serviceName"] for a in growth.outputs["agents"]]  # what the CLI reads
    described = ecs.describe_services(cluster=cluster, services=names)["services"]
    assert sorted(s["serviceName"] for s in described) == sorted(names)
    for service in described:
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        assert network["assignPublicIp"] == "DISABLED" and service["desiredCount"] == 1
        assert service["launchType"] == "FARGATE"
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
        (container,) = definition["taskDefinition"]["containerDefinitions"]
        assert container["user"] == "1000:1000" and container["readonlyRootFilesystem"] is True
        assert container["linuxParameters"]["initProcessEnabled"] is True
        assert [s["name"] for s in container["secrets"]] == ["OPENCLAW_GATEWAY_TOKEN"]
        assert "OPENCLAW_GATEWAY_TOKEN" not in {e["name"] for e in container["environment"]}
        (state, _scratch) = definition["taskDefinition"]["volumes"]
        assert state["efsVolumeConfiguration"]["transitEncryption"] == "ENABLED"
    stored = efs.describe_access_points(FileSystemId=fs_id)["AccessPoints"]
    roots = sorted(p["RootDirectory"]["Path"] for p in stored)
    assert roots == sorted(a["stateRoot"] for a in growth.outputs["agents"])
    assert len({p["PosixUser"]["Uid"] for p in stored}) == len(stored)
