"""Telemetry for tests: samples published to moto's CloudWatch over HTTP, and
deployed stacks (checkpoints with hand-written outputs) for a throw-away fleet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from afrex.clients import cloudwatch
from tests.statefixture import write_checkpoint

NAMESPACE = "AfrexAI/Agents"
OCTOBER_START = datetime(2026, 10, 1, tzinfo=UTC)


def publish(
    tenant: str, agent: str, samples: Iterable[tuple[datetime, float]], metric: str = "Up"
) -> int:
    """Put each (time, value) sample for the agent; returns how many."""
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}],
            "Timestamp": at,
            "Value": value,
        }
        for at, value in samples
    ]
    client = cloudwatch()
    for first in range(0, len(data), 1000):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=data[first : first + 1000])  # type: ignore[arg-type]
    return len(data)


def hourly(
    start: datetime, hours: int, down: Sequence[tuple[int, int]] = ()
) -> list[tuple[datetime, float]]:
    """One `Up` sample per hour from `start`; 0 in the hour ranges [first, last) of `down`."""
    return [
        (start + timedelta(hours=h), 0.0 if any(a <= h < b for a, b in down) else 1.0)
        for h in range(hours)
    ]


def deploy(root: Path, tenant_id: str, agents: list[dict[str, str]], **outputs: Any) -> None:
    """A checkpoint for `tenant_id` in `<root>/state` whose outputs name these agents."""
    write_checkpoint(root / "state", "afrex", tenant_id, {"agents": agents, **outputs})
