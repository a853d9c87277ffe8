"""`afrex backup` as operators run it, on Podman and moto: the fleet run with a skipped
and a failed tenant, a run killed mid-upload, the question on a terminal, bad input
(exit 2, one line, nothing changed) and what the commands import."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from afrex.backups.retention import expected_rule
from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.clients import s3
from afrex.deployed import TenantView
from afrex.events import open_event_log
from tests.afrex.backups.deployed import (
    STATE,
    DeployedFleet,
    agent_image,
    deployed,
    on_moto,
    state_tar,
)
from tests.engine import engine
from tests.helpers import ROOT, cli_heavy_imports

__all__ = ["agent_image", "deployed", "engine", "on_moto"]

ACME = "cust-acme-legal-1767225600"
GLOBEX = "cust-globex-corp-1767225600"
NEVER = "cust-never-deployed-1767225600"
MiB = 1024 * 1024
runner = CliRunner()


def afrex(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def acme(deployed: DeployedFleet) -> TenantView:
    view = deployed.deploy(ACME)
    deployed.put_state(view, view.agents[0].name, state_tar({"memory.json": b'{"n": 1}'}))
    return view


def test_create_over_the_fleet_goes_on_past_a_failed_tenant(
    deployed: DeployedFleet, acme: TenantView
) -> None:
    globex = deployed.deploy(GLOBEX)
    s3().delete_bucket(Bucket=str(globex.bucket))  # its bucket is gone: it fails
    deployed.add_stack(NEVER, tier="starter", vertical="general")

    code, out, err = afrex("backup", "create", "--parallel", "2", "--format", "json")

    assert code == 1, err
    run = json.loads(out)
    statuses = {t["tenant"]: (t["status"], t["reason"] or "") for t in run["tenants"]}
    assert statuses[ACME] == ("created", "")
    assert statuses[GLOBEX][0] == "failed" and "does not exist" in statuses[GLOBEX][1]
    assert statuses[NEVER][0] == "skipped" and "never deployed" in statuses[NEVER][1]
    events = {(e.kind, e.tenant) for e in open_event_log(deployed.root).read()}
    assert events == {("backup.created", ACME), ("backup.failed", GLOBEX)}

    code, out, err = afrex("backup", "list", "--format", "json")
    assert code == 1 and "the bucket does not exist" in err  # Globex's bucket
    (listed,) = json.loads(out)["backups"]
    assert (listed["tenant"], listed["backupId"], listed["complete"]) == (
        ACME,
        run["backupId"],
        True,
    )
    assert listed["agents"] == [acme.agents[0].name]


def test_a_backup_killed_mid_upload_is_listed_incomplete_and_not_restorable(
    deployed: DeployedFleet, acme: TenantView
) -> None:
    agent = acme.agents[0].name
    deployed.put_state(acme, agent, state_tar({"big.bin": random.Random(1).randbytes(160 * MiB)}))
    before = deployed.listing(acme, agent)
    creating = subprocess.Popen(
        [sys.executable, "-m", "afrex.cli.main", "backup", "create", "--tenant", ACME],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_a_part(str(acme.bucket))
    finally:
        os.kill(creating.pid, signal.SIGKILL)
        creating.wait(timeout=30)

    code, out, err = afrex("backup", "list", "--tenant", ACME, "--format", "json")
    assert code == 0, err
    (listed,) = json.loads(out)["backups"]
    assert listed["complete"] is False and listed["unfinishedUploads"] == [agent]
    code, out, err = afrex("backup", "restore", "-t", ACME, "-b", listed["backupId"], "--yes")
    assert code == 1 and "incomplete" in one_error_line(err)
    assert deployed.listing(acme, agent) == before


def wait_for_a_part(bucket: str, timeout: float = 60.0) -> None:
    """Until the backup's multipart upload has a part in S3."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for upload in s3().list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            parts = s3().list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            if parts.get("Parts"):
                return
        time.sleep(0.05)
    pytest.fail("the backup never uploaded a part")


def test_restore_asks_on_a_terminal_and_no_changes_nothing(
    deployed: DeployedFleet, acme: TenantView
) -> None:
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "afrex.cli.main",
            "backup",
            "create",
            "-t",
            ACME,
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert created.stderr == ""  # a fresh process: no stray SDK warnings
    backup = json.loads(created.stdout)["backupId"]
    agent = acme.agents[0].name
    deployed.sh(acme, agent, f"echo after the backup > {STATE}/new.txt")
    before = deployed.listing(acme, agent)

    answer, output = on_a_terminal(["backup", "restore", "-t", ACME, "-b", backup], "n\n")

    assert answer == 0, output
    assert "Go ahead?" in output and "Cancelled: nothing was changed." in output
    assert deployed.listing(acme, agent) == before


