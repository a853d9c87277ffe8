"""The CloudWatch reader: batched GetMetricData, range-checked (see `afrex.telemetry`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from afrex.errors import OperationFailed
from afrex.telemetry.series import (
    COUNTED,
    DAY,
    EXTREMES,
    MAX_DATAPOINTS,
    MAX_QUERIES,
    NON_NEGATIVE,
    PERCENTILES,
    STATS,
    UP_RANGE,
    Bucket,
    Dropped,
    Key,
    Measurement,
    Percentiles,
    Series,
    SeriesRequest,
    Uptime,
    ValidRange,
    Wanted,
    finest_period,
    window_period,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import (
        DimensionFilterTypeDef,
        DimensionTypeDef,
        MetricDataQueryTypeDef,
        MetricStatTypeDef,
        MetricTypeDef,
    )

    from afrex.catalog import Catalog


@dataclass
class CloudWatchTelemetry:
    """Reads agents' metrics from CloudWatch (or moto's server), in batches."""

    client: CloudWatchClient
    namespace: str
    metric: str
    tenant_dimension: str = "Tenant"
    agent_dimension: str = "Agent"
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    per_call: int = MAX_QUERIES

    @classmethod
    def connect(
        cls,
        namespace: str,
        metric: str,
        factory: Callable[[], CloudWatchClient] | None = None,
        **options: Any,
    ) -> CloudWatchTelemetry:
        """A reader over a client from `factory` (default: the project's client factory)."""
        if factory is None:
            from afrex.clients import cloudwatch

            factory = cloudwatch
        return cls(factory(), namespace, metric, **options)

    @classmethod
    def for_catalog(
        cls, catalog: Catalog, factory: Callable[[], CloudWatchClient] | None = None
    ) -> CloudWatchTelemetry:
        """A reader with the catalog's namespace, `Up` metric and dimension names."""
        return cls.connect(
            catalog.sla_alerting.namespace,
            catalog.sla_alerting.metric,
            factory,
            tenant_dimension=catalog.telemetry.tenant_dimension,
            agent_dimension=catalog.telemetry.agent_dimension,
        )

    def uptime(
        self, start: datetime, end: datetime, tenants: Mapping[str, Collection[str]]
    ) -> dict[str, Uptime]:
        """Uptime per tenant over [start, end); tenants without samples are left out."""
        return self.measure(start, end, tenants).by_tenant

    def measure(
        self, start: datetime, end: datetime, tenants: Mapping[str, Collection[str]]
    ) -> Measurement:
        """Uptime per agent over [start, end), range-checked.

        `tenants` maps each tenant to the agents it is known to run; agents that
        published in the window but are no longer configured are found too.
        """
        keys = self.agents(tenants)
        period = window_period(start, end, self.now())
        series = self.series(keys, self.metric, start, end, period, UP_RANGE)
        by_agent = {key: s.uptime for key, s in series.items() if s.uptime is not None}
        dropped = tuple(s.dropped for s in series.values() if s.dropped is not None)
        return Measurement(by_agent, dropped)

    def agents(self, tenants: Mapping[str, Collection[str]]) -> list[Key]:
        """The known agents plus every other agent of these tenants with `Up` metrics."""
        known = {tenant: set(agents) for tenant, agents in tenants.items()}
        if not known:
            return []
        dimensions: list[DimensionFilterTypeDef] = (
            [{"Name": self.tenant_dimension, "Value": next(iter(known))}] if len(known) == 1 else []
        )
        with _reading("uptime"):
            pages = self.client.get_paginator("list_metrics").paginate(
                Namespace=self.namespace, MetricName=self.metric, Dimensions=dimensions
            )
            for page in pages:
                for metric in page.get("Metrics", []):
                    values = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                    tenant = values.get(self.tenant_dimension)
                    agent = values.get(self.agent_dimension)
                    if tenant in known and agent and len(values) == 2:
                        known[tenant].add(agent)
        return sorted((tenant, agent) for tenant, names in known.items() for agent in names)

    def series(
        self,
        keys: Sequence[Key],
        metric: str,
        start: datetime,
        end: datetime,
        period: int,
        valid: ValidRange = NON_NEGATIVE,
    ) -> dict[Key, Series]:
        """Each agent's `metric` over [start, end) in `period` buckets, range-checked."""
        found = self.read([SeriesRequest(metric, period, valid, tuple(keys))], start, end)
        return {key: found[(metric, key)] for key in keys}

    def read(
        self, requests: Sequence[SeriesRequest], start: datetime, end: datetime
    ) -> dict[tuple[str, Key], Series]:
        """Several metrics of many agents over one window, sharing requests; each series
        range-checked. Keys: (metric, (tenant, agent))."""
        counted = [
            Wanted(key, r.metric, r.period, stat)
            for r in requests
            for key in r.keys
            for stat in COUNTED
        ]
        raw = self.statistics(counted, start, end)
        # The range check reads Minimum and Maximum only where there are samples: agents
        # that published nothing in the window (new, removed, not yet deployed) cost
        # two queries, not four.
        extremes = [
            Wanted(item.key, item.metric, item.period, stat)
            for item in counted
            if item.stat == "SampleCount" and any(raw.get(item, {}).values())
            for stat in EXTREMES
        ]
        raw.update(self.statistics(extremes, start, end) if extremes else {})
        result: dict[tuple[str, Key], Series] = {}
        for r in requests:
            buckets = {key: _buckets(raw, key, r.metric, r.period) for key in r.keys}
            for key, series in self._checked(buckets, r.metric, r.valid).items():
                result[(r.metric, key)] = series
        return result

    def _checked(
        self, buckets: Mapping[Key, list[Bucket]], metric: str, valid: ValidRange
    ) -> dict[Key, Series]:
        kept: dict[Key, list[Bucket]] = {key: [] for key in buckets}
        bad: dict[Key, list[Bucket]] = defaultdict(list)
        for key, found in buckets.items():
            for bucket in found:
                fits = valid.holds(bucket.minimum, bucket.maximum)
                (kept[key] if fits else bad[key]).append(bucket)
        refined, dropped = self._refine(bad, metric, valid)
        for key, extra in refined.items():
            kept[key].extend(extra)
        return {
            key: Series(
                tuple(sorted(found, key=lambda b: b.start)),
                _summarise(key, metric, valid, dropped.get(key, [])),
            )
            for key, found in kept.items()
        }

    def _refine(
        self, bad: Mapping[Key, list[Bucket]], metric: str, valid: ValidRange
    ) -> tuple[dict[Key, list[Bucket]], dict[Key, list[Bucket]]]:
        """Re-read out-of-range buckets finer until the finest; returns (kept, dropped)."""
        kept: dict[Key, list[Bucket]] = defaultdict(list)
        dropped: dict[Key, list[Bucket]] = defaultdict(list)
        pending = {key: list(found) for key, found in bad.items() if found}
        while pending:
            windows: dict[tuple[datetime, datetime, int], list[Key]] = defaultdict(list)
            for key, found in pending.items():
                for bucket in found:
                    finer = _finer(bucket.period, finest_period(bucket.start, self.now()))
                    if finer is None:
                        dropped[key].append(bucket)
                    else:
                        windows[(bucket.start, bucket.end, finer)].append(key)
            pending = defaultdict(list)
            for (start, end, finer), keys in sorted(windows.items()):
                wanted = [Wanted(key, metric, finer, stat) for key in keys for stat in STATS]
                raw = self.statistics(wanted, start, end)
                for key in keys:
                    for bucket in _buckets(raw, key, metric, finer):
                        fits = valid.holds(bucket.minimum, bucket.maximum)
                        (kept[key] if fits else pending[key]).append(bucket)
        return kept, dropped

    def statistics(
        self, wanted: Sequence[Wanted], start: datetime, end: datetime
    ) -> dict[Wanted, dict[datetime, float]]:
        """`{wanted: {bucket start: value}}` over [start, end), batched within the API's
        limits: at most 500 queries and 100,800 datapoints per request."""
        found: dict[Wanted, dict[datetime, float]] = {}
        seconds = int((end - start).total_seconds())
        names = {w.metric for w in wanted}
        with _reading("uptime" if names <= {self.metric} else ", ".join(sorted(names))):
            for batch in _requests(wanted, seconds, self.per_call):
                queries = [self._query(f"q{i}", item) for i, item in enumerate(batch)]
                pages = self.client.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=queries, StartTime=start, EndTime=end
                )
                for page in pages:
                    for result in page.get("MetricDataResults", []):
                        series = found.setdefault(batch[int(result["Id"][1:])], {})
                        for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                            series[at.astimezone(UTC)] = value
        return found

    def _query(self, query_id: str, wanted: Wanted) -> MetricDataQueryTypeDef:
        tenant, agent = wanted.key
        dimensions: list[DimensionTypeDef] = [
            {"Name": self.tenant_dimension, "Value": tenant},
            {"Name": self.agent_dimension, "Value": agent},
        ]
        named: MetricTypeDef = {
            "Namespace": self.namespace,
            "MetricName": wanted.metric,
            "Dimensions": dimensions,
        }
        stat: MetricStatTypeDef = {"Metric": named, "Period": wanted.period, "Stat": wanted.stat}
        return {"Id": query_id, "MetricStat": stat}

    def percentiles(
        self,
        keys: Sequence[Key],
        metric: str,
        start: datetime,
        end: datetime,
        stats: Sequence[str] = PERCENTILES,
    ) -> Percentiles:
        """Percentiles per agent over the whole window, or why there are none. An
        endpoint that cannot compute them (moto's server) is a reason, not a failure."""
        period = window_period(start, end, self.now())
        wanted = [Wanted(key, metric, period, stat) for key in keys for stat in stats]
        try:
            raw = self.statistics(wanted, start, end)
        except OperationFailed as error:
            return Percentiles({}, f"CloudWatch did not compute percentiles: {error.message}")
        values: dict[Key, dict[str, float]] = defaultdict(dict)
        for item, found in raw.items():
            if found:
                values[item.key][item.stat] = next(iter(found.values()))
        return Percentiles(dict(values))


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """AWS errors while reading become one OperationFailed line naming what was read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        from afrex.clients import aws_failure

        failure = aws_failure(error, "CloudWatch", f"reading {what}")
        raise OperationFailed(
            f"cannot read {what} from CloudWatch: {failure.message}", failure.hint
        ) from error


def _finer(period: int, finest: int) -> int | None:
    """The next period to re-read a bad bucket at: a day, then the finest kept."""
    if period > DAY and DAY > finest:
        return DAY
    return finest if period > finest else None


def _summarise(key: Key, metric: str, valid: ValidRange, found: list[Bucket]) -> Dropped | None:
    if not found:
        return None
    return Dropped(
        tenant=key[0],
        agent=key[1],
        metric=metric,
        valid=str(valid),
        first=min(b.start for b in found),
        last=max(b.end for b in found),
        samples=sum(b.samples for b in found),
        minimum=min(b.minimum for b in found),
        maximum=max(b.maximum for b in found),
    )


def _buckets(
    raw: Mapping[Wanted, dict[datetime, float]], key: Key, metric: str, period: int
) -> list[Bucket]:
    """The buckets of one series from its four statistics (empty buckets left out)."""
    sums, counts, lows, highs = (raw.get(Wanted(key, metric, period, stat), {}) for stat in STATS)
    return [
        Bucket(
            at,
            period,
            round(counts[at]),
            Decimal(repr(sums.get(at, 0.0))),
            lows.get(at, 0.0),
            highs.get(at, 0.0),
        )
        for at in sorted(counts)
        if counts[at] > 0
    ]


def _requests(wanted: Sequence[Wanted], seconds: int, per_call: int) -> Iterator[list[Wanted]]:
    """Runs of queries within one request's limits (queries, datapoints)."""
    batch: list[Wanted] = []
    points = 0
    for item in wanted:
        cost = max(1, -(-seconds // item.period))
        if batch and (len(batch) >= per_call or points + cost > MAX_DATAPOINTS):
            yield batch
            batch, points = [], 0
        batch.append(item)
        points += cost
    if batch:
        yield batch
