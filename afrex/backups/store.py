"""What a tenant's bucket holds, read through S3: backups (complete or not) and
agent archives, manifests, and archives downloaded with their checksum verified.

Every S3 failure becomes one `OperationFailed` line naming the bucket and the cause.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from afrex.archive import ARCHIVED_AGENTS_PREFIX, cause
from afrex.backups.manifest import (
    ARCHIVE_SUFFIX,
    BACKUPS_PREFIX,
    ID_FORMAT,
    MANIFEST_NAME,
    ArchivedAgent,
    Manifest,
    backup_prefix,
    backup_time,
    manifest_key,
)
from afrex.errors import AfrexError, OperationFailed

DOWNLOAD_CHUNK_BYTES = 1024 * 1024


@contextmanager
def s3_errors(what: str, bucket: str) -> Iterator[None]:
    """S3 (botocore) errors as one line: `cannot <what> in s3://<bucket>: <cause>`."""
    try:
        yield
    except AfrexError:
        raise
    except Exception as error:  # botocore and urllib3 errors alike
        raise OperationFailed(f"cannot {what} in s3://{bucket}: {cause(error)}") from None


@dataclass
class StoredBackup:
    """A backup as the bucket lists it (complete when its manifest is there)."""

    backup_id: str
    created: datetime
    archives: dict[str, int] = field(default_factory=dict)  # agent -> bytes
    unfinished: set[str] = field(default_factory=set)  # agents whose upload never ended
    has_manifest: bool = False
    size: int = 0  # every object of the backup, manifest included

    @property
    def complete(self) -> bool:
        return self.has_manifest

    @property
    def agents(self) -> list[str]:
        return sorted(self.archives)


@dataclass(frozen=True)
class StoredArchive:
    """A scale-down archive (`archived-agents/<agent>/<stamp>.tar.gz`)."""

    key: str
    agent: str
    created: datetime
    size: int


def _objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        yield from page.get("Contents", [])


def _uploads(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        yield from page.get("Uploads", [])


def _backup_of(key: str, found: dict[str, StoredBackup]) -> tuple[StoredBackup, str] | None:
    """(the backup a key belongs to, the object's name in it), or None for other keys."""
    parts = key.split("/")
    created = backup_time(parts[1]) if len(parts) == 3 and parts[0] == BACKUPS_PREFIX else None
    if created is None or not parts[2]:
        return None
    return found.setdefault(parts[1], StoredBackup(parts[1], created)), parts[2]


def list_stored_backups(
    s3: Any, bucket: str, prefix: str = f"{BACKUPS_PREFIX}/"
) -> list[StoredBackup]:
    """Every backup in the bucket (under `prefix`), oldest first: its objects, and the
    uploads a killed run left unfinished (so an interrupted backup is always listed)."""
    found: dict[str, StoredBackup] = {}
    with s3_errors("list backups", bucket):
        for item in _objects(s3, bucket, prefix):
            belongs = _backup_of(str(item["Key"]), found)
            if belongs is None:
                continue
            backup, name = belongs
            backup.size += int(item["Size"])
            if name == MANIFEST_NAME:
                backup.has_manifest = True
            elif name.endswith(ARCHIVE_SUFFIX):
                backup.archives[name.removesuffix(ARCHIVE_SUFFIX)] = int(item["Size"])
        for upload in _uploads(s3, bucket, prefix):
            belongs = _backup_of(str(upload["Key"]), found)
            if belongs is not None and belongs[1].endswith(ARCHIVE_SUFFIX):
                belongs[0].unfinished.add(belongs[1].removesuffix(ARCHIVE_SUFFIX))
    return sorted(found.values(), key=lambda b: b.created)


def list_stored_archives(s3: Any, bucket: str) -> list[StoredArchive]:
    """Every scale-down archive in the bucket, oldest first."""
    found = []
    with s3_errors("list agent archives", bucket):
        for item in _objects(s3, bucket, f"{ARCHIVED_AGENTS_PREFIX}/"):
            parts = str(item["Key"]).split("/")
            if len(parts) != 3 or not parts[2].endswith(ARCHIVE_SUFFIX):
                continue
            try:
                created = datetime.strptime(parts[2].removesuffix(ARCHIVE_SUFFIX), ID_FORMAT)
            except ValueError:
                continue
            stamp = created.replace(tzinfo=UTC)
            found.append(StoredArchive(str(item["Key"]), parts[1], stamp, int(item["Size"])))
    return sorted(found, key=lambda a: a.created)


def backup_exists(s3: Any, bucket: str, backup: str) -> bool:
    """Whether anything of backup `backup` is in the bucket (complete or not)."""
    return bool(list_stored_backups(s3, bucket, backup_prefix(backup)))


def read_manifest_bytes(s3: Any, bucket: str, backup: str) -> bytes | None:
    """The stored manifest of `backup` as written, or None when it has none."""
    with s3_errors(f"read the manifest of backup {backup}", bucket):
        try:
            answer = s3.get_object(Bucket=bucket, Key=manifest_key(backup))
        except s3.exceptions.NoSuchKey:
            return None
        return bytes(answer["Body"].read())


def read_manifest(s3: Any, bucket: str, tenant: str, backup: str) -> Manifest | None:
    """The manifest of `backup`, validated, or None when it has none (incomplete)."""
    raw = read_manifest_bytes(s3, bucket, backup)
    return None if raw is None else Manifest.from_json(raw, tenant, backup)


def write_manifest(s3: Any, bucket: str, manifest: Manifest) -> None:
    """Store the manifest: the step that makes the backup complete."""
    with s3_errors(f"write the manifest of backup {manifest.backup_id}", bucket):
        s3.put_object(
            Bucket=bucket,
            Key=manifest_key(manifest.backup_id),
            Body=manifest.to_json(),
            ContentType="application/json",
        )


def download_verified(s3: Any, bucket: str, archived: ArchivedAgent, target: Path) -> None:
    """Download one archive to `target`, hashing on the way; a size or SHA-256 that
    differs from the manifest is an OperationFailed (and `target` is removed)."""
    digest, size = hashlib.sha256(), 0
    with s3_errors(f"download {archived.key}", bucket):
        body = s3.get_object(Bucket=bucket, Key=archived.key)["Body"]
        with target.open("xb") as out:
            for chunk in body.iter_chunks(DOWNLOAD_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    if size != archived.size or digest.hexdigest() != archived.sha256:
        target.unlink(missing_ok=True)
        raise OperationFailed(
            f"the archive s3://{bucket}/{archived.key} does not match its manifest "
            f"(sha256 {digest.hexdigest()[:12]}..., {size} bytes; expected "
            f"{archived.sha256[:12]}..., {archived.size} bytes)",
            "nothing was changed; this backup is damaged, restore another one",
        )
