"""Benchmark: `afrex fleet summary` and `afrex fleet issues` over 1,000 generated
tenants (3,000+ agents) in a file:// backend, run on demand.

    .venv/bin/python bench/bench_fleet.py [tenants] [runs]

Generates a project (bench/fleetgen.py: every tier, vertical, support level and
billing cycle; companies match their ids' slugs; unique tokens) and, per tenant,
a checkpoint in the documented format (tests/statefixture.py) whose outputs are
shaped like the program's (agents, containers, alarm names, bucket, digests) and
which holds as many resources as the real stack would (10 + 8 per agent).

Each command runs as a fresh process, best of `runs` (default 3), after one cold
run that fills the fleet's tenant cache (timed too), in these setups:

1. state only (`--skip docker --skip alarms --skip backups`): afrex's own cost;
2. live, with a stub Docker engine: 10 engines (a tiny HTTP server on a unix
   socket each, in this process, answering the Docker API calls afrex makes:
   `/version` and `/containers/json` with every container running and healthy),
   and moto's server for CloudWatch (a hundred alarms) and S3 (every bucket with
   its lifecycle rule). No Docker engine or real AWS is reachable quickly here,
   so the stubs stand in for them; moto answers one S3 call at a time, so the
   S3 lifecycle walk of `issues` (one GetBucketLifecycleConfiguration per bucket,
   there is no batch call) mostly measures moto.

`AFREX_CACHE_DIR` points at the run's own folder. Baselines measured in the same run:
- a plain read of the same checkpoint files: read + json.loads of each, in this
  process, and as a fresh `python -c` process (interpreter start included);
- `python -c pass` and `/bin/true` (the cost of starting a process);
- one Automation API call per stack, as documented (`stack.outputs()` spawns two
  CLI processes per stack; shared/reference/sdk-notes.md): an ESTIMATE, since no
  Pulumi CLI runs here: 2 x tenants x the measured spawn cost of `/bin/true`
  (a lower bound: the real CLI also starts its Go runtime and reads the backend),
  and 2 x tenants x `python -c pass` as a closer stand-in.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from afrex.catalog import load_catalog  # noqa: E402
from afrex.stackfiles import find_project  # noqa: E402
from afrex.tenants import load_tenants  # noqa: E402
from bench.fleetgen import make_project  # noqa: E402
from tests.services import start_moto  # noqa: E402
from tests.statefixture import write_checkpoint  # noqa: E402

ENGINES = 10
ALARMS = 100
OFFLINE = ["--skip", "docker", "--skip", "alarms", "--skip", "backups"]


class StubEngine(BaseHTTPRequestHandler):
    """Answers the Docker API calls afrex makes with a fixed container list."""

    containers: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        if self.path.endswith("/version"):
            body: Any = {"ApiVersion": "1.41", "Version": "stub", "MinAPIVersion": "1.24"}
        elif "/containers/json" in self.path:
            healthy_only = "healthy" in self.path and "unhealthy" not in self.path
            asks_health = "health" in self.path
            body = self.containers if (healthy_only or not asks_health) else []
        else:
            body = {}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self) -> tuple[Any, Any]:
        request, _ = super().get_request()
        return request, ("stub", 0)  # http.server wants a (host, port) client address


def start_engine(path: Path, containers: list[dict[str, Any]]) -> UnixHTTPServer:
    handler = type("Engine", (StubEngine,), {"containers": containers})
    server = UnixHTTPServer(str(path), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def deploy(project: Path, folder: Path) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """A checkpoint per tenant; returns the agent count and each engine's containers."""
    catalog = load_catalog()
    tenants = load_tenants(find_project(project), catalog)
    engines: dict[str, list[dict[str, Any]]] = {
        f"unix://{folder / f'engine-{n}.sock'}": [] for n in range(ENGINES)
    }
    hosts = list(engines)
    agents = 0
    for index, tenant in enumerate(tenants):
        host = hosts[index % ENGINES]
        spec = tenant.spec
        named = [(a, f"afrex-{spec.tenant_id}-{a}") for a in spec.agents]
        outputs = {
            "tenantId": spec.tenant_id,
            "tier": spec.tier,
            "agents": [
                {"name": a, "container": c, "volume": f"{c}-state", "gatewayAddress": ""}
                for a, c in named
            ],
            "bucketName": spec.bucket_name(catalog),
            "alarmNames": [
                f"afrex-{spec.tenant_id}-{a}-{w.name}"
                for a in spec.agents
                for w in catalog.sla_alerting.windows
            ],
            "configDigest": tenant.config_digest,
            "catalogDigest": catalog.digest,
            "dockerHost": host,
        }
        resources = 10 + 8 * len(spec.agents)
        write_checkpoint(project / "state", "afrex", spec.tenant_id, outputs, resources=resources)
        for agent, container in named:
            engines[host].append(
                {
                    "Names": [f"/{container}"],
                    "State": "running",
                    "Status": "Up 3 days (healthy)",
                    "Labels": {"afrex.tenant": spec.tenant_id, "afrex.agent": agent},
                }
            )
        agents += len(spec.agents)
    return agents, engines


