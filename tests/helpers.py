"""Helpers shared by tests: stack files built in memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from afrex.spec import TENANT_KEY, TOKEN_KEY
from afrex.stackfiles import StackFile

ROOT = Path(__file__).resolve().parents[1]


def company_of(tenant_id: str) -> str:
    """A company name whose slug is the one in `tenant_id` (cust-acme-legal-1 -> Acme Legal)."""
    slug = tenant_id.removeprefix("cust-").rpartition("-")[0]
    return " ".join(word.capitalize() for word in slug.split("-"))


def placeholder_token(name: str) -> dict[str, str]:
    """An encrypted-looking gateway token unique to one stack (copies are refused)."""
    return {"secure": f"v1:placeholder-{name}"}


def write_stack(folder: Path, tenant_id: str, **tenant: Any) -> Path:
    """Write a valid `Pulumi.<tenant_id>.yaml` into `folder` (a unique placeholder token, a
    company matching the id, contact and vertical defaults); returns its path."""
    data = {"company": company_of(tenant_id), "contact": "ops@example.com", **tenant}
    config = {TENANT_KEY: data, TOKEN_KEY: placeholder_token(tenant_id)}
    path = folder / f"Pulumi.{tenant_id}.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return path


def make_stack(name: str, tenant: dict[str, Any], token_secret: bool = True) -> StackFile:
    """A stack file held in memory, as `read_stack` would return it."""
    token: Any = placeholder_token(name) if token_secret else "plain-text-token"
    config = {TENANT_KEY: tenant, TOKEN_KEY: token}
    secret = frozenset({TOKEN_KEY}) if token_secret else frozenset()
    return StackFile(name, ROOT / "stacks" / f"Pulumi.{name}.yaml", config, secret)


def git(folder: Path, *args: str) -> None:
    """Run git in `folder` as a throw-away identity."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.tt", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


REPORT_MODULES = (
    "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
)
HEAVY = ("pulumi", "pulumi_aws", "pulumi_docker", "boto3", "botocore")
CLI_PROBE = """
from typer.testing import CliRunner
from afrex.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
"""


def heavy_imports(code: str) -> set[str]:
    """Which slow-to-import packages a fresh interpreter holds after running `code`."""
    probe = f"{code}\n{REPORT_MODULES}"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1])) & set(HEAVY)


def cli_heavy_imports(args: list[str], pre: str = "") -> set[str]:
    """`heavy_imports` of running `afrex <args>` (after `pre`)."""
    return heavy_imports(pre + CLI_PROBE.format(args=args))


# The tests that run the real `pulumi` CLI (skipped where it is not on PATH).
DOCKER_SOCKET = os.environ.get("AFREX_E2E_DOCKER_HOST", "unix:///run/podman/podman.sock")


def skip_without_docker_socket() -> None:
    if DOCKER_SOCKET.startswith("unix://") and not Path(DOCKER_SOCKET[7:]).exists():
        pytest.skip(f"no container engine socket at {DOCKER_SOCKET}")


def pulumi_project_here(source: Path, folder: Path) -> None:
    """`source`'s Pulumi.yaml written into `folder`, its python runtime pointed at this
    interpreter's virtualenv (the CLI runs the program with it)."""
    project = yaml.safe_load(source.read_text())
    project["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project))


def tenant_project_here(folder: Path) -> None:
    """This project's Pulumi.yaml (on this virtualenv) and __main__.py in `folder`."""
    pulumi_project_here(ROOT / "Pulumi.yaml", folder)
    shutil.copy(ROOT / "__main__.py", folder / "__main__.py")


def run_pulumi(
    folder: Path, state: Path, passphrase: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """`pulumi <args> --non-interactive` in `folder`, with a `file://` backend in `state`."""
    state.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
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
