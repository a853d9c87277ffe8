"""`python -m afrex.archive_task`, the archive step one-off ECS tasks run, on this machine
against folders and moto's S3 over HTTP: a folder archived and restored comes back
the same; the archive is what the Docker path makes (one top folder named as the
state folder, readable by the restore's own checks); a damaged archive or a wrong
checksum changes nothing (exit 3); the entry point needs only boto3 and pydantic
(what the ops image holds)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afrex import __version__
from afrex.archive import CHECKSUM_SUFFIX
from afrex.archive_task import EXIT_UNTOUCHED, main
from afrex.backups.agentstate import check_archive
from afrex.clients import s3
from tests.helpers import ROOT, heavy_imports

BUCKET = "afrex-backups-cust-task-test-1767225600"
STATE = "/home/node/.openclaw"


def listing(folder: Path) -> list[tuple[str, str, str]]:
    """Every entry under `folder`: path, kind and content (file digest or link target)."""
    found = []
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found.append((name, "link", os.readlink(path)))
        elif path.is_dir():
            found.append((name, "dir", oct(path.stat().st_mode & 0o777)))
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found.append((name, "file", f"{digest} {oct(path.stat().st_mode & 0o777)}"))
    return found


def make_state(folder: Path) -> None:
    (folder / "agents" / "main").mkdir(parents=True)
    (folder / "agents" / "main" / "sessions.json").write_text('{"sessions": []}\n')
    (folder / "openclaw.json").write_text('{"gateway": {"port": 18789}}\n')
    (folder / "memory.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # more than a block
    (folder / "empty").mkdir()
    (folder / "latest").symlink_to("agents/main/sessions.json")
    (folder / "secret.key").write_text("k")
    (folder / "secret.key").chmod(0o600)


def run(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "afrex.archive_task", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def bucket(aws_endpoint: str) -> str:
    s3().create_bucket(Bucket=BUCKET)
    return BUCKET


def archive(source: Path, key: str) -> dict[str, object]:
    code, out, err = run(
        "archive", "--source", str(source), "--bucket", BUCKET, "--key", key,
        "--tenant", "cust-task-test-1767225600", "--agent", "general-assistant",
        "--owner", "1000:1000",
    )  # fmt: skip
    assert code == 0, err
    assert err == ""
    result: dict[str, object] = json.loads(out)
    return result


def test_a_folder_archived_then_restored_comes_back_the_same(bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "src" / ".openclaw"
    make_state(source)
    key = "backups/20260301-120000/general-assistant.tar.gz"
    result = archive(source, key)

    stored = s3().get_object(Bucket=bucket, Key=key)
    body = stored["Body"].read()
    assert result["size"] == len(body) and result["sha256"] == hashlib.sha256(body).hexdigest()
    assert stored["Metadata"]["afrex-agent"] == "general-assistant"
    assert stored["Metadata"]["afrex-version"] == __version__  # as the Docker path's
    line = s3().get_object(Bucket=bucket, Key=key + CHECKSUM_SUFFIX)["Body"].read().decode()
    assert line == f"{result['sha256']}  general-assistant.tar.gz\n"  # as `sha256sum -c` reads
    downloaded = tmp_path / "a.tar.gz"
    downloaded.write_bytes(body)
    assert check_archive(downloaded, STATE) == len(listing(source)) + 1  # the restore's check
    with tarfile.open(downloaded) as tar:
        assert {(m.uid, m.gid) for m in tar} == {(1000, 1000)}  # the gateway's user
        assert tar.getmembers()[0].name == ".openclaw"  # as the Docker engine names it

    target = tmp_path / "dst" / ".openclaw"
    target.mkdir(parents=True)
    (target / "stale.txt").write_text("replaced by the restore")
    (target / "old").mkdir()
    code, out, err = run(
        "restore", "--target", str(target), "--bucket", bucket, "--key", key,
        "--sha256", str(result["sha256"]), "--size", str(result["size"]),
        "--scratch", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["entries"] == len(listing(source)) + 1
    assert listing(target) == listing(source)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("afrex-restore-")] == []


def test_a_checksum_that_does_not_match_changes_nothing(bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "src" / ".openclaw"
    make_state(source)
    key = "backups/20260301-120000/general-assistant.tar.gz"
    result = archive(source, key)
    target = tmp_path / "dst" / ".openclaw"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("the agent's current state")
    before = listing(target)
    code, out, err = run(
        "restore", "--target", str(target), "--bucket", bucket, "--key", key,
        "--sha256", "0" * 64, "--size", str(result["size"]), "--scratch", str(tmp_path),
    )  # fmt: skip
    assert code == EXIT_UNTOUCHED and out == ""
    assert "does not match its manifest" in err and "nothing was changed" in err
    assert len(err.strip().splitlines()) == 1
    assert listing(target) == before


def test_an_archive_with_an_entry_outside_the_state_folder_changes_nothing(
    bucket: str, tmp_path: Path
) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        outside = tmp_path / "x"
        outside.write_text("x")
        tar.add(outside, arcname="../escape")
    body = evil.read_bytes()
    s3().put_object(Bucket=bucket, Key="backups/20260301-120000/a.tar.gz", Body=body)
    target = tmp_path / "dst" / ".openclaw"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("current")
    code, _, err = run(
        "restore", "--target", str(target), "--bucket", bucket,
        "--key", "backups/20260301-120000/a.tar.gz",
        "--sha256", hashlib.sha256(body).hexdigest(), "--size", str(len(body)),
        "--scratch", str(tmp_path),
    )  # fmt: skip
    assert code == EXIT_UNTOUCHED and "is outside .openclaw/" in err
    assert listing(target) == [("keep.txt", "file", listing(target)[0][2])]


def test_bad_arguments_and_a_missing_folder_are_one_line(bucket: str, tmp_path: Path) -> None:
    code, _, err = run("archive", "--source", str(tmp_path / "nope"), "--bucket", bucket,
                       "--key", "k", "--tenant", "t", "--agent", "a")  # fmt: skip
    assert code == 2 and "is not a folder" in err and len(err.strip().splitlines()) == 1
    assert main(["archive", "--source", str(tmp_path), "--bucket", "no-such-bucket",
                 "--key", "k.tar.gz", "--tenant", "t", "--agent", "a"]) == 1  # fmt: skip
    with pytest.raises(SystemExit) as usage:
        main(["archive", "--source", str(tmp_path)])
    assert usage.value.code == 2


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.dictionaries(
        st.from_regex(r"[a-z0-9_-]{1,12}(/[a-z0-9_.-]{1,12}){0,2}", fullmatch=True),
        st.binary(max_size=3000),
        min_size=1,
        max_size=8,
    )
)
def test_any_state_survives_the_round_trip(
    bucket: str, tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    root = tmp_path_factory.mktemp("round")
    source = root / "src" / ".openclaw"
    source.mkdir(parents=True)
    for name, data in files.items():
        path = source / name
        if any(parent.is_file() for parent in path.parents) or path.is_dir():
            continue  # a name that is also another file's folder
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    result = archive(source, "archived-agents/a/20260301-120000.tar.gz")
    target = root / "dst" / ".openclaw"
    target.mkdir(parents=True)
    assert main([
        "restore", "--target", str(target), "--bucket", bucket,
        "--key", "archived-agents/a/20260301-120000.tar.gz",
        "--sha256", str(result["sha256"]), "--size", str(result["size"]),
        "--scratch", str(root),
    ]) == 0  # fmt: skip
    assert listing(target) == listing(source)


def test_the_entry_point_needs_only_boto3_and_pydantic() -> None:
    """The ops image (platform/ops-image/Dockerfile) installs boto3, pydantic and isal only."""
    code = "import afrex.archive_task, afrex.backups.store, afrex.backups.agentstate"
    assert heavy_imports(code) <= {"boto3", "botocore"}
    probe = subprocess.run(
        [sys.executable, "-c", f"{code}; import sys; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    loaded = {name.split(".")[0] for name in json.loads(probe.stdout.replace("'", '"'))}
    assert not loaded & {"yaml", "docker", "typer", "rich", "pulumi", "jinja2", "requests"}
