"""`afrex fleet usage`: CPU, memory and restarts per agent against the tier's limits.

The Docker API has no fleet-wide stats call: stats and inspect are per container.
So each engine gets one client, and its containers are asked a few at a time
(`WORKERS`) under one deadline: an inspect (restart count) and two one-shot
stats samples `SAMPLE_S` apart (CPU use is the difference between them; the
second round starts once the first is done, so the whole fleet waits for the
interval once, not per container). Anything not answered by the deadline, or
on an engine that cannot be reached, is unknown.

Agents on ECS have no engine to ask: their rows come from afrex/ecsusage.py (the
task's allocation against the tier's Fargate size, use not measured).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from afrex.catalog import Catalog, load_catalog
from afrex.containers import LiveContainers
from afrex.deployed import DeployedAgent, TenantView
from afrex.engines import by_engine, docker_client
from afrex.errors import BadInput
from afrex.fleetview.bounded import Outcome, map_within
from afrex.fleetview.snapshot import DEFAULT_TIMEOUT_S, Unknown, read_views
from afrex.stackfiles import find_project

WORKERS = 16
SAMPLE_S = 1.0
MiB = 1024 * 1024


@dataclass(frozen=True)
class AgentUsage:
    """One agent's container use, against its tier's container size (on ECS: its task's
    allocation against the tier's Fargate size, use not measured, `note` says so)."""

    tenant: str
    agent: str
    container: str
    state: str
    cpu_cores: float | None = None
    cpu_limit: float = 0.0
    memory_mb: float | None = None
    memory_limit_mb: int = 0
    restarts: int | None = None
    error: str | None = None
    allocated_cpu: float | None = None  # ECS: the running task's vCPU
    allocated_memory_mb: int | None = None  # ECS: the running task's memory
    note: str | None = None

    @property
    def cpu_pct(self) -> float | None:
        """CPU used as a share of the tier's CPU quota, %."""
        if self.cpu_cores is None or not self.cpu_limit:
            return None
        return round(100 * self.cpu_cores / self.cpu_limit, 1)

    @property
    def memory_pct(self) -> float | None:
        """Memory used as a share of the tier's memory cap, %."""
        if self.memory_mb is None or not self.memory_limit_mb:
            return None
        return round(100 * self.memory_mb / self.memory_limit_mb, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "container": self.container,
            "state": self.state,
            "cpuCores": self.cpu_cores,
            "cpuLimit": self.cpu_limit,
            "cpuPctOfLimit": self.cpu_pct,
            "memoryMb": self.memory_mb,
            "memoryLimitMb": self.memory_limit_mb,
            "memoryPctOfLimit": self.memory_pct,
            "restarts": self.restarts,
            "error": self.error,
            "allocatedCpu": self.allocated_cpu,
            "allocatedMemoryMb": self.allocated_memory_mb,
            "note": self.note,
        }


@dataclass(frozen=True)
class Sample:
    state: str
    restarts: int | None
    cpu_total: int
    system_total: int
    online_cpus: int
    memory_bytes: int | None


def sample(client: Any, container: str) -> Sample:
    """One inspect and one one-shot stats call for a container."""
    from docker.errors import NotFound

    try:
        inspected = client.api.inspect_container(container)
    except NotFound:
        return Sample("missing", None, 0, 0, 0, None)
    state = inspected.get("State") or {}
    restarts = int(inspected.get("RestartCount") or 0)
    if not state.get("Running"):
        return Sample(str(state.get("Status") or "stopped"), restarts, 0, 0, 0, None)
    stats = client.api.stats(container, stream=False, one_shot=True)
    cpu = stats.get("cpu_stats") or {}
    memory = stats.get("memory_stats") or {}
    used = memory.get("usage")
    cache = (memory.get("stats") or {}).get("inactive_file", 0)
    return Sample(
        "running",
        restarts,
        int((cpu.get("cpu_usage") or {}).get("total_usage") or 0),
        int(cpu.get("system_cpu_usage") or 0),
        int(cpu.get("online_cpus") or 1),
        int(used) - int(cache) if used is not None else None,
    )


def cores_used(first: Sample, second: Sample) -> float | None:
    """CPU cores in use between two samples (Docker's own formula)."""
    system = second.system_total - first.system_total
    if system <= 0 or second.state != "running":
        return None
    return round((second.cpu_total - first.cpu_total) / system * second.online_cpus, 3)


Job = tuple[Any, TenantView, DeployedAgent]


def _usage(catalog: Catalog, job: Job, first: Sample | None, second: Sample | None) -> AgentUsage:
    _, view, agent = job
    size = catalog.tiers[view.tenant.spec.tier].container
    cpus, memory_cap = float(size.cpus), size.memory_mb
    base = AgentUsage(view.id, agent.name, agent.container, "unknown", None, cpus, None, memory_cap)
    if first is None:
        return base
    latest = second or first
    memory = latest.memory_bytes / MiB if latest.memory_bytes is not None else None
    return AgentUsage(
        view.id,
        agent.name,
        agent.container,
        latest.state,
        cores_used(first, second) if second is not None else None,
        float(size.cpus),
        round(memory, 1) if memory is not None else None,
        size.memory_mb,
        latest.restarts,
    )


def fleet_usage(
    views: Sequence[TenantView],
    catalog: Catalog,
    timeout: float,
    on_done: Callable[[], None] | None = None,
) -> tuple[list[AgentUsage], dict[str, str]]:
    """Every deployed agent's use, whatever its runtime, and the engines (or ECS clusters)
    that could not be asked (source -> why); rows in the views' order."""
    on_ecs = [view for view in views if view.on_ecs]
    if not on_ecs:
        return docker_usage(views, catalog, timeout, on_done)
    from afrex.ecsusage import ecs_usage

    rows, unreachable = docker_usage(
        [view for view in views if not view.on_ecs], catalog, timeout, on_done
    )
    ecs_rows, ecs_unreachable = ecs_usage(on_ecs, catalog, on_done)
    order = {view.id: index for index, view in enumerate(views)}
    merged = sorted(rows + ecs_rows, key=lambda row: order[row.tenant])  # stable: agents kept
    return merged, {**unreachable, **ecs_unreachable}


def docker_usage(
    views: Sequence[TenantView],
    catalog: Catalog,
    timeout: float,
    on_done: Callable[[], None] | None = None,
) -> tuple[list[AgentUsage], dict[str, str]]:
    """Every Docker agent's use, and the engines that could not be asked (host -> why)."""
    clients: dict[str, Any] = {}
    unreachable: dict[str, str] = {}
    for host in by_engine(v for v in views if v.agents):
        try:
            clients[host] = docker_client(host, timeout)
        except Exception as error:  # the factory's OperationFailed, or an SDK error
            unreachable[host] = str(error)
    jobs: list[Job] = [(clients.get(v.docker_host), v, a) for v in views for a in v.agents]
    asked = [i for i, job in enumerate(jobs) if job[0] is not None]
    deadline = time.monotonic() + timeout
    try:
        first = _round(jobs, asked, timeout, on_done)
        running = [i for i in asked if _running(first[i])]
        time.sleep(min(SAMPLE_S, max(deadline - time.monotonic(), 0)))
        second = _round(jobs, running, max(deadline - time.monotonic(), 0.1), None)
    finally:
        for client in clients.values():
            client.close()
    rows = []
    for index, job in enumerate(jobs):
        outcome = first.get(index)
        later = second.get(index)
        row = _usage(catalog, job, _value(outcome), _value(later))
        if outcome is None:
            row = replace(row, error=unreachable.get(job[1].docker_host, "engine not asked"))
        elif outcome.value is None:
            why = outcome.error or f"no answer within {timeout:g} s"
            row = replace(row, error=str(why))
        rows.append(row)
    return rows, unreachable


def _running(outcome: Outcome[Sample]) -> bool:
    return outcome.value is not None and outcome.value.state == "running"


def _value(outcome: Outcome[Sample] | None) -> Sample | None:
    return outcome.value if outcome is not None else None


def _round(
    jobs: list[Job], indexes: list[int], seconds: float, on_done: Callable[[], None] | None
) -> dict[int, Outcome[Sample]]:
    """One sample of each container in `indexes`, a few at a time, until the deadline."""
    outcomes = map_within(
        lambda i: sample(jobs[i][0], jobs[i][2].container), indexes, WORKERS, seconds, on_done
    )
    return {indexes[k]: outcome for k, outcome in outcomes.items()}


@dataclass
class UsageReport:
    """Every deployed agent's use, and the sources that could not be asked."""

    rows: list[AgentUsage]
    unknown: list[Unknown]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agents": [row.as_dict() for row in self.rows],
            "unknown": [u.as_dict() for u in self.unknown],
        }


