"""Benchmark: one `sla check` round over 300 agents served by a local stub gateway.

    .venv/bin/python bench/bench_sla_check.py [agents]

A throw-away project of growth tenants (3 agents each) deployed in a file://
state backend; every agent's gatewayAddress is a port on 127.0.0.1 where a stub
gateway (a separate asyncio process, one listener per port) answers /healthz;
a tenth of the ports are closed, so those agents are down and alerted (SNS
topics in moto's server, which also takes the metrics). Docker state is
bypassed by feeding container statuses directly (`Services.containers`, the
domain's documented seam): every container "running". Reports the round's
wall time, PutMetricData calls and alerts, against the same probes sent one
at a time in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUB = """
import asyncio, sys
async def answer(reader, writer):
    await reader.readline()
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n")
    await writer.drain(); writer.close()
async def main():
    servers = [await asyncio.start_server(answer, "127.0.0.1", 0) for _ in range(int(sys.argv[1]))]
    print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
"""


def main(agents: int = 300) -> None:
    from afrex.catalog import load_catalog
    from afrex.containers import ContainerStatus, LiveContainers
    from afrex.events import FolderEventLog
    from afrex.sla.check import Services, check_fleet
    from afrex.sla.probe import Target, probe_agents
    from afrex.stackfiles import find_project
    from tests.helpers import write_stack
    from tests.services import free_port, start_moto
    from tests.statefixture import write_checkpoint

    moto = start_moto()
    stub = None
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-sla-"))
        (folder / "stacks").mkdir()
        (folder / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
        os.environ.update(
            AFREX_PROJECT=str(folder),
            PULUMI_BACKEND_URL=f"file://{folder / 'state'}",
            AWS_ENDPOINT_URL=moto.endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
        )
        import boto3

        sns = boto3.client("sns")
        down = agents // 10
        stub = subprocess.Popen(
            [sys.executable, "-c", STUB, str(agents - down)], stdout=subprocess.PIPE, text=True
        )
        assert stub.stdout is not None
        ports = [int(p) for p in stub.stdout.readline().split()] + [
            free_port()
            for _ in range(down)  # nothing listens there: those agents are down
        ]
        names = ["general-assistant", "researcher", "scheduler"]
        for index in range(agents // 3):
            tenant = f"cust-bench-check-{index:04d}-1767225600"
            write_stack(folder / "stacks", tenant, tier="growth", vertical="general")
            topic = sns.create_topic(Name=f"afrex-{tenant}-sla")["TopicArn"]
            outputs = {
                "agents": [
                    {
                        "name": name,
                        "container": f"afrex-{tenant}-{name}",
                        "volume": "",
                        "gatewayAddress": f"127.0.0.1:{ports[index * 3 + n]}",
                    }
                    for n, name in enumerate(names)
                ],
                "snsTopicArn": topic,
            }
            write_checkpoint(folder / "state", "afrex", tenant, outputs)

        def running(views: list, timeout: float) -> LiveContainers:  # type: ignore[type-arg]
            live = LiveContainers()
            for view in views:
                for agent in view.agents:
                    live.statuses[(view.id, agent.name)] = ContainerStatus(
                        view.id, agent.name, agent.container, "running"
                    )
            return live

        services = Services(containers=running, events=FolderEventLog(folder / "events"))
        catalog, project = load_catalog(), find_project()
        check_fleet(catalog=catalog, project=project, services=services)  # warm-up
        started = time.perf_counter()
        result = check_fleet(catalog=catalog, project=project, services=services)
        wall = time.perf_counter() - started

        targets = [Target(p.tenant, p.agent, p.container, p.gateway, None) for p in result.probes]
        path, timeout = catalog.gateway.health_path, float(catalog.telemetry.probe_timeout_seconds)
        started = time.perf_counter()
        probe_agents(targets, path, timeout, catalog.telemetry.probe_concurrency)
        concurrent = time.perf_counter() - started
        started = time.perf_counter()
        probe_agents(targets, path, timeout, 1)
        one_at_a_time = time.perf_counter() - started

        published = result.published
        print(f"agents: {len(result.probes)} ({len(result.down)} down, closed ports)")
        print(f"sla check round: {wall:.2f} s wall (probes, 1 metrics batch, alerts, events)")
        print(
            f"  PutMetricData calls: {published.calls if published else 0} "
            f"for {published.items if published else 0} data items"
        )
        print(f"  alerts sent: {sum(1 for a in result.alerts if a.sent)}, events: {result.events}")
        print(
            f"probes alone: {concurrent:.2f} s concurrent, {one_at_a_time:.2f} s one at a "
            f"time ({one_at_a_time / concurrent:.1f}x)"
        )
    finally:
        if stub is not None:
            stub.kill()
            stub.wait()
        moto.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
