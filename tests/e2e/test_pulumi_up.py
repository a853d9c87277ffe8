"""A real `pulumi preview` then `pulumi up` of a local-profile stack.

Needs the Pulumi CLI (with the aws and docker provider plugins), a Docker or
Podman socket, and moto's server; skipped when the CLI is absent, as on the
workplace that wrote it. It copies the project's program into a temporary
project that uses this virtualenv, a `file://` state backend in tmp, and a stack
file pointing pulumi-aws at a moto server started here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from afrex.stackwriter import local_profile, render_stack_file
from tests.helpers import ROOT
from tests.services import MotoServer

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the pulumi CLI on PATH"),
]

STACK = "cust-e2e-check-1767225600"
PASSPHRASE = "afrex-e2e"
DOCKER_SOCKET = os.environ.get("AFREX_E2E_DOCKER_HOST", "unix:///run/podman/podman.sock")


@pytest.fixture
def workdir(tmp_path: Path, moto_server: MotoServer) -> Path:
    if DOCKER_SOCKET.startswith("unix://") and not Path(DOCKER_SOCKET[7:]).exists():
        pytest.skip(f"no container engine socket at {DOCKER_SOCKET}")
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
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
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    (workdir / "state").mkdir(exist_ok=True)
    return subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


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
