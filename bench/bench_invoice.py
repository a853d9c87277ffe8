"""Benchmark: `afrex invoice --all` over 1,000 generated tenants, run on demand.

    .venv/bin/python bench/bench_invoice.py [tenants]

Builds a throw-away project (Pulumi.yaml + stacks/) with `tenants` stack files
(default 1,000: every tier, vertical, support level and billing cycle, some
with plan changes inside the month), starts moto's server for CloudWatch with
`Up` samples for a tenth of them, then times the whole invoicing run as a fresh
process against `python -c pass` measured in the same run: first with no
samples at all (afrex's own cost plus empty CloudWatch queries), then with the
samples (moto's server scans every stored sample for every query, so this one
mostly measures moto). The rerun must rewrite byte-identical files.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fleetgen import MONTH, MONTH_START, make_project  # noqa: E402
from tests.services import start_moto  # noqa: E402


def publish_uptime(endpoint: str, tenant_ids: list[str]) -> int:
    client = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")
    rng = random.Random(7)
    samples = 0
    for tenant_id in tenant_ids:
        data = [
            {
                "MetricName": "Up",
                "Dimensions": [
                    {"Name": "Tenant", "Value": tenant_id},
                    {"Name": "Agent", "Value": "agent-00"},
                ],
                "Timestamp": MONTH_START + timedelta(hours=6 * i),
                "Value": 1.0 if rng.random() < 0.995 else 0.0,
            }
            for i in range(20)
        ]
        client.put_metric_data(Namespace="AfrexAI/Agents", MetricData=data)  # type: ignore[arg-type]
        samples += len(data)
    return samples


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    server = start_moto()
    runs: list[tuple[str, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="afrex-bench-") as tmp:
            project = Path(tmp)
            started = time.perf_counter()
            ids = make_project(project, count)
            generated = time.perf_counter() - started
            env = {**os.environ, "AFREX_PROJECT": str(project), "AWS_ENDPOINT_URL": server.endpoint}
            baseline = min(timed([sys.executable, "-c", "pass"], env) for _ in range(5))
            command = [sys.executable, "-m", "afrex.cli.main", "invoice", "--all", "--month", MONTH]
            runs.append(("no Up samples", timed(command, env)))
            samples = publish_uptime(server.endpoint, ids[: count // 10])
            folder = project / "invoices" / MONTH
            runs.append((f"{samples} Up samples", timed(command, env)))
            before = digest(folder)
            runs.append(("same again (rerun)", timed(command, env)))
            files = len(list(folder.iterdir()))
            same = digest(folder) == before
    finally:
        server.stop()
    print(f"{count} tenant stacks generated in {generated:.2f} s")
    print(f"python -c pass (baseline, best of 5): {baseline * 1000:.1f} ms")
    for label, seconds in runs:
        print(
            f"afrex invoice --all --month {MONTH}, {label}: {seconds:.2f} s "
            f"({seconds / baseline:.0f}x baseline, {seconds / count * 1000:.2f} ms per tenant)"
        )
    print(f"{files} files written; rerun byte-identical: {same}")
    if not same or files != 2 * count:
        sys.exit(1)


if __name__ == "__main__":
    main()
