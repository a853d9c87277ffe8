"""Benchmark: portal data for a generated fleet with a month of metrics in moto.

    .venv/bin/python bench/bench_portal.py [tenants] [check tenants]

Generates `tenants` stack files (bench/fleetgen.py; default 1,000, 3,000+
agents) and October 2026 of metrics (per agent and metric one aggregated datum
per day: Up, TasksCompleted, TaskMinutes, ResponseTimeMs), then builds every
tenant's dashboard twice in the same run, over HTTP: batched (up to 500 queries
per GetMetricData) and a baseline of one request per agent (the same queries,
at most 16 a request: one agent's month, 4 metrics x 4 statistics, read in two
passes of 8, so ~1.1 requests per agent). Reports wall time and CloudWatch calls
(botocore hooks, per operation; `requests sent` includes retries; `answered in`
sums the time from each request sent to its response read, i.e. moto's share:
the rest is the client, botocore's CBOR and the portal's own code).

The server is moto's with CloudWatch's datum lookup indexed (bench/indexed_moto.py,
started as a child process; stock moto rescans every datum per query and bucket
and cannot answer this fleet inside the client's 10 s read timeout). The month is
put straight into that server's backend before it listens (seeding is not what is
measured). First, a small fleet (default 8 tenants) is run against stock
`moto_server` seeded over HTTP and against the indexed server seeded in process:
every GetMetricData and ListMetrics answer and every dashboard must be identical,
or the benchmark stops.

moto artefacts, printed with the figures: moto lists a metric once per datum
(31 a month here) where CloudWatch lists it once, so ListMetrics pages are ~31x
what CloudWatch would need; and moto cannot compute percentiles (a 500, retried),
so the dashboards carry that reason instead of response-time percentiles.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 2, tzinfo=UTC)
PER_AGENT = 16  # one agent's queries for the month: 4 metrics x 4 statistics
Fleet = list[tuple[str, list[str]]]


class Calls:
    """CloudWatch API calls by operation, and HTTP requests sent (retries included)."""

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self.sent = 0
        self.waiting = 0.0  # seconds from a request sent to its response read (moto's side)
        self._sent_at = 0.0
        self.answers: list[tuple[str, Any]] = []
        self.record = False

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call.cloudwatch.*", self._called)
        events.register("before-send.cloudwatch.*", self._sent)
        events.register("before-parse.cloudwatch.*", self._received)
        events.register("after-call.cloudwatch.*", self._answered)

    def _called(self, event_name: str, **_: Any) -> None:
        self.by_operation[event_name.rsplit(".", 1)[-1]] += 1

    def _sent(self, **_: Any) -> None:
        self.sent += 1
        self._sent_at = time.perf_counter()

    def _received(self, **_: Any) -> None:
        self.waiting += time.perf_counter() - self._sent_at

    def _answered(self, event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        if self.record:
            # Request ids and ListMetrics' NextToken are random: kept is whether there is one.
            kept = {k: v for k, v in parsed.items() if k not in ("ResponseMetadata", "NextToken")}
            kept["more"] = "NextToken" in parsed
            self.answers.append((event_name.rsplit(".", 1)[-1], kept))

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def text(self) -> str:
        parts = ", ".join(f"{n} {op}" for op, n in sorted(self.by_operation.items()))
        return (
            f"{self.total:5d} calls ({parts}; {self.sent} requests sent, "
            f"answered in {self.waiting:.1f} s)"
        )


def portal_run(per_call: int, record: bool = False) -> tuple[float, Calls, dict[str, Any]]:
    """Build every tenant's dashboard through CloudWatch: wall time, calls, documents."""
    from afrex.catalog import Catalog
    from afrex.portal.run import build_portal
    from afrex.telemetry import CloudWatchTelemetry

    calls = Calls()
    calls.record = record

    def reader(catalog: Catalog) -> CloudWatchTelemetry:
        telemetry = CloudWatchTelemetry.for_catalog(catalog)
        telemetry.per_call = per_call
        calls.attach(telemetry.client)
        return telemetry

    started = time.perf_counter()
    run = build_portal("2026-10", None, NOW, reader)
    return time.perf_counter() - started, calls, run.documents


def use(project: Path, endpoint: str) -> None:
    os.environ.update(
        AFREX_PROJECT=str(project),
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )


