"""`afrex up`: one Automation API workspace per stack, at most N at a time.

Without the `pulumi` binary it fails in one line saying what to install (runs
everywhere). The real update needs the CLI, its plugins, a container socket and
moto: it is marked `pulumi_cli` and skipped without the binary, like
tests/e2e/test_pulumi_up.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.stackwriter import local_profile, render_stack_file
from afrex.up import INSTALL_HINT
from tests.billing.fleet import Fleet
from tests.helpers import (
    DOCKER_SOCKET,
    skip_without_docker_socket,
    tenant_project_here,
    write_stack,
)
from tests.services import MotoServer

runner = CliRunner()
TENANT = "cust-up-check-1767225600"


def test_without_the_pulumi_cli_it_says_what_to_install(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(fleet.root / "stacks", TENANT, tier="starter")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    result = runner.invoke(app, ["up", "--stack", TENANT])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == f"error: `afrex up` needs the pulumi CLI; none is on PATH; {INSTALL_HINT}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --stack ID (repeatable) or --changed-since REF"),
        (["--stack", TENANT, "--changed-since", "HEAD"], "give --stack ID"),
        (["--stack", TENANT, "--parallel", "0"], "--parallel 0 is not a number of updates"),
    ],
)
def test_bad_input_is_one_line(fleet: Fleet, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["up", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {message}")


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the pulumi CLI on PATH")
def test_up_deploys_two_stacks_in_parallel_with_the_policy_pack(
    tmp_path: Path, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    skip_without_docker_socket()
    tenant_project_here(tmp_path)
    (tmp_path / "stacks").mkdir()
    tenants = [TENANT, "cust-up-second-1767225600"]
    for tenant_id, company in zip(tenants, ("Up Check", "Up Second"), strict=True):
        text = render_stack_file(
            {"company": company, "contact": "e2e@afrexai.com", "tier": "starter"},
            "afrex-e2e",
            local_profile(moto_server.endpoint, DOCKER_SOCKET),
            {"aws:secretKey": "afrex-local"},
        )
        (tmp_path / "stacks" / f"Pulumi.{tenant_id}.yaml").write_text(text)
    monkeypatch.setenv("AFREX_PROJECT", str(tmp_path))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'state'}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "afrex-e2e")
    args = ["up", "--stack", tenants[0], "--stack", tenants[1], "--parallel", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "up: 2 stack(s), 2 ok, 0 failed" in result.stdout
    status = runner.invoke(app, ["fleet", "list", "--format", "json"])
    assert {row["deployment"] for row in json.loads(status.stdout)} == {"deployed"}
