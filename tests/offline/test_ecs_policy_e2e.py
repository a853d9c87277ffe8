"""The real policy pack, started as a subprocess and driven over the analyzer gRPC
interface, on what the real program registers for an ECS tenant (under mocks).

An ECS tenant passes. The four failures the issue names are hand edits of those real
registrations (a program or stack changed outside afrex, which is what the pack is
for): a task with a public IP, a task over the tier's memory, the gateway token as a
plain environment variable, and EFS without transit encryption.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from afrex.offline.analyzer import PolicyPackProcess, Violation, find_policy_pack
from afrex.offline.runtime import PlannedResource, PlannedStack
from afrex.stackfiles import Project
from tests.components.ecs_stacks import run_ecs
from tests.helpers import ROOT

TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TOKEN = "tok-3f9a8c1d2e7b4a6f"


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(find_policy_pack(ROOT)) as running:
        yield running


@pytest.fixture(scope="module")
def starter(project: Project) -> PlannedStack:
    return run_ecs(project, "starter")


def analyze(
    pack: PolicyPackProcess, project: Project, stack: PlannedStack, resources: list[PlannedResource]
) -> list[Violation]:
    return pack.analyze_stack(project.name, stack.stack, resources)


def edited(
    resources: list[PlannedResource], kind: str, change: Callable[[dict[str, Any]], None]
) -> list[PlannedResource]:
    """The same registrations with `change` applied to the inputs of the first of `kind`."""
    out, done = [], False
    for resource in resources:
        if resource.type == kind and not done:
            inputs = json.loads(json.dumps(resource.inputs))
            change(inputs)
            resource, done = dataclasses.replace(resource, inputs=inputs), True
        out.append(resource)
    assert done, kind
    return out


def test_an_ecs_tenant_passes_every_rule(
    pack: PolicyPackProcess, project: Project, starter: PlannedStack
) -> None:
    assert analyze(pack, project, starter, starter.resources) == []
    assert {"ecs-task-sizing", "ecs-service-network", "ecs-efs-volumes"} <= set(pack.info.policies)


def _token_in_environment(inputs: dict[str, Any]) -> None:
    containers = json.loads(inputs["containerDefinitions"])
    containers[0]["environment"].append({"name": "OPENCLAW_GATEWAY_TOKEN", "value": TOKEN})
    containers[0]["secrets"] = []
    inputs["containerDefinitions"] = json.dumps(containers)


CASES = [
    (
        "a task with a public IP",
        SERVICE,
        lambda i: i["networkConfiguration"].update(assignPublicIp=True),
        "ecs-service-network",
        "network_configuration.assign_public_ip: true gives the agent a public address",
    ),
    (
        "a task over the tier's memory",
        TASK,
        lambda i: i.update(memory="4096"),
        "ecs-task-sizing",
        "memory: 4096 MB exceeds the starter tier's Fargate size of 1024",
    ),
    (
        "the token as a plain environment variable",
        TASK,
        _token_in_environment,
        "ecs-task-secrets",
        "environment: OPENCLAW_GATEWAY_TOKEN set as plain environment variable(s)",
    ),
    (
        "EFS without transit encryption",
        TASK,
        lambda i: i["volumes"][0]["efsVolumeConfiguration"].update(transitEncryption="DISABLED"),
        "ecs-efs-volumes",
        "volume state: efs transitEncryption is DISABLED",
    ),
]


@pytest.mark.parametrize(
    ("kind", "change", "policy", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_pack_catches(
    pack: PolicyPackProcess,
    project: Project,
    starter: PlannedStack,
    kind: str,
    change: Callable[[dict[str, Any]], None],
    policy: str,
    message: str,
) -> None:
    (violation,) = analyze(pack, project, starter, edited(starter.resources, kind, change))
    assert (violation.policy, violation.level) == (policy, "mandatory")
    assert message in violation.message
    agent = starter.outputs["agents"][0]["name"]
    assert violation.resource.startswith(f"{starter.stack}-agents-{agent}")
    assert TOKEN not in violation.message
