"""One-line key settings of the resource types ECS tenants (and the platform) plan,
for `afrex plan`'s tables (merged into `afrex.offline.plan.SUMMARIES`).

Inputs arrive as the engine sees them (camelCase); secret values are never shown
(a secret version's value is not summarised at all).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _containers(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        found = json.loads(str(inputs.get("containerDefinitions") or "[]"))
    except ValueError:
        return []
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _task_definition(i: dict[str, Any]) -> str:
    container = (_containers(i) or [{}])[0]
    linux = container.get("linuxParameters") or {}
    efs = next(
        (v.get("efsVolumeConfiguration") for v in i.get("volumes", []) if "efsVolume" in str(v)),
        None,
    )
    state = (
        f"efs transit {efs.get('transitEncryption')} iam "
        f"{(efs.get('authorizationConfig') or {}).get('iam')}"
        if isinstance(efs, dict)
        else "no efs"
    )
    secrets = ",".join(str(s.get("name")) for s in container.get("secrets", []))
    launch = ",".join(i.get("requiresCompatibilities", []))
    return (
        f"cpu {i.get('cpu')} mem {i.get('memory')}MB {launch} "
        f"user {container.get('user') or 'root'} ro-root {container.get('readonlyRootFilesystem')} "
        f"init {linux.get('initProcessEnabled')} privileged {container.get('privileged')} "
        f"secrets {secrets or '-'} {state} "
        f"logs {(container.get('logConfiguration') or {}).get('logDriver')}"
    )


def _service(i: dict[str, Any]) -> str:
    network = i.get("networkConfiguration") or {}
    breaker = i.get("deploymentCircuitBreaker") or {}
    return (
        f"desired {int(i.get('desiredCount', 0))} {i.get('launchType')} "
        f"{i.get('platformVersion')} public-ip {network.get('assignPublicIp', False)} "
        f"circuit-breaker {breaker.get('enable')} rollback {breaker.get('rollback')}"
    )


def _access_point(i: dict[str, Any]) -> str:
    root, user = i.get("rootDirectory") or {}, i.get("posixUser") or {}
    perms = (root.get("creationInfo") or {}).get("permissions")
    return f"{root.get('path')} uid {int(user.get('uid', 0))} gid {int(user.get('gid', 0))} {perms}"


def _security_group(i: dict[str, Any]) -> str:
    egress = ",".join(
        f"{int(rule.get('fromPort', 0))}->{','.join(rule.get('cidrBlocks', []))}"
        for rule in i.get("egress", [])
    )
    return f"{i.get('name')} ingress {len(i.get('ingress', []))} rule(s) egress {egress or '-'}"


def _role_policy(i: dict[str, Any]) -> str:
    try:
        statements = json.loads(str(i.get("policy") or "{}")).get("Statement", [])
    except (ValueError, AttributeError):
        return "custom policy"
    actions: set[str] = set()
    for statement in statements:
        action = statement.get("Action", []) if isinstance(statement, dict) else []
        actions.update([action] if isinstance(action, str) else map(str, action))
    return " ".join(sorted(actions))


ECS_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _service,
    "aws:efs/accessPoint:AccessPoint": _access_point,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/role:Role": lambda i: (
        f"{i.get('name')} assumed by "
        + ("ECS tasks" if "ecs-tasks" in str(i.get("assumeRolePolicy")) else "others")
    ),
    "aws:cloudwatch/logGroup:LogGroup": lambda i: (
        f"{i.get('name')} retention "
        + (f"{int(i['retentionInDays'])}d" if i.get("retentionInDays") else "never expires")
    ),
    "aws:secretsmanager/secret:Secret": lambda i: (
        f"{i.get('name')} recovery {int(i.get('recoveryWindowInDays', 30))}d"
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": lambda i: "value from afrex:gatewayToken",
}
