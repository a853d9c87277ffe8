"""`backup retention`: S3's lifecycle rule does the expiring; this checks it.

For each deployed tenant's bucket: the lifecycle configuration is compared with
the catalog's (`backups.retention_days`, `noncurrent_retention_days`,
`abort_multipart_days`: the rule the component writes, components/backup_bucket.py
`lifecycle_rules`), and what expires next is reported. Only in a bucket whose rule
is missing does this delete past-retention backups and agent archives itself
(every version, as the rule would), and it says so. A rule that differs is
reported, never worked around. `dry_run` changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from afrex.archive import CHECKSUM_SUFFIX
from afrex.backups.create import skip_reason
from afrex.backups.fleet import PerThreadS3, for_each_tenant
from afrex.backups.manifest import backup_prefix, iso
from afrex.backups.store import list_stored_archives, list_stored_backups, s3_errors
from afrex.catalog import Backups, Catalog, load_catalog
from afrex.deployed import TenantView, read_fleet
from afrex.errors import AfrexError, OperationFailed
from afrex.events import Event, open_event_log
from afrex.stackfiles import Project, find_project

RULE_ID = "expire-backups"
EXPIRED_EVENT = "backup.expired"
RETENTION_PARALLEL = 8
DELETE_BATCH = 1000
BACKUPS_SCOPE = "backups/"


def expected_rule(backups: Backups) -> dict[str, Any]:
    """The catalog's lifecycle rule as S3 returns it (the component's `lifecycle_rules`)."""
    return {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": backups.retention_days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": backups.noncurrent_retention_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": backups.abort_multipart_days},
    }


def _rule_prefix(rule: dict[str, Any]) -> str | None:
    """The prefix a rule applies to ("" = the whole bucket), None if it filters on more."""
    if "Prefix" in rule:  # the legacy form
        return str(rule["Prefix"])
    filtered = rule.get("Filter") or {}
    if set(filtered) - {"Prefix"}:
        return None  # tags, sizes or And: not a rule for every backup
    return str(filtered.get("Prefix", ""))


def rule_differences(rules: Iterable[dict[str, Any]], backups: Backups) -> list[str] | None:
    """None when no enabled rule covers the backups; else what differs from the catalog
    (empty: it matches)."""
    covering = [
        rule
        for rule in rules
        if rule.get("Status") == "Enabled"
        and (prefix := _rule_prefix(rule)) is not None
        and BACKUPS_SCOPE.startswith(prefix)
    ]
    if not covering:
        return None
    rule = covering[0]
    wanted = expected_rule(backups)
    checks = [
        ("expiration days", "Expiration", "Days"),
        ("noncurrent version days", "NoncurrentVersionExpiration", "NoncurrentDays"),
        (
            "abort incomplete uploads after days",
            "AbortIncompleteMultipartUpload",
            "DaysAfterInitiation",
        ),
    ]
    differences = []
    for label, section, key in checks:
        have = (rule.get(section) or {}).get(key)
        want = wanted[section][key]
        if have != want:
            shown = "not set" if have is None else have
            differences.append(f"{label}: {shown}, the catalog says {want}")
    return differences


@dataclass(frozen=True)
class Expiring:
    """A backup or agent archive and when the retention ends for it."""

    kind: str  # backup | archive
    name: str  # backup id, or archive key
    created: datetime
    expires: datetime
    prefix: str  # every object of it starts with this

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "created": iso(self.created),
            "expires": iso(self.expires),
        }


@dataclass
class BucketRetention:
    """One tenant's bucket against the catalog's retention."""

    tenant: str
    bucket: str
    rule: str = "matches"  # matches | differs | missing | unreadable
    differences: list[str] = field(default_factory=list)
    next_expiry: Expiring | None = None
    past: list[Expiring] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.rule == "matches"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "bucket": self.bucket,
            "rule": self.rule,
            "differences": self.differences,
            "nextExpiry": self.next_expiry.as_dict() if self.next_expiry else None,
            "pastRetention": [item.as_dict() for item in self.past],
            "deleted": self.deleted,
            "error": self.error,
        }


@dataclass
class RetentionReport:
    """Every deployed bucket's retention, and what was deleted (or would be)."""

    retention_days: int
    dry_run: bool
    now: datetime
    buckets: list[BucketRetention] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(bucket.ok for bucket in self.buckets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "retentionDays": self.retention_days,
            "dryRun": self.dry_run,
            "now": iso(self.now),
            "buckets": [bucket.as_dict() for bucket in self.buckets],
            "skipped": self.skipped,
        }


