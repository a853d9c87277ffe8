"""Deployed tenants for backup tests, on real local services.

A throw-away project (AFREX_PROJECT) whose stacks are "deployed": each tenant's
checkpoint holds the outputs the real program computes (tests/statefixture.py),
written into a `file://` backend (PULUMI_BACKEND_URL), with `dockerHost` pointed
at the test's Podman socket. The containers and volumes those outputs name are
created on Podman (an image with busybox as /bin/sh, like the real gateway image
has a shell), and the tenant's bucket in moto's S3.

Containers are labelled `afrex.test.backups` (not the engine fixture's label, so
another test session's clean-up never removes them) and removed here.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from afrex.backups.manifest import ArchivedAgent, Manifest, archive_key, backup_time, manifest_key
from afrex.catalog import load_catalog
from afrex.clients import s3
from afrex.deployed import TenantView, read_tenant
from afrex.stackfiles import find_project
from tests.engine import BUSYBOX, Engine
from tests.helpers import write_stack
from tests.statefixture import planned_outputs, write_checkpoint

IMAGE = "localhost/afrex-backup-test:1"
LABEL = "afrex.test.backups"
PORT = 18789
SHELL_TOOLS = ("sh", "rm", "find", "stat", "sha256sum", "sort", "cat", "mkdir", "wget", "ls")
STATE = load_catalog().gateway.state_path
AGENT_USER = "1000:1000"  # the gateway image runs as `node`
# Lists every entry of the state folder: mode, type, name (links with their target),
# then the sha256 of every regular file. Independent of the archive API under test.
# (Owners are not compared: Podman's archive API gives every entry to the container's
# user, Docker's keeps each owner; either way the agent owns its state.)
LISTING = (
    f"cd {STATE} && find . -exec stat -c '%a %F %N' {{}} + | sort"
    " && find . -type f -exec sha256sum {} + | sort -k 2"
)


def build_image(engine: Engine, folder: Path) -> str:
    """The test agent image: busybox, its applets as /bin/<tool>, and /www/healthz."""
    tar_path = folder / "agent-rootfs.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for tool in SHELL_TOOLS:
            link = tarfile.TarInfo(f"bin/{tool}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        page = b"ok\n"
        info = tarfile.TarInfo("www/healthz")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
    done = engine.podman("import", "-q", str(tar_path), IMAGE)
    assert done.returncode == 0, done.stderr
    return IMAGE


@dataclass
class DeployedFleet:
    """A project of deployed tenants whose agents run on Podman and whose buckets are in moto."""

    root: Path
    engine: Engine | None  # None: stacks, checkpoints and buckets only
    socket: str
    created: list[tuple[str, str]] = field(default_factory=list)  # (container, volume)

    @property
    def client(self) -> Any:
        assert self.engine is not None, "this fleet has no container engine"
        return self.engine.client

    def add_stack(self, tenant_id: str, **tenant: Any) -> None:
        write_stack(self.root / "stacks", tenant_id, **tenant)

    def deploy(
        self, tenant_id: str, tier: str = "starter", healthcheck: bool = False, **tenant: Any
    ) -> TenantView:
        """Write the stack, its checkpoint, its bucket and its agents' containers."""
        tenant.setdefault("vertical", "general")
        self.add_stack(tenant_id, tier=tier, **tenant)
        outputs = planned_outputs(find_project(self.root), tenant_id)
        outputs["dockerHost"] = self.socket
        write_checkpoint(self.root / "state", "afrex", tenant_id, outputs)
        s3().create_bucket(Bucket=outputs["bucketName"])
        if self.engine is not None:
            for agent in outputs["agents"]:
                self.run_agent(tenant_id, agent, healthcheck)
        return read_tenant(tenant_id)

    def put_backup(
        self, view: TenantView, backup: str, states: dict[str, bytes], complete: bool = True
    ) -> Manifest:
        """A backup written straight into the bucket: each agent's state (a tar) gzipped,
        then, if `complete`, its manifest."""
        bucket, created = str(view.bucket), backup_time(backup)
        assert created is not None
        agents = []
        for agent, tar_bytes in states.items():
            body = gzip.compress(tar_bytes)
            key = archive_key(backup, agent)
            s3().put_object(Bucket=bucket, Key=key, Body=body)
            agents.append(ArchivedAgent(agent, key, len(body), hashlib.sha256(body).hexdigest()))
        manifest = Manifest(
            view.id, backup, created, created, "0.1.0", "c" * 64, STATE, tuple(agents)
        )
        if complete:
            s3().put_object(Bucket=bucket, Key=manifest_key(backup), Body=manifest.to_json())
        return manifest

    def run_agent(self, tenant_id: str, agent: dict[str, Any], healthcheck: bool) -> None:
        self.remove(agent["container"], agent["volume"])
        self.created.append((agent["container"], agent["volume"]))
        self.client.volumes.create(agent["volume"], labels={LABEL: "1"})
        health = {
            "test": ["CMD", "/bin/wget", "-q", "-O-", f"http://127.0.0.1:{PORT}/healthz"],
            "interval": 3600 * 10**9,
            "retries": 1,
        }
        self.client.containers.run(
            IMAGE,
            ["/bin/busybox", "httpd", "-f", "-p", str(PORT), "-h", "/www"],
            name=agent["container"],
            detach=True,
            volumes={agent["volume"]: {"bind": STATE, "mode": "rw"}},
            user=AGENT_USER,
            init=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            labels={LABEL: "1", "afrex.tenant": tenant_id, "afrex.agent": agent["name"]},
            healthcheck=health if healthcheck else None,
        )

    def container(self, view: TenantView, agent: str) -> Any:
        return self.client.containers.get(view.agent(agent).container)

    def put_state(self, view: TenantView, agent: str, tar_bytes: bytes) -> None:
        """Unpack a tar (members relative to the state folder) into the agent's state."""
        assert self.container(view, agent).put_archive(STATE, tar_bytes)

    def sh(self, view: TenantView, agent: str, script: str) -> str:
        """Run a shell script as root in a helper container with the agent's volume."""
        volume = view.agent(agent).volume
        helper = self.client.containers.run(
            IMAGE,
            ["/bin/sh", "-c", script],
            volumes={volume: {"bind": STATE, "mode": "rw"}},
            detach=True,
            network_mode="none",
            labels={LABEL: "1"},
        )
        try:  # logs read after the exit: following them can miss the end on Podman
            status = helper.wait(timeout=120)
            output = bytes(helper.logs(stdout=True, stderr=True)).decode(errors="replace")
        finally:
            helper.remove(force=True)
        assert status["StatusCode"] == 0, output
        return output

    def listing(self, view: TenantView, agent: str) -> str:
        return self.sh(view, agent, LISTING)

    def owners(self, view: TenantView, agent: str) -> set[str]:
        """The uid:gid of every entry of the agent's state."""
        return set(self.sh(view, agent, f"find {STATE} -exec stat -c '%u:%g' {{}} +").split())

    def remove(self, container: str, volume: str) -> None:
        for found in self.client.containers.list(all=True, filters={"name": f"^{container}$"}):
            found.remove(force=True)
        for found in self.client.volumes.list(filters={"name": volume}):
            if found.name == volume:
                found.remove(force=True)

    def clean(self) -> None:
        for container, volume in self.created:
            self.remove(container, volume)


