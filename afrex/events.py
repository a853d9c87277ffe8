"""The fleet's event log: what operators did (onboarded, scaled, archived, backed up,
alerted), one JSON object per event, shared by every operator.

One object per event, never an append to a shared file: two operators acting at
the same moment write two objects with different names, so neither can corrupt
or lose the other's event. Where the objects live follows the state backend, so
the log is shared exactly as widely as the stacks are:

- `AFREX_EVENTS` if set (a folder, or `s3://bucket/prefix`);
- else, with an `s3://` state backend, `<backend>/afrex-events/` in that bucket;
- else the project's `.afrex/events/` folder (one laptop, the embedded default).

Names sort by time: `<YYYY>/<MM>/<YYYYMMDDTHHMMSS.ffffffZ>-<random>.json`.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from afrex.clients import aws_failure, s3
from afrex.errors import BadInput, OperationFailed

EVENTS_ENV = "AFREX_EVENTS"
OPERATOR_ENV = "AFREX_OPERATOR"
LOCAL_EVENTS = Path(".afrex") / "events"
S3_EVENTS = "afrex-events"
SCHEMA = 1


def operator() -> str:
    """Who is acting: $AFREX_OPERATOR, else user@host."""
    named = os.environ.get(OPERATOR_ENV)
    if named:
        return named
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Event:
    """One thing an operator (or a scheduled job) did to the fleet."""

    kind: str
    tenant: str | None
    details: dict[str, Any] = field(default_factory=dict)
    who: str = field(default_factory=operator)
    when: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "tenant": self.tenant,
            "who": self.who,
            "when": self.when.isoformat().replace("+00:00", "Z"),
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        when = datetime.fromisoformat(str(data["when"]).replace("Z", "+00:00"))
        return cls(
            kind=str(data["kind"]),
            tenant=data.get("tenant"),
            details=dict(data.get("details") or {}),
            who=str(data.get("who", "")),
            when=when.astimezone(UTC),
        )

    def key(self) -> str:
        """The object's name: sortable by time, unique by a random suffix."""
        stamp = self.when.astimezone(UTC)
        return f"{stamp:%Y/%m/%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(6)}.json"


class EventLog(Protocol):
    """Where events are kept: `record` one, `read` them back in time order."""

    def record(self, event: Event) -> str: ...

    def read(self, since: datetime | None = None, tenant: str | None = None) -> list[Event]: ...


def _matches(event: Event, since: datetime | None, tenant: str | None) -> bool:
    return (since is None or event.when >= since) and (tenant is None or event.tenant == tenant)


def _encode(event: Event) -> bytes:
    return (json.dumps(event.as_dict(), sort_keys=True, default=str) + "\n").encode()


def _decode(raw: bytes) -> Event | None:
    try:
        data = json.loads(raw)
        return Event.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None  # a foreign or damaged object is not an event; never fatal


@dataclass
class FolderEventLog:
    """Events as files in a folder; each written whole, then linked into place."""

    root: Path

    def record(self, event: Event) -> str:
        key = event.key()
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.tmp")
            with open(temp, "xb") as out:
                out.write(_encode(event))
                out.flush()
                os.fsync(out.fileno())
            os.link(temp, path)  # fails rather than replace an existing event
            temp.unlink()
        except OSError as error:
            raise OperationFailed(
                f"cannot record the {event.kind} event in {self.root}: {error.strerror}",
                f"check that the folder is writable, or set {EVENTS_ENV}",
            ) from None
        return str(path)

    def _paths(self, since: datetime | None) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        floor = f"{since:%Y/%m}" if since else ""
        for year in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for month in sorted(p for p in year.iterdir() if p.is_dir()):
                if f"{year.name}/{month.name}" >= floor:
                    yield from sorted(month.glob("*.json"))

    def read(self, since: datetime | None = None, tenant: str | None = None) -> list[Event]:
        events = []
        for path in self._paths(since):
            event = _decode(path.read_bytes())
            if event is not None and _matches(event, since, tenant):
                events.append(event)
        return sorted(events, key=lambda e: e.when)


@dataclass
class S3EventLog:
    """Events as objects under an S3 prefix (the state backend's bucket)."""

    bucket: str
    prefix: str

    def _client(self) -> Any:
        return s3()

    def record(self, event: Event) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        key = f"{self.prefix}/{event.key()}"
        try:
            self._client().put_object(
                Bucket=self.bucket, Key=key, Body=_encode(event), IfNoneMatch="*"
            )
        except (BotoCoreError, ClientError) as error:
            raise aws_failure(error, "S3", f"recording the {event.kind} event") from None
        return f"s3://{self.bucket}/{key}"

    def read(self, since: datetime | None = None, tenant: str | None = None) -> list[Event]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._client()
        start = f"{self.prefix}/{since:%Y/%m}" if since else ""
        events = []
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/", StartAfter=start
            )
            for page in pages:
                for item in page.get("Contents", []):
                    body = client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                    event = _decode(body)
                    if event is not None and _matches(event, since, tenant):
                        events.append(event)
        except (BotoCoreError, ClientError) as error:
            where = f"s3://{self.bucket}/{self.prefix}"
            raise aws_failure(error, "S3", f"reading events from {where}") from None
        return sorted(events, key=lambda e: e.when)


def open_event_log(project_root: Path) -> EventLog:
    """The fleet's event log (see the module docstring for where it lives)."""
    from afrex.state import BACKEND_ENV

    target = os.environ.get(EVENTS_ENV)
    if not target:
        backend = os.environ.get(BACKEND_ENV, "")
        if backend.startswith("s3://"):
            target = f"{backend.split('?')[0].rstrip('/')}/{S3_EVENTS}"
    if not target:
        return FolderEventLog(project_root / LOCAL_EVENTS)
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        if not bucket:
            raise BadInput(f"{EVENTS_ENV}={target} names no bucket", "use s3://<bucket>/<prefix>")
        return S3EventLog(bucket, prefix.strip("/") or S3_EVENTS)
    if "://" in target:
        raise BadInput(
            f"{EVENTS_ENV}={target} is neither a folder nor s3://", "use a folder or s3://..."
        )
    return FolderEventLog(Path(target))
