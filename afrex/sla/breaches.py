"""SLA breaches: the periods of a month in which an agent's uptime fell below its
tenant's target, from the `Up` metric's datapoints.

Each agent's `Up` samples are read in buckets of the catalog's
`breach_period_seconds` (range-checked, like every read); a bucket whose mean
is below the target of the tier held for most of the month is a breach, and
consecutive ones merge into one period. Buckets with no samples are not
judged (missing data is not downtime; `sla check` publishes 0 for a down agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from afrex.catalog import load_catalog
from afrex.sla.report import Reader, Window, agents_of, cloudwatch_reader, judged_specs, tenant_sla
from afrex.telemetry import UP_RANGE, Bucket, Dropped, Uptime, finest_period


@dataclass(frozen=True)
class Breach:
    """One agent below target from `start` to `end`."""

    tenant: str
    agent: str
    start: datetime
    end: datetime
    uptime: Uptime
    target_pct: Decimal

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "agent": self.agent,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "durationSeconds": int(self.duration.total_seconds()),
            "uptimePct": self.uptime.pct,
            "samples": self.uptime.samples,
            "targetPct": self.target_pct,
        }


@dataclass(frozen=True)
class BreachReport:
    """A month's breaches (by tenant, agent and time), and the samples ignored."""

    window: Window
    period: int
    breaches: list[Breach]
    dropped: tuple[Dropped, ...]
    skipped: dict[str, str]

    @property
    def warnings(self) -> list[str]:
        return [d.text() for d in self.dropped]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.window.as_dict(),
            "periodSeconds": self.period,
            "breaches": [b.as_dict() for b in self.breaches],
            "ignoredSamples": [d.as_dict() for d in self.dropped],
            "skipped": self.skipped,
        }


def breach_period(wanted: int, start: datetime, now: datetime) -> int:
    """`wanted`, rounded up to a period CloudWatch still keeps for data from `start`."""
    finest = finest_period(start, now)
    return -(-wanted // finest) * finest


def below_target(
    tenant: str, agent: str, buckets: list[Bucket], target_pct: Decimal
) -> list[Breach]:
    """Consecutive buckets whose mean is below the target, merged into periods."""
    breaches: list[Breach] = []
    for bucket in sorted(buckets, key=lambda b: b.start):
        uptime = Uptime(bucket.samples, bucket.total)
        if uptime.up * 100 >= target_pct * uptime.samples:
            continue
        last = breaches[-1] if breaches else None
        if last is not None and last.agent == agent and last.end == bucket.start:
            breaches[-1] = Breach(
                tenant, agent, last.start, bucket.end, last.uptime + uptime, target_pct
            )
        else:
            breaches.append(Breach(tenant, agent, bucket.start, bucket.end, uptime, target_pct))
    return breaches


def sla_breaches(
    month_text: str | None = None,
    tenant: str | None = None,
    now: datetime | None = None,
    reader: Reader = cloudwatch_reader,
) -> BreachReport:
    """Every period of the month in which an agent was below its tenant's target."""
    now = now or datetime.now(UTC)
    window = Window.of(month_text, now)
    catalog = load_catalog()
    specs, skipped = judged_specs(catalog, window, tenant, now)
    period = breach_period(catalog.telemetry.breach_period_seconds, window.start, now)
    if not specs:
        return BreachReport(window, period, [], (), skipped)
    telemetry = reader(catalog)
    keys = telemetry.agents(agents_of(specs))
    series = telemetry.series(keys, telemetry.metric, window.start, window.end, period, UP_RANGE)
    targets = {spec.tenant_id: tenant_sla(catalog, spec, window, None).target_pct for spec in specs}
    breaches = [
        breach
        for (tenant_id, agent), found in sorted(series.items())
        for breach in below_target(
            tenant_id, agent, found.rebucket(window.start, period), targets[tenant_id]
        )
    ]
    dropped = tuple(s.dropped for s in series.values() if s.dropped is not None)
    return BreachReport(window, period, breaches, dropped, skipped)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
