"""CloudWatch telemetry: a tenant's measured uptime over a period.

Per the telemetry contract, agents' `Up` samples (1 or 0 per probe) live in the
namespace and metric named in the catalog's `sla_alerting`, with dimensions
`Tenant` and `Agent`. A tenant's uptime for a period is the mean of all `Up`
samples of all its agents: the sum of the samples over their count, read as
the `Sum` and `SampleCount` statistics over one period-long bucket per agent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from afrex.errors import OperationFailed

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import (
        DimensionFilterTypeDef,
        MetricDataQueryTypeDef,
        MetricTypeDef,
    )

MAX_QUERIES = 500  # GetMetricData's limit per request
UPTIME_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Uptime:
    """Measured availability: how many `Up` samples, and how many of them were up."""

    samples: int
    up: Decimal

    @property
    def pct(self) -> Decimal:
        """Uptime in %, rounded down to 4 places (so a shown 99.9500 is never below 99.95)."""
        return (self.up * 100 / self.samples).quantize(UPTIME_PLACES, rounding=ROUND_FLOOR)


class CloudWatchTelemetry:
    """Reads tenants' `Up` samples from CloudWatch (or moto's server)."""

    def __init__(self, client: CloudWatchClient, namespace: str, metric: str) -> None:
        self.client = client
        self.namespace = namespace
        self.metric = metric

    @classmethod
    def connect(
        cls,
        namespace: str,
        metric: str,
        factory: Callable[[], CloudWatchClient] | None = None,
    ) -> CloudWatchTelemetry:
        """A reader over a client from `factory` (default: the project's client factory)."""
        if factory is None:
            from afrex.clients import cloudwatch

            factory = cloudwatch
        return cls(factory(), namespace, metric)

    def uptime(
        self, start: datetime, end: datetime, tenants: Mapping[str, Collection[str]]
    ) -> dict[str, Uptime]:
        """Uptime per tenant over [start, end); tenants without samples are left out.

        `tenants` maps each tenant to the agents it is known to run; agents that
        published in the period but are no longer configured are found too.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            agents = self._agents(tenants)
            totals = self._totals(agents, start, end)
        except (BotoCoreError, ClientError) as error:
            raise OperationFailed(
                f"cannot read uptime from CloudWatch: {error}",
                "check AWS credentials, or set AWS_ENDPOINT_URL to a local endpoint",
            ) from error
        return {
            tenant: Uptime(samples=int(count), up=up)
            for tenant, (up, count) in totals.items()
            if count > 0
        }

    def _agents(self, tenants: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
        known = {tenant: set(agents) for tenant, agents in tenants.items()}
        paginator = self.client.get_paginator("list_metrics")
        dimensions: list[DimensionFilterTypeDef] = (
            [{"Name": "Tenant", "Value": next(iter(known))}] if len(known) == 1 else []
        )
        pages = paginator.paginate(
            Namespace=self.namespace, MetricName=self.metric, Dimensions=dimensions
        )
        for page in pages:
            for metric in page.get("Metrics", []):
                values = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                tenant, agent = values.get("Tenant"), values.get("Agent")
                if tenant in known and agent and len(values) == 2:
                    known[tenant].add(agent)
        return sorted((tenant, agent) for tenant, names in known.items() for agent in names)

    def _totals(
        self, agents: list[tuple[str, str]], start: datetime, end: datetime
    ) -> dict[str, tuple[Decimal, int]]:
        period = int((end - start).total_seconds())
        if period % 60:
            raise OperationFailed(f"uptime period {start}..{end} is not whole minutes")
        sums: dict[str, Decimal] = defaultdict(Decimal)
        counts: dict[str, int] = defaultdict(int)
        for batch in _batches(agents, MAX_QUERIES // 2):
            queries = [q for i, pair in enumerate(batch) for q in self._queries(i, pair, period)]
            paginator = self.client.get_paginator("get_metric_data")
            for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end):
                for result in page.get("MetricDataResults", []):
                    kind, index = result["Id"][0], int(result["Id"][1:])
                    tenant = batch[index][0]
                    values = result.get("Values", [])
                    if kind == "s":
                        sums[tenant] += sum((Decimal(repr(v)) for v in values), Decimal(0))
                    else:
                        counts[tenant] += sum(round(v) for v in values)
        return {tenant: (sums[tenant], counts[tenant]) for tenant in counts}

    def _queries(
        self, index: int, pair: tuple[str, str], period: int
    ) -> list[MetricDataQueryTypeDef]:
        tenant, agent = pair
        metric: MetricTypeDef = {
            "Namespace": self.namespace,
            "MetricName": self.metric,
            "Dimensions": [{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}],
        }
        return [
            {
                "Id": f"{kind}{index}",
                "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
            }
            for kind, stat in (("s", "Sum"), ("n", "SampleCount"))
        ]


def _batches(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]
