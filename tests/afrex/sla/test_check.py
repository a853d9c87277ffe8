"""`afrex sla check` against real services: agents in Podman containers from the
test image (busybox httpd serving /healthz), stack outputs in a file:// backend,
metrics and alerts in moto (the alert read back through an SQS subscription)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import cloudwatch
from afrex.events import open_event_log
from tests.afrex.sla.telemetry_data import NAMESPACE, deploy
from tests.billing.fleet import Fleet
from tests.engine import TEST_IMAGE, TEST_LABEL, Engine, engine
from tests.services import free_port

__all__ = ["engine"]
runner = CliRunner()
TENANT = "cust-probe-works-1767225600"
AGENTS = ("general-assistant", "researcher")
PORT = 18789


def socket_url(engine: Engine) -> str:
    adapter = engine.client.api.get_adapter("http+docker://localhost")
    return f"unix://{adapter.socket_path}"


def run_agent(engine: Engine, container: str, agent: str, port: int) -> Any:
    for old in engine.client.containers.list(all=True, filters={"name": f"^{container}$"}):
        old.remove(force=True)
    return engine.client.containers.run(
        TEST_IMAGE,
        ["/bin/busybox", "httpd", "-f", "-p", str(PORT), "-h", "/www"],
        name=container,
        detach=True,
        ports={f"{PORT}/tcp": ("127.0.0.1", port)},
        labels={TEST_LABEL: "1", "afrex.tenant": TENANT, "afrex.agent": agent},
    )


def alert_queue() -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed to it: (topic ARN, queue URL)."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"afrex-{TENANT}-sla")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    return topic, queue


def received(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def agents(
    fleet: Fleet, engine: Engine, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """Two deployed agents on Podman, the first running, the second stopped."""
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{fleet.root / 'state'}")
    monkeypatch.delenv("AFREX_EVENTS", raising=False)
    fleet.add(TENANT, tier="growth", vertical="general", agents=list(AGENTS))
    topic, queue = alert_queue()
    containers, outputs = {}, []
    for agent in AGENTS:
        name, port = f"afrex-{TENANT}-{agent}", free_port()
        containers[agent] = run_agent(engine, name, agent, port)
        outputs.append(
            {"name": agent, "container": name, "volume": "", "gatewayAddress": f"127.0.0.1:{port}"}
        )
    containers[AGENTS[1]].stop(timeout=1)
    deploy(fleet.root, TENANT, outputs, snsTopicArn=topic, dockerHost=socket_url(engine))
    try:
        yield {"containers": containers, "queue": queue, "root": fleet.root}
    finally:
        for container in containers.values():
            container.remove(force=True)


def up_samples() -> dict[str, list[tuple[float, float]]]:
    now = datetime.now(UTC)
    found = {}
    for agent in AGENTS:
        stats = cloudwatch().get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName="Up",
            Dimensions=[{"Name": "Tenant", "Value": TENANT}, {"Name": "Agent", "Value": agent}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=5),
            Period=7200,
            Statistics=["Sum", "SampleCount"],
        )
        found[agent] = [(p["Sum"], p["SampleCount"]) for p in stats["Datapoints"]]
    return found


def test_one_down_exits_1_alerts_and_records_then_all_up_exits_0(agents: dict[str, Any]) -> None:
    result = runner.invoke(app, ["sla", "check", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    verdicts = {p["agent"]: (p["up"], p["containerState"]) for p in data["probes"]}
    assert verdicts == {AGENTS[0]: (True, "running"), AGENTS[1]: (False, "exited")}
    assert data["putMetricDataCalls"] == 1 and data["metricsPublished"] == 3  # 2 Up + 1 time
    (alert,) = received(agents["queue"])
    assert alert["Subject"] == f"AfrexAI SLA: {AGENTS[1]} of {TENANT} is down"
    assert f"Agent {AGENTS[1]} of tenant {TENANT} is DOWN" in alert["Message"]
    (event,) = open_event_log(agents["root"]).read(tenant=TENANT)
    assert (event.kind, event.details["agent"], event.details["alerted"]) == (
        "sla-agent-down",
        AGENTS[1],
        True,
    )
    assert up_samples() == {AGENTS[0]: [(1.0, 1.0)], AGENTS[1]: [(0.0, 1.0)]}

    agents["containers"][AGENTS[1]].start()
    for _ in range(50):  # httpd needs a moment to listen again
        again = runner.invoke(app, ["sla", "check", "--tenant", TENANT])
        if again.exit_code == 0:
            break
    assert again.exit_code == 0, again.output
    assert "2 agents, 0 down" in again.stdout
    assert received(agents["queue"]) == []


def test_a_gateway_that_does_not_answer_is_down(agents: dict[str, Any], tmp_path: Path) -> None:
    agents["containers"][AGENTS[1]].start()
    agents["containers"][AGENTS[0]].exec_run(["/bin/busybox", "rm", "/www/healthz"])
    result = runner.invoke(app, ["sla", "check", "--format", "json"])
    assert result.exit_code == 1
    probes = {p["agent"]: p for p in json.loads(result.stdout)["probes"]}
    assert probes[AGENTS[0]]["httpStatus"] == 404 and not probes[AGENTS[0]]["up"]
    assert probes[AGENTS[0]]["reason"].endswith("/healthz answered HTTP 404")


def test_unknown_tenant_is_bad_input(agents: dict[str, Any]) -> None:
    result = runner.invoke(app, ["sla", "check", "--tenant", "cust-nobody-1767225600"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
