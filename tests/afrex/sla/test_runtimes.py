"""ECS agents' verdicts from their task's health (moto reports every container HEALTHY,
so the other health states are checked here on the records `afrex.ecsstate` makes;
the whole round against moto is in tests/cli/test_ecs_operations.py)."""

from __future__ import annotations

from typing import Any

import pytest

from afrex.catalog import Catalog
from afrex.containers import ContainerStatus, LiveContainers
from afrex.deployed import DeployedAgent, EcsAgent, TenantView
from afrex.sla.runtimes import judge_task, probe_fleet
from afrex.state import StackState
from afrex.tenants import load_tenants
from tests.billing.fleet import Fleet

TENANT = "cust-judge-ecs-1767225600"
SERVICE = f"afrex-{TENANT}-general-assistant"
CLUSTER = "ECS cluster afrex-agents"


def status(state: str, health: str | None, error: str | None = None) -> ContainerStatus:
    return ContainerStatus(
        TENANT, "general-assistant", SERVICE, state, health, "task x", CLUSTER, error
    )


@pytest.fixture
def view(fleet: Fleet, catalog: Catalog) -> TenantView:
    fleet.add(TENANT, tier="starter", vertical="general", runtime="ecs")
    (tenant,) = load_tenants(catalog=catalog)
    agent: dict[str, Any] = {
        "name": "general-assistant", "container": SERVICE, "volume": "fsap-1",
        "gatewayAddress": "", "serviceName": SERVICE, "containerName": "gateway",
        "accessPoint": "fsap-1",
    }  # fmt: skip
    outputs = {"runtime": "ecs", "agents": [agent], "ecs": {"cluster": "arn:c/afrex-agents"}}
    state = StackState(TENANT, outputs, (), "2026-11-01T12:00:00Z", 3)
    return TenantView(tenant, state)


@pytest.mark.parametrize(
    ("state", "health", "up", "reason"),
    [
        ("running", "healthy", True, "judged by the ECS health check"),
        ("running", "unhealthy", False, "the gateway's ECS health check reports it UNHEALTHY"),
        ("running", "starting", False, "has not passed yet (UNKNOWN)"),
        ("running", None, False, "reports no health for the gateway container"),
        ("stopped", None, False, f"service {SERVICE} is stopped: task x"),
        ("missing", None, False, f"service {SERVICE} is missing"),
    ],
)
def test_up_only_when_the_task_runs_and_its_gateway_is_healthy(
    view: TenantView, state: str, health: str | None, up: bool, reason: str
) -> None:
    agent = view.agents[0]
    assert isinstance(agent, DeployedAgent) and isinstance(agent.ecs, EcsAgent)
    probe = judge_task(view, agent, status(state, health))
    assert probe.up is up and reason in probe.reason
    assert probe.answer is None and probe.gateway == ""  # nothing probed over HTTP


def test_an_agent_ecs_could_not_be_asked_about_is_not_judged(
    view: TenantView, catalog: Catalog
) -> None:
    live = LiveContainers()
    live.statuses[(TENANT, "general-assistant")] = status("unknown", None, "cannot connect")
    probes, problems = probe_fleet([view], live, catalog)
    assert probes == []  # no Up sample: a gap, not a 0
    assert problems == [
        f"{CLUSTER}: 1 agent(s) not judged, no Up published for them (ECS could not be asked "
        "about their tasks)"
    ]
    live.statuses[(TENANT, "general-assistant")] = status("running", "healthy")
    probes, problems = probe_fleet([view], live, catalog)
    assert [p.up for p in probes] == [True] and problems == []
