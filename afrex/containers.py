"""Live agent containers: the state and health of every tenant's containers, asking
each Docker engine a fixed handful of list calls, never one call per container.

Every agent container carries the labels `afrex.tenant` and `afrex.agent`
(components/naming.py). Per engine: one list of all labelled containers (state)
and one per health status (`healthy`, `unhealthy`, `starting`, via the engine's
`health` filter, which Docker and Podman both support). Engines are asked in
parallel; an engine that is down or slow is reported as unreachable (one line
naming it) and its tenants' agents come back as `unknown`, while the rest of
the fleet still comes back within the timeout.

Tenants on ECS have no engine: `live_containers` asks ECS about them
(afrex/ecsstate.py: their services and tasks) at the same time as the engines, and
returns their agents as the same records, so `fleet` and `sla` read a mixed fleet
without knowing which runtime an agent is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from afrex.engines import DOCKER_TIMEOUT_S, by_engine, docker_client
from afrex.errors import AfrexError

if TYPE_CHECKING:
    from afrex.deployed import TenantView

TENANT_LABEL = "afrex.tenant"
AGENT_LABEL = "afrex.agent"
HEALTH_STATES = ("healthy", "unhealthy", "starting")
ENGINE_THREADS = 8


@dataclass(frozen=True)
class ContainerStatus:
    """One agent's container as its engine reports it (or, on ECS, its service's task).

    `state`: running, exited, created, paused, restarting, dead, missing (no such
    container on the engine) or unknown (the engine could not be asked); on ECS
    running, stopped, missing or unknown (afrex/ecsstate.py).
    `health`: healthy, unhealthy, starting, or None (no healthcheck reported).
    `engine`: the Docker host, or `ECS cluster <name>`.
    """

    tenant: str
    agent: str
    container: str
    state: str
    health: str | None = None
    status_text: str = ""
    engine: str = ""
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def ok(self) -> bool:
        """Running and not reported unhealthy."""
        return self.running and self.health != "unhealthy"

    @property
    def known(self) -> bool:
        return self.state != "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "status": self.status_text,
            "engine": self.engine,
            "error": self.error,
        }


@dataclass
class LiveContainers:
    """Every deployed agent's container status, and the engines (or ECS clusters) that
    could not be asked, with the tenants behind each."""

    statuses: dict[tuple[str, str], ContainerStatus] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    behind: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def tenants_behind(self, source: str) -> tuple[str, ...]:
        """The tenants whose agents an unreachable engine or cluster holds."""
        return self.behind.get(source, ())

    @staticmethod
    def source_title(source: str) -> str:
        """`Docker engine <host>`, or the ECS cluster's own name (`ECS cluster <name>`)."""
        return source if source.startswith("ECS ") else f"Docker engine {source}"

    def of(self, tenant: str, agent: str) -> ContainerStatus | None:
        return self.statuses.get((tenant, agent))

    def for_tenant(self, tenant: str) -> list[ContainerStatus]:
        return [s for (t, _), s in sorted(self.statuses.items()) if t == tenant]


def _engine_listing(client: Any) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """(summary by container name, health by container name) from one engine."""
    labelled = {"label": TENANT_LABEL}
    summaries: dict[str, dict[str, Any]] = {}
    for container in client.containers.list(all=True, sparse=True, filters=labelled):
        for name in container.attrs.get("Names") or []:
            summaries[str(name).lstrip("/")] = container.attrs
    health: dict[str, str] = {}
    for status in HEALTH_STATES:
        filters = {**labelled, "health": status}
        for container in client.containers.list(all=True, sparse=True, filters=filters):
            for name in container.attrs.get("Names") or []:
                health[str(name).lstrip("/")] = status
    return summaries, health


