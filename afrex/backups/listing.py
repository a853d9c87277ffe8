"""`backup list`: every tenant's backups with time, size, agents, complete or not, and
age against the catalog's retention (when S3's lifecycle rule expires them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from afrex.backups.create import skip_reason
from afrex.backups.fleet import PerThreadS3, for_each_tenant
from afrex.backups.manifest import iso
from afrex.backups.store import StoredBackup, list_stored_backups
from afrex.catalog import Catalog, load_catalog
from afrex.deployed import TenantView, read_fleet
from afrex.errors import AfrexError
from afrex.stackfiles import Project, find_project

LIST_PARALLEL = 8
DAY = timedelta(days=1)


@dataclass(frozen=True)
class BackupEntry:
    """One backup of one tenant, as `backup list` shows it."""

    tenant: str
    backup_id: str
    created: datetime
    complete: bool
    size: int
    agents: tuple[str, ...]
    unfinished: tuple[str, ...]  # agents whose upload was cut off (a killed run)
    age_days: int
    expires: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "backupId": self.backup_id,
            "created": iso(self.created),
            "complete": self.complete,
            "restorable": self.complete,
            "size": self.size,
            "agents": list(self.agents),
            "unfinishedUploads": list(self.unfinished),
            "ageDays": self.age_days,
            "expires": iso(self.expires),
        }


@dataclass
class BackupListing:
    """Backups of the fleet (or one tenant), newest first per tenant."""

    retention_days: int
    now: datetime
    backups: list[BackupEntry] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # tenant -> why
    failed: dict[str, str] = field(default_factory=dict)  # tenant -> error

    def as_dict(self) -> dict[str, Any]:
        return {
            "retentionDays": self.retention_days,
            "now": iso(self.now),
            "backups": [entry.as_dict() for entry in self.backups],
            "skipped": self.skipped,
            "failed": self.failed,
        }


def entry(tenant: str, stored: StoredBackup, now: datetime, retention_days: int) -> BackupEntry:
    return BackupEntry(
        tenant=tenant,
        backup_id=stored.backup_id,
        created=stored.created,
        complete=stored.complete,
        size=stored.size,
        agents=tuple(stored.agents),
        unfinished=tuple(sorted(stored.unfinished)),
        age_days=max(0, (now - stored.created) // DAY),
        expires=stored.created + retention_days * DAY,
    )


def list_backups(
    tenant: str | None = None,
    now: datetime | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
    parallel: int = LIST_PARALLEL,
) -> BackupListing:
    """Every deployed tenant's backups (one S3 listing per bucket, buckets in parallel)."""
    catalog = catalog or load_catalog()
    views = read_fleet(project or find_project(), catalog, [tenant] if tenant else None)
    listing = BackupListing(catalog.backups.retention_days, (now or datetime.now(UTC)))
    clients = PerThreadS3()

    def read(view: TenantView) -> tuple[list[StoredBackup], str | None, str | None]:
        """(stored backups, why skipped, why failed) of one tenant."""
        reason = skip_reason(view)
        if reason:
            return [], reason, None
        try:
            return list_stored_backups(clients(), str(view.bucket)), None, None
        except AfrexError as error:
            return [], None, str(error)

    for view, (stored, skipped, failed) in zip(
        views, for_each_tenant(views, read, parallel), strict=True
    ):
        if skipped:
            listing.skipped[view.id] = skipped
        if failed:
            listing.failed[view.id] = failed
        listing.backups.extend(
            entry(view.id, s, listing.now, listing.retention_days) for s in reversed(stored)
        )
    return listing
