"""One-off ECS tasks beside an agent's state: the archive code where EFS can be reached.

An ECS agent's state is on the platform's EFS, mounted only by tasks in the
platform's private subnets, through the agent's own access point. So backups,
scale-down archives and restores of an ECS agent run `python -m
afrex.archive_task` (the same archive code as the Docker path) as a one-off
Fargate task on the tenant's cluster:

- a task definition of its own per agent and purpose (family `<agent's
  family>-archive` or `-restore`), registered only when it differs from the
  family's latest revision (its digest is a tag): the catalog's ops image, the
  agent's access point mounted at the gateway's state path (read-only to archive)
  with transit encryption and IAM authorization, a scratch volume, the tier's
  Fargate size, non-root, read-only root file system, no capabilities, logs to
  the tenant's log group; the tenant's execution role, and as task role the
  tenant's task role (archive: it may only write to the tenant's bucket) or its
  restore role (restore: it may only read the bucket's backups);
- RunTask on the tenant's cluster, in the agent's subnets and security groups,
  without a public IP, on the platform version the services use; the step and its
  arguments as the container's command override;
- DescribeTasks until the tasks stop (all of a tenant's in one call), within a
  bound; a task that does not stop in time is stopped. A task that ends with
  another exit code than 0 is one line naming the agent, the reason and where its
  log is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from afrex.errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from afrex.catalog import Catalog
    from afrex.deployed import DeployedAgent, EcsAgent, EcsPlacement, TenantView

Purpose = Literal["archive", "restore"]
OPS_CONTAINER = "afrex-ops"
ENTRY_POINT = ["python", "-m", "afrex.archive_task"]
STATE_VOLUME, SCRATCH_VOLUME = "state", "scratch"
DIGEST_TAG = "afrex:definition"
TASKS_PER_CALL = 100  # DescribeTasks
POLL_S = 5.0
TASK_TIMEOUT_S = 3600.0  # an archive of a big state can take long; a stuck one is stopped
STOP_REASON = "afrex: the one-off task did not finish in time"


@dataclass(frozen=True)
class OneOffTask:
    """A one-off task started for one agent."""

    agent: str
    purpose: Purpose
    arn: str
    log_group: str

    @property
    def task_id(self) -> str:
        return self.arn.rpartition("/")[2]

    @property
    def log_stream(self) -> str:
        return f"{self.agent}-{self.purpose}/{OPS_CONTAINER}/{self.task_id}"

    @property
    def where_logged(self) -> str:
        return f"log group {self.log_group}, stream {self.log_stream}"


@dataclass(frozen=True)
class TaskEnd:
    """How a one-off task ended."""

    task: OneOffTask
    exit_code: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def placement_of(view: TenantView) -> EcsPlacement:
    """The tenant's ECS placement, or bad input saying to redeploy."""
    placement = view.ecs
    if placement is None or not placement.subnets or not placement.file_system_id:
        raise BadInput(
            f"tenant {view.id} runs on ECS but its stack outputs name no cluster, subnets "
            "or file system",
            f"redeploy it: afrex up -s {view.id}",
        )
    return placement


def ecs_agent(view: TenantView, agent: DeployedAgent) -> EcsAgent:
    if agent.ecs is None or not agent.ecs.access_point:
        raise BadInput(
            f"agent {agent.name} of {view.id} has no ECS service or access point in the "
            "stack outputs",
            f"redeploy it: afrex up -s {view.id}",
        )
    return agent.ecs


def task_role(view: TenantView, purpose: Purpose) -> str:
    placement = placement_of(view)
    role = placement.task_role_arn if purpose == "archive" else placement.restore_role_arn
    if not role:
        raise BadInput(
            f"tenant {view.id} was deployed without a {purpose} role for one-off tasks",
            f"redeploy it first (afrex up -s {view.id}); it adds the role",
        )
    return role


def family(agent: EcsAgent, purpose: Purpose) -> str:
    return f"{agent.task_family or agent.service_name}-{purpose}"


def definition(
    view: TenantView, agent: DeployedAgent, purpose: Purpose, catalog: Catalog
) -> dict[str, Any]:
    """The one-off task definition (RegisterTaskDefinition's arguments, tags aside)."""
    placement, ecs = placement_of(view), ecs_agent(view, agent)
    fargate, gateway = catalog.fargate, catalog.gateway
    size = fargate.sizes[view.tenant.spec.tier]
    container = {
        "name": OPS_CONTAINER,
        "image": fargate.ops_image.reference,
        "essential": True,
        "entryPoint": ENTRY_POINT,
        "user": fargate.container_user,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "cpu": size.cpu_units,
        "memory": size.memory_mb,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "environment": [{"name": "AWS_REGION", "value": placement.region}]
        if placement.region
        else [],
        "mountPoints": [
            {
                "sourceVolume": STATE_VOLUME,
                "containerPath": gateway.state_path,
                "readOnly": purpose == "archive",
            },
            {"sourceVolume": SCRATCH_VOLUME, "containerPath": fargate.scratch_path},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": placement.log_group,
                "awslogs-region": placement.region,
                "awslogs-stream-prefix": f"{agent.name}-{purpose}",
            },
        },
    }
    return {
        "family": family(ecs, purpose),
        "taskRoleArn": task_role(view, purpose),
        "executionRoleArn": placement.execution_role_arn,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(size.cpu_units),
        "memory": str(size.memory_mb),
        "runtimePlatform": {
            "operatingSystemFamily": "LINUX",
            "cpuArchitecture": fargate.cpu_architecture,
        },
        "containerDefinitions": [container],
        "volumes": [
            {
                "name": STATE_VOLUME,
                "efsVolumeConfiguration": {
                    "fileSystemId": placement.file_system_id,
                    "transitEncryption": "ENABLED",
                    "authorizationConfig": {"accessPointId": ecs.access_point, "iam": "ENABLED"},
                },
            },
            {"name": SCRATCH_VOLUME},
        ],
    }


