"""Back up, wipe, restore: an agent's state comes back byte for byte, with its modes,
owners and links, on Podman's Docker API and moto's S3 over HTTP; a damaged backup
is refused with the state untouched."""

from __future__ import annotations

import io
import random
import tarfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from afrex.backups.create import create_backups
from afrex.backups.listing import list_backups
from afrex.backups.manifest import archive_key, manifest_key
from afrex.backups.restore import restore_backup
from afrex.clients import s3
from afrex.deployed import TenantView
from afrex.errors import OperationFailed
from afrex.events import open_event_log
from tests.afrex.backups.deployed import AGENT_USER, STATE, DeployedFleet, agent_image, deployed
from tests.engine import Engine, engine

__all__ = ["agent_image", "deployed", "engine"]

TENANT = "cust-roundtrip-legal-1767225600"
WHEN = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
BACKUP = "20261120-020000"
MiB = 1024 * 1024
SMALL = pytest.mark.parametrize("tenant", [MiB], indirect=True, ids=["1MB"])
ODD_NAMES = ("with space.txt", "ünïcødé 名前.md", "-leading-dash", ".hidden", 'it\'s "quoted" $x')


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int, uid: int = 1000) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.uid, info.gid = len(data), mode, uid, uid
    info.mtime = 1767225600
    tar.addfile(info, io.BytesIO(data))


def _entry(tar: tarfile.TarFile, name: str, kind: bytes, mode: int, target: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.uid, info.gid = kind, mode, target, 1000, 1000
    tar.addfile(info)


def agent_state(big: int = 50 * MiB) -> bytes:
    """A 50 MB binary file, text, nested folders, links, odd names and modes."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "big.bin", random.Random(50).randbytes(big), 0o600)
        _entry(tar, "memory", tarfile.DIRTYPE, 0o700)
        _entry(tar, "memory/deep", tarfile.DIRTYPE, 0o750)
        _entry(tar, "memory/deep/er", tarfile.DIRTYPE, 0o755)
        text = "\n".join(f"line {n}: café ✓" for n in range(20000)).encode()
        _add(tar, "memory/deep/er/context.json", text, 0o640)
        _add(tar, "run.sh", b"#!/bin/sh\necho hi\n", 0o755)
        _add(tar, "read-only.txt", b"fixed\n", 0o444, uid=0)
        _add(tar, "empty", b"", 0o644)
        _entry(tar, "empty-dir", tarfile.DIRTYPE, 0o711)
        _entry(tar, "latest", tarfile.SYMTYPE, 0o777, "memory/deep/er/context.json")
        _entry(tar, "dangling", tarfile.SYMTYPE, 0o777, "../nowhere")
        for index, name in enumerate(ODD_NAMES):
            _add(tar, f"memory/{name}", f"odd {index}\n".encode(), 0o600 + index)
    return out.getvalue()


@pytest.fixture
def tenant(deployed: DeployedFleet, request: pytest.FixtureRequest) -> TenantView:
    """The tenant, its agent holding `agent_state(big)` (indirect parameter; 50 MB)."""
    view = deployed.deploy(TENANT, healthcheck=True)
    deployed.put_state(view, view.agents[0].name, agent_state(getattr(request, "param", 50 * MiB)))
    return view


@pytest.fixture
def health_checks(engine: Engine, tenant: TenantView) -> Iterator[None]:
    """Podman runs no healthcheck by itself here: run it while the test runs."""
    stop = threading.Event()
    container = tenant.agents[0].container

    def run() -> None:
        while not stop.wait(0.5):
            engine.podman("healthcheck", "run", container)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    yield
    stop.set()
    worker.join()


def backed_up(view: TenantView) -> None:
    run = create_backups(view.id, now=WHEN)
    assert [(t.tenant, t.status) for t in run.tenants] == [(view.id, "created")], run.tenants[
        0
    ].reason


@pytest.mark.usefixtures("health_checks")
def test_backup_wipe_restore_gives_back_every_byte_mode_and_link(
    deployed: DeployedFleet, tenant: TenantView
) -> None:
    agent = tenant.agents[0].name
    before = deployed.listing(tenant, agent)
    assert "big.bin" in before and "-> 'memory/deep/er/context.json'" in before
    assert all(name in before for name in ODD_NAMES)
    backed_up(tenant)
    deployed.sh(tenant, agent, f"rm -rf {STATE}/* {STATE}/.hidden; echo junk > {STATE}/junk")
    assert deployed.listing(tenant, agent) != before

    result = restore_backup(TENANT, BACKUP, wait_seconds=60)

    assert deployed.listing(tenant, agent) == before
    assert deployed.owners(tenant, agent) <= {AGENT_USER, "0:0"}
    assert deployed.sh(tenant, agent, f"stat -c '%u:%g' {STATE}/run.sh").strip() == AGENT_USER
    (restored,) = result.agents
    assert (restored.agent, restored.state, restored.health) == (agent, "running", "healthy")
    assert (
        result.verified_bytes
        == s3().head_object(Bucket=str(tenant.bucket), Key=archive_key(BACKUP, agent))[
            "ContentLength"
        ]
    )
    kinds = [e.kind for e in open_event_log(deployed.root).read(tenant=TENANT)]
    assert kinds == ["backup.created", "backup.restored"]


@SMALL
def test_a_damaged_archive_is_refused_and_nothing_changes(
    deployed: DeployedFleet, tenant: TenantView
) -> None:
    agent = tenant.agents[0].name
    backed_up(tenant)
    key = archive_key(BACKUP, agent)
    body = bytearray(s3().get_object(Bucket=str(tenant.bucket), Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3().put_object(Bucket=str(tenant.bucket), Key=key, Body=bytes(body))
    deployed.sh(tenant, agent, f"echo changed since > {STATE}/new.txt")
    before = deployed.listing(tenant, agent)
    started = deployed.container(tenant, agent).attrs["State"]["StartedAt"]

    with pytest.raises(OperationFailed, match="does not match its manifest") as refused:
        restore_backup(TENANT, BACKUP, wait_seconds=5)

    assert "nothing was changed" in str(refused.value)
    assert deployed.listing(tenant, agent) == before
    box = deployed.container(tenant, agent)
    assert box.status == "running" and box.attrs["State"]["StartedAt"] == started


@SMALL
def test_a_backup_without_manifest_is_incomplete_and_not_restored(
    deployed: DeployedFleet, tenant: TenantView
) -> None:
    agent = tenant.agents[0].name
    backed_up(tenant)
    s3().delete_object(Bucket=str(tenant.bucket), Key=manifest_key(BACKUP))
    (entry,) = list_backups(TENANT).backups
    assert (entry.backup_id, entry.complete, entry.agents) == (BACKUP, False, (agent,))
    before = deployed.listing(tenant, agent)

    with pytest.raises(OperationFailed, match="incomplete"):
        restore_backup(TENANT, BACKUP, wait_seconds=5)
    assert deployed.listing(tenant, agent) == before


@SMALL
def test_an_agent_that_never_gets_healthy_fails_the_restore_after_the_wait(
    deployed: DeployedFleet, tenant: TenantView
) -> None:
    backed_up(tenant)
    with pytest.raises(OperationFailed, match="after the restore") as failed:
        restore_backup(TENANT, BACKUP, wait_seconds=1)  # no health check is run here
    assert "starting" in str(failed.value) and "its state was restored" in str(failed.value)
    kinds = [e.kind for e in open_event_log(deployed.root).read(tenant=TENANT)]
    assert kinds == ["backup.created", "backup.restore-failed"]
