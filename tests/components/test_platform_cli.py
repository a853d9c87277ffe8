"""A real `pulumi preview` of the platform's local stack against moto, with the policy
pack.

Needs the Pulumi CLI with the aws provider plugin; skipped without it, as on the
workplace that wrote it (so it has never run here). It copies platform/ into a
temporary folder whose Pulumi.yaml uses this virtualenv, with a `file://` state
backend in tmp and the local stack pointed at a moto server started here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, pulumi_project_here, run_pulumi
from tests.services import MotoServer

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the pulumi CLI on PATH"),
]
PASSPHRASE = "afrex-local-dev"  # the local stack's (platform/stacks/Pulumi.local.yaml)


@pytest.fixture
def platform(tmp_path: Path, moto_server: MotoServer) -> Path:
    folder = tmp_path / "platform"
    shutil.copytree(ROOT / "platform", folder)
    pulumi_project_here(folder / "Pulumi.yaml", folder)
    stack = folder / "stacks" / "Pulumi.local.yaml"
    stack.write_text(stack.read_text().replace("http://127.0.0.1:5000", moto_server.endpoint))
    return folder


def _pulumi(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pulumi(folder, folder.parent / "state", PASSPHRASE, *args)


def test_the_platform_previews_with_the_policy_pack(platform: Path) -> None:
    init = _pulumi(platform, "stack", "init", "local", "--secrets-provider", "passphrase")
    assert init.returncode == 0, init.stderr
    preview = _pulumi(
        platform, "preview", "-s", "local", "--diff", "--policy-pack", str(ROOT / "policies")
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr
    for kind in ("afrex:hosted:Platform", "aws:ecs/cluster:Cluster", "aws:efs/fileSystem"):
        assert kind in preview.stdout
