"""`backup restore`: a complete backup back into a tenant's agents, verified first.

Order: check the input (tenant, backup id, agent) -> read the manifest (none:
incomplete, refused) -> ask (`confirm`) -> download every archive to a temporary
folder, checking each size and SHA-256 against the manifest and each archive's
entries -> only then, agent by agent: stop, replace the state, start, wait. A
mismatch anywhere before the last step changes nothing.

On Docker the engine's API replaces the state (afrex/backups/agentstate.py); on
ECS a one-off restore task does, with the service scaled to 0 meanwhile
(afrex/ecs_backup.py).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from afrex.archive import cause, state_path
from afrex.backups.agentstate import AgentRestored, check_archive, replace_state
from afrex.backups.manifest import Manifest, check_backup_id, iso
from afrex.backups.store import backup_exists, download_verified, read_manifest
from afrex.deployed import TenantView, read_tenant
from afrex.errors import AfrexError, BadInput, OperationFailed
from afrex.events import Event, open_event_log
from afrex.stackfiles import find_project
from afrex.tenants import check_tenant_id

RESTORED_EVENT = "backup.restored"
FAILED_EVENT = "backup.restore-failed"
DEFAULT_WAIT_S = 120.0


@dataclass(frozen=True)
class RestorePlan:
    """What a restore will replace (shown before asking)."""

    tenant: str
    backup_id: str
    created: datetime
    agents: tuple[str, ...]  # to restore, in order
    not_deployed: tuple[str, ...]  # in the backup, no longer deployed: left out
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "backupId": self.backup_id,
            "created": iso(self.created),
            "agents": list(self.agents),
            "notDeployed": list(self.not_deployed),
            "size": self.size,
        }


@dataclass
class RestoreResult:
    """The restore as done (or cancelled at the question)."""

    plan: RestorePlan
    cancelled: bool = False
    verified_bytes: int = 0
    agents: list[AgentRestored] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.plan.as_dict(),
            "cancelled": self.cancelled,
            "verifiedBytes": self.verified_bytes,
            "restored": [agent.as_dict() for agent in self.agents],
            "seconds": round(self.seconds, 3),
        }


Confirm = Callable[[RestorePlan], bool]


def plan_restore(view: TenantView, manifest: Manifest, agent: str | None) -> RestorePlan:
    deployed = {a.name for a in view.agents}
    if agent is not None:
        if manifest.archive(agent) is None:
            held = ", ".join(a.agent for a in manifest.agents)
            raise BadInput(
                f"backup {manifest.backup_id} of {view.id} holds no archive of agent {agent}",
                f"it holds: {held}",
            )
        chosen: tuple[str, ...] = (agent,)
    else:
        chosen = tuple(a.agent for a in manifest.agents if a.agent in deployed)
    if not chosen:
        raise BadInput(
            f"no agent of backup {manifest.backup_id} is deployed in {view.id}",
            "nothing to restore into",
        )
    if PurePosixPath(manifest.state_path).name != PurePosixPath(state_path()).name:
        raise OperationFailed(
            f"backup {manifest.backup_id} holds {manifest.state_path}; the catalog's state "
            f"folder is now {state_path()}",
            "nothing was changed; restore with the catalog the backup was made with",
        )
    return RestorePlan(
        tenant=view.id,
        backup_id=manifest.backup_id,
        created=manifest.created,
        agents=chosen,
        not_deployed=tuple(a.agent for a in manifest.agents if a.agent not in deployed),
        size=sum(a.size for a in manifest.agents if a.agent in chosen),
    )


def load_manifest(s3: Any, view: TenantView, backup: str) -> Manifest:
    """The backup's manifest; an unknown backup is bad input, one without its manifest
    (interrupted) is refused."""
    bucket = str(view.bucket)
    manifest = read_manifest(s3, bucket, view.id, backup)
    if manifest is not None:
        return manifest
    if backup_exists(s3, bucket, backup):
        raise OperationFailed(
            f"backup {backup} of {view.id} is incomplete (no manifest: it never finished) "
            "and cannot be restored",
            "nothing was changed; `afrex backup list` shows the complete backups",
        )
    raise BadInput(
        f"tenant {view.id} has no backup {backup}",
        f"`afrex backup list --tenant {view.id}` shows its backups",
    )


def restore_backup(
    tenant: str,
    backup: str,
    agent: str | None = None,
    confirm: Confirm | None = None,
    wait_seconds: float = DEFAULT_WAIT_S,
) -> RestoreResult:
    """Restore backup `backup` of `tenant` (all its deployed agents, or `agent`)."""
    from afrex.clients import s3 as s3_client

    check_tenant_id(tenant)
    check_backup_id(backup)
    view = read_tenant(tenant)
    if agent is not None:
        view.agent(agent)
    if not view.deployed or not view.bucket:
        raise BadInput(
            f"tenant {tenant} was never deployed: it has no backups",
            f"`pulumi up -s {tenant}` deploys it; `afrex backup create` then backs it up",
        )
    s3 = s3_client()
    manifest = load_manifest(s3, view, backup)
    plan = plan_restore(view, manifest, agent)
    result = RestoreResult(plan)
    if confirm is not None and not confirm(plan):
        result.cancelled = True
        return result
    clock = time.perf_counter()
    log = open_event_log(find_project().root)
    with tempfile.TemporaryDirectory(prefix="afrex-restore-") as folder:
        archives = _download_all(s3, view, manifest, plan, Path(folder))
        result.verified_bytes = sum(path.stat().st_size for path in archives.values())
        try:
            if view.on_ecs:
                _restore_all_on_ecs(view, plan, manifest, wait_seconds, result)
            else:
                _replace_all(view, plan, archives, wait_seconds, result)
        except AfrexError as error:
            details = {"backupId": backup, "agents": [a.agent for a in result.agents]}
            log.record(Event(FAILED_EVENT, view.id, {**details, "reason": str(error)}))
            raise
    result.seconds = time.perf_counter() - clock
    details = {"backupId": backup, "agents": [a.agent for a in result.agents]}
    log.record(Event(RESTORED_EVENT, view.id, details))
    return result


def _download_all(
    s3: Any, view: TenantView, manifest: Manifest, plan: RestorePlan, folder: Path
) -> dict[str, Path]:
    """Every chosen archive on local disk, size, SHA-256 and entries checked."""
    archives = {}
    for name in plan.agents:
        archived = manifest.archive(name)
        assert archived is not None  # plan_restore chose it from the manifest
        target = folder / f"{name}.tar.gz"
        download_verified(s3, str(view.bucket), archived, target)
        check_archive(target, manifest.state_path)
        archives[name] = target
    return archives


def _restore_all_on_ecs(
    view: TenantView,
    plan: RestorePlan,
    manifest: Manifest,
    wait_seconds: float,
    result: RestoreResult,
) -> None:
    """Each agent's state replaced by a one-off restore task (archives verified above)."""
    from afrex.catalog import load_catalog
    from afrex.ecs_backup import restore_on_ecs

    catalog = load_catalog()
    for name in plan.agents:
        archived = manifest.archive(name)
        assert archived is not None  # plan_restore chose it from the manifest
        try:
            restored = restore_on_ecs(view, name, archived, catalog, wait_seconds)
        except AfrexError as error:
            done = ", ".join(a.agent for a in result.agents) or "none"
            raise OperationFailed(
                f"restoring agent {name} of {view.id} failed: {error}",
                f"agents already restored: {done}",
            ) from None
        result.agents.append(restored)


def _replace_all(
    view: TenantView,
    plan: RestorePlan,
    archives: dict[str, Path],
    wait_seconds: float,
    result: RestoreResult,
) -> None:
    from afrex.engines import docker_client

    docker = docker_client(view.docker_host)
    try:
        for name in plan.agents:
            container = view.agent(name).container
            try:
                restored = replace_state(
                    docker, name, container, state_path(), archives[name], wait_seconds
                )
            except Exception as error:  # ours, or the docker SDK's / requests' errors
                done = ", ".join(a.agent for a in result.agents) or "none"
                reason = str(error) if isinstance(error, AfrexError) else cause(error)
                raise OperationFailed(
                    f"restoring agent {name} of {view.id} failed: {reason}",
                    f"agents already restored: {done}",
                ) from None
            result.agents.append(restored)
    finally:
        docker.close()
