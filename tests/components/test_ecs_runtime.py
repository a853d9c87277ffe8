"""An `ecs` tenant (HostedTenant with EcsAgentRuntime) under Pulumi's mock runtime, per
tier: every guardrail of the issue, checked on what the real program registers.

The platform stack it references is planned offline too (platform/stacks/Pulumi.prod.yaml),
so cluster, subnets, file system and groups are the platform program's own outputs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from afrex.catalog import Catalog, fargate_memory_choices
from afrex.offline.platformref import platform_outputs
from afrex.offline.runtime import PlannedResource, PlannedStack, run_stack
from afrex.secretvalues import is_secret, unwrap_secrets
from afrex.stackfiles import Project
from components.ecs_task import posix_id
from tests.components.conftest import TENANTS
from tests.components.ecs_stacks import PLATFORM, ecs_stack, of_type, run_ecs
from tests.helpers import ROOT

TIERS = list(TENANTS)
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VALUE = "aws:secretsmanager/secretVersion:SecretVersion"


@pytest.fixture(scope="module")
def ecs(project: Project) -> dict[str, PlannedStack]:
    return {tier: run_ecs(project, tier) for tier in TIERS}


def plain(resource: PlannedResource) -> dict[str, Any]:
    return dict(unwrap_secrets(resource.inputs))


def only(stack: PlannedStack, token: str) -> PlannedResource:
    (found,) = of_type(stack, token)
    return found


def gateway(task: PlannedResource) -> dict[str, Any]:
    (container,) = json.loads(plain(task)["containerDefinitions"])
    assert isinstance(container, dict)
    return container


def by_agent(stack: PlannedStack, token: str) -> dict[str, PlannedResource]:
    return {plain(r)["tags"]["afrex:agent"]: r for r in of_type(stack, token)}


@pytest.mark.parametrize("tier", TIERS)
def test_one_access_point_task_and_service_per_agent_and_no_docker(
    ecs: dict[str, PlannedStack], tier: str
) -> None:
    stack = ecs[tier]
    agents = [a["name"] for a in stack.outputs["agents"]]
    for token in (ACCESS_POINT, TASK, SERVICE):
        assert sorted(by_agent(stack, token)) == sorted(agents), token
    assert not [r for r in stack.resources if r.type.startswith("docker:")]
    assert stack.outputs["runtime"] == "ecs" and stack.outputs["dockerHost"] == ""


@pytest.mark.parametrize("tier", TIERS)
def test_access_points_are_rooted_per_agent_with_their_own_owner(
    ecs: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    stack = ecs[tier]
    tenant = stack.outputs["tenantId"]
    owners = set()
    for agent, point in by_agent(stack, ACCESS_POINT).items():
        inputs = plain(point)
        root, user = inputs["rootDirectory"], inputs["posixUser"]
        assert root["path"] == f"/tenants/{tenant}/{agent}", point.urn
        uid = posix_id(catalog, tenant, agent)
        assert user == {"uid": uid, "gid": uid} and uid >= catalog.fargate.posix_id_base
        assert root["creationInfo"] == {"ownerUid": uid, "ownerGid": uid, "permissions": "0700"}
        assert inputs["fileSystemId"] == stack.outputs["ecs"]["fileSystemId"]
        owners.add(uid)
    assert len(owners) == len(stack.outputs["agents"])


@pytest.mark.parametrize("tier", TIERS)
def test_tasks_are_sized_from_the_catalogs_valid_fargate_sizes(
    ecs: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    size = catalog.fargate.sizes[tier]
    assert size.memory_mb in fargate_memory_choices(size.cpu_units)
    assert size.memory_mb >= catalog.tiers[tier].container.memory_mb
    for task in of_type(ecs[tier], TASK):
        inputs = plain(task)
        assert (inputs["cpu"], inputs["memory"]) == (str(size.cpu_units), str(size.memory_mb))
        assert inputs["requiresCompatibilities"] == ["FARGATE"]
        assert inputs["networkMode"] == "awsvpc"
        container = gateway(task)
        assert container["memory"] == size.memory_mb and container["cpu"] == size.cpu_units
        heap = container["environment"][0]["value"]
        assert heap.startswith("--max-old-space-size=")
        assert 0 < int(heap.rpartition("=")[2]) < size.memory_mb


@pytest.mark.parametrize("tier", TIERS)
def test_containers_are_hardened_like_the_docker_ones(
    ecs: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    stack = ecs[tier]
    log_group = only(stack, LOG_GROUP)
    for agent, task in by_agent(stack, TASK).items():
        container = gateway(task)
        where = task.urn
        assert container["user"] == "1000:1000", where  # the image's `node`, never root
        assert container["privileged"] is False and container["readonlyRootFilesystem"] is True
        assert container["linuxParameters"] == {
            "initProcessEnabled": True,
            "capabilities": {"drop": ["ALL"]},
        }
        command = container["healthCheck"]["command"]
        assert command[0] == "CMD" and "/healthz" in " ".join(command), where
        logs = container["logConfiguration"]
        assert logs["logDriver"] == "awslogs"
        assert logs["options"]["awslogs-group"] == plain(log_group)["name"]
        assert logs["options"]["awslogs-stream-prefix"] == agent
        assert container["image"] == catalog.agent_image.reference
        assert {m["containerPath"]: m["sourceVolume"] for m in container["mountPoints"]} == {
            catalog.gateway.state_path: "state",
            catalog.fargate.scratch_path: "scratch",
        }
    assert plain(log_group)["retentionInDays"] == catalog.fargate.log_retention_days == 30
    assert plain(log_group)["name"] == f"/afrex/tenants/{stack.outputs['tenantId']}"


@pytest.mark.parametrize("tier", TIERS)
def test_state_is_efs_through_the_agents_access_point_encrypted_with_iam(
    ecs: dict[str, PlannedStack], tier: str
) -> None:
    stack = ecs[tier]
    points = by_agent(stack, ACCESS_POINT)
    outputs = {a["name"]: a for a in stack.outputs["agents"]}
    for agent, task in by_agent(stack, TASK).items():
        volumes = {v["name"]: v for v in plain(task)["volumes"]}
        assert volumes["scratch"] == {"name": "scratch"}
        efs = volumes["state"]["efsVolumeConfiguration"]
        assert efs["transitEncryption"] == "ENABLED"
        assert efs["authorizationConfig"]["iam"] == "ENABLED"
        assert efs["authorizationConfig"]["accessPointId"] == outputs[agent]["accessPoint"]
        assert points[agent].outputs["arn"] == outputs[agent]["accessPointArn"]


@pytest.mark.parametrize("tier", TIERS)
def test_gateway_token_only_through_secrets_manager(
    ecs: dict[str, PlannedStack], tier: str
) -> None:
    stack = ecs[tier]
    secret = only(stack, SECRET)
    value = only(stack, SECRET_VALUE)
    assert is_secret(value.inputs["secretString"])
    assert "secretString" not in value.outputs
    for task in of_type(stack, TASK):
        container = gateway(task)
        assert container["secrets"] == [
            {"name": "OPENCLAW_GATEWAY_TOKEN", "valueFrom": secret.outputs["arn"]}
        ]
        assert [e["name"] for e in container["environment"]] == ["NODE_OPTIONS"]
    visible = json.dumps([r.outputs for r in stack.resources] + [stack.outputs])
    assert "OPENCLAW_GATEWAY_TOKEN=" not in visible and "placeholder" not in visible
    assert stack.outputs["gatewayToken"] == "[secret]"


def _policy(stack: PlannedStack, name: str) -> list[dict[str, Any]]:
    policy = next(r for r in of_type(stack, ROLE_POLICY) if r.name.endswith(name))
    statements: list[dict[str, Any]] = json.loads(plain(policy)["policy"])["Statement"]
    return statements


@pytest.mark.parametrize("tier", TIERS)
def test_roles_reach_only_the_tenants_own_secret_logs_bucket_and_state(
    ecs: dict[str, PlannedStack], tier: str
) -> None:
    stack = ecs[tier]
    for role in of_type(stack, ROLE):
        trust = json.loads(plain(role)["assumeRolePolicy"])["Statement"]
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    log_arn = only(stack, LOG_GROUP).outputs["arn"]
    secret, logs = _policy(stack, "execution-policy")
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert secret["Resource"] == only(stack, SECRET).outputs["arn"]
    assert logs["Resource"] == [log_arn, f"{log_arn}:log-stream:*"]
    backups, state = _policy(stack, "task-policy")
    assert backups["Resource"] == f"{stack.outputs['bucketArn']}/*"
    assert "s3:PutObject" in backups["Action"] and "s3:DeleteObject" not in backups["Action"]
    assert not any(a.startswith("s3:Get") for a in backups["Action"])
    points = [a["accessPointArn"] for a in stack.outputs["agents"]]
    assert state["Condition"] == {"StringEquals": {"elasticfilesystem:AccessPointArn": points}}
    reads, restored = _policy(stack, "restore-policy")
    assert reads == {
        "Sid": "BackupReads",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": f"{stack.outputs['bucketArn']}/backups/*",
    }
    assert restored == state  # the same access points, nothing else
    roles = {
        r.name.rpartition("-")[0].rpartition("-")[2]: r.outputs["arn"] for r in of_type(stack, ROLE)
    }
    assert sorted(roles) == ["execution", "restore", "task"]
    for task in of_type(stack, TASK):
        arns = {plain(task)["taskRoleArn"], plain(task)["executionRoleArn"]}
        assert arns == {roles["task"], roles["execution"]}  # the gateway never restores
    placement = stack.outputs["ecs"]
    assert placement["restoreRoleArn"] == roles["restore"]
    assert placement["taskRoleArn"] == roles["task"]


@pytest.mark.parametrize("tier", TIERS)
def test_services_run_one_private_task_with_rollback(
    ecs: dict[str, PlannedStack], tier: str
) -> None:
    stack = ecs[tier]
    platform = stack.outputs["ecs"]
    shared = platform_outputs(PLATFORM, ROOT)
    assert platform["subnets"] == shared["privateSubnetIds"] and len(platform["subnets"]) == 2
    for service in of_type(stack, SERVICE):
        inputs = plain(service)
        assert inputs["desiredCount"] == 1 and inputs["launchType"] == "FARGATE"
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        network = inputs["networkConfiguration"]
        assert network["assignPublicIp"] is False
        assert network["subnets"] == platform["subnets"]
        tenant_group, efs_clients = network["securityGroups"]
        assert network["securityGroups"] == platform["securityGroups"]
        assert efs_clients == shared["efsClientSecurityGroupId"] != tenant_group
        assert tenant_group.startswith("sg-")
        assert inputs["cluster"] == platform["cluster"] == stack.outputs["cluster"]
        assert inputs["platformVersion"] == "1.4.0"
        assert inputs["deploymentMinimumHealthyPercent"] == 0  # one writer on the state


@pytest.mark.parametrize("tier", TIERS)
def test_security_group_lets_nothing_in(ecs: dict[str, PlannedStack], tier: str) -> None:
    stack = ecs[tier]
    inputs = plain(only(stack, GROUP))
    assert inputs["ingress"] == []
    assert [(r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in inputs["egress"]] == [
        (443, 443, ["0.0.0.0/0"])
    ]
    assert inputs["tags"]["afrex:tenant"] == stack.outputs["tenantId"]
    assert inputs["name"] == stack.outputs["networkName"]


def test_two_tenants_share_no_group_access_point_secret_or_role(
    ecs: dict[str, PlannedStack],
) -> None:
    def owned(stack: PlannedStack) -> set[str]:
        """Physical names and ARNs of the tenant's own ECS pieces."""
        kinds = (GROUP, ACCESS_POINT, SECRET, ROLE, LOG_GROUP, SERVICE, TASK)
        found = set()
        for resource in (r for r in stack.resources if r.type in kinds):
            inputs = plain(resource)
            found.add(str(resource.outputs["arn"]) if "arn" in resource.outputs else "")
            found.add(str(inputs.get("name") or inputs.get("family") or ""))
            found.add(str((inputs.get("rootDirectory") or {}).get("path", "")))
        return found - {""}

    stacks = list(ecs.values())
    for index, one in enumerate(stacks):
        for other in stacks[index + 1 :]:
            assert not owned(one) & owned(other)


