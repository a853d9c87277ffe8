"""The archive step (afrex/archive.py) against Podman's Docker API and moto's S3 over HTTP."""

from __future__ import annotations

import gc
import gzip
import hashlib
import io
import os
import random
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afrex import archive
from afrex.archive import (
    GZIP_LEVEL,
    ArchiveResult,
    archive_agent,
    archive_removed_agent,
    block_level,
    gzip_member,
    gzip_parts,
    upload_stream,
)
from afrex.clients import s3
from afrex.deployed import TenantView
from afrex.errors import BadInput, OperationFailed
from afrex.events import open_event_log
from tests.afrex.backups.deployed import STATE, DeployedFleet, agent_image, deployed
from tests.engine import engine

__all__ = ["agent_image", "deployed", "engine"]

TENANT = "cust-archive-check-1767225600"
MiB = 1024 * 1024
BIG = random.Random(7).randbytes(3 * MiB) + b"x" * (20 * MiB)  # several parts, some incompressible


def state_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o640
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def downloaded(result: ArchiveResult) -> bytes:
    return bytes(s3().get_object(Bucket=result.bucket, Key=result.key)["Body"].read())


def members(archive: bytes) -> dict[str, bytes]:
    found = {}
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        for member in tar:
            extracted = tar.extractfile(member) if member.isfile() else None
            found[member.name] = extracted.read() if extracted else b""
    return found


def open_uploads(bucket: str) -> list[object]:
    return list(s3().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.fixture
def tenant(deployed: DeployedFleet) -> TenantView:
    view = deployed.deploy(TENANT)
    agent = view.agents[0].name
    deployed.put_state(view, agent, state_tar({"memory/context.json": b'{"a": 1}', "big": BIG}))
    return view


def test_state_streams_into_the_bucket_with_its_checksum(tenant: TenantView) -> None:
    agent = tenant.agents[0].name
    result = archive_agent(tenant, agent, "backups/x/agent.tar.gz")
    body = downloaded(result)
    assert (result.bucket, result.key, result.agent) == (
        tenant.bucket,
        "backups/x/agent.tar.gz",
        agent,
    )
    assert result.size == len(body) and result.sha256 == hashlib.sha256(body).hexdigest()
    files = members(body)
    top = STATE.rsplit("/", 1)[1]
    assert files[f"{top}/memory/context.json"] == b'{"a": 1}'
    assert files[f"{top}/big"] == BIG
    assert result.size < 23 * MiB  # compressed
    assert open_uploads(result.bucket) == []
    head = s3().head_object(Bucket=result.bucket, Key=result.key)
    assert head["Metadata"]["afrex-agent"] == agent
    assert head["Metadata"]["afrex-tenant"] == tenant.id


def test_scale_down_archive_has_its_key_checksum_and_event(
    tenant: TenantView, deployed: DeployedFleet
) -> None:
    agent = tenant.agents[0].name
    when = datetime(2026, 11, 24, 18, 5, 9, tzinfo=UTC)
    result = archive_removed_agent(tenant, agent, when)
    assert result.key == f"archived-agents/{agent}/20261124-180509.tar.gz"
    body = downloaded(result)
    checksum = s3().get_object(Bucket=result.bucket, Key=result.key + ".sha256")["Body"].read()
    assert checksum.decode() == f"{hashlib.sha256(body).hexdigest()}  20261124-180509.tar.gz\n"
    (event,) = open_event_log(deployed.root).read(tenant=tenant.id)
    assert event.kind == "agent.archived"
    assert event.details == result.as_dict()


def test_a_missing_bucket_fails_in_one_line_naming_agent_and_bucket(tenant: TenantView) -> None:
    agent = tenant.agents[0].name
    s3().delete_bucket(Bucket=str(tenant.bucket))
    with pytest.raises(OperationFailed) as failed:
        archive_agent(tenant, agent, "backups/x/agent.tar.gz")
    message = str(failed.value)
    assert agent in message and str(tenant.bucket) in message and "does not exist" in message
    assert "\n" not in message


# The docker SDK leaks the socket of a failed unix-socket connect (docker/transport/unixconn.py).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_unreachable_engine_fails_naming_agent_and_bucket(
    tenant: TenantView, tmp_path: Path
) -> None:
    assert tenant.state is not None
    outputs = {**tenant.state.outputs, "dockerHost": f"unix://{tmp_path}/no-engine.sock"}
    moved = replace(tenant, state=replace(tenant.state, outputs=outputs))
    agent = tenant.agents[0].name
    with pytest.raises(OperationFailed) as failed:
        archive_agent(moved, agent, "backups/x/agent.tar.gz")
    message = str(failed.value)
    del failed  # its traceback holds the leaked socket
    assert agent in message and str(tenant.bucket) in message and "cannot reach" in message
    assert "no-engine.sock" in message and "\n" not in message
    assert s3().list_objects_v2(Bucket=str(tenant.bucket)).get("KeyCount") == 0
    gc.collect()  # the leaked socket's warning, here, under this test's filter


def test_an_agent_not_in_the_tenant_is_bad_input(tenant: TenantView) -> None:
    with pytest.raises(BadInput, match="no deployed agent 'nobody'"):
        archive_agent(tenant, "nobody", "backups/x/nobody.tar.gz")


def test_a_source_failing_mid_upload_aborts_the_multipart_upload(aws_endpoint: str) -> None:
    bucket = "afrex-backups-abort-check"
    s3().create_bucket(Bucket=bucket)

    def source() -> Iterator[bytes]:
        for _ in range(30):
            yield os.urandom(MiB)  # several parts already sent when it breaks
        raise ConnectionError("engine went away")

    with pytest.raises(ConnectionError):
        upload_stream(s3(), bucket, "backups/x/a.tar.gz", source())
    assert open_uploads(bucket) == []
    assert s3().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=3000) | st.just(b"text " * 500), max_size=30),
    part_bytes=st.integers(min_value=1, max_value=4000),
    block_bytes=st.integers(min_value=1, max_value=5000),
)
def test_gzip_parts_are_one_gzip_file_of_the_input(
    chunks: list[bytes], part_bytes: int, block_bytes: int
) -> None:
    parts = list(gzip_parts(chunks, part_bytes, block_bytes))
    assert all(len(part) >= part_bytes for part in parts[:-1]) and parts
    assert gzip.decompress(b"".join(parts)) == b"".join(chunks)


@pytest.mark.parametrize("module", ["installed", "zlib"])
def test_random_blocks_are_stored_and_text_deflated(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With igzip (`isal`) and with the zlib fallback alike: standard gzip members."""
    if module == "zlib":
        monkeypatch.setattr(archive, "deflate", zlib)
    noise, text = random.Random(3).randbytes(MiB), b'{"said": "hello"}\n' * 60000
    assert block_level(noise) == 0 and block_level(text) == GZIP_LEVEL
    assert len(b"".join(gzip_member(text))) < len(text) // 10
    assert gzip.decompress(b"".join(gzip_member(noise) + gzip_member(text))) == noise + text
