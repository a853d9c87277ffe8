"""Backups and restores of agents on ECS, through one-off tasks (afrex/ecs_oneoff.py).

Archive (`backup create`, `scale down`): each agent's archive task is started,
all of a tenant's together, and waited for together; each writes its archive and
`<key>.sha256` into the tenant's bucket (the same keys as on Docker). The
operator's side then reads the result from S3: the object's size (HeadObject,
whose metadata must name the tenant and agent) and its SHA-256 (the `.sha256`
object, which must name the archive). The tasks' role can write to the bucket
but not read it; only the operator reads.

Restore (`backup restore`): the archives are downloaded and verified by the
caller first (afrex/backups/restore.py), as on Docker. Then per agent: the
restore task definition is registered; the service is scaled to 0 and its tasks
stopped and waited for (one writer on the state at a time); the restore task
verifies the archive again (its role may read the bucket's backups only), empties
the access point and unpacks it; the service goes back to its desired count with
a new deployment and is waited for until stable (one deployment, running =
desired; a deployment the circuit breaker failed is an error). A restore task
that refused before changing anything (exit 3) puts the service back as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from afrex.archive import CHECKSUM_SUFFIX, ArchiveResult
from afrex.backups.agentstate import AgentRestored, StateUntouched
from afrex.ecs_oneoff import (
    OneOffTask,
    definition,
    ensure_definition,
    failure,
    placement_of,
    start,
    wait_for,
    wait_stopped,
)
from afrex.ecsstate import pick_task, service_tasks, task_of
from afrex.errors import AfrexError, BadInput, OperationFailed

if TYPE_CHECKING:
    from afrex.backups.manifest import ArchivedAgent
    from afrex.catalog import Catalog
    from afrex.deployed import EcsPlacement, TenantView

EXIT_UNTOUCHED = 3  # afrex.archive_task: refused before anything changed
STOP_TIMEOUT_S = 180.0  # the gateway's stopTimeout is 30 s; Fargate takes a while more
POLL_S = 5.0
RESTORE_REASON = "afrex backup restore: the agent's state is being replaced"
SHA256_HEX = 64


def ecs_client(placement: EcsPlacement) -> Any:
    from afrex.clients import ecs

    return ecs(placement.region or None)


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """ECS and S3 errors as one OperationFailed line (ours pass through)."""
    try:
        yield
    except AfrexError:
        raise
    except Exception as error:  # botocore's errors
        from afrex.clients import aws_failure

        raise aws_failure(error, "AWS", doing) from None


def archive_command(
    view: TenantView, agent: str, bucket: str, key: str, catalog: Catalog
) -> list[str]:
    """The archive task's command (afrex.archive_task's arguments)."""
    return [
        "archive",
        "--source",
        catalog.gateway.state_path,
        "--bucket",
        bucket,
        "--key",
        key,
        "--tenant",
        view.id,
        "--agent",
        agent,
        "--owner",
        catalog.fargate.container_user,
    ]


def read_result(s3: Any, view: TenantView, agent: str, bucket: str, key: str) -> ArchiveResult:
    """What an archive task uploaded: its size (HeadObject) and SHA-256 (`<key>.sha256`)."""
    where = f"s3://{bucket}/{key}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) not in ("404", "NoSuchKey"):
            raise
        raise OperationFailed(
            f"the archive task of agent {agent} of {view.id} ended without writing {where}",
            f"see its log in {view.ecs.log_group if view.ecs else 'the tenant log group'}",
        ) from None
    metadata = head.get("Metadata") or {}
    if metadata.get("afrex-tenant") != view.id or metadata.get("afrex-agent") != agent:
        raise OperationFailed(f"{where} is not the archive of agent {agent} of {view.id}")
    text = s3.get_object(Bucket=bucket, Key=key + CHECKSUM_SUFFIX)["Body"].read().decode()
    digest, _, name = text.strip().partition("  ")
    if len(digest) != SHA256_HEX or name != PurePosixPath(key).name:
        raise OperationFailed(f"{where}{CHECKSUM_SUFFIX} does not hold the archive's SHA-256")
    return ArchiveResult(agent, bucket, key, int(head["ContentLength"]), digest.lower())


def archive_on_ecs(
    view: TenantView,
    keys: Mapping[str, str],
    s3: Any,
    catalog: Catalog,
    ecs: Any | None = None,
    timeout: float | None = None,
) -> list[ArchiveResult]:
    """Archive these agents (agent -> key) of an ECS tenant into its bucket: their tasks
    run together; the results in `keys`' order."""
    if not view.bucket:
        raise BadInput(
            f"tenant {view.id} has no backup bucket in its stack outputs (never deployed?)",
            f"deploy it first: afrex up -s {view.id}",
        )
    bucket, placement = view.bucket, placement_of(view)
    names = ", ".join(keys)
    with aws_errors(f"archiving agent(s) {names} of {view.id} on ECS"):
        ecs = ecs or ecs_client(placement)
        started: list[OneOffTask] = []
        try:
            for agent, key in keys.items():
                command = archive_command(view, agent, bucket, key, catalog)
                started.append(start(ecs, view, view.agent(agent), "archive", command, catalog))
        except BaseException:
            for task in started:
                ecs.stop_task(cluster=placement.cluster, task=task.arn, reason="afrex: cancelled")
            raise
        ends = wait_for(ecs, placement.cluster, started, timeout)
        failed = [failure(end, view) for end in ends if not end.ok]
        if failed:
            raise OperationFailed("; ".join(failed))
        return [read_result(s3, view, agent, bucket, key) for agent, key in keys.items()]