def on_a_terminal(args: list[str], typed: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run `afrex <args>` with a pseudo-terminal as stdin/stdout/stderr, typing `typed`
    once the question shows."""
    main, child = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "afrex.cli.main", *args],
        cwd=ROOT,
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    output, typed_yet = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        if not typed_yet and b"Go ahead?" in output:
            os.write(main, typed.encode())
            typed_yet = True
        if process.poll() is not None and not ready:
            break
    os.close(main)
    return process.wait(timeout=10), output.decode(errors="replace")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["backup", "restore", "-t", ACME, "-b", "20200101-000000", "--yes"], "has no backup"),
        (["backup", "restore", "-t", ACME, "-b", "yesterday", "--yes"], "not a backup id"),
        (["backup", "restore", "-t", ACME, "-b", "20200101-000000", "-a", "nobody", "--yes"],
         "no deployed agent 'nobody'"),
        (["backup", "restore", "-t", ACME, "-b", "20200101-000000"], "pass --yes"),
        (["backup", "restore", "-t", "cust-nobody-here-1767225600", "-b", "20200101-000000",
          "--yes"], "cust-nobody-here-1767225600"),
        (["backup", "create", "--parallel", "0"], "--parallel 0"),
        (["backup", "list", "--tenant", "not a tenant"], "is not a tenant id"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    on_moto: DeployedFleet, args: list[str], says: str
) -> None:
    view = on_moto.deploy(ACME)
    on_moto.put_backup(view, "20261101-020000", {"general-assistant": state_tar({"a": b"1"})})
    objects = s3().list_objects_v2(Bucket=str(view.bucket))["KeyCount"]
    code, _, err = afrex(*args)
    assert code == 2, err
    assert says in one_error_line(err)
    assert s3().list_objects_v2(Bucket=str(view.bucket))["KeyCount"] == objects
    assert open_event_log(on_moto.root).read() == []


def test_export_into_a_folder_that_is_not_empty_is_bad_input(
    on_moto: DeployedFleet, tmp_path_factory: pytest.TempPathFactory
) -> None:
    on_moto.deploy(ACME)
    out = tmp_path_factory.mktemp("export")
    (out / "keep.txt").write_text("mine")
    code, _, err = afrex("backup", "export", "-t", ACME, "--output", str(out))
    assert code == 2 and "is not empty" in one_error_line(err)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_export_and_retention_render_for_people(
    on_moto: DeployedFleet, tmp_path_factory: pytest.TempPathFactory
) -> None:
    view = on_moto.deploy(ACME)
    on_moto.put_backup(view, "20261101-020000", {"general-assistant": state_tar({"a": b"1"})})
    out = tmp_path_factory.mktemp("export") / "acme"
    code, stdout, err = afrex("backup", "export", "-t", ACME, "--output", str(out))
    assert code == 0, err
    assert "Exported 1 backup(s)" in stdout and "verified" in stdout
    code, stdout, err = afrex("backup", "retention", "--dry-run")
    assert code == 1  # moto's bucket has no lifecycle rule: the component never ran
    assert "missing" in stdout and "no lifecycle rule" in err and "would be deleted" in err


def test_backup_commands_never_import_pulumi(on_moto: DeployedFleet, catalog: Catalog) -> None:
    view = on_moto.deploy(ACME)
    rules: Any = [expected_rule(catalog.backups)]
    s3().put_bucket_lifecycle_configuration(
        Bucket=str(view.bucket), LifecycleConfiguration={"Rules": rules}
    )
    on_moto.add_stack(NEVER, tier="starter", vertical="general")
    assert cli_heavy_imports(["backup", "--help"]) == set()
    for args in (
        ["backup", "list"],
        ["backup", "retention", "--dry-run"],
        ["backup", "create", "--tenant", NEVER],
    ):
        assert cli_heavy_imports(args) <= {"boto3", "botocore"}, args


def test_the_import_probe_sees_pulumi() -> None:
    assert "pulumi" in cli_heavy_imports(["backup", "--help"], pre="import pulumi\n")
