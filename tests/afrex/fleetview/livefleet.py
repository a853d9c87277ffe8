"""A fleet of four tenants on real local services, for the fleet views.

- alpha (growth, 3 agents on Podman, healthchecks): general-assistant running and
  healthy, researcher stopped, scheduler unhealthy (its /healthz removed, then the
  healthcheck run); its bucket has the lifecycle rule; its paging alarm for
  general-assistant is in ALARM in moto, the others OK (a window alarm in ALARM too,
  which does not page);
- bravo: a stack file, never deployed;
- charlie: deployed, then its stack file changed (drifted), deployed with an old
  catalog, its bucket without a lifecycle rule; no agents running;
- delta: deployed on a Docker engine that is down (its agents are unknown).

State: checkpoints in a file:// backend (`<root>/state`) from tests/statefixture.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from afrex.catalog import load_catalog
from afrex.clients import cloudwatch, s3
from afrex.stackfiles import find_project
from tests.afrex.backups.deployed import IMAGE, LABEL, PORT, DeployedFleet
from tests.helpers import write_stack
from tests.services import free_port
from tests.statefixture import planned_outputs, write_checkpoint

ALPHA = "cust-alpha-agents-1767225600"
BRAVO = "cust-bravo-new-1767225600"
CHARLIE = "cust-charlie-old-1767225600"
DELTA = "cust-delta-far-1767225600"
# A Docker host that is down: nothing listens there. (Not a missing unix socket: the docker
# SDK leaks the socket object of a failed unix connect, a ResourceWarning under pytest.)
NOWHERE = f"tcp://127.0.0.1:{free_port()}"
HEALTHY, STOPPED, UNHEALTHY = "general-assistant", "researcher", "scheduler"


@dataclass
class LiveFleet:
    root: Path
    deployed: DeployedFleet
    outputs: dict[str, dict[str, Any]]

    @property
    def firing(self) -> str:
        return str(self.outputs[ALPHA]["alarmNames"][0])


def lifecycle(bucket: str, days: int) -> None:
    s3().put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": days}}
            ]
        },
    )


def alarm(name: str, state: Literal["OK", "ALARM"]) -> None:
    client = cloudwatch()
    client.put_metric_alarm(
        AlarmName=name,
        MetricName="Up",
        Namespace="AfrexAI/Agents",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0.99,
        ComparisonOperator="LessThanThreshold",
    )
    client.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def healthcheck(fleet: DeployedFleet, container: str, expect_ok: bool) -> None:
    """Run the container's healthcheck until the engine reports the expected health."""
    wanted = "healthy" if expect_ok else "unhealthy"
    assert fleet.engine is not None
    health = None
    for _ in range(100):  # httpd needs a moment to listen; the first runs may be early
        fleet.engine.podman("healthcheck", "run", container)
        state = fleet.client.api.inspect_container(container)["State"]
        health = (state.get("Health") or state.get("Healthcheck") or {}).get("Status")
        if health == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"{container} stayed {health}, never {wanted}")


def failing_healthcheck(fleet: DeployedFleet, tenant: str, agent: str, container: str) -> None:
    """Run the agent's container again with a healthcheck that always fails."""
    fleet.client.containers.get(container).remove(force=True)
    fleet.client.containers.run(
        IMAGE,
        ["/bin/busybox", "httpd", "-f", "-p", str(PORT), "-h", "/www"],
        name=container,
        detach=True,
        labels={LABEL: "1", "afrex.tenant": tenant, "afrex.agent": agent},
        healthcheck={
            "test": ["CMD", "/bin/busybox", "false"],
            "interval": 3600 * 10**9,
            "retries": 1,
        },
    )


def _alpha(fleet: DeployedFleet) -> dict[str, Any]:
    view = fleet.deploy(ALPHA, tier="growth", healthcheck=True)
    containers = {agent.name: agent.container for agent in view.agents}
    healthcheck(fleet, containers[HEALTHY], expect_ok=True)
    fleet.client.containers.get(containers[STOPPED]).stop(timeout=1)
    failing_healthcheck(fleet, ALPHA, UNHEALTHY, containers[UNHEALTHY])
    healthcheck(fleet, containers[UNHEALTHY], expect_ok=False)
    lifecycle(str(view.bucket), load_catalog().backups.retention_days)
    names = view.alarm_names
    alarm(names[0], "ALARM")
    for name in names[1:]:
        alarm(name, "OK")
    alarm(f"{names[0]}-long", "ALARM")  # a window alarm: it does not page by itself
    return dict(view.state.outputs) if view.state else {}


def _charlie(fleet: DeployedFleet) -> dict[str, Any]:
    view = fleet.deploy(CHARLIE, tier="starter")
    outputs = dict(view.state.outputs) if view.state else {}
    outputs["catalogDigest"] = "0" * 64
    write_checkpoint(fleet.root / "state", "afrex", CHARLIE, outputs)
    fleet.add_stack(CHARLIE, tier="starter", vertical="general", support="priority")
    for agent in view.agents:
        fleet.client.containers.get(agent.container).remove(force=True)
    return outputs


def _delta(fleet: DeployedFleet) -> dict[str, Any]:
    fleet.add_stack(DELTA, tier="starter", vertical="general")
    outputs = planned_outputs(find_project(fleet.root), DELTA)
    outputs["dockerHost"] = NOWHERE
    write_checkpoint(fleet.root / "state", "afrex", DELTA, outputs)
    s3().create_bucket(Bucket=outputs["bucketName"])
    lifecycle(outputs["bucketName"], load_catalog().backups.retention_days)
    return outputs


@pytest.fixture
def live_fleet(deployed: DeployedFleet) -> Iterator[LiveFleet]:
    outputs = {ALPHA: _alpha(deployed), CHARLIE: _charlie(deployed), DELTA: _delta(deployed)}
    write_stack(deployed.root / "stacks", BRAVO, tier="starter", vertical="general")
    yield LiveFleet(deployed.root, deployed, outputs)
