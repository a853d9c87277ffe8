"""`afrex fleet usage` for agents on ECS: what each task is allocated, against its tier.

Fargate gives a task a fixed CPU and memory allocation (the tier's size from the
catalog, `fargate.sizes`); ECS reports the running task's allocation with the
task (DescribeTasks), read here through afrex/ecsstate.py with the fleet's other
ECS reads. ECS has no per-container stats call like Docker's: what a task actually
uses is only in CloudWatch Container Insights (`ECS/ContainerInsights`
CpuUtilized / MemoryUtilized), so CPU and memory use are reported as not measured,
never guessed, and a task whose allocation differs from its tier's is named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from afrex.ecsstate import EcsAgentState, read_ecs

if TYPE_CHECKING:
    from afrex.catalog import Catalog
    from afrex.deployed import TenantView
    from afrex.fleetview.usage import AgentUsage

NOT_MEASURED = (
    "use not measured: ECS reports no per-task CPU or memory use (see Container Insights "
    "in CloudWatch, ECS/ContainerInsights)"
)


def allocation_note(state: EcsAgentState, tier_cpu: float, tier_memory_mb: int) -> str:
    """What ECS says the task has, against the tier, and why use is not shown."""
    task = state.task
    if task is None or task.cpu_units is None or task.memory_mb is None:
        return f"no running task to read its allocation from; {NOT_MEASURED}"
    cpu = task.cpu_units / 1024
    allocated = f"task allocated {cpu:g} vCPU / {task.memory_mb} MB"
    if cpu == tier_cpu and task.memory_mb == tier_memory_mb:
        return f"{allocated} (the tier's size); {NOT_MEASURED}"
    return (
        f"{allocated}, but the tier's size is {tier_cpu:g} vCPU / {tier_memory_mb} MB: "
        f"redeploy with `afrex up -s {state.tenant}`; {NOT_MEASURED}"
    )


def ecs_usage(
    views: Sequence[TenantView],
    catalog: Catalog,
    on_done: Callable[[], None] | None = None,
    factory: Callable[[str | None], Any] | None = None,
) -> tuple[list[AgentUsage], dict[str, str]]:
    """Every ECS agent's allocation row, and the clusters that could not be asked."""
    from afrex.fleetview.usage import AgentUsage

    reading = read_ecs(views, factory)
    rows = []
    for view in views:
        size = catalog.fargate.sizes[view.tenant.spec.tier]
        tier_cpu = float(size.vcpu)
        for agent in view.agents:
            state = reading.agents.get((view.id, agent.name))
            if state is None:  # not an ECS agent: never asked here
                continue
            task = state.task if state.state == "running" else None
            rows.append(
                AgentUsage(
                    view.id,
                    agent.name,
                    agent.container,
                    state.state,
                    cpu_limit=tier_cpu,
                    memory_limit_mb=size.memory_mb,
                    error=state.error,
                    allocated_cpu=task.cpu_units / 1024 if task and task.cpu_units else None,
                    allocated_memory_mb=task.memory_mb if task else None,
                    note=None if state.error else allocation_note(state, tier_cpu, size.memory_mb),
                )
            )
            if on_done is not None:
                on_done()
    return rows, dict(reading.unreachable)