def seed_aws(endpoint: str, tenants: list[Any]) -> None:
    """A hundred alarms (a few in ALARM) and every bucket with its lifecycle rule."""
    cloudwatch = boto3.client(
        "cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
    )  # fmt: skip
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
    )  # fmt: skip
    catalog = load_catalog()
    for index, tenant in enumerate(tenants[:ALARMS]):
        name = f"afrex-{tenant.id}-{tenant.spec.agents[0]}-page-fast"
        cloudwatch.put_metric_alarm(
            AlarmName=name, MetricName="Up", Namespace="AfrexAI/Agents", Statistic="Average",
            Period=300, EvaluationPeriods=1, Threshold=0.99,
            ComparisonOperator="LessThanThreshold",
        )  # fmt: skip
        state: Literal["ALARM", "OK"] = "ALARM" if index % 25 == 0 else "OK"
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="bench")
    days = catalog.backups.retention_days
    rule: Any = {"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": days}}
    for tenant in tenants:
        bucket = tenant.spec.bucket_name(catalog)
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [rule]}
        )


def best(
    command: list[str], env: dict[str, str], runs: int, codes: tuple[int, ...] = (0,)
) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in codes:
            sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return min(times)


def in_process(env: dict[str, str], runs: int) -> float:
    """The same summary called as a function (no interpreter start, no imports)."""
    from afrex.fleetview.snapshot import SOURCES, take_snapshot
    from afrex.fleetview.summary import fleet_summary

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        times = []
        for _ in range(runs + 1):  # the first fills the cache
            start = time.perf_counter()
            fleet_summary(take_snapshot(skip=SOURCES))
            times.append(time.perf_counter() - start)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return min(times[1:])


def plain_read(state: Path) -> float:
    start = time.perf_counter()
    for path in sorted(state.rglob("*.json")):
        json.loads(path.read_bytes())
    return time.perf_counter() - start


PLAIN = (
    "import json, pathlib, sys\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')): json.loads(p.read_bytes())\n"
)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    afrex = [sys.executable, "-m", "afrex.cli.main", "fleet"]
    with tempfile.TemporaryDirectory(prefix="afrex-bench-") as tmp:
        project, sockets = Path(tmp) / "project", Path(tmp)
        make_project(project, count)
        agents, engines = deploy(project, sockets)
        servers = [start_engine(Path(host[7:]), found) for host, found in engines.items()]
        state = project / "state"
        size = sum(p.stat().st_size for p in state.rglob("*.json"))
        env = {
            **os.environ,
            "AFREX_PROJECT": str(project),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AFREX_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        figures: dict[str, float] = {
            "plain read, in process": min(plain_read(state) for _ in range(runs)),
            "plain read, fresh process": best([sys.executable, "-c", PLAIN, str(state)], env, runs),
            "python -c pass": best([sys.executable, "-c", "pass"], env, runs),
            "/bin/true": best(["/bin/true"], env, runs),
        }
        cold = [*afrex, "summary", *OFFLINE]
        figures["fleet summary, state only, cold (fills the tenant cache)"] = best(cold, env, 1)
        figures["fleet summary, state only, in this process (warm)"] = in_process(env, runs)
        for name in ("summary", "issues"):
            figures[f"fleet {name}, state only"] = best([*afrex, name, *OFFLINE], env, runs, (0, 1))
        moto = start_moto()
        try:
            seed_aws(moto.endpoint, load_tenants(find_project(project), load_catalog()))
            live = {**env, "AWS_ENDPOINT_URL": moto.endpoint}
            for name, skip in (("summary", ["--skip", "backups"]), ("issues", [])):
                label = f"fleet {name}, live (stub engines, moto CloudWatch" + (
                    ")" if skip else " + S3)"
                )
                figures[label] = best([*afrex, name, "--timeout", "30", *skip], live, runs, (0, 1))
        finally:
            moto.stop()
            for server in servers:
                server.shutdown()
    report(count, agents, size, figures)


def report(count: int, agents: int, size: int, figures: dict[str, float]) -> None:
    print(
        f"{count} tenants, {agents} agents, {size / 1e6:.1f} MB of checkpoints, {ENGINES} engines"
    )
    for label, seconds in figures.items():
        print(f"  {label:<58} {seconds:7.3f} s")
    plain = figures["plain read, fresh process"]
    inside = figures["fleet summary, state only, in this process (warm)"]
    ratio = inside / figures["plain read, in process"]
    print(f"fleet summary in process = {ratio:.1f}x the plain read in process")
    for name in ("summary", "issues"):
        seconds = figures[f"fleet {name}, state only"]
        print(
            f"fleet {name} (state only) = {seconds / plain:.1f}x the plain read as a process, "
            f"{seconds / figures['plain read, in process']:.1f}x the in-process read"
        )
    for stand_in in ("/bin/true", "python -c pass"):
        estimate = 2 * count * figures[stand_in]
        print(
            f"ESTIMATE, one Automation API call per stack (2 CLI processes each, spawn cost of "
            f"{stand_in}): >= {estimate:.1f} s, "
            f"{estimate / figures['fleet summary, state only']:.0f}x fleet summary"
        )


if __name__ == "__main__":
    main()
