"""Benchmark: reading the live state of ECS agents (`afrex fleet status`'s ECS side,
afrex/ecsstate.py) against one call per agent, on moto's ECS over HTTP, run on demand.

    .venv/bin/python bench/bench_ecs_fleet.py [tenants] [runs]

Makes `tenants` (default 100) growth tenants of 3 agents on one cluster in moto: a
service per agent and its task (started as ECS would, RunTask with group
`service:<name>`, pinned RUNNING), and a project whose checkpoints name them. Then,
best of `runs` (default 3):

1. `read_ecs` (the code): DescribeServices 10 services a call; the cluster's tasks
   listed once (more than 10 services wanted) and described 100 a call;
2. the baseline, measured in the same run: per agent one DescribeServices and one
   DescribeTasks of its task. (Real ECS would also need a ListTasks per agent to
   find the task, 3 calls per agent; moto's ListTasks ignores `serviceName`, which
   would make the baseline pay for every task of the cluster, so it is left out
   here and the baseline is flattered.)

Prints calls and seconds of each and their ratio. moto answers one call at a time,
so seconds mostly measure moto's per-call cost; calls are what real ECS would see
(and rate-limit).

Measured here (100 tenants, 300 agents): read_ecs 34 calls, 0.91 s; one per agent
600 calls (900 on real ECS), 4.86 s: 18x fewer calls (26x on real ECS), 5.4x faster.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from afrex import clients  # noqa: E402
from afrex.deployed import TenantView, read_fleet  # noqa: E402
from afrex.ecsstate import read_ecs  # noqa: E402
from tests.helpers import write_stack  # noqa: E402
from tests.services import start_moto  # noqa: E402
from tests.statefixture import write_checkpoint  # noqa: E402

AGENTS = ("general-assistant", "researcher", "scheduler")
CLUSTER = "afrex-agents"


class Counter:
    """ECS calls made, by a botocore hook on boto3's default session."""

    def __init__(self) -> None:
        self.calls = 0
        events = boto3._get_default_session().events
        events.register("provide-client-params.ecs", self._count, unique_id="bench-ecs")

    def _count(self, **_: Any) -> None:
        self.calls += 1


def _network() -> dict[str, Any]:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/18")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    return {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}


def deploy(root: Path, tenants: int) -> None:
    """The cluster, services and tasks in moto; stack files and checkpoints on disk."""
    ecs = clients.ecs()
    cluster = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    network = {"awsvpcConfiguration": _network()}
    definition = ecs.register_task_definition(
        family="bench-agent",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        containerDefinitions=[{"name": "gateway", "image": "x", "cpu": 1024, "memory": 2048}],
    )["taskDefinition"]["taskDefinitionArn"]
    for number in range(tenants):
        tenant = f"cust-bench-ecs{number}-1767225600"
        write_stack(root / "stacks", tenant, tier="growth", vertical="general", runtime="ecs")
        agents = []
        for agent in AGENTS:
            name = f"afrex-{tenant}-{agent}"
            ecs.create_service(
                cluster=cluster, serviceName=name, taskDefinition=definition, desiredCount=1,
                launchType="FARGATE", networkConfiguration=network,  # type: ignore[arg-type]
            )  # fmt: skip
            ecs.run_task(
                cluster=cluster, taskDefinition=definition, launchType="FARGATE",
                networkConfiguration=network, group=f"service:{name}",  # type: ignore[arg-type]
            )  # fmt: skip
            agents.append(
                {"name": agent, "container": name, "serviceName": name, "accessPoint": "fsap-1",
                 "containerName": "gateway", "volume": "fsap-1", "gatewayAddress": ""}
            )  # fmt: skip
        placement = {"cluster": cluster, "clusterName": CLUSTER, "region": "us-east-1"}
        outputs = {"runtime": "ecs", "agents": agents, "ecs": placement}
        write_checkpoint(root / "state", "afrex", tenant, outputs)


def one_per_agent(views: list[TenantView], counter: Counter) -> tuple[float, int, int]:
    """The baseline: each agent's service and task asked about on their own (which task
    is whose is looked up first, untimed and uncounted); (seconds, running, calls)."""
    ecs = clients.ecs()
    by_service = {}
    for page in ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER):
        arns = page["taskArns"]
        for first in range(0, len(arns), 100):
            described = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[first : first + 100])
            for task in described["tasks"]:
                by_service[task["group"].partition(":")[2]] = task["taskArn"]
    counter.calls = 0
    started, running = time.perf_counter(), 0
    for view in views:
        for agent in view.agents:
            ecs.describe_services(cluster=CLUSTER, services=[agent.container])
            answer = ecs.describe_tasks(cluster=CLUSTER, tasks=[by_service[agent.container]])
            running += answer["tasks"][0]["lastStatus"] == "RUNNING"
    return time.perf_counter() - started, running, counter.calls


def main() -> None:
    tenants = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    server = start_moto()
    root = Path(tempfile.mkdtemp(prefix="bench-ecs-"))
    (root / "stacks").mkdir()
    (root / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "afrex", "stackConfigDir": "stacks"}))
    os.environ.update(
        AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1", AFREX_PROJECT=str(root),
        PULUMI_BACKEND_URL=f"file://{root / 'state'}", AFREX_CACHE_DIR=str(root / "cache"),
    )  # fmt: skip
    try:
        import urllib.request

        request = urllib.request.Request(
            f"{server.endpoint}/moto-api/state-manager/set-transition",
            data=b'{"model_name": "ecs::task", "transition": {"progression": "manual", '
            b'"times": 1000000000}}',
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()
        clock = time.perf_counter()
        deploy(root, tenants)
        print(f"set-up: {tenants} tenants, {3 * tenants} services and tasks in moto, "
              f"{time.perf_counter() - clock:.1f} s")  # fmt: skip
        views = read_fleet()
        counter = Counter()
        best, calls = float("inf"), 0
        for _ in range(runs):
            counter.calls = 0
            clock = time.perf_counter()
            reading = read_ecs(views)
            best = min(best, time.perf_counter() - clock)
            calls = counter.calls
            assert {s.state for s in reading.agents.values()} == {"running"}
        base_best, base_calls = float("inf"), 0
        for _ in range(runs):
            seconds, running, base_calls = one_per_agent(views, counter)
            base_best = min(base_best, seconds)
            assert running == 3 * tenants
        agents = 3 * tenants
        print(f"read_ecs:      {agents} agents, {calls} ECS calls, {best:.3f} s (best of {runs})")
        print(f"one per agent: {agents} agents, {base_calls} ECS calls (+{agents} ListTasks on "
              f"real ECS), {base_best:.3f} s")  # fmt: skip
        print(f"ratio: {base_calls / calls:.0f}x fewer calls ({(base_calls + agents) / calls:.0f}x "
              f"on real ECS), {base_best / best:.1f}x faster here")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