def fleet_of(count: int) -> tuple[Path, Fleet]:
    from afrex.tenants import load_tenants
    from bench.fleetgen import make_project

    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    make_project(folder, count)
    os.environ["AFREX_PROJECT"] = str(folder)
    return folder, [(t.id, list(t.spec.agents)) for t in load_tenants()]


def started_indexed(tenants: Fleet) -> Any:
    from bench.fleetgen import MONTH_START
    from bench.indexed_moto import start_indexed_moto, write_fleet

    fleet_file = Path(tempfile.mkstemp(prefix="bench-fleet-", suffix=".json")[1])
    write_fleet(fleet_file, tenants, MONTH_START)
    try:
        return start_indexed_moto(fleet_file)
    finally:
        fleet_file.unlink()


def endpointless(documents: dict[str, Any], endpoint: str) -> str:
    """Documents as JSON with the server's address (named in failure reasons) blanked."""
    return json.dumps(documents, sort_keys=True, default=str).replace(endpoint, "<endpoint>")


def check(count: int) -> None:
    """The indexed server answers both portal runs exactly as stock moto does."""
    import boto3

    from bench.fleetgen import MONTH_START
    from bench.indexed_moto import put_over_http
    from tests.services import start_moto

    folder, tenants = fleet_of(count)
    stock, indexed = start_moto(), started_indexed(tenants)
    answers: dict[str, list[tuple[str, Any]]] = {}
    documents: dict[str, str] = {}
    walls: dict[str, float] = {}
    built = 0
    try:
        use(folder, stock.endpoint)
        datums = put_over_http(boto3.client("cloudwatch"), tenants, MONTH_START)
        for name, server in (("stock", stock), ("indexed", indexed)):
            use(folder, server.endpoint)
            walls[name] = 0.0
            for per_call in (500, PER_AGENT):
                wall, calls, docs = portal_run(per_call, record=True)
                walls[name] += wall
                built += len(docs)
                answers.setdefault(name, []).extend(calls.answers)
                documents[name] = documents.get(name, "") + endpointless(docs, server.endpoint)
    finally:
        stock.stop()
        indexed.stop()
    same = answers["stock"] == answers["indexed"] and documents["stock"] == documents["indexed"]
    kinds = Counter(op for op, _ in answers["indexed"])
    agents = sum(len(a) for _, a in tenants)
    print(
        f"check, {len(tenants)} tenants, {agents} agents, {datums} datums, both runs "
        f"(stock moto_server seeded over HTTP vs indexed seeded in process): "
        f"{'IDENTICAL' if same else 'DIFFERENT'} "
        f"({kinds['GetMetricData']} GetMetricData and {kinds['ListMetrics']} ListMetrics "
        f"answers, {built} dashboards; {walls['stock']:.2f} s stock, "
        f"{walls['indexed']:.2f} s indexed)"
    )
    if not same:
        raise SystemExit("the indexed server does not answer as stock moto does: no figures")


def measure(label: str, per_call: int) -> tuple[float, Calls]:
    wall, calls, documents = portal_run(per_call)
    print(f"{label:>20}: {wall:8.2f} s, {calls.text()}, {len(documents)} dashboards")
    return wall, calls


def seeded(server: Any) -> str:
    """The server's own line on seeding ("seeded N datums in S s")."""
    lines = Path(server.log).read_text(errors="replace").splitlines()
    return next((line for line in lines if line.startswith("seeded ")), "seeding not reported")


def main(count: int = 1000, check_count: int = 8) -> None:
    check(check_count)
    folder, tenants = fleet_of(count)
    agents = sum(len(a) for _, a in tenants)
    started = time.perf_counter()
    server = started_indexed(tenants)
    try:
        use(folder, server.endpoint)
        print(
            f"fleet: {len(tenants)} tenants, {agents} agents; indexed moto {seeded(server)} "
            f"(ready after {time.perf_counter() - started:.1f} s; not measured)"
        )
        batched_wall, batched = measure("batched", 500)
        base_wall, base = measure("one call per agent", PER_AGENT)
        gmd = "GetMetricData"
        print(
            f"ratio: {base.total / batched.total:.1f}x fewer calls batched "
            f"({base.by_operation[gmd] / batched.by_operation[gmd]:.1f}x fewer {gmd}), "
            f"{base_wall / batched_wall:.1f}x less wall time"
        )
        pages = batched.by_operation["ListMetrics"]
        print(
            f"note: moto lists each of the {agents} Up metrics once per datum, so ListMetrics "
            f"took {pages} pages per run where CloudWatch needs {-(-agents // 500)}"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    main(*arguments)
