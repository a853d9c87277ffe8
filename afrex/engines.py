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


def docker_client(host: str, timeout: float = DOCKER_TIMEOUT_S) -> Any:
    """A `docker.DockerClient` for the engine at `host` (ssh:// through the ssh binary)."""
    import docker
    from docker.errors import DockerException

    try:
        return docker.DockerClient(
            base_url=host, timeout=int(max(1, timeout)), use_ssh_client=host.startswith("ssh://")
        )
    except DockerException as error:
        raise OperationFailed(
            f"cannot reach the Docker engine at {host}: {error}",
            "check the stack's docker:host and that the engine is running",
        ) from None


def by_engine(views: Iterable[TenantView]) -> dict[str, list[TenantView]]:
    """Tenants grouped by the Docker engine their containers run on (each asked once)."""
    groups: dict[str, list[TenantView]] = defaultdict(list)
    for view in views:
        groups[view.docker_host].append(view)
    return dict(groups)