@dataclass
class UsageRun:
    """The deployed agents to measure (known before measuring, for a progress bar)."""

    views: list[TenantView]
    catalog: Catalog
    timeout: float

    @property
    def agents(self) -> int:
        return sum(len(view.agents) for view in self.views)

    def measure(self, on_done: Callable[[], None] | None = None) -> UsageReport:
        """Ask the engines; each agent measured calls `on_done`."""
        rows, unreachable = fleet_usage(self.views, self.catalog, self.timeout, on_done)
        unknown = []
        for source, reason in sorted(unreachable.items()):
            unknown.append(Unknown(source_title(source), reason, served(self.views, source)))
        return UsageReport(rows, unknown)


def source_title(source: str) -> str:
    return LiveContainers.source_title(source)


def served(views: Sequence[TenantView], source: str) -> tuple[str, ...]:
    """The tenants behind an engine (its host) or an ECS cluster (`ECS cluster <name>`)."""
    from afrex.ecsstate import source_name

    return tuple(
        view.id
        for view in views
        if (view.ecs is not None and source_name(view.ecs) == source)
        or (not view.on_ecs and view.docker_host == source)
    )


def usage_run(only: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> UsageRun:
    """CPU, memory and restarts of every deployed agent (or `only` these tenants'):
    `usage_run(...).measure()`."""
    if timeout <= 0:
        raise BadInput(f"--timeout {timeout} is not a number of seconds", "use e.g. 10")
    project = find_project()
    catalog = load_catalog()
    views = [view for view in read_views(project, catalog, only) if view.deployed]
    return UsageRun(views, catalog, timeout)
