"""The ECS rules, one at a time, on what the real program registers for an ECS tenant
(the growth tenant of tests/components, under mocks), in wire format; then each
violation as a hand edit of that registration."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from afrex.offline.runtime import PlannedStack
from afrex.stackfiles import Project
from policies.ecs_service import (
    validate_ecs_service_network,
    validate_ecs_tier_agent_limit,
    validate_log_group_retention,
    validate_tenant_security_group,
)
from policies.ecs_task import (
    validate_ecs_efs_volumes,
    validate_ecs_task_hardening,
    validate_ecs_task_secrets,
    validate_ecs_task_sizing,
)
from tests.components.ecs_stacks import run_ecs
from tests.policies.resources import (
    policy_resource,
    resource_args,
    run_resource_rule,
    run_stack_rule,
    stack_args,
)

TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TASK_RULES = (
    validate_ecs_task_sizing,
    validate_ecs_task_hardening,
    validate_ecs_task_secrets,
    validate_ecs_efs_volumes,
)
RESOURCE_RULES = (
    *TASK_RULES,
    validate_ecs_service_network,
    validate_tenant_security_group,
    validate_log_group_retention,
)
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def growth(project: Project) -> PlannedStack:
    return run_ecs(project, "growth")


def first(stack: PlannedStack, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = copy.deepcopy(next(r for r in stack.resources if r.type == kind).inputs)
    return found


def check(rule: Callable[..., None], kind: str, props: dict[str, Any]) -> list[str]:
    return run_resource_rule(rule, resource_args(kind, props))


def container_edit(change: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of the task's (only) container definition, as a hand edit of the JSON."""

    def edit(props: dict[str, Any]) -> None:
        containers = json.loads(props["containerDefinitions"])
        change(containers[0])
        props["containerDefinitions"] = json.dumps(containers)

    return edit


def test_everything_the_program_registers_passes(growth: PlannedStack) -> None:
    for resource in growth.resources:
        for rule in RESOURCE_RULES:
            assert check(rule, resource.type, resource.inputs) == [], (rule, resource.urn)
    resources = [policy_resource(r.type, r.inputs, r.name) for r in growth.resources]
    assert run_stack_rule(validate_ecs_tier_agent_limit, stack_args(resources)) == []


