"""A real `pulumi preview` of the platform's local stack against moto, with the policy
pack.

Needs the Pulumi CLI with the aws provider plugin; skipped without it, as on the
workplace that wrote it (so it has never run here). It copies platform/ into a
temporary folder whose Pulumi.yaml uses this virtualenv, with a `file://` state
backend in tmp and the local stack pointed at a moto server started here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT
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
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    project["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack = folder / "stacks" / "Pulumi.local.yaml"
    stack.write_text(stack.read_text().replace("http://127.0.0.1:5000", moto_server.endpoint))
    return folder


def _pulumi(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    state = folder.parent / "state"
    state.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    return subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_platform_previews_with_the_policy_pack(platform: Path) -> None:
    init = _pulumi(platform, "stack", "init", "local", "--secrets-provider", "passphrase")
    assert init.returncode == 0, init.stderr
    preview = _pulumi(
        platform, "preview", "-s", "local", "--diff", "--policy-pack", str(ROOT / "policies")
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr
    for kind in ("afrex:hosted:Platform", "aws:ecs/cluster:Cluster", "aws:efs/fileSystem"):
        assert kind in preview.stdout
