"""Benchmark: portal data for a generated fleet with a month of metrics in moto.

    .venv/bin/python bench/bench_portal.py [tenants]

Generates `tenants` stack files (bench/fleetgen.py; default 1,000, 3,000+
agents), seeds October 2026 in moto's CloudWatch (per agent and metric one
aggregated datum per day: Up, TasksCompleted, TaskMinutes, ResponseTimeMs),
then builds every tenant's dashboard twice in the same run: batched (up to 500
queries per GetMetricData) and a baseline of one request per agent (the same
queries, `per_call` = one agent's). Reports wall time and CloudWatch calls
(every API request, counted by a botocore hook). moto's get_metric_data scans
every stored datum for every query and bucket, so at 1,000 tenants the wall
time mostly measures moto; the call counts are what carries to real AWS.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed(client: Any, tenants: list[tuple[str, list[str]]], start: Any) -> int:
    data = []
    for tenant, agents in tenants:
        for agent in agents:
            dims = [{"Name": "Tenant", "Value": tenant}, {"Name": "Agent", "Value": agent}]
            for day in range(31):
                at = start + timedelta(days=day, hours=12)
                for metric, total, count in (
                    ("Up", 1440.0 - (day % 7 == 0), 1440.0),
                    ("TasksCompleted", 40.0, 40.0),
                    ("TaskMinutes", 300.0, 40.0),
                    ("ResponseTimeMs", 1440 * 120.0, 1440.0),
                ):
                    data.append(
                        {
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
                    )
    for first in range(0, len(data), 1000):
        client.put_metric_data(Namespace="AfrexAI/Agents", MetricData=data[first : first + 1000])
    return len(data)


def timed(per_call: int) -> tuple[float, int, int]:
    from datetime import UTC, datetime

    from afrex.catalog import Catalog
    from afrex.portal.run import build_portal
    from afrex.telemetry import CloudWatchTelemetry

    calls = [0]

    def reader(catalog: Catalog) -> CloudWatchTelemetry:
        telemetry = CloudWatchTelemetry.for_catalog(catalog)
        telemetry.per_call = per_call
        telemetry.client.meta.events.register(
            "before-call.cloudwatch.*", lambda **_: calls.__setitem__(0, calls[0] + 1)
        )
        return telemetry

    now = datetime(2026, 11, 2, tzinfo=UTC)
    started = time.perf_counter()
    run = build_portal("2026-10", None, now, reader)
    return time.perf_counter() - started, calls[0], len(run.documents)


def main(count: int = 1000) -> None:
    import boto3

    from afrex.tenants import load_tenants
    from bench.fleetgen import MONTH_START, make_project
    from tests.services import start_moto

    moto = start_moto()
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
        make_project(folder, count)
        os.environ.update(
            AFREX_PROJECT=str(folder),
            AWS_ENDPOINT_URL=moto.endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
        )
        tenants = [(t.id, list(t.spec.agents)) for t in load_tenants()]
        agents = sum(len(a) for _, a in tenants)
        client = boto3.client("cloudwatch")
        datums = seed(client, tenants, MONTH_START)
        print(f"fleet: {len(tenants)} tenants, {agents} agents, {datums} datums in moto")
        batched = timed(500)
        baseline = timed(16)  # one agent's 16 month queries per request
        for name, (wall, calls, docs) in (("batched", batched), ("one call per agent", baseline)):
            print(f"{name:>20}: {wall:8.2f} s, {calls:6d} CloudWatch calls, {docs} dashboards")
        print(
            f"calls: {baseline[1] / max(batched[1], 1):.1f}x fewer batched; "
            f"wall: {baseline[0] / batched[0]:.1f}x"
        )
    finally:
        moto.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
