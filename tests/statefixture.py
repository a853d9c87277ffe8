"""Deployed stacks for tests: checkpoints in a `file://` (or `s3://`) state backend,
in the documented format (shared/reference/pulumi-state.md, CheckpointV3), with
the outputs the real program computes for a stack file.

    outputs = planned_outputs(project, tenant_id)       # the real program under mocks
    outputs["agents"][0]["container"] = real_name         # point at a live container
    write_checkpoint(state_root, "afrex", tenant_id, outputs)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{state_root}")
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from afrex.secretvalues import SECRET_SIG, SECRET_SIG_KEY
from afrex.stackfiles import Project, read_stack

SECRET_OUTPUTS = ("gatewayToken",)


def secret_marker(ciphertext: str = "v1:c2VjcmV0:Y2lwaGVy") -> dict[str, str]:
    """A secret value as state stores it (ciphertext, never the plain value)."""
    return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": ciphertext}


def planned_outputs(project: Project, tenant_id: str) -> dict[str, Any]:
    """The stack outputs the program computes for `stacks/Pulumi.<tenant_id>.yaml` (under
    mocks: ids and ports are placeholders), secrets as state stores them."""
    from afrex.offline.runtime import run_stack

    planned = run_stack(read_stack(project.stack_path(tenant_id)), project)
    assert planned.error is None, planned.error
    outputs: dict[str, Any] = json.loads(json.dumps(planned.outputs))
    for key in planned.secret_outputs:
        outputs[key] = secret_marker()
    return outputs


def checkpoint(
    project: str,
    stack: str,
    outputs: dict[str, Any],
    time: str = "2026-11-01T12:00:00.000000Z",
    resources: int = 3,
) -> dict[str, Any]:
    """A CheckpointV3 document with the stack resource (holding `outputs`) and a few
    custom resources."""
    prefix = f"urn:pulumi:{stack}::{project}"
    root = {
        "urn": f"{prefix}::pulumi:pulumi:Stack::{project}-{stack}",
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "outputs": outputs,
    }
    children = [
        {
            "urn": f"{prefix}::docker:index/volume:Volume::r{n}",
            "custom": True,
            "id": f"r{n}-id",
            "type": "docker:index/volume:Volume",
            "parent": root["urn"],
            "inputs": {},
            "outputs": {},
        }
        for n in range(resources)
    ]
    return {
        "version": 3,
        "checkpoint": {
            "stack": f"organization/{project}/{stack}",
            "config": {},
            "latest": {
                "manifest": {"time": time, "magic": "test", "version": "v3.200.0"},
                "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
                "resources": [root, *children],
            },
        },
    }


def write_checkpoint(
    root: Path,
    project: str,
    stack: str,
    outputs: dict[str, Any],
    compress: bool = False,
    **options: Any,
) -> Path:
    """Write `<root>/.pulumi/stacks/<project>/<stack>.json[.gz]` (and meta.yaml, version 1)."""
    (root / ".pulumi").mkdir(parents=True, exist_ok=True)
    (root / ".pulumi" / "meta.yaml").write_text("version: 1\n", encoding="utf-8")
    folder = root / ".pulumi" / "stacks" / project
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(checkpoint(project, stack, outputs, **options)).encode()
    path = folder / f"{stack}.json{'.gz' if compress else ''}"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path