def _ask_engine(
    host: str,
    views: list[TenantView],
    timeout: float,
    factory: Callable[[str, float], Any],
) -> tuple[list[ContainerStatus], str | None]:
    wanted = [(view.id, agent) for view in views for agent in view.agents]
    try:
        client = factory(host, timeout)
        try:
            summaries, health = _engine_listing(client)
        finally:
            client.close()
    except AfrexError as error:
        reason = str(error)
    except Exception as error:  # the docker SDK raises requests/socket/paramiko errors
        reason = f"Docker engine at {host} did not answer: {type(error).__name__}: {error}"
    else:
        statuses = []
        for tenant, agent in wanted:
            summary = summaries.get(agent.container)
            statuses.append(
                ContainerStatus(
                    tenant=tenant,
                    agent=agent.name,
                    container=agent.container,
                    state=str(summary.get("State", "unknown")) if summary else "missing",
                    health=health.get(agent.container),
                    status_text=str(summary.get("Status", "")) if summary else "",
                    engine=host,
                )
            )
        return statuses, None
    unknown = [
        ContainerStatus(tenant, agent.name, agent.container, "unknown", engine=host, error=reason)
        for tenant, agent in wanted
    ]
    return unknown, reason


def _import_sdks(docker: bool, aws: bool) -> None:
    """The SDKs, imported on this thread before the workers start (two threads importing
    requests and botocore at once make urllib3 print warnings)."""
    if docker:
        import docker as docker_sdk  # noqa: F401
    if aws:
        import boto3  # noqa: F401


def _ask_ecs(views: list[TenantView], ecs_factory: Callable[[str | None], Any] | None) -> Any:
    from afrex.ecsstate import read_ecs

    return read_ecs(views, ecs_factory)


def live_containers(
    views: Iterable[TenantView],
    timeout: float = DOCKER_TIMEOUT_S,
    factory: Callable[[str, float], Any] = docker_client,
    ecs_factory: Callable[[str | None], Any] | None = None,
) -> LiveContainers:
    """The status of every deployed agent, whatever its runtime: each Docker engine asked
    once, and each ECS cluster once (afrex/ecsstate.py), all in parallel; ECS answers
    within `timeout` or its tenants' agents are unknown."""
    deadline = time.monotonic() + timeout
    deployed = [view for view in views if view.agents]
    on_ecs = [view for view in deployed if view.on_ecs]
    groups = by_engine(view for view in deployed if not view.on_ecs)
    live = LiveContainers()
    if not groups and not on_ecs:
        return live
    _import_sdks(docker=bool(groups), aws=bool(on_ecs))
    ecs_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecs") if on_ecs else None
    try:
        ecs = ecs_pool.submit(_ask_ecs, on_ecs, ecs_factory) if ecs_pool else None
        if groups:
            _ask_engines(groups, timeout, factory, live)
        if ecs is not None:
            _take_ecs(ecs, on_ecs, timeout, max(deadline - time.monotonic(), 0.1), live)
    finally:
        if ecs_pool is not None:
            ecs_pool.shutdown(wait=False, cancel_futures=True)
    return live


def _ask_engines(
    groups: dict[str, list[TenantView]],
    timeout: float,
    factory: Callable[[str, float], Any],
    live: LiveContainers,
) -> None:
    with ThreadPoolExecutor(max_workers=min(ENGINE_THREADS, len(groups))) as pool:
        futures = {
            host: pool.submit(_ask_engine, host, members, timeout, factory)
            for host, members in groups.items()
        }
        for host, future in futures.items():
            statuses, reason = future.result()
            for status in statuses:
                live.statuses[(status.tenant, status.agent)] = status
            if reason:
                live.unreachable[host] = reason
                live.behind[host] = tuple(view.id for view in groups[host])


def _take_ecs(
    future: Future[Any], views: list[TenantView], timeout: float, wait: float, live: LiveContainers
) -> None:
    from afrex.ecsstate import unknown_reading

    try:
        reading = future.result(timeout=wait)
    except FutureTimeout:
        reading = unknown_reading(views, f"ECS did not answer within {timeout:g} s")
    for key, state in reading.agents.items():
        live.statuses[key] = state.container_status()
    live.unreachable.update(reading.unreachable)
    live.behind.update(reading.behind)
