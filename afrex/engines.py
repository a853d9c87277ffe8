"""The one factory for Docker engine clients, and the grouping that asks each engine once.

A tenant's containers run on the engine its stack names (`docker:host`: a local
socket, `ssh://agents-07`, `tcp://...`). Every command that talks to containers
gets its client here, with a bounded timeout, so an engine that is down or
never answers costs seconds and is reported by name. The `docker` SDK is
imported inside, so commands that never touch an engine never pay for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from afrex.errors import OperationFailed

if TYPE_CHECKING:
    from afrex.deployed import TenantView

DOCKER_TIMEOUT_S = 10.0
# A fixed API version: every engine we run on speaks it (Docker 20.10+, Podman 3+), and
# it spares the version handshake the SDK otherwise makes per client (~1 s on Podman).
DOCKER_API_VERSION = "1.41"


def docker_client(host: str, timeout: float = DOCKER_TIMEOUT_S) -> Any:
    """A `docker.DockerClient` for the engine at `host` (ssh:// through the ssh binary)."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.DockerClient(
            base_url=host,
            version=DOCKER_API_VERSION,
            timeout=int(max(1, timeout)),
            use_ssh_client=host.startswith("ssh://"),
        )
    except DockerException as error:
        raise OperationFailed(
            f"cannot reach the Docker engine at {host}: {error}",
            "check the stack's docker:host and that the engine is running",
        ) from None
    try:
        client.ping()  # a few milliseconds; an engine that is down is named here, once
    except Exception as error:  # the SDK raises requests/socket/docker errors alike
        client.close()
        raise OperationFailed(
            f"cannot reach the Docker engine at {host}: {type(error).__name__}: {error}",
            "check the stack's docker:host and that the engine is running",
        ) from None
    return client


def by_engine(views: Iterable[TenantView]) -> dict[str, list[TenantView]]:
    """Tenants grouped by the Docker engine their containers run on (each asked once)."""
    groups: dict[str, list[TenantView]] = defaultdict(list)
    for view in views:
        groups[view.docker_host].append(view)
    return dict(groups)