@pytest.mark.parametrize("tier", TIERS)
def test_backups_and_sla_alarms_stay_as_they_are(
    ecs: dict[str, PlannedStack], planned: dict[str, PlannedStack], tier: str
) -> None:
    """Bucket, its guards and the alarms are registered exactly as for a Docker tenant."""

    def kept(stack: PlannedStack) -> dict[str, Any]:
        return {
            r.name: (r.type, r.inputs, r.protect, r.retain_on_delete)
            for r in stack.resources
            if r.type.startswith(("aws:s3/", "aws:cloudwatch/metricAlarm", "aws:sns/"))
            or r.type.startswith("aws:cloudwatch/compositeAlarm")
        }

    assert kept(ecs[tier]) == kept(planned[tier])


@pytest.mark.parametrize("tier", TIERS)
def test_outputs_keep_their_keys_and_name_the_services(
    ecs: dict[str, PlannedStack], planned: dict[str, PlannedStack], tier: str
) -> None:
    outputs = ecs[tier].outputs
    assert set(planned[tier].outputs) | {"runtime", "cluster", "ecs"} == set(outputs)
    services = {r.outputs["arn"] for r in of_type(ecs[tier], SERVICE)}
    tasks = {r.outputs["arn"] for r in of_type(ecs[tier], TASK)}
    for agent in outputs["agents"]:
        assert agent["service"] in services and agent["taskDefinition"] in tasks
        assert agent["container"] == agent["serviceName"] == agent["taskFamily"]
        assert agent["volume"] == agent["accessPoint"] and agent["volume"].startswith("fsap-")
        assert agent["logGroup"] == outputs["ecs"]["logGroup"]
    assert set(outputs["ecs"]) == {
        "cluster",
        "clusterName",
        "region",
        "subnets",
        "securityGroups",
        "fileSystemId",
        "taskRoleArn",
        "executionRoleArn",
        "restoreRoleArn",
        "logGroup",
        "platformStack",
        "platformVersion",
    }
    assert outputs["ecs"]["platformStack"] == PLATFORM


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        (None, "afrex:platformStack: missing; an ecs tenant runs on a platform stack"),
        ("prod", "afrex:platformStack: 'prod' is not <organization>/<project>/<stack>"),
    ],
)
def test_an_ecs_tenant_needs_a_qualified_platform_stack(
    project: Project, platform: str | None, message: str
) -> None:
    from afrex.errors import ConfigError

    name, tenant = TENANTS["starter"]
    with pytest.raises(ConfigError) as caught:
        run_stack(ecs_stack(name, tenant, platform), project)
    assert message in str(caught.value)


def test_an_unknown_platform_stack_is_named_with_the_known_ones(project: Project) -> None:
    from afrex.errors import ConfigError

    name, tenant = TENANTS["starter"]
    with pytest.raises(ConfigError) as caught:
        run_stack(ecs_stack(name, tenant, "organization/afrex-platform/staging"), project)
    text = str(caught.value)
    assert "afrex:platformStack: organization/afrex-platform/staging: no platform stack" in text
    assert "Pulumi.local.yaml, Pulumi.prod.yaml" in text
    with pytest.raises(ConfigError, match="is not the platform project afrex-platform"):
        run_stack(ecs_stack(name, tenant, "organization/afrex/prod"), project)
