"""`backup create`: every deployed agent's state to its tenant's bucket, then the manifest.

One run has one backup id (its UTC start time) across the fleet. Tenants are backed
up in parallel (bounded); within a tenant, agents one after the other (each archive
already uploads its parts in parallel; a tenant on ECS runs one archive task per
agent, all at once: afrex/ecs_backup.py). A tenant that fails does not stop the others;
a tenant never deployed is skipped with the reason. One event per backup:
`backup.created` or `backup.failed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from afrex import __version__
from afrex.archive import ArchiveResult, archive_agent, state_path
from afrex.backups.fleet import PerThreadS3, check_parallel, for_each_tenant, load_sdks
from afrex.backups.manifest import ArchivedAgent, Manifest, archive_key, backup_id, iso
from afrex.backups.store import backup_exists, write_manifest
from afrex.catalog import Catalog, load_catalog
from afrex.deployed import TenantView, read_fleet
from afrex.errors import AfrexError, OperationFailed
from afrex.events import Event, EventLog, open_event_log
from afrex.stackfiles import Project, find_project

CREATED_EVENT = "backup.created"
FAILED_EVENT = "backup.failed"
DEFAULT_PARALLEL = 4


@dataclass
class TenantBackup:
    """One tenant's part of a run: created, failed (with the reason) or skipped."""

    tenant: str
    status: str  # created | failed | skipped
    backup_id: str
    bucket: str | None = None
    agents: list[ArchiveResult] = field(default_factory=list)
    reason: str | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def size(self) -> int:
        return sum(agent.size for agent in self.agents)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "status": self.status,
            "backupId": self.backup_id,
            "bucket": self.bucket,
            "agents": [agent.as_dict() for agent in self.agents],
            "size": self.size,
            "reason": self.reason,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class BackupRun:
    """A `backup create` run over the fleet (or one tenant)."""

    backup_id: str
    started: datetime
    tenants: list[TenantBackup]

    def having(self, status: str) -> list[TenantBackup]:
        return [t for t in self.tenants if t.status == status]

    @property
    def ok(self) -> bool:
        """Nothing failed and every event was recorded."""
        return not self.having("failed") and not any(t.problems for t in self.tenants)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backupId": self.backup_id,
            "started": iso(self.started),
            "created": len(self.having("created")),
            "failed": len(self.having("failed")),
            "skipped": len(self.having("skipped")),
            "tenants": [t.as_dict() for t in self.tenants],
        }


@dataclass
class _Context:
    backup_id: str
    started: datetime
    catalog: Catalog
    log: EventLog
    s3: PerThreadS3


def create_backups(
    tenant: str | None = None,
    parallel: int = DEFAULT_PARALLEL,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[TenantBackup], None] | None = None,
    now: datetime | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
) -> BackupRun:
    """Back up every tenant (or one), `parallel` tenants at a time; `on_start(tenants)`
    once the fleet is read, `on_done(result)` as each tenant finishes."""
    check_parallel(parallel)
    project = project or find_project()
    catalog = catalog or load_catalog()
    views = read_fleet(project, catalog, [tenant] if tenant else None)
    if on_start is not None:
        on_start(len(views))
    started = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if any(skip_reason(view) is None for view in views):
        load_sdks()
    context = _Context(
        backup_id(started), started, catalog, open_event_log(project.root), PerThreadS3()
    )
    results = for_each_tenant(views, lambda view: back_up_tenant(view, context), parallel, on_done)
    return BackupRun(context.backup_id, started, results)


def skip_reason(view: TenantView) -> str | None:
    """Why a tenant has nothing to back up, or None."""
    if not view.deployed:
        return "never deployed (no stack outputs): nothing to back up"
    if not view.bucket:
        return "its stack outputs name no backup bucket"
    if not view.agents:
        return "no agents deployed"
    return None


def back_up_tenant(view: TenantView, context: _Context) -> TenantBackup:
    """One tenant's backup: each agent's archive, then the manifest, then the event."""
    result = TenantBackup(view.id, "created", context.backup_id, bucket=view.bucket)
    reason = skip_reason(view)
    if reason:
        result.status, result.reason = "skipped", reason
        return result
    clock = time.perf_counter()
    try:
        _archive_all(view, context, result)
    except AfrexError as error:
        result.status, result.reason = "failed", str(error)
    result.seconds = time.perf_counter() - clock
    _record(context.log, result)
    return result


def _archive_all(view: TenantView, context: _Context, result: TenantBackup) -> None:
    bucket = str(view.bucket)
    if view.on_ecs:
        _check_new(context, bucket)
        result.agents.extend(_archive_on_ecs(view, context))
    else:
        docker = _open_engine_while(view, lambda: _check_new(context, bucket))
        try:
            for agent in view.agents:
                key = archive_key(context.backup_id, agent.name)
                archived = archive_agent(view, agent.name, key, s3=context.s3(), docker=docker)
                result.agents.append(archived)
        finally:
            docker.close()
    manifest = Manifest(
        tenant=view.id,
        backup_id=context.backup_id,
        created=context.started,
        completed=datetime.now(UTC).replace(microsecond=0),
        tool_version=__version__,
        catalog_digest=context.catalog.digest,
        state_path=state_path(),
        agents=tuple(ArchivedAgent.of(archived) for archived in result.agents),
    )
    write_manifest(context.s3(), bucket, manifest)


def _archive_on_ecs(view: TenantView, context: _Context) -> list[ArchiveResult]:
    """Every agent of an ECS tenant archived by its one-off task, the tasks run together."""
    from afrex.ecs_backup import archive_on_ecs

    keys = {agent.name: archive_key(context.backup_id, agent.name) for agent in view.agents}
    return archive_on_ecs(view, keys, context.s3(), context.catalog)


def _check_new(context: _Context, bucket: str) -> None:
    """The backup id is not taken in this bucket (two runs in the same second)."""
    if backup_exists(context.s3(), bucket, context.backup_id):
        raise OperationFailed(
            f"backup {context.backup_id} already exists in s3://{bucket}",
            "another run started in the same second; run again",
        )


def _open_engine_while(view: TenantView, work: Callable[[], None]) -> Any:
    """A client for the tenant's Docker engine, opened while `work` runs (an engine's
    first answer can take a second; the S3 client and checks need as long)."""
    from afrex.engines import docker_client

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine") as pool:
        engine = pool.submit(docker_client, view.docker_host)
        try:
            work()
        except BaseException:
            if engine.exception() is None:
                engine.result().close()
            raise
        return engine.result()


def _record(log: EventLog, result: TenantBackup) -> None:
    kind = CREATED_EVENT if result.status == "created" else FAILED_EVENT
    details = {
        "backupId": result.backup_id,
        "bucket": result.bucket,
        "agents": [agent.agent for agent in result.agents],
        "size": result.size,
    }
    if result.reason:
        details["reason"] = result.reason
    try:
        log.record(Event(kind, result.tenant, details))
    except AfrexError as error:
        result.problems.append(f"the {kind} event was not recorded: {error}")
