"""Live state of ECS agents against moto's ECS over HTTP (tests/afrex/ecsfleet.py says
what moto cannot do: here, services start no task, so a test starts the service's
task itself as ECS would, pinned RUNNING; a container's health is always HEALTHY, so
the health mapping is also checked on DescribeTasks items as ECS documents them).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from afrex import clients, ecsstate
from afrex.containers import live_containers
from afrex.deployed import read_fleet
from afrex.ecsstate import EcsTask, pick_task, read_ecs, task_of
from tests.afrex.backups.deployed import DeployedFleet, on_moto
from tests.afrex.ecsfleet import (
    Calls,
    EcsPlatform,
    deploy_ecs,
    ecs_calls,
    pinned_tasks,
    platform,
    run_service_task,
)
from tests.services import free_port

__all__ = ["ecs_calls", "on_moto", "platform"]
GROWTH = "cust-ecs-growth-1767225600"
BIG = "cust-ecs-big-1767225600"


def test_running_stopped_and_missing_agents_as_the_fleet_reads_them(
    on_moto: DeployedFleet, platform: EcsPlatform, aws_endpoint: str
) -> None:
    view = deploy_ecs(on_moto, platform, GROWTH, tier="growth")
    running, idle, gone = (agent.name for agent in view.agents)
    gone_service = view.agent(gone).container
    clients.ecs().update_service(cluster=platform.cluster, service=gone_service, desiredCount=0)
    clients.ecs().delete_service(cluster=platform.cluster, service=gone_service)
    with pinned_tasks(aws_endpoint):
        task = run_service_task(view, running)
        live = live_containers(read_fleet())

    up = live.of(GROWTH, running)
    assert up is not None and (up.state, up.health) == ("running", "healthy")
    assert up.container == view.agent(running).container and up.ok
    assert up.engine == "ECS cluster afrex-agents"
    assert up.status_text.startswith(f"task {task.rpartition('/')[2][:12]} RUNNING")
    stopped = live.of(GROWTH, idle)
    assert stopped is not None and (stopped.state, stopped.health) == ("stopped", None)
    assert "no task (desired 1, running 0" in stopped.status_text
    missing = live.of(GROWTH, gone)
    assert missing is not None and missing.state == "missing" and missing.known
    assert live.unreachable == {}


def test_services_ten_a_call_tasks_a_hundred_a_call(
    on_moto: DeployedFleet,
    platform: EcsPlatform,
    aws_endpoint: str,
    ecs_calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """12 services: 2 DescribeServices; more than 10 wanted services: the cluster's tasks
    are listed once instead of once per service; DescribeTasks in batches (made small
    here, 5 a call, so a dozen tasks show the batching)."""
    deploy_ecs(on_moto, platform, BIG, tier="enterprise")
    deploy_ecs(on_moto, platform, GROWTH, tier="growth")
    views = read_fleet()
    monkeypatch.setattr(ecsstate, "TASKS_PER_CALL", 5)
    with pinned_tasks(aws_endpoint):
        for view in views:
            for agent in view.agents:
                run_service_task(view, agent.name)
        ecs_calls.clear()
        reading = read_ecs(views)

    assert len(reading.agents) == 12
    assert {s.state for s in reading.agents.values()} == {"running"}
    names = [name for name, _ in ecs_calls]
    described = [p["services"] for name, p in ecs_calls if name == "DescribeServices"]
    assert [len(batch) for batch in described] == [10, 2]
    assert names.count("ListTasks") == 1
    assert "serviceName" not in next(p for n, p in ecs_calls if n == "ListTasks")
    assert names.count("DescribeTasks") == math.ceil(12 / 5)


def test_a_few_services_list_their_own_tasks(
    on_moto: DeployedFleet, platform: EcsPlatform, ecs_calls: Calls
) -> None:
    deploy_ecs(on_moto, platform, GROWTH, tier="growth")
    ecs_calls.clear()
    read_ecs(read_fleet())
    listed = [p["serviceName"] for name, p in ecs_calls if name == "ListTasks"]
    assert sorted(listed) == sorted(a.container for a in read_fleet()[0].agents)


def test_an_ecs_endpoint_that_is_down_makes_its_tenants_unknown_in_one_line(
    on_moto: DeployedFleet, platform: EcsPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_ecs(on_moto, platform, GROWTH, tier="growth")
    views = read_fleet()
    nowhere = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", nowhere)
    live = live_containers(views)
    assert {s.state for s in live.statuses.values()} == {"unknown"}
    (source,) = live.unreachable
    assert source == "ECS cluster afrex-agents" and live.tenants_behind(source) == (GROWTH,)
    reason = live.unreachable[source]
    assert reason.startswith(f"cannot connect to ECS at {nowhere} while reading cluster")
    assert "\n" not in reason


def test_ecs_slower_than_the_timeout_is_unknown_and_the_engines_still_answer(
    on_moto: DeployedFleet, platform: EcsPlatform
) -> None:
    """A region whose client takes 3 s to make stands for an endpoint that answers late."""
    deploy_ecs(on_moto, platform, GROWTH, tier="growth")
    released = threading.Event()

    def slow(region: str | None) -> Any:
        released.wait(3)
        return clients.ecs(region)

    live = live_containers(read_fleet(), timeout=0.5, ecs_factory=slow)
    released.set()  # had the wait not been bounded, ECS's real answer would be here
    assert {s.state for s in live.statuses.values()} == {"unknown"}
    assert live.unreachable == {"ECS cluster afrex-agents": "ECS did not answer within 0.5 s"}
    assert live.tenants_behind("ECS cluster afrex-agents") == (GROWTH,)


def test_health_and_task_choice_from_describe_tasks_items() -> None:
    """The mapping on DescribeTasks items as ECS documents them (moto reports every
    container HEALTHY, so UNHEALTHY and UNKNOWN are only seen here)."""

    def item(status: str, health: str, started: int) -> dict[str, Any]:
        from datetime import UTC, datetime

        return {
            "taskArn": f"arn:aws:ecs:us-east-1:1:task/c/{status}{started}",
            "lastStatus": status,
            "cpu": "1024",
            "memory": "2048",
            "startedAt": datetime(2026, 11, 1, 12, started, tzinfo=UTC),
            "containers": [{"name": "sidecar", "healthStatus": "HEALTHY"},
                           {"name": "gateway", "healthStatus": health}],
        }  # fmt: skip

    assert task_of(item("RUNNING", "UNHEALTHY", 1), "gateway").health == "unhealthy"
    assert task_of(item("RUNNING", "UNKNOWN", 1), "gateway").health == "starting"
    assert task_of(item("RUNNING", "HEALTHY", 1), "gateway").health == "healthy"
    assert task_of(item("RUNNING", "HEALTHY", 1), "other").health is None
    one = task_of(item("RUNNING", "HEALTHY", 1), "gateway")
    assert (one.cpu_units, one.memory_mb) == (1024, 2048)
    tasks = [
        task_of(item("PENDING", "UNKNOWN", 9), "gateway"),
        task_of(item("RUNNING", "HEALTHY", 1), "gateway"),
        task_of(item("RUNNING", "UNHEALTHY", 5), "gateway"),
        task_of(item("STOPPING", "UNHEALTHY", 8), "gateway"),
    ]
    chosen = pick_task(tasks)
    assert isinstance(chosen, EcsTask) and chosen.arn.endswith("RUNNING5")
    assert pick_task([]) is None
