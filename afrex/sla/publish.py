"""What a check round sends out: `Up` and `ResponseTimeMs` to CloudWatch in the fewest
PutMetricData calls, and an alert per down agent to its tenant's SNS topic.

PutMetricData takes at most 1,000 metric data items (and 1 MB) per call
(botocore's CloudWatch model: "no more than 1000 metrics per call"), so a round
over 300 agents is one call. `ResponseTimeMs` is published only when the
gateway answered: no answer is no sample, never 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from afrex.errors import AfrexError
from afrex.sla.probe import AgentProbe

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef
    from mypy_boto3_sns import SNSClient

    from afrex.catalog import Catalog

MAX_METRIC_DATA = 1000  # PutMetricData: metric data items per call
MAX_PAYLOAD_BYTES = 900_000  # PutMetricData: 1 MB per request, with room for the envelope
SUBJECT_LIMIT = 100  # SNS: subject length


@dataclass(frozen=True)
class Published:
    """What went to CloudWatch: data items and the calls they took."""

    items: int
    calls: int


def metric_data(catalog: Catalog, probes: Iterable[AgentProbe], at: datetime) -> list[Any]:
    """One `Up` per probe and one `ResponseTimeMs` per gateway that answered."""
    names = catalog.telemetry
    data: list[MetricDatumTypeDef] = []
    for probe in probes:
        dimensions = [
            {"Name": names.tenant_dimension, "Value": probe.tenant},
            {"Name": names.agent_dimension, "Value": probe.agent},
        ]
        data.append(
            {
                "MetricName": catalog.sla_alerting.metric,
                "Dimensions": dimensions,  # type: ignore[typeddict-item]
                "Timestamp": at,
                "Value": 1.0 if probe.up else 0.0,
                "Unit": "Count",
            }
        )
        answer = probe.answer
        if answer is not None and answer.status is not None and answer.response_ms is not None:
            data.append(
                {
                    "MetricName": names.response_time_metric,
                    "Dimensions": dimensions,  # type: ignore[typeddict-item]
                    "Timestamp": at,
                    "Value": float(answer.response_ms),
                    "Unit": "Milliseconds",
                }
            )
    return data


def batches(data: Sequence[Any]) -> Iterator[list[Any]]:
    """Runs of at most 1,000 items and about 900 kB each."""
    batch: list[Any] = []
    size = 0
    for item in data:
        weight = 2 * len(json.dumps(item, default=str))  # query encoding is about twice JSON
        if batch and (len(batch) == MAX_METRIC_DATA or size + weight > MAX_PAYLOAD_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += weight
    if batch:
        yield batch


def publish_metrics(client: CloudWatchClient, namespace: str, data: Sequence[Any]) -> Published:
    """Send every item, in the fewest calls; an AWS error is one OperationFailed line."""
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure

    calls = 0
    for batch in batches(data):
        try:
            client.put_metric_data(Namespace=namespace, MetricData=batch)
        except (BotoCoreError, ClientError) as error:
            raise aws_failure(error, "CloudWatch", "publishing Up and ResponseTimeMs") from error
        calls += 1
    return Published(len(data), calls)


@dataclass(frozen=True)
class Alert:
    """An alert about one down agent, and where it went (or why it did not)."""

    tenant: str
    agent: str
    topic: str | None
    message_id: str | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.message_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "topic": self.topic,
            "messageId": self.message_id,
            "error": self.error,
        }


def alert_text(probe: AgentProbe, at: datetime) -> tuple[str, str]:
    """(subject, message) of a down agent's alert."""
    subject = f"AfrexAI SLA: {probe.agent} of {probe.tenant} is down"
    message = "\n".join(
        [
            f"Agent {probe.agent} of tenant {probe.tenant} is DOWN.",
            f"Checked: {at.astimezone(UTC).isoformat().replace('+00:00', 'Z')}",
            f"Why: {probe.reason}",
            f"Container: {probe.container or '-'} ({probe.state})",
            f"Gateway: {probe.gateway or '-'}",
            "Next: `afrex sla check --tenant " + probe.tenant + "`; the container's logs.",
        ]
    )
    return subject[:SUBJECT_LIMIT], message


def send_alerts(
    factory: Callable[[], SNSClient],
    down: Iterable[tuple[AgentProbe, str | None]],
    at: datetime,
) -> list[Alert]:
    """Publish one alert per down agent to its tenant's topic; a failure is kept, not
    raised, so one tenant's broken topic never silences another's alerts."""
    from botocore.exceptions import BotoCoreError, ClientError

    from afrex.clients import aws_failure

    wanted = list(down)
    client = factory() if any(topic for _, topic in wanted) else None
    alerts = []
    for probe, topic in wanted:
        if client is None or not topic:
            alerts.append(Alert(probe.tenant, probe.agent, None, error="no SNS topic deployed"))
            continue
        subject, message = alert_text(probe, at)
        try:
            answer = client.publish(TopicArn=topic, Subject=subject, Message=message)
        except (BotoCoreError, ClientError) as error:
            failure: AfrexError = aws_failure(error, "SNS", f"alerting on {topic}")
            alerts.append(Alert(probe.tenant, probe.agent, topic, error=str(failure)))
            continue
        alerts.append(Alert(probe.tenant, probe.agent, topic, answer.get("MessageId")))
    return alerts
