"""Deployed facts: stack outputs read straight from the Pulumi state backend.

Reading many stacks must not cost a CLI process per stack, so a self-managed
backend (`file://<folder>` or `s3://<bucket>[/prefix]`) is read directly: one
checkpoint per stack at `.pulumi/stacks/<project>/<stack>.json[.gz]` (or the
older `.pulumi/stacks/<stack>.json`, per `.pulumi/meta.yaml`). Any other
backend goes through the Automation API, which needs the `pulumi` binary.
Secret outputs stay encrypted: they come back as `[secret]`, never decrypted.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from afrex.errors import BadInput, OperationFailed
from afrex.secretvalues import SECRET_PLACEHOLDER, is_secret, mask_secrets
from afrex.yamlsafe import parse_yaml

BACKEND_ENV = "PULUMI_BACKEND_URL"
LOCAL_STATE = ".pulumi-state"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class StackState:
    """A deployed stack: its outputs (secrets masked), when it was last updated."""

    stack: str
    outputs: dict[str, Any]
    secret_outputs: tuple[str, ...] = ()
    updated: str = ""
    resources: int = 0


class StateBackend(Protocol):
    """Where deployed stacks live; `read` returns None for a stack never deployed."""

    def read(self, stack: str) -> StackState | None: ...


def parse_checkpoint(stack: str, raw: bytes) -> StackState:
    """A stack's state from its checkpoint (CheckpointV3) or `pulumi stack export` JSON."""
    try:
        document = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (ValueError, OSError) as error:
        raise OperationFailed(
            f"state of stack {stack} is not readable JSON ({error})",
            "check the state backend; `pulumi stack export` shows it",
        ) from None
    if not isinstance(document, dict):
        raise OperationFailed(
            f"state of stack {stack} is not a checkpoint (a JSON {type(document).__name__})",
            "check the state backend; `pulumi stack export` shows it",
        )
    checkpoint = document.get("checkpoint")
    deployment = document.get("deployment") or (
        checkpoint.get("latest") if isinstance(checkpoint, dict) else None
    )
    if not isinstance(deployment, dict):
        return StackState(stack, {})
    resources = [r for r in deployment.get("resources") or [] if isinstance(r, dict)]
    root: dict[str, Any] = next((r for r in resources if r.get("type") == STACK_TYPE), {})
    outputs = root.get("outputs")
    outputs = outputs if isinstance(outputs, dict) else {}
    secret = tuple(sorted(k for k, v in outputs.items() if is_secret(v)))
    return StackState(
        stack=stack,
        outputs=mask_secrets(outputs),
        secret_outputs=secret,
        updated=str((deployment.get("manifest") or {}).get("time", "")),
        resources=sum(1 for r in resources if r.get("custom")),
    )


@dataclass
class _DiyBackend:
    """The shared logic of a self-managed backend, over a `fetch(key) -> bytes | None`."""

    project: str
    fetch: Callable[[str], bytes | None]
    _scoped: bool | None = field(default=None, init=False)

    def _project_scoped(self) -> bool:
        if self._scoped is None:
            meta = self.fetch(".pulumi/meta.yaml")
            data = parse_yaml(meta, ".pulumi/meta.yaml") if meta else None
            version = data.get("version", 0) if isinstance(data, dict) else 0
            self._scoped = isinstance(version, int) and version >= 1
        return self._scoped

    def read(self, stack: str) -> StackState | None:
        folder = f".pulumi/stacks/{self.project}" if self._project_scoped() else ".pulumi/stacks"
        for suffix in (".json", ".json.gz"):
            raw = self.fetch(f"{folder}/{stack}{suffix}")
            if raw is not None:
                return parse_checkpoint(stack, raw)
        return None


def file_backend(root: Path, project: str) -> StateBackend:
    def fetch(key: str) -> bytes | None:
        try:
            return (root / key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise OperationFailed(
                f"cannot read {root / key}: {error.strerror}",
                "check the state folder's permissions",
            ) from None

    return _DiyBackend(project, fetch)


def s3_backend(bucket: str, prefix: str, project: str) -> StateBackend:
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure, s3

    client = s3()

    def fetch(key: str) -> bytes | None:
        full = f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key
        try:
            body: bytes = client.get_object(Bucket=bucket, Key=full)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise aws_failure(error, "S3", f"reading state s3://{bucket}/{full}") from None
        except BotoCoreError as error:
            raise aws_failure(error, "S3", f"reading state s3://{bucket}/{full}") from None
        return body

    return _DiyBackend(project, fetch)


@dataclass
class AutomationBackend:
    """Any other backend (Pulumi Cloud, ...): the Automation API, one CLI call per stack."""

    url: str
    project_root: Path

    def read(self, stack: str) -> StackState | None:
        from pulumi import automation

        try:
            workspace = automation.LocalWorkspace(
                work_dir=str(self.project_root), env_vars={BACKEND_ENV: self.url}
            )
            outputs = automation.Stack.select(stack, workspace).outputs()
        except FileNotFoundError:
            raise OperationFailed(
                f"reading state from {self.url} needs the pulumi CLI",
                "install it, or use a file:// or s3:// state backend",
            ) from None
        except automation.StackNotFoundError:
            return None
        values = {k: SECRET_PLACEHOLDER if v.secret else v.value for k, v in outputs.items()}
        secret = tuple(sorted(k for k, v in outputs.items() if v.secret))
        return StackState(stack, values, secret)


def backend_url(project_root: Path) -> str:
    """`$PULUMI_BACKEND_URL`, else the embedded default: `file://` inside the project."""
    return os.environ.get(BACKEND_ENV) or f"file://{project_root / LOCAL_STATE}"


def open_backend(url: str, project: str, project_root: Path) -> StateBackend:
    """The backend a URL names."""
    if url.startswith("file://"):
        path = Path(os.path.expanduser(url.removeprefix("file://")))
        return file_backend(path if path.is_absolute() else project_root / path, project)
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise BadInput(f"state backend {url} names no bucket", "use s3://<bucket>[/prefix]")
        return s3_backend(bucket, prefix.split("?")[0], project)
    if "://" not in url:
        raise BadInput(
            f"state backend '{url}' is not a URL",
            f"set {BACKEND_ENV} to file://<folder>, s3://<bucket> or a Pulumi Cloud URL",
        )
    return AutomationBackend(url, project_root)