def check_retention(
    tenant: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
    parallel: int = RETENTION_PARALLEL,
) -> RetentionReport:
    """Check every deployed bucket's lifecycle rule; delete past retention where it is missing."""
    project = project or find_project()
    catalog = catalog or load_catalog()
    views = read_fleet(project, catalog, [tenant] if tenant else None)
    report = RetentionReport(catalog.backups.retention_days, dry_run, now or datetime.now(UTC))
    deployed = []
    for view in views:
        reason = skip_reason(view)
        if reason:
            report.skipped[view.id] = reason
        else:
            deployed.append(view)
    clients = PerThreadS3()

    def check(view: TenantView) -> BucketRetention:
        return check_bucket(clients(), view, catalog.backups, report.now, dry_run)

    report.buckets = for_each_tenant(deployed, check, parallel)
    log = open_event_log(project.root)
    for bucket in report.buckets:
        if bucket.deleted:
            details = {
                "bucket": bucket.bucket,
                "deleted": bucket.deleted,
                "reason": "no lifecycle rule",
            }
            try:
                log.record(Event(EXPIRED_EVENT, bucket.tenant, details))
            except AfrexError as error:
                bucket.error = f"deleted, but the event was not recorded: {error}"
    return report


def expiring_items(s3: Any, bucket: str, days: int) -> list[Expiring]:
    """Every backup and agent archive in the bucket, soonest to expire first."""
    keep = timedelta(days=days)
    items = [
        Expiring("backup", b.backup_id, b.created, b.created + keep, backup_prefix(b.backup_id))
        for b in list_stored_backups(s3, bucket)
    ]
    items += [
        Expiring("archive", a.key, a.created, a.created + keep, a.key)
        for a in list_stored_archives(s3, bucket)
    ]
    return sorted(items, key=lambda item: item.expires)


def check_bucket(
    s3: Any, view: TenantView, backups: Backups, now: datetime, dry_run: bool
) -> BucketRetention:
    """One bucket: its rule, what expires next, and the deletions a missing rule needs."""
    bucket = str(view.bucket)
    result = BucketRetention(view.id, bucket)
    try:
        differences = rule_differences(lifecycle_rules(s3, bucket), backups)
        items = expiring_items(s3, bucket, backups.retention_days)
        result.past = [item for item in items if item.expires <= now]
        result.next_expiry = next((item for item in items if item.expires > now), None)
        if differences is None:
            result.rule = "missing"
            if not dry_run:
                for item in result.past:
                    delete_every_version(s3, bucket, item.prefix)
                    result.deleted.append(item.name)
        elif differences:
            result.rule, result.differences = "differs", differences
    except AfrexError as error:
        result.rule, result.error = "unreadable", str(error)
    return result


def lifecycle_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules ([] when it has no lifecycle configuration)."""
    with s3_errors("read the lifecycle rule", bucket):
        try:
            answer = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code == "NoSuchLifecycleConfiguration":
                return []
            raise
    return list(answer.get("Rules", []))


def delete_every_version(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every version and delete marker under `prefix` and abort its unfinished
    uploads (what the rule would expire); an archive's `.sha256` companion goes with it."""
    targets = [prefix] if prefix.endswith("/") else [prefix, prefix + CHECKSUM_SUFFIX]
    deleted = 0
    with s3_errors(f"delete {prefix}", bucket):
        for target in targets:
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=target)
            versions = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for page in pages
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                if prefix.endswith("/") or item["Key"] == target
            ]
            for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=target).get(
                "Uploads", []
            ):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            for start in range(0, len(versions), DELETE_BATCH):
                batch = versions[start : start + DELETE_BATCH]
                answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                errors = answer.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise OperationFailed(
                        f"cannot delete {first.get('Key')} in s3://{bucket}: "
                        f"{first.get('Code')} {first.get('Message')} ({len(errors)} not deleted)"
                    )
                deleted += len(batch)
    return deleted
