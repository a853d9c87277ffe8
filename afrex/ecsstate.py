"""Live ECS agents: each agent's service and its task, read with the fewest ECS calls.

An ECS tenant's agent is a service (desired count 1) on the platform's cluster; its
gateway is the task's `gateway` container. Per cluster (clusters in parallel, one
client each, in the cluster's region):

- DescribeServices, 10 services a call (the API's limit): status and counts;
- the services' running tasks: ListTasks per service when a cluster has few of the
  wanted services, else ListTasks over the whole cluster (100 a page, far fewer
  calls for a big fleet), then DescribeTasks, 100 tasks a call; a task belongs to
  the service its `group` names (`service:<name>`).

The answer is the Docker side's `ContainerStatus` (afrex/containers.py): state
`running` (a RUNNING task), `stopped` (no task running, or one still starting or
stopping: the status text says which), `missing` (no such service, or deleted) or
`unknown` (ECS could not be asked); health from the gateway container's health
check (HEALTHY, UNHEALTHY, UNKNOWN -> healthy, unhealthy, starting). A cluster
ECS cannot be asked about is one line naming it and the endpoint, and its tenants'
agents are unknown; the other clusters still answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from afrex.containers import ContainerStatus
from afrex.errors import AfrexError

if TYPE_CHECKING:
    from afrex.deployed import DeployedAgent, EcsPlacement, TenantView

SERVICES_PER_CALL = 10  # DescribeServices
TASKS_PER_CALL = 100  # DescribeTasks, and a ListTasks page
LIST_BY_SERVICE_UP_TO = 10  # more wanted services than this: list the whole cluster's tasks
CLUSTER_THREADS = 4
SOURCE_PREFIX = "ECS cluster "
HEALTH = {"HEALTHY": "healthy", "UNHEALTHY": "unhealthy", "UNKNOWN": "starting"}
EVENT_CHARS = 200
T = TypeVar("T")
Factory = Callable[[str | None], Any]


def source_name(placement: EcsPlacement) -> str:
    """How a cluster is named in messages: `ECS cluster <name>`."""
    return f"{SOURCE_PREFIX}{placement.cluster_name}"


@dataclass(frozen=True)
class EcsTask:
    """One task of an agent's service, as DescribeTasks reports it."""

    arn: str
    last_status: str  # PROVISIONING, PENDING, ACTIVATING, RUNNING, ..., STOPPED
    health: str | None  # of the gateway container: healthy, unhealthy, starting
    cpu_units: int | None  # the task's allocation (1024 = 1 vCPU)
    memory_mb: int | None
    started: datetime | None

    @property
    def short_id(self) -> str:
        return self.arn.rpartition("/")[2][:12]


@dataclass(frozen=True)
class EcsAgentState:
    """An ECS agent's service and task, and what that means for the fleet."""

    tenant: str
    agent: str
    service: str
    cluster: str  # the source's name, `ECS cluster <name>`
    service_status: str = "MISSING"  # ACTIVE, DRAINING, INACTIVE or MISSING
    desired: int = 0
    running: int = 0
    pending: int = 0
    task: EcsTask | None = None
    last_event: str = ""
    error: str | None = None

    @property
    def state(self) -> str:
        if self.error is not None:
            return "unknown"
        if self.service_status in ("MISSING", "INACTIVE"):
            return "missing"
        running = self.task is not None and self.task.last_status == "RUNNING"
        return "running" if running and self.service_status == "ACTIVE" else "stopped"

    @property
    def status_text(self) -> str:
        if self.error is not None:
            return ""
        if self.service_status in ("MISSING", "INACTIVE"):
            return f"service {self.service} {self.service_status.lower()}"
        counts = f"desired {self.desired}, running {self.running}, pending {self.pending}"
        if self.task is not None:
            return f"task {self.task.short_id} {self.task.last_status} ({counts})"
        event = f"; last event: {self.last_event}" if self.last_event else ""
        return f"service {self.service_status}, no task ({counts}){event}"

    def container_status(self) -> ContainerStatus:
        health = self.task.health if self.task is not None and self.state == "running" else None
        return ContainerStatus(
            tenant=self.tenant,
            agent=self.agent,
            container=self.service,
            state=self.state,
            health=health,
            status_text=self.status_text,
            engine=self.cluster,
            error=self.error,
        )


