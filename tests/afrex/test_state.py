"""Reading deployed stack outputs from a self-managed state backend, file:// and s3://.

The checkpoint is built in the CheckpointV3 layout from a real (mocked) run of
the program, with the gateway token stored as Pulumi stores a secret.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from afrex.errors import BadInput, OperationFailed
from afrex.offline.runtime import run_stack
from afrex.secretvalues import SECRET_SIG, SECRET_SIG_KEY
from afrex.stackfiles import Project, read_stack
from afrex.state import backend_url, open_backend, parse_checkpoint
from tests.helpers import ROOT

STACK = "cust-northwind-clinic-1772323200"
CIPHERTEXT = "v1:bm9uY2U=:Y2lwaGVydGV4dA=="


def checkpoint(project: Project) -> dict[str, Any]:
    planned = run_stack(read_stack(ROOT / "stacks" / f"Pulumi.{STACK}.yaml"), project)
    outputs = dict(planned.outputs)
    outputs["gatewayToken"] = {
        SECRET_SIG_KEY: SECRET_SIG,
        "ciphertext": CIPHERTEXT,
    }
    stack_urn = f"urn:pulumi:{STACK}::afrex::pulumi:pulumi:Stack::afrex-{STACK}"
    resources = [
        {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "custom": False, "outputs": outputs}
    ]
    resources += [
        {"urn": r.urn, "type": r.type, "custom": r.custom, "outputs": r.outputs}
        for r in planned.resources
    ]
    return {
        "version": 3,
        "checkpoint": {
            "stack": f"organization/afrex/{STACK}",
            "latest": {
                "manifest": {"time": "2026-11-20T10:00:00Z", "version": "v3.200.0"},
                "resources": resources,
            },
        },
    }


@pytest.fixture(scope="module")
def state_bytes(project: Project) -> bytes:
    return json.dumps(checkpoint(project)).encode()


def test_file_backend_reads_outputs_and_never_decrypts(
    tmp_path: Path, project: Project, state_bytes: bytes
) -> None:
    (tmp_path / ".pulumi" / "stacks" / "afrex").mkdir(parents=True)
    (tmp_path / ".pulumi" / "meta.yaml").write_text("version: 1\n")
    (tmp_path / ".pulumi" / "stacks" / "afrex" / f"{STACK}.json").write_bytes(state_bytes)
    backend = open_backend(f"file://{tmp_path}", "afrex", project.root)
    state = backend.read(STACK)
    assert state is not None
    assert state.outputs["tier"] == "starter" and state.outputs["gatewayToken"] == "[secret]"
    assert [a["name"] for a in state.outputs["agents"]] == ["patient-scheduler"]
    assert state.secret_outputs == ("gatewayToken",)
    assert state.updated == "2026-11-20T10:00:00Z" and state.resources == 18
    assert CIPHERTEXT not in json.dumps(state.outputs)
    assert backend.read("cust-never-deployed-1767225600") is None


def test_legacy_layout_and_gzip(tmp_path: Path, project: Project, state_bytes: bytes) -> None:
    (tmp_path / ".pulumi" / "stacks").mkdir(parents=True)
    (tmp_path / ".pulumi" / "stacks" / f"{STACK}.json.gz").write_bytes(gzip.compress(state_bytes))
    state = open_backend(f"file://{tmp_path}", "afrex", project.root).read(STACK)
    assert state is not None and state.outputs["tenantId"] == STACK


def test_s3_backend_over_http(aws_endpoint: str, project: Project, state_bytes: bytes) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="afrex-state")
    s3.put_object(Bucket="afrex-state", Key="fleet/.pulumi/meta.yaml", Body=b"version: 1\n")
    s3.put_object(
        Bucket="afrex-state", Key=f"fleet/.pulumi/stacks/afrex/{STACK}.json", Body=state_bytes
    )
    backend = open_backend("s3://afrex-state/fleet", "afrex", project.root)
    state = backend.read(STACK)
    assert state is not None and state.outputs["bucketName"] == f"afrex-backups-{STACK}"
    assert backend.read("cust-other-1767225600") is None


def test_export_format_and_unreadable_state() -> None:
    exported = {
        "version": 3,
        "deployment": {
            "resources": [{"type": "pulumi:pulumi:Stack", "outputs": {"tier": "growth"}}]
        },
    }
    assert parse_checkpoint("s", json.dumps(exported).encode()).outputs == {"tier": "growth"}
    with pytest.raises(OperationFailed, match="state of stack s is not readable JSON"):
        parse_checkpoint("s", b"{half")


def test_backend_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert backend_url(tmp_path) == f"file://{tmp_path}/.pulumi-state"
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://bucket")
    assert backend_url(tmp_path) == "s3://bucket"
    with pytest.raises(BadInput, match="names no bucket"):
        open_backend("s3://", "afrex", tmp_path)
    with pytest.raises(BadInput, match="is not a URL"):
        open_backend("elsewhere", "afrex", tmp_path)
