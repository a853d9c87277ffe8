"""`backup export`: a tenant's complete backups and its stack file, in one folder, for
offboarding and compliance.

    <output>/manifest.json                      what the export holds, with every file's
                                               size and SHA-256 (written last)
    <output>/stack/Pulumi.<tenant>.yaml         the stack file as in git (secrets stay encrypted)
    <output>/backups/<id>/manifest.json         each backup's own manifest, as stored
    <output>/backups/<id>/<agent>.tar.gz        its archives, checked against it

The export is built in a hidden folder beside `<output>`, every file re-read and
re-hashed after writing, then renamed into place: `<output>` appears whole or not
at all. It must not exist, or be an empty folder (else bad input, nothing written).
Incomplete backups are left out and named.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from afrex import __version__
from afrex.atomicfiles import write_atomic
from afrex.backups.manifest import ARCHIVE_SUFFIX, MANIFEST_NAME, Manifest, iso
from afrex.backups.store import download_verified, list_stored_backups, read_manifest_bytes
from afrex.catalog import load_catalog
from afrex.deployed import read_tenant
from afrex.errors import BadInput, OperationFailed
from afrex.tenants import check_tenant_id

SCHEMA = 1
HASH_CHUNK_BYTES = 1024 * 1024


@dataclass
class ExportResult:
    """What was exported where."""

    tenant: str
    output: Path
    backups: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # left out
    files: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (size, sha256)

    @property
    def size(self) -> int:
        return sum(size for size, _ in self.files.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "output": str(self.output),
            "backups": self.backups,
            "incompleteLeftOut": self.incomplete,
            "files": len(self.files),
            "size": self.size,
        }


def check_output(output: Path) -> None:
    """The folder must not exist, or be empty."""
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        raise BadInput(f"--output {output} exists and is not a folder", "name a new folder")
    if output.is_dir() and any(output.iterdir()):
        raise BadInput(
            f"--output {output} exists and is not empty",
            "name a new or empty folder; nothing was written",
        )


def file_digest(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file as it is on disk."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def export_tenant(tenant: str, output: Path, now: datetime | None = None) -> ExportResult:
    """Export every complete backup of `tenant` and its stack file into `output`."""
    from afrex.clients import s3 as s3_client

    check_tenant_id(tenant)
    output = output.absolute()
    check_output(output)
    view = read_tenant(tenant)
    if not view.deployed or not view.bucket:
        raise BadInput(
            f"tenant {tenant} was never deployed: it has no backups",
            f"`pulumi up -s {tenant}` deploys it; `afrex backup create` then backs it up",
        )
    s3, bucket = s3_client(), view.bucket
    result = ExportResult(tenant, output)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        _write(
            result,
            staging,
            f"stack/{view.tenant.stack.path.name}",
            view.tenant.stack.path.read_bytes(),
        )
        for stored in list_stored_backups(s3, bucket):
            if not stored.complete:
                result.incomplete.append(stored.backup_id)
                continue
            _export_backup(s3, bucket, stored.backup_id, staging, result)
            result.backups.append(stored.backup_id)
        _write_manifest(staging, result, now or datetime.now(UTC))
        _verify(staging, result)
        _sync_folder(staging)
        os.rename(staging, output)  # an empty `output` folder is replaced
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OperationFailed(
            f"cannot write the export to {output}: {error.strerror or error}",
            "nothing was left behind; check the folder and the free space",
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _write(result: ExportResult, staging: Path, name: str, data: bytes) -> None:
    """A small file of the export, and what it must read back as."""
    path = staging / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    result.files[name] = (len(data), hashlib.sha256(data).hexdigest())


def _export_backup(s3: Any, bucket: str, backup: str, staging: Path, result: ExportResult) -> None:
    """One backup: its manifest as stored, and its archives checked against it."""
    raw = read_manifest_bytes(s3, bucket, backup)
    if raw is None:
        raise OperationFailed(f"the manifest of backup {backup} vanished during the export")
    manifest = Manifest.from_json(raw, result.tenant, backup)
    folder = f"backups/{backup}"
    _write(result, staging, f"{folder}/{MANIFEST_NAME}", raw)
    for archived in manifest.agents:
        name = f"{folder}/{archived.agent}{ARCHIVE_SUFFIX}"
        download_verified(s3, bucket, archived, staging / name)
        result.files[name] = (archived.size, archived.sha256)


def _write_manifest(staging: Path, result: ExportResult, now: datetime) -> None:
    document = {
        "schema": SCHEMA,
        "tenant": result.tenant,
        "exported": iso(now),
        "tool": "afrex",
        "toolVersion": __version__,
        "catalogDigest": load_catalog().digest,
        "backups": result.backups,
        "incompleteLeftOut": result.incomplete,
        "files": [
            {"path": path, "size": size, "sha256": sha256}
            for path, (size, sha256) in sorted(result.files.items())
        ],
    }
    write_atomic(staging / MANIFEST_NAME, json.dumps(document, indent=2, sort_keys=True) + "\n")


def _verify(staging: Path, result: ExportResult) -> None:
    """Re-read every exported file and compare it with what it was written from (the
    stack file's bytes, the stored manifests, the archives' SHA-256 in them)."""
    for name, expected in sorted(result.files.items()):
        if file_digest(staging / name) != expected:
            raise OperationFailed(
                f"the exported file {name} does not read back as written",
                "check the disk, then export again",
            )


def _sync_folder(folder: Path) -> None:
    """Flush every file and folder of the export to disk before it is renamed into place."""
    for path in [*folder.rglob("*"), folder]:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
