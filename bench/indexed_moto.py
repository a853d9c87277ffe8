"""moto's server for the portal benchmark, with CloudWatch's datum lookup indexed.

    .venv/bin/python bench/indexed_moto.py PORT [FLEET.json]

Stock moto 5.2 answers GetMetricData by filtering every stored datum by time for
every request, then for every query and every period bucket scanning them all
again; ListMetrics compares each datum with every metric already listed. With
3,000 agents x 4 metrics x 31 days (372,000 datums) a batched portal run never
finishes inside the client's read timeout. This process is `moto_server` (the
same `moto.server.main`, same flags) with two lookups of `CloudWatchBackend`
replaced; moto on disk and the product are untouched, and only the benchmark
starts it:

- `get_metric_data`: a request made only of MetricStat queries reads each
  query's datums from an index keyed the way stock moto matches them: (metric
  name, dimensions as stock sorts them) when the query has dimensions (stock
  then ignores the namespace), else (namespace, name). Each key's datums are kept
  in insertion order and bucketed by period in one pass, so every bucket holds
  the same datums in the same order as stock's scan (float sums identical), with
  the same Statistics, timestamps, labels, ScanBy and ReturnData. The index
  catches up with `metric_data` on each read (datums put since the last read),
  and is rebuilt if the list was replaced (moto's reset). Requests with
  expressions, bad times or periods go to stock moto unchanged.
- `get_filtered_metrics` (ListMetrics): stock's answer in one pass, duplicates
  included. Stock drops a datum when an already listed metric has the same
  namespace, name and `are_dimensions_same` dimensions, which holds only when
  both lists have the same length and every dimension of both is one and the
  same (name, value); a metric with two different dimensions (Tenant, Agent) is
  therefore listed once per datum, as stock lists it.

With FLEET.json (written by `write_fleet`) the fleet's month of datums is put
straight into the backend before the server listens: `backend.put_metric_data`,
the call moto's HTTP layer makes, with the values it would parse (naive UTC
timestamps, floats). That saves sending 372,000 datums over HTTP; the portal run
that is measured still reads everything over HTTP. bench_portal.py checks this
server against stock moto seeded over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "AfrexAI/Agents"
DAYS = 31
START_TIMEOUT_S = 120.0
Fleet = list[tuple[str, list[str]]]


def month_of_datums(tenants: Fleet, start: datetime) -> Iterator[dict[str, Any]]:
    """Per agent and metric one aggregated datum per day at noon (PutMetricData's shape).

    `Up` counts a minute down every seventh day; the others are steady."""
    for tenant, agents in tenants:
        for agent in agents:
            dims = [{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}]
            for day in range(DAYS):
                at = start + timedelta(days=day, hours=12)
                for metric, total, count in (
                    ("Up", 1440.0 - (day % 7 == 0), 1440.0),
                    ("TasksCompleted", 40.0, 40.0),
                    ("TaskMinutes", 300.0, 40.0),
                    ("ResponseTimeMs", 1440 * 120.0, 1440.0),
                ):
                    yield {
                        "MetricName": metric,
                        "Dimensions": dims,
                        "Timestamp": at,
                        "StatisticValues": {
                            "SampleCount": count,
                            "Sum": total,
                            "Minimum": 0.0 if metric == "Up" else 1.0,
                            "Maximum": 1.0 if metric == "Up" else 500.0,
                        },
                    }


def put_over_http(client: Any, tenants: Fleet, start: datetime) -> int:
    """Seed through PutMetricData, 1,000 datums a call; returns the datums put."""
    data = list(month_of_datums(tenants, start))
    for first in range(0, len(data), 1000):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=data[first : first + 1000])
    return len(data)


def put_in_process(tenants: Fleet, start: datetime) -> int:
    """Seed this process's moto backend (default account, us-east-1) directly."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    naive = start.astimezone(UTC).replace(tzinfo=None)  # what the HTTP layer hands over
    data = list(month_of_datums(tenants, naive))
    for first in range(0, len(data), 1000):
        backend.put_metric_data(NAMESPACE, data[first : first + 1000])
    return len(data)


def write_fleet(path: Path, tenants: Fleet, start: datetime) -> None:
    path.write_text(json.dumps({"start": start.isoformat(), "tenants": tenants}))


@dataclass
class Index:
    """A backend's datums by query key, each key's list in insertion order."""

    source: list[Any] | None = None
    seen: int = 0
    by_dimensions: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = field(
        default_factory=dict
    )
    by_name: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def catch_up(self, data: list[Any]) -> None:
        if data is not self.source or len(data) < self.seen:
            self.source, self.seen = data, 0
            self.by_dimensions.clear()
            self.by_name.clear()
        for datum in data[self.seen :]:
            self.by_name.setdefault((datum.namespace, datum.name), []).append(datum)
            if datum.dimensions:
                key = (datum.name, dimension_key(datum.dimensions))
                self.by_dimensions.setdefault(key, []).append(datum)
        self.seen = len(data)


def dimension_key(dimensions: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """Dimensions in the order stock moto's `sorted()` leaves them (its `__lt__` is its
    own; equal input orders sort alike), as (name, value) pairs."""
    return tuple((d.name, d.value) for d in sorted(dimensions))


def indexed_get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    simple = all("MetricStat" in q and "Expression" not in q for q in queries) and all(
        int(q["MetricStat"]["Period"]) > 0 for q in queries
    )
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if not simple or start_time >= end_time:
        return STOCK["get_metric_data"](self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
    index: Index = self.__dict__.setdefault("_bench_index", Index())
    with index.lock:
        index.catch_up(self.metric_data)
    extra = self.aws_metric_data  # other services' metrics, computed per call as stock does
    return [
        result
        for query in queries
        if (result := _answer(query, index, extra, start_time, end_time, scan_by))
        and query.get("ReturnData", True)
    ]


def _answer(
    query: dict[str, Any],
    index: Index,
    extra: list[Any],
    start: datetime,
    end: datetime,
    scan_by: str,
) -> dict[str, Any]:
    """One MetricStat query's result, as stock moto builds it."""
    from moto.cloudwatch.models import Dimension, Statistics

    stat_of = query["MetricStat"]
    namespace, name = stat_of["Metric"]["Namespace"], stat_of["Metric"]["MetricName"]
    delta = timedelta(seconds=int(stat_of["Period"]))
    dimensions = [Dimension(d["Name"], d["Value"]) for d in stat_of["Metric"].get("Dimensions", [])]
    unit, stat = stat_of.get("Unit"), stat_of["Stat"]
    if dimensions:
        wanted = sorted(dimensions)
        found = index.by_dimensions.get((name, dimension_key(dimensions)), [])
        found = found + [md for md in extra if sorted(md.dimensions) == wanted and md.name == name]
    else:
        found = index.by_name.get((namespace, name), [])
        found = found + [md for md in extra if md.namespace == namespace and md.name == name]
    buckets: dict[int, list[Any]] = {}
    for md in found:
        if start <= md.timestamp < end and (not unit or md.unit == unit):
            buckets.setdefault((md.timestamp - start) // delta, []).append(md)
    values: list[Any] = []
    timestamps: list[datetime] = []
    for number in sorted(buckets):
        stats = Statistics([stat], start + number * delta)
        stats.metric_data = buckets[number]
        values.append(stats.get_statistics_for_type(stat))
        timestamps.append(stats.timestamp)
    if scan_by == "TimestampDescending":
        timestamps.reverse()
        values.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or f"{name} {stat}",
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def indexed_filtered_metrics(
    self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
) -> list[Any]:
    listed: list[Any] = []
    uniform: set[tuple[str, str, int, str, str]] = set()
    for md in self.get_all_metrics():
        key = None
        if md.dimensions and all(
            (d.name, d.value) == (md.dimensions[0].name, md.dimensions[0].value)
            for d in md.dimensions
        ):
            first = md.dimensions[0]
            key = (md.namespace, md.name, len(md.dimensions), first.name, first.value)
            if key in uniform:
                continue
        if md.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
            listed.append(md)
            if key is not None:
                uniform.add(key)
    return listed


STOCK: dict[str, Any] = {}


def install() -> None:
    """Replace the two lookups on moto's CloudWatchBackend (this process only)."""
    from moto.cloudwatch.models import CloudWatchBackend

    STOCK["get_metric_data"] = CloudWatchBackend.get_metric_data
    STOCK["get_filtered_metrics"] = CloudWatchBackend.get_filtered_metrics
    setattr(CloudWatchBackend, "get_metric_data", indexed_get_metric_data)  # noqa: B010
    setattr(CloudWatchBackend, "get_filtered_metrics", indexed_filtered_metrics)  # noqa: B010


def start_indexed_moto(fleet: Path | None = None) -> Any:
    """Start this module as a server on a free port; wait until it answers (seeding
    first if `fleet` is given). Returns tests.services.MotoServer (stop() by PID)."""
    from tests.services import MotoServer, free_port

    port = free_port()
    log = Path(tempfile.mkstemp(prefix="moto-indexed-", suffix=".log")[1])
    command = [sys.executable, str(Path(__file__).resolve()), str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command + ([str(fleet)] if fleet else []), stdout=out, stderr=subprocess.STDOUT
        )
    server = MotoServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"indexed moto exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=1):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"indexed moto did not answer on {server.endpoint}")


def serve(port: int, fleet: Path | None) -> None:
    from moto.server import main as moto_server

    install()
    if fleet is not None:
        given = json.loads(fleet.read_text())
        tenants = [(tenant, list(agents)) for tenant, agents in given["tenants"]]
        started = time.perf_counter()
        count = put_in_process(tenants, datetime.fromisoformat(given["start"]))
        print(f"seeded {count} datums in {time.perf_counter() - started:.1f} s", flush=True)
    os.environ.setdefault("MOTO_PORT", str(port))
    moto_server(["-H", "127.0.0.1", "-p", str(port)])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    serve(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
