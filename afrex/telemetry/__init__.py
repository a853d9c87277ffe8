"""CloudWatch telemetry: agents' metrics read back in batches, range-checked.

Per the telemetry contract (catalog `sla_alerting` + `telemetry`), agents publish
`Up` (1 or 0 per probe), `ResponseTimeMs`, `TasksCompleted` and `TaskMinutes`
under one namespace with the dimensions Tenant and Agent. Reads are batched:
one GetMetricData request carries up to 500 queries (and 100,800 datapoints),
so the fleet costs about (agents x queries per agent) / 500 requests.

Range check: every series is read as Sum, SampleCount, Minimum and Maximum per
bucket. A bucket whose Minimum or Maximum lies outside the metric's valid range
(`Up` in [0, 1]; the others >= 0) is re-read at a finer period (a day, then the
finest period CloudWatch keeps for data that old: 1, 5 or 60 minutes), and the
finest buckets still out of range are dropped whole and reported as `Dropped`
(data, never printed here). CloudWatch cannot split a bucket, so a valid sample
sharing a finest bucket with an invalid one is dropped with it (`afrex sla`
publishes one sample per agent per minute at most, so in practice none is).

A tenant's uptime is the mean of all `Up` samples of all its agents: the sum
of the kept buckets over their sample count. Invoices (`uptime`/`measure`),
`afrex sla report` and the portal all read it here.
"""

from afrex.telemetry.cloudwatch import CloudWatchTelemetry
from afrex.telemetry.series import (
    MAX_QUERIES,
    NON_NEGATIVE,
    UP_RANGE,
    Bucket,
    Dropped,
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

__all__ = [
    "MAX_QUERIES",
    "NON_NEGATIVE",
    "UP_RANGE",
    "Bucket",
    "CloudWatchTelemetry",
    "Dropped",
    "Measurement",
    "Percentiles",
    "Series",
    "SeriesRequest",
    "Uptime",
    "ValidRange",
    "Wanted",
    "finest_period",
    "window_period",
]
