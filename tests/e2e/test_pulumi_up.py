"""A real `pulumi preview` then `pulumi up` of a local-profile stack.

Needs the Pulumi CLI (with the aws and docker provider plugins), a Docker or
Podman socket, and moto's server; skipped when the CLI is absent, as on the
workplace that wrote it. It copies the project's program into a temporary
project that uses this virtualenv, a `file://` state backend in tmp, and a stack
file pointing pulumi-aws at a moto server started here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from afrex.stackwriter import local_profile, render_stack_file
from tests.helpers import (
    DOCKER_SOCKET,
    run_pulumi,
    skip_without_docker_socket,
    tenant_project_here,
)
from tests.services import MotoServer

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the pulumi CLI on PATH"),
]

STACK = "cust-e2e-check-1767225600"
PASSPHRASE = "afrex-e2e"


@pytest.fixture
def workdir(tmp_path: Path, moto_server: MotoServer) -> Path:
    skip_without_docker_socket()
    tenant_project_here(tmp_path)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    tenant = {
        "company": "E2E Check",
        "contact": "e2e@afrexai.com",
        "tier": "starter",
        "vertical": "general",
    }
    text = render_stack_file(
        tenant,
        PASSPHRASE,
        local_profile(moto_server.endpoint, DOCKER_SOCKET),
        {"aws:secretKey": "afrex-local-secret"},
    )
    (stacks / f"Pulumi.{STACK}.yaml").write_text(text)
    return tmp_path


def _pulumi(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pulumi(workdir, workdir / "state", PASSPHRASE, *args)


def test_preview_then_up_creates_the_tenant(workdir: Path) -> None:
    init = _pulumi(workdir, "stack", "init", STACK, "--secrets-provider", "passphrase")
    assert init.returncode == 0, init.stderr
    preview = _pulumi(workdir, "preview", "-s", STACK, "--diff")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "afrex:hosted:HostedTenant" in preview.stdout
    up = _pulumi(workdir, "up", "-s", STACK, "--yes", "--skip-preview")
    assert up.returncode == 0, up.stdout + up.stderr
    outputs = json.loads(_pulumi(workdir, "stack", "output", "-s", STACK, "--json").stdout)
    assert outputs["tier"] == "starter" and outputs["gatewayToken"] == "[secret]"
    assert outputs["bucketName"] == f"afrex-backups-{STACK}"
    assert len(outputs["agents"]) == 1
    destroy = _pulumi(workdir, "destroy", "-s", STACK, "--yes")
    assert destroy.returncode != 0, "the protected backup bucket must stop a destroy"
