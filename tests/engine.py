"""A real container engine for tests: Podman's Docker-compatible API on a socket
of our own, started here and stopped by its PID (see shared/reference).

Images come from local tarballs only: the test image is Debian's static
busybox, whose `httpd` serves `/healthz`. `make check` installs podman, runc
and busybox-static; without them these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BUSYBOX = Path("/bin/busybox")
TEST_IMAGE = "localhost/afrex-agent-test:1"
TEST_LABEL = "afrex.test"
CONTAINERS_CONF = """\
[containers]
default_ulimits=["nofile=1024:1024","nproc=1024:1024"]
[engine]
runtime="runc"
"""


@dataclass
class Engine:
    """A running `podman system service` and a Docker SDK client for it."""

    client: Any
    env: dict[str, str]

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )


def _missing() -> str | None:
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make check installs podman, runc, busybox-static)"
    if not BUSYBOX.is_file():
        return "busybox-static is not installed (it provides the test image)"
    return None


def _image_tar(folder: Path) -> Path:
    """A root filesystem with busybox and a /www/healthz page."""
    tar_path = folder / "rootfs.tar"
    health = folder / "healthz"
    health.write_text("ok\n")
    with tarfile.open(tar_path, "w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        tar.add(health, arcname="www/healthz")
    return tar_path


def start_service(folder: Path, timeout: float) -> tuple[subprocess.Popen[bytes], Engine]:
    """A private `podman system service` on `folder/podman.sock` (its own
    containers.conf), and an Engine whose Docker client waits at most `timeout` s."""
    import docker

    conf = folder / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    socket = folder / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not socket.exists():
        if service.poll() is not None or time.monotonic() > deadline:
            stop_service(service)
            raise RuntimeError("podman system service did not open its socket")
        time.sleep(0.1)
    return service, Engine(docker.DockerClient(base_url=f"unix://{socket}", timeout=timeout), env)


def stop_service(service: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if service.poll() is None:
        os.kill(service.pid, signal.SIGTERM)
    try:
        service.wait(timeout=10)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("podman")
    try:
        service, running = start_service(folder, timeout=60)
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        imported = running.podman("import", "-q", str(_image_tar(folder)), TEST_IMAGE)
        assert imported.returncode == 0, imported.stderr
        yield running
        for container in running.client.containers.list(all=True, filters={"label": TEST_LABEL}):
            container.remove(force=True)
        for network in running.client.networks.list(filters={"label": TEST_LABEL}):
            network.remove()
        running.client.close()
    finally:
        stop_service(service)
