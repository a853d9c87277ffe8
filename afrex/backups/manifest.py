"""Backup ids, object keys and the manifest document that makes a backup complete.

A backup id is its UTC start time, `YYYYMMDD-HHMMSS` (the seed's format). The
manifest is written last: it lists every agent archive with its size and SHA-256,
the catalog digest and the tool version, and never any secret (stack outputs such
as the gateway token are not read into it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from afrex.errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from afrex.archive import ArchiveResult

BACKUPS_PREFIX = "backups"
MANIFEST_NAME = "manifest.json"
ARCHIVE_SUFFIX = ".tar.gz"
ID_FORMAT = "%Y%m%d-%H%M%S"
ID_PATTERN = re.compile(r"\d{8}-\d{6}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
SCHEMA = 1


def backup_id(when: datetime) -> str:
    """The id of a backup started at `when`."""
    return f"{when.astimezone(UTC):{ID_FORMAT}}"


def backup_time(value: str) -> datetime | None:
    """When the backup `value` started, or None if it is not a backup id."""
    if not ID_PATTERN.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def check_backup_id(value: str) -> str:
    """A backup id given as an argument (`--backup-id`)."""
    if backup_time(value) is None:
        raise BadInput(
            f"--backup-id {value!r} is not a backup id",
            "backup ids are UTC times like 20260215-120000; `afrex backup list` shows them",
        )
    return value


def backup_prefix(backup: str) -> str:
    return f"{BACKUPS_PREFIX}/{backup}/"


def archive_key(backup: str, agent: str) -> str:
    return f"{backup_prefix(backup)}{agent}{ARCHIVE_SUFFIX}"


def manifest_key(backup: str) -> str:
    return f"{backup_prefix(backup)}{MANIFEST_NAME}"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ArchivedAgent:
    """One agent's archive in a backup."""

    agent: str
    key: str
    size: int
    sha256: str

    @classmethod
    def of(cls, result: ArchiveResult) -> ArchivedAgent:
        return cls(result.agent, result.key, result.size, result.sha256)

    def as_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "key": self.key, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    """A complete backup: what it holds and how to check it."""

    tenant: str
    backup_id: str
    created: datetime
    completed: datetime
    tool_version: str
    catalog_digest: str
    state_path: str
    agents: tuple[ArchivedAgent, ...]

    @property
    def size(self) -> int:
        return sum(agent.size for agent in self.agents)

    def archive(self, agent: str) -> ArchivedAgent | None:
        return next((a for a in self.agents if a.agent == agent), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "tenant": self.tenant,
            "backupId": self.backup_id,
            "created": iso(self.created),
            "completed": iso(self.completed),
            "tool": "afrex",
            "toolVersion": self.tool_version,
            "catalogDigest": self.catalog_digest,
            "statePath": self.state_path,
            "agents": [agent.as_dict() for agent in self.agents],
        }

    def to_json(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes, tenant: str, backup: str) -> Manifest:
        """Parse a stored manifest; one that does not describe this tenant's backup
        `backup` exactly is damaged (OperationFailed naming what is wrong)."""
        try:
            data = json.loads(raw)
            return cls._parse(data, tenant, backup)
        except (ValueError, KeyError, TypeError) as error:
            raise OperationFailed(
                f"the manifest of backup {backup} of {tenant} is damaged: {error}",
                "this backup cannot be trusted; restore another one",
            ) from None

    @classmethod
    def _parse(cls, data: Any, tenant: str, backup: str) -> Manifest:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a schema {SCHEMA} manifest")
        if data["tenant"] != tenant or data["backupId"] != backup:
            raise ValueError(f"it describes {data['tenant']} {data['backupId']}")
        agents = tuple(_archived(item, backup) for item in data["agents"])
        if not agents or len({a.agent for a in agents}) != len(agents):
            raise ValueError("no agents, or an agent listed twice")
        return cls(
            tenant=tenant,
            backup_id=backup,
            created=_when(data["created"]),
            completed=_when(data["completed"]),
            tool_version=str(data["toolVersion"]),
            catalog_digest=str(data["catalogDigest"]),
            state_path=str(data["statePath"]),
            agents=agents,
        )


def _archived(item: Any, backup: str) -> ArchivedAgent:
    agent, size, sha256 = item["agent"], item["size"], item["sha256"]
    if not isinstance(agent, str) or item["key"] != archive_key(backup, agent):
        raise ValueError(f"agent entry {agent!r} does not match its key")
    if not isinstance(size, int) or size < 0 or not SHA256_PATTERN.fullmatch(str(sha256)):
        raise ValueError(f"agent {agent}: bad size or sha256")
    return ArchivedAgent(agent, item["key"], size, sha256)


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
