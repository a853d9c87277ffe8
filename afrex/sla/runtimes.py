"""Probing a mixed fleet: each agent judged the way its runtime allows.

- Docker agents: the container's state from its engine and an HTTP GET of the
  gateway's health path (afrex/sla/probe.py).
- ECS agents: the gateway listens only inside the platform's private subnets, and
  its security group lets nothing in, so it cannot be probed from where `afrex`
  runs. ECS runs the very same health check inside the task (the container
  definition's `healthCheck`, the catalog's health path): an agent is up when its
  service's task is RUNNING and its gateway container is HEALTHY. No
  `ResponseTimeMs` is published for it (nothing was timed). An agent whose
  cluster ECS could not be asked is not judged: no `Up` sample (a gap, never a 0
  the customer would be credited for), and a problem line names how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from afrex.catalog import Catalog
from afrex.containers import ContainerStatus, LiveContainers
from afrex.deployed import DeployedAgent, TenantView
from afrex.sla.probe import AgentProbe, Target, probe_agents

JUDGED_BY_ECS = "judged by the ECS health check (the gateway is not reachable from outside its VPC)"


def judge_task(view: TenantView, agent: DeployedAgent, status: ContainerStatus) -> AgentProbe:
    """An ECS agent's verdict: up when its task runs and its gateway is HEALTHY."""
    up, reason = False, JUDGED_BY_ECS
    if status.state != "running":
        reason = f"service {agent.container} is {status.state}: {status.status_text}"
    elif status.health == "healthy":
        up = True
    elif status.health == "unhealthy":
        reason = "the gateway's ECS health check reports it UNHEALTHY"
    elif status.health == "starting":
        reason = "the gateway's ECS health check has not passed yet (UNKNOWN)"
    else:
        reason = "the task reports no health for the gateway container"
    return AgentProbe(
        tenant=view.id,
        agent=agent.name,
        container=agent.container,
        gateway="",
        state=status.state,
        health=status.health,
        answer=None,
        up=up,
        reason=reason,
    )


def probe_fleet(
    views: Sequence[TenantView], live: LiveContainers, catalog: Catalog
) -> tuple[list[AgentProbe], list[str]]:
    """Every deployed agent's probe, in the views' order, and what could not be judged."""
    settings = catalog.telemetry
    targets = [
        Target(
            view.id,
            agent.name,
            agent.container,
            agent.gateway_address,
            live.of(view.id, agent.name),
        )
        for view in views
        if not view.on_ecs
        for agent in view.agents
    ]
    probed = probe_agents(
        targets,
        catalog.gateway.health_path,
        float(settings.probe_timeout_seconds),
        settings.probe_concurrency,
    )
    by_key = {probe.key: probe for probe in probed}
    not_judged: Counter[str] = Counter()
    probes = []
    for view in views:
        for agent in view.agents:
            if not view.on_ecs:
                probes.append(by_key[(view.id, agent.name)])
                continue
            status = live.of(view.id, agent.name)
            if status is None or not status.known:
                not_judged[status.engine if status and status.engine else "ECS"] += 1
                continue
            probes.append(judge_task(view, agent, status))
    problems = [
        f"{source}: {count} agent(s) not judged, no Up published for them (ECS could not "
        "be asked about their tasks)"
        for source, count in sorted(not_judged.items())
    ]
    return probes, problems