def definition_digest(wanted: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:32]


def ensure_definition(ecs: Any, view: TenantView, wanted: dict[str, Any]) -> str:
    """The ARN of a revision of `wanted` (the family's latest when it is the same
    definition, by the digest tag; otherwise a new revision)."""
    digest = definition_digest(wanted)
    try:
        latest = ecs.describe_task_definition(taskDefinition=wanted["family"], include=["TAGS"])
    except ecs.exceptions.ClientException:
        latest = None  # no revision of this family yet
    if latest is not None:
        found = {tag.get("key"): tag.get("value") for tag in latest.get("tags") or []}
        if found.get(DIGEST_TAG) == digest:
            return str(latest["taskDefinition"]["taskDefinitionArn"])
    tags = [
        {"key": "afrex:tenant", "value": view.id},
        {"key": "afrex:purpose", "value": "one-off"},
        {"key": DIGEST_TAG, "value": digest},
    ]
    registered = ecs.register_task_definition(**wanted, tags=tags)
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def start(
    ecs: Any,
    view: TenantView,
    agent: DeployedAgent,
    purpose: Purpose,
    command: Sequence[str],
    catalog: Catalog,
) -> OneOffTask:
    """Register (if needed) and run the agent's one-off task with `command`."""
    placement = placement_of(view)
    arn = ensure_definition(ecs, view, definition(view, agent, purpose, catalog))
    answer = ecs.run_task(
        cluster=placement.cluster,
        taskDefinition=arn,
        count=1,
        launchType="FARGATE",
        platformVersion=placement.platform_version or "LATEST",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(placement.subnets),
                "securityGroups": list(placement.security_groups),
                "assignPublicIp": "DISABLED",
            }
        },
        overrides={"containerOverrides": [{"name": OPS_CONTAINER, "command": list(command)}]},
        startedBy=f"afrex-{purpose}",
        enableECSManagedTags=True,
        propagateTags="TASK_DEFINITION",
        tags=[
            {"key": "afrex:tenant", "value": view.id},
            {"key": "afrex:agent", "value": agent.name},
            {"key": "afrex:purpose", "value": purpose},
        ],
    )
    tasks = answer.get("tasks") or []
    if not tasks:
        failures = "; ".join(
            f"{f.get('reason', '?')} {f.get('detail', '')}".strip()
            for f in answer.get("failures") or []
        )
        raise OperationFailed(
            f"ECS did not start the {purpose} task of agent {agent.name} of {view.id}: "
            f"{failures or 'no task and no reason given'}"
        )
    return OneOffTask(agent.name, purpose, str(tasks[0]["taskArn"]), placement.log_group)


def _end(task: OneOffTask, described: dict[str, Any]) -> TaskEnd:
    containers = [c for c in described.get("containers") or [] if c.get("name") == OPS_CONTAINER]
    container: dict[str, Any] = containers[0] if containers else {}
    code = container.get("exitCode")
    reasons = [str(described.get("stoppedReason") or ""), str(container.get("reason") or "")]
    reason = "; ".join(r for r in reasons if r)
    return TaskEnd(task, int(code) if code is not None else None, reason)


def wait_stopped(
    ecs: Any, cluster: str, arns: Sequence[str], timeout: float, poll: float | None = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Poll until these tasks have stopped (one DescribeTasks per 100 tasks per poll), at
    most `timeout` seconds: (the stopped tasks as described, the ARNs still running)."""
    deadline = time.monotonic() + timeout
    pending = list(dict.fromkeys(arns))
    stopped: dict[str, dict[str, Any]] = {}
    while pending:
        for first in range(0, len(pending), TASKS_PER_CALL):
            batch = pending[first : first + TASKS_PER_CALL]
            for described in ecs.describe_tasks(cluster=cluster, tasks=batch).get("tasks") or []:
                if described.get("lastStatus") == "STOPPED":
                    stopped[str(described.get("taskArn"))] = described
        pending = [arn for arn in pending if arn not in stopped]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S if poll is None else poll)
    return stopped, pending


def wait_for(
    ecs: Any, cluster: str, tasks: Sequence[OneOffTask], timeout: float | None = None
) -> list[TaskEnd]:
    """Wait until every one-off task has stopped; tasks still running at the deadline
    (`TASK_TIMEOUT_S`) are stopped and end with no exit code."""
    limit = TASK_TIMEOUT_S if timeout is None else timeout
    stopped, running = wait_stopped(ecs, cluster, [task.arn for task in tasks], limit)
    for arn in running:
        ecs.stop_task(cluster=cluster, task=arn, reason=STOP_REASON)
    return [
        _end(task, stopped[task.arn])
        if task.arn in stopped
        else TaskEnd(task, None, f"still running after {limit:.0f} s; stopped")
        for task in tasks
    ]


def failure(end: TaskEnd, view: TenantView) -> str:
    """One line for a one-off task that did not end well."""
    code = "no exit code" if end.exit_code is None else f"exit {end.exit_code}"
    why = f": {end.reason}" if end.reason else ""
    return (
        f"the {end.task.purpose} task of agent {end.task.agent} of {view.id} ended with "
        f"{code}{why} (its {end.task.where_logged})"
    )