@dataclass
class EcsReading:
    """Every ECS agent's state, and the clusters that could not be asked (and whose)."""

    agents: dict[tuple[str, str], EcsAgentState] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)  # source -> why
    behind: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> tenants


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _number(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def task_of(task: dict[str, Any], container_name: str) -> EcsTask:
    """A DescribeTasks item as the fleet needs it: the gateway container's health, and the
    task's CPU and memory (a Fargate task always states them; where an answer does not,
    the gateway container's, which the agent's definition sets to the same size)."""
    gateway: dict[str, Any] = {}
    for container in task.get("containers") or []:
        if container.get("name") == container_name:
            gateway = container
    started = task.get("startedAt") or task.get("createdAt")
    return EcsTask(
        arn=str(task.get("taskArn", "")),
        last_status=str(task.get("lastStatus") or "UNKNOWN"),
        health=HEALTH.get(str(gateway.get("healthStatus") or "")),
        cpu_units=_number(task.get("cpu") or gateway.get("cpu")),
        memory_mb=_number(task.get("memory") or gateway.get("memory")),
        started=started if isinstance(started, datetime) else None,
    )


RANK = {"RUNNING": 3, "ACTIVATING": 2, "PENDING": 2, "PROVISIONING": 2}


def pick_task(tasks: Iterable[EcsTask]) -> EcsTask | None:
    """The task that speaks for the service: a running one before one starting, before
    one stopping; the newest among equals (a deployment briefly has two)."""
    ordered = sorted(
        tasks,
        key=lambda t: (RANK.get(t.last_status, 1), t.started or datetime.min, t.arn),
    )
    return ordered[-1] if ordered else None


def _describe_services(ecs: Any, cluster: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for batch in _chunks(names, SERVICES_PER_CALL):
        answer = ecs.describe_services(cluster=cluster, services=list(batch))
        for service in answer.get("services") or []:
            found[str(service.get("serviceName"))] = service
    return found


def _task_arns(ecs: Any, cluster: str, names: Sequence[str]) -> list[str]:
    """The running tasks of these services (or of the whole cluster when that is fewer calls)."""
    pages = ecs.get_paginator("list_tasks")
    if len(names) <= LIST_BY_SERVICE_UP_TO:
        listings = [
            pages.paginate(cluster=cluster, serviceName=name, PaginationConfig={"PageSize": 100})
            for name in names
        ]
    else:
        listings = [pages.paginate(cluster=cluster, PaginationConfig={"PageSize": 100})]
    arns: dict[str, None] = {}
    for listing in listings:
        for page in listing:
            arns.update(dict.fromkeys(page.get("taskArns") or []))
    return list(arns)


def service_tasks(ecs: Any, cluster: str, names: Sequence[str]) -> dict[str, list[Any]]:
    """The running (or starting) tasks of these services, as DescribeTasks gives them."""
    wanted = set(names)
    found: dict[str, list[Any]] = defaultdict(list)
    for batch in _chunks(_task_arns(ecs, cluster, names), TASKS_PER_CALL):
        for task in ecs.describe_tasks(cluster=cluster, tasks=list(batch)).get("tasks") or []:
            kind, _, service = str(task.get("group") or "").partition(":")
            if kind == "service" and service in wanted:
                found[service].append(task)
    return found


def _agent_state(
    view: TenantView, agent: DeployedAgent, source: str, service: Any, tasks: list[Any]
) -> EcsAgentState:
    assert agent.ecs is not None
    name = agent.ecs.service_name
    if not isinstance(service, dict):
        return EcsAgentState(view.id, agent.name, name, source)
    events = service.get("events") or []
    last_event = " ".join(str(events[0].get("message", "")).split()) if events else ""
    return EcsAgentState(
        tenant=view.id,
        agent=agent.name,
        service=name,
        cluster=source,
        service_status=str(service.get("status") or "ACTIVE"),
        desired=int(service.get("desiredCount") or 0),
        running=int(service.get("runningCount") or 0),
        pending=int(service.get("pendingCount") or 0),
        task=pick_task(task_of(task, agent.ecs.container_name) for task in tasks),
        last_event=last_event[:EVENT_CHARS],
    )


def _ecs_agents(views: Iterable[TenantView]) -> Iterator[tuple[TenantView, DeployedAgent]]:
    for view in views:
        for agent in view.agents:
            if agent.ecs is not None:
                yield view, agent


def _ask_cluster(
    placement: EcsPlacement, views: list[TenantView], ecs: Any
) -> tuple[list[EcsAgentState], str | None]:
    """One cluster's agents (`ecs`: its region's client, or why there is none)."""
    source = source_name(placement)
    members = list(_ecs_agents(views))
    names = sorted({agent.ecs.service_name for _, agent in members if agent.ecs is not None})
    try:
        if isinstance(ecs, AfrexError):
            raise ecs
        services = _describe_services(ecs, placement.cluster, names)
        tasks = service_tasks(ecs, placement.cluster, names)
    except AfrexError as error:
        reason = str(error)
    except Exception as error:  # botocore's errors, named by the client factory's rules
        from afrex.clients import aws_failure

        reason = str(aws_failure(error, "ECS", f"reading cluster {placement.cluster_name}"))
    else:
        return [
            _agent_state(
                view,
                agent,
                source,
                services.get(agent.ecs.service_name),
                tasks.get(agent.ecs.service_name, []),
            )
            for view, agent in members
            if agent.ecs is not None
        ], None
    unknown = [
        EcsAgentState(view.id, agent.name, agent.container, source, error=reason)
        for view, agent in members
    ]
    return unknown, reason


def _by_cluster(views: Iterable[TenantView]) -> dict[EcsPlacement, list[TenantView]]:
    groups: dict[tuple[str, str], list[TenantView]] = defaultdict(list)
    placements: dict[tuple[str, str], EcsPlacement] = {}
    for view in views:
        placement = view.ecs
        if placement is None or not view.agents:
            continue
        key = (placement.region, placement.cluster)
        placements.setdefault(key, placement)
        groups[key].append(view)
    return {placements[key]: members for key, members in groups.items()}


def _unplaced(views: Iterable[TenantView], reading: EcsReading) -> None:
    """ECS tenants whose outputs name no cluster (or agents no service): unknown."""
    for view in views:
        placement = view.ecs
        for agent in view.agents:
            if placement is None or agent.ecs is None:
                why = "its stack outputs name no ECS cluster or service; redeploy the stack"
                reading.agents[(view.id, agent.name)] = EcsAgentState(
                    view.id, agent.name, agent.container, "ECS", error=why
                )


def _clients(regions: Iterable[str], factory: Factory) -> dict[str, Any]:
    """One client per region, made here on one thread (making boto3 clients from several
    threads at once is not safe); for a region whose client cannot be made, the reason."""
    made: dict[str, Any] = {}
    for region in regions:
        try:
            made[region] = factory(region or None)
        except AfrexError as error:
            made[region] = error
    return made


def unknown_reading(views: Iterable[TenantView], reason: str) -> EcsReading:
    """Every ECS agent of these views unknown for `reason`, named by cluster."""
    reading = EcsReading()
    _unplaced(views, reading)
    for placement, members in _by_cluster(views).items():
        source = source_name(placement)
        for view, agent in _ecs_agents(members):
            reading.agents[(view.id, agent.name)] = EcsAgentState(
                view.id, agent.name, agent.container, source, error=reason
            )
        reading.unreachable[source] = reason
        reading.behind[source] = tuple(view.id for view in members)
    return reading


def read_ecs(views: Iterable[TenantView], factory: Factory | None = None) -> EcsReading:
    """The state of every ECS tenant's agents, each cluster asked once, in parallel."""
    if factory is None:
        from afrex.clients import ecs

        factory = ecs
    chosen = [view for view in views if view.on_ecs]
    reading = EcsReading()
    _unplaced(chosen, reading)
    groups = _by_cluster(chosen)
    if not groups:
        return reading
    clients = _clients({placement.region for placement in groups}, factory)
    with ThreadPoolExecutor(max_workers=min(CLUSTER_THREADS, len(groups))) as pool:
        futures = {
            placement: pool.submit(_ask_cluster, placement, members, clients[placement.region])
            for placement, members in groups.items()
        }
        for placement, future in futures.items():
            states, reason = future.result()
            for state in states:
                reading.agents[(state.tenant, state.agent)] = state
            if reason:
                source = source_name(placement)
                reading.unreachable[source] = reason
                reading.behind[source] = tuple(view.id for view in groups[placement])
    return reading