def _service(ecs: Any, placement: EcsPlacement, name: str) -> dict[str, Any]:
    answer = ecs.describe_services(cluster=placement.cluster, services=[name])
    for service in answer.get("services") or []:
        if service.get("status") == "ACTIVE":
            return dict(service)
    raise OperationFailed(
        f"service {name} is not on cluster {placement.cluster_name}",
        "nothing was changed; deploy the tenant first (afrex up -s <tenant>)",
    )


def stop_service(ecs: Any, placement: EcsPlacement, name: str, poll: float) -> int:
    """Scale the service to 0 and wait until its tasks have stopped; its desired count before."""
    desired = int(_service(ecs, placement, name).get("desiredCount") or 0)
    ecs.update_service(cluster=placement.cluster, service=name, desiredCount=0)
    tasks = service_tasks(ecs, placement.cluster, [name]).get(name, [])
    arns = [str(task["taskArn"]) for task in tasks if task.get("lastStatus") != "STOPPED"]
    for arn in arns:
        ecs.stop_task(cluster=placement.cluster, task=arn, reason=RESTORE_REASON)
    _, running = wait_stopped(ecs, placement.cluster, arns, STOP_TIMEOUT_S, poll)
    if running:
        raise OperationFailed(
            f"the tasks of service {name} did not stop within {STOP_TIMEOUT_S:.0f} s; the "
            "service is left at desired count 0 and its state unchanged",
            "run the same restore again",
        )
    return desired


def start_service(
    ecs: Any, placement: EcsPlacement, name: str, desired: int, wait: float, poll: float
) -> str:
    """Back to `desired` tasks with a new deployment, waited for until stable (one
    deployment, running = desired); the state ECS reports then."""
    ecs.update_service(
        cluster=placement.cluster, service=name, desiredCount=desired, forceNewDeployment=True
    )
    deadline = time.monotonic() + wait
    while True:
        service = _service(ecs, placement, name)
        deployments = service.get("deployments") or []
        for deployment in deployments:
            if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "FAILED":
                raise OperationFailed(
                    f"service {name} failed to start after the restore: "
                    f"{deployment.get('rolloutStateReason', 'deployment failed')}; its state "
                    "was restored",
                    f"see its events and logs ({placement.log_group})",
                )
        running, wanted = (
            int(service.get("runningCount") or 0),
            int(service.get("desiredCount") or 0),
        )
        if len(deployments) <= 1 and running == wanted:
            return "running" if wanted else "stopped"
        if time.monotonic() >= deadline:
            raise OperationFailed(
                f"service {name} is not stable after the restore (running {running} of "
                f"{wanted}, waited up to {wait:.0f} s); its state was restored",
                "ECS keeps trying: watch it with `afrex fleet show <tenant>`",
            )
        time.sleep(poll)


def gateway_health(ecs: Any, placement: EcsPlacement, name: str, container: str) -> str | None:
    tasks = service_tasks(ecs, placement.cluster, [name]).get(name, [])
    task = pick_task(task_of(item, container) for item in tasks)
    return task.health if task is not None and task.last_status == "RUNNING" else None


def restore_command(bucket: str, archived: ArchivedAgent, catalog: Catalog) -> list[str]:
    """The restore task's command (afrex.archive_task's arguments)."""
    return [
        "restore",
        "--target",
        catalog.gateway.state_path,
        "--bucket",
        bucket,
        "--key",
        archived.key,
        "--sha256",
        archived.sha256,
        "--size",
        str(archived.size),
        "--scratch",
        catalog.fargate.scratch_path,
    ]


def restore_on_ecs(
    view: TenantView,
    agent: str,
    archived: ArchivedAgent,
    catalog: Catalog,
    wait: float,
    ecs: Any | None = None,
    poll: float = POLL_S,
) -> AgentRestored:
    """Replace an ECS agent's state with a (verified) archive and wait for its service."""
    clock = time.perf_counter()
    placement, deployed = placement_of(view), view.agent(agent)
    name = deployed.container
    with aws_errors(f"restoring agent {agent} of {view.id} on ECS"):
        ecs = ecs or ecs_client(placement)
        ensure_definition(ecs, view, definition(view, deployed, "restore", catalog))
        desired = stop_service(ecs, placement, name, poll)
        command = restore_command(str(view.bucket), archived, catalog)
        task = start(ecs, view, deployed, "restore", command, catalog)
        (end,) = wait_for(ecs, placement.cluster, [task])
        if end.exit_code == EXIT_UNTOUCHED:
            start_service(ecs, placement, name, desired, wait, poll)
            raise StateUntouched(f"{failure(end, view)}; the agent is back on its old state")
        if not end.ok:
            raise OperationFailed(
                f"{failure(end, view)}; service {name} is left at desired count 0",
                "run the same restore again",
            )
        state = start_service(ecs, placement, name, max(desired, 1), wait, poll)
        container = deployed.ecs.container_name if deployed.ecs else "gateway"
        health = gateway_health(ecs, placement, name, container)
    return AgentRestored(agent, name, state, health, time.perf_counter() - clock)