def state_tar(files: dict[str, bytes], top: str = STATE.rsplit("/", 1)[1]) -> bytes:
    """A state archive as the engine gives it: the state folder and its files."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        folder = tarfile.TarInfo(top)
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode = len(data), 0o640
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture(scope="session")
def agent_image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_image(engine, tmp_path_factory.mktemp("agent-image"))


def _project(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "stacks").mkdir()
    (root / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
    monkeypatch.setenv("AFREX_PROJECT", str(root))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{root / 'state'}")
    monkeypatch.delenv("AFREX_EVENTS", raising=False)
    monkeypatch.setenv("COLUMNS", "160")


@pytest.fixture
def deployed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    agent_image: str,
    aws_endpoint: str,
) -> Iterator[DeployedFleet]:
    """A project of deployed tenants (see the module docstring)."""
    _project(tmp_path, monkeypatch)
    fleet = DeployedFleet(tmp_path, engine, _socket_url(engine))
    try:
        yield fleet
    finally:
        fleet.clean()


@pytest.fixture
def on_moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_endpoint: str) -> DeployedFleet:
    """Deployed tenants whose buckets are in moto, with no container engine."""
    _project(tmp_path, monkeypatch)
    return DeployedFleet(tmp_path, None, f"unix://{tmp_path}/no-engine.sock")


def _socket_url(engine: Engine) -> str:
    """The Podman socket's URL as a stack's docker:host would name it."""
    adapter = engine.client.api.get_adapter("http+docker://localhost")
    return f"unix://{adapter.socket_path}"