TASK_VIOLATIONS: list[tuple[str, Callable[..., None], Edit, str]] = [
    (
        "memory over the tier",
        validate_ecs_task_sizing,
        lambda p: p.update(memory="8192"),
        "memory: 8192 MB exceeds the growth tier's Fargate size of 2048",
    ),
    (
        "cpu over the tier",
        validate_ecs_task_sizing,
        lambda p: p.update(cpu="4096"),
        "cpu: 4096 CPU units exceeds the growth tier's Fargate size of 1024",
    ),
    (
        "no memory",
        validate_ecs_task_sizing,
        lambda p: p.pop("memory"),
        'memory: not set; set memory="2048"',
    ),
    (
        "container memory over the tier",
        validate_ecs_task_sizing,
        container_edit(lambda c: c.update(memory=3072)),
        "container gateway: memory 3072 MB exceeds",
    ),
    (
        "unknown tier",
        validate_ecs_task_sizing,
        lambda p: p["tags"].update({"afrex:tier": "platinum"}),
        "afrex:tier 'platinum' is not a tier with a Fargate size",
    ),
    (
        "EC2 launch",
        validate_ecs_task_sizing,
        lambda p: p.update(requiresCompatibilities=["EC2"]),
        "not FARGATE",
    ),
    (
        "root user",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.pop("user")),
        "user: runs as root",
    ),
    (
        "user 0",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.update(user="0:0")),
        "runs as root",
    ),
    (
        "privileged",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.update(privileged=True)),
        "privileged: true",
    ),
    (
        "writable root",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.update(readonlyRootFilesystem=False)),
        "readonlyRootFilesystem: not true",
    ),
    (
        "no init",
        validate_ecs_task_hardening,
        container_edit(lambda c: c["linuxParameters"].pop("initProcessEnabled")),
        "initProcessEnabled: not true",
    ),
    (
        "capabilities kept",
        validate_ecs_task_hardening,
        container_edit(lambda c: c["linuxParameters"].update(capabilities={"drop": []})),
        '"ALL" is not dropped',
    ),
    (
        "no health check",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.pop("healthCheck")),
        "healthCheck: none",
    ),
    (
        "logs nowhere",
        validate_ecs_task_hardening,
        container_edit(lambda c: c.update(logConfiguration={"logDriver": "json-file"})),
        "logConfiguration: not awslogs",
    ),
    (
        "token as plain environment",
        validate_ecs_task_secrets,
        container_edit(
            lambda c: c["environment"].append(
                {"name": "OPENCLAW_GATEWAY_TOKEN", "value": "tok-3f9a8c1d2e7b4a6f"}
            )
        ),
        "environment: OPENCLAW_GATEWAY_TOKEN set as plain environment variable(s)",
    ),
    (
        "another secret in plain text",
        validate_ecs_task_secrets,
        container_edit(
            lambda c: c["environment"].append({"name": "OPENAI_API_KEY", "value": "sk"})
        ),
        "environment: OPENAI_API_KEY set as plain",
    ),
    (
        "no token at all",
        validate_ecs_task_secrets,
        container_edit(lambda c: c.update(secrets=[])),
        "secrets: no OPENCLAW_GATEWAY_TOKEN; the gateway would run without auth",
    ),
    (
        "token valueFrom a literal",
        validate_ecs_task_secrets,
        container_edit(lambda c: c["secrets"][0].update(valueFrom="tok-3f9a8c1d2e7b4a6f")),
        "has a valueFrom that is not a Secrets Manager or SSM ARN",
    ),
    (
        "EFS in clear",
        validate_ecs_efs_volumes,
        lambda p: p["volumes"][0]["efsVolumeConfiguration"].update(transitEncryption="DISABLED"),
        "volume state: efs transitEncryption is DISABLED",
    ),
    (
        "EFS without IAM",
        validate_ecs_efs_volumes,
        lambda p: p["volumes"][0]["efsVolumeConfiguration"]["authorizationConfig"].pop("iam"),
        "volume state: efs authorizationConfig.iam is unset",
    ),
    (
        "EFS root mounted",
        validate_ecs_efs_volumes,
        lambda p: p["volumes"][0]["efsVolumeConfiguration"].pop("authorizationConfig"),
        "efs has no access point",
    ),
]


@pytest.mark.parametrize(
    ("rule", "edit", "message"),
    [case[1:] for case in TASK_VIOLATIONS],
    ids=[case[0] for case in TASK_VIOLATIONS],
)
def test_each_task_violation_is_reported_by_its_rule_only(
    growth: PlannedStack, rule: Callable[..., None], edit: Edit, message: str
) -> None:
    props = first(growth, TASK)
    edit(props)
    found = check(rule, TASK, props)
    assert any(message in problem for problem in found), found
    others = [r for r in TASK_RULES if r is not rule]
    assert all(check(other, TASK, props) == [] for other in others)
    assert "tok-3f9a8c1d2e7b4a6f" not in " ".join(found)  # a secret's value is never shown


SERVICE_VIOLATIONS: list[tuple[str, Edit, str]] = [
    (
        "public IP",
        lambda p: p["networkConfiguration"].update(assignPublicIp=True),
        "assign_public_ip: true gives the agent a public address",
    ),
    ("two tasks", lambda p: p.update(desiredCount=2.0), "desired_count: 2; an agent runs one task"),
    ("no breaker", lambda p: p.pop("deploymentCircuitBreaker"), "deployment_circuit_breaker"),
    (
        "no rollback",
        lambda p: p["deploymentCircuitBreaker"].update(rollback=False),
        "not enabled with rollback",
    ),
    ("EC2", lambda p: p.update(launchType="EC2"), 'launch_type: EC2; set launch_type="FARGATE"'),
    ("no network", lambda p: p.pop("networkConfiguration"), "network_configuration: not set"),
    (
        "no security group",
        lambda p: p["networkConfiguration"].update(securityGroups=[]),
        "security_groups: none",
    ),
]


