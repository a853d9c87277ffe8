"""Telemetry as data: buckets of a metric's statistics, series, uptime, and the
samples ignored for lying outside a metric's valid range (see `afrex.telemetry`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

MAX_QUERIES = 500  # GetMetricData: metrics per request
MAX_DATAPOINTS = 100_800  # GetMetricData: datapoints per request
UPTIME_PLACES = Decimal("0.0001")
COUNTED = ("Sum", "SampleCount")
EXTREMES = ("Minimum", "Maximum")
STATS = COUNTED + EXTREMES
PERCENTILES = ("p50", "p95", "p99")
DAY = 86_400
# CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, then hourly (a day
# of margin each, so a period is never finer than what is still stored).
RETENTION = ((timedelta(days=14), 60), (timedelta(days=62), 300))
OLDEST_PERIOD = 3600

Key = tuple[str, str]  # (tenant, agent)


@dataclass(frozen=True)
class ValidRange:
    """The values a metric's samples may take (None: unbounded on that side)."""

    low: float | None = 0.0
    high: float | None = None

    def holds(self, minimum: float, maximum: float) -> bool:
        return (self.low is None or minimum >= self.low) and (
            self.high is None or maximum <= self.high
        )

    def __str__(self) -> str:
        if self.high is None:
            return f">= {self.low:g}" if self.low is not None else "any value"
        return f"[{self.low:g}, {self.high:g}]"


UP_RANGE = ValidRange(0.0, 1.0)
NON_NEGATIVE = ValidRange(0.0, None)


@dataclass(frozen=True)
class Wanted:
    """One statistic of one agent's metric at one period (one GetMetricData query)."""

    key: Key
    metric: str
    period: int
    stat: str


@dataclass(frozen=True)
class SeriesRequest:
    """A metric to read for these agents, in `period` buckets, checked against `valid`."""

    metric: str
    period: int
    valid: ValidRange
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Uptime:
    """Measured availability: how many `Up` samples, and how many of them were up."""

    samples: int
    up: Decimal

    @property
    def pct(self) -> Decimal:
        """Uptime in %, rounded down to 4 places (so a shown 99.9500 is never below 99.95)."""
        return (self.up * 100 / self.samples).quantize(UPTIME_PLACES, rounding=ROUND_FLOOR)

    def __add__(self, other: Uptime) -> Uptime:
        return Uptime(self.samples + other.samples, self.up + other.up)


@dataclass(frozen=True)
class Bucket:
    """One period of one series: its statistics as CloudWatch computed them."""

    start: datetime
    period: int
    samples: int
    total: Decimal
    minimum: float
    maximum: float

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.period)


@dataclass(frozen=True)
class Dropped:
    """Samples of one agent's metric ignored for lying outside the valid range."""

    tenant: str
    agent: str
    metric: str
    valid: str
    first: datetime
    last: datetime
    samples: int
    minimum: float
    maximum: float

    def text(self) -> str:
        return (
            f"{self.tenant}/{self.agent}: ignored {self.samples} {self.metric} sample(s) outside "
            f"{self.valid} between {_iso(self.first)} and {_iso(self.last)} "
            f"(min {self.minimum:g}, max {self.maximum:g})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "metric": self.metric,
            "valid": self.valid,
            "from": _iso(self.first),
            "to": _iso(self.last),
            "samples": self.samples,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Series:
    """One agent's metric over a window: the in-range buckets, and what was dropped."""

    buckets: tuple[Bucket, ...]
    dropped: Dropped | None = None

    @property
    def samples(self) -> int:
        return sum(b.samples for b in self.buckets)

    @property
    def total(self) -> Decimal:
        return sum((b.total for b in self.buckets), Decimal(0))

    @property
    def mean(self) -> Decimal | None:
        return self.total / self.samples if self.samples else None

    @property
    def maximum(self) -> float | None:
        return max((b.maximum for b in self.buckets), default=None)

    @property
    def uptime(self) -> Uptime | None:
        return Uptime(self.samples, self.total) if self.samples else None

    def rebucket(self, start: datetime, period: int) -> list[Bucket]:
        """The kept buckets summed into `period`-long buckets from `start` (chart, breaches)."""
        merged: dict[int, list[Bucket]] = defaultdict(list)
        for bucket in self.buckets:
            merged[int((bucket.start - start).total_seconds()) // period].append(bucket)
        return [
            Bucket(
                start + timedelta(seconds=index * period),
                period,
                sum(b.samples for b in parts),
                sum((b.total for b in parts), Decimal(0)),
                min(b.minimum for b in parts),
                max(b.maximum for b in parts),
            )
            for index, parts in sorted(merged.items())
        ]


@dataclass(frozen=True)
class Measurement:
    """Uptime per tenant and per agent over a window, and the samples ignored."""

    by_agent: dict[Key, Uptime]
    dropped: tuple[Dropped, ...] = ()

    @property
    def by_tenant(self) -> dict[str, Uptime]:
        tenants: dict[str, Uptime] = {}
        for (tenant, _), uptime in sorted(self.by_agent.items()):
            tenants[tenant] = tenants[tenant] + uptime if tenant in tenants else uptime
        return tenants

    @property
    def warnings(self) -> list[str]:
        return [d.text() for d in self.dropped]


def finest_period(start: datetime, now: datetime) -> int:
    """The finest period CloudWatch still keeps for data from `start`."""
    age = now - start
    for within, period in RETENTION:
        if age < within:
            return period
    return OLDEST_PERIOD


def window_period(start: datetime, end: datetime, now: datetime) -> int:
    """One bucket covering [start, end): its length, rounded up to a period CloudWatch
    allows for data that old (a longer last bucket only reaches past `end`, where a
    window that ends now has no data)."""
    seconds = max(60, int((end - start).total_seconds()))
    step = finest_period(start, now)
    return -(-seconds // step) * step


@dataclass(frozen=True)
class Percentiles:
    """Percentile statistics per agent (e.g. `{"p95": 120.0}`), or why they are missing."""

    by_agent: dict[Key, dict[str, float]]
    unavailable: str | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