@pytest.mark.parametrize(
    ("edit", "message"), [c[1:] for c in SERVICE_VIOLATIONS], ids=[c[0] for c in SERVICE_VIOLATIONS]
)
def test_each_service_violation(growth: PlannedStack, edit: Edit, message: str) -> None:
    props = first(growth, SERVICE)
    edit(props)
    (problem,) = check(validate_ecs_service_network, SERVICE, props)
    assert message in problem


def test_a_tenant_group_with_ingress_and_a_log_group_kept_forever(growth: PlannedStack) -> None:
    group = first(growth, GROUP)
    group["ingress"] = [
        {"protocol": "tcp", "fromPort": 18789.0, "toPort": 18789.0, "cidrBlocks": ["10.40.0.0/16"]}
    ]
    (problem,) = check(validate_tenant_security_group, GROUP, group)
    assert "ingress: 1 rule(s) on tenant cust-mid-clinic-1767225600's security group" in problem
    platform_group = {"name": "afrex-efs", "ingress": group["ingress"], "tags": {}}
    assert check(validate_tenant_security_group, GROUP, platform_group) == []
    logs = first(growth, LOG_GROUP)
    logs.pop("retentionInDays")
    (problem,) = check(validate_log_group_retention, LOG_GROUP, logs)
    assert "retention_in_days=30 (catalog fargate.log_retention_days)" in problem


def test_more_services_than_the_tier_allows(growth: PlannedStack) -> None:
    services = [r for r in growth.resources if r.type == SERVICE]
    extra = dict(copy.deepcopy(services[0].inputs), name="afrex-extra")
    resources = [policy_resource(r.type, r.inputs, r.name) for r in growth.resources]
    resources.append(policy_resource(SERVICE, extra, "extra"))
    reports = run_stack_rule(validate_ecs_tier_agent_limit, stack_args(resources))
    assert [m for m, _ in reports] == [
        "tenant cust-mid-clinic-1767225600: 4 agent services exceed the growth tier's "
        "max_agents of 3 (catalog tiers.growth.max_agents); remove agents or move the tenant "
        "to a larger tier with `afrex scale`"
    ]


def test_values_unknown_during_preview_are_not_violations(growth: PlannedStack) -> None:
    task = first(growth, TASK)
    task["containerDefinitions"] = UNKNOWN_STRING_VALUE
    task["memory"] = UNKNOWN_STRING_VALUE
    for rule in TASK_RULES:
        assert check(rule, TASK, task) == []
    service = first(growth, SERVICE)
    service["networkConfiguration"] = UNKNOWN_STRING_VALUE
    assert check(validate_ecs_service_network, SERVICE, service) == []


def test_ecs_agents_need_their_sla_alarms(growth: PlannedStack) -> None:
    from policies.agent_alarms import validate_agent_sla_alarms

    def resources(without: str = "") -> list[Any]:
        return [
            policy_resource(r.type, r.inputs, r.name)
            for r in growth.resources
            if not (without and r.type.endswith("MetricAlarm") and f"-{without}-" in r.name)
        ]

    assert run_stack_rule(validate_agent_sla_alarms, stack_args(resources())) == []
    reports = run_stack_rule(validate_agent_sla_alarms, stack_args(resources("claims-processor")))
    assert len(reports) == 4  # two windows, long and short
    assert all("agent claims-processor of tenant cust-mid-clinic" in m for m, _ in reports)
    assert all(urn and urn.endswith("agents-claims-processor") for _, urn in reports)
