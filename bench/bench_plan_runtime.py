"""Benchmark: offline plan time per tenant, Docker against ECS, run on demand.

    .venv/bin/python bench/bench_plan_runtime.py [tenants]

Generates `tenants` (default 100) contracts of every tier (bench/fleetgen.py) twice:
once as Docker tenants, once the same contracts as ECS tenants on the platform
stack `organization/afrex-platform/prod`. Plans each fleet in this process, one
process, no cache, the policy pack included (`plan_fleet`), twice, in both orders, and
prints the best time per tenant and per resource for each runtime, the ratio
ECS/Docker, and the one-off cost of planning the platform stack (once per process).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from afrex.catalog import load_catalog  # noqa: E402
from afrex.offline.cache import PlanCache  # noqa: E402
from afrex.offline.fleet import FleetRun, plan_fleet  # noqa: E402
from afrex.offline.platformref import platform_outputs  # noqa: E402
from afrex.stackfiles import find_project, list_stacks  # noqa: E402
from bench.fleetgen import make_project  # noqa: E402

PLATFORM = "organization/afrex-platform/prod"


def to_ecs(project: Path) -> None:
    for path in (project / "stacks").glob("Pulumi.*.yaml"):
        data = yaml.safe_load(path.read_text())
        data["config"]["afrex:tenant"]["runtime"] = "ecs"
        data["config"]["afrex:platformStack"] = PLATFORM
        path.write_text(yaml.safe_dump(data))


def plan(folder: Path) -> tuple[float, FleetRun]:
    project = find_project(folder)
    stacks = list_stacks(project)
    start = time.perf_counter()
    run = plan_fleet(project, load_catalog(), stacks, PlanCache(None), workers=1)
    elapsed = time.perf_counter() - start
    failed = [t.stack for t in run.fleet.tenants if t.error or t.violations]
    if failed:
        sys.exit(f"{folder.name}: {len(failed)} tenant(s) failed or broke a rule: {failed[:3]}")
    return elapsed, run


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory(prefix="afrex-bench-runtime-") as tmp:
        folders = {"docker": Path(tmp) / "docker", "ecs": Path(tmp) / "ecs"}
        for folder in folders.values():
            make_project(folder, count)
        to_ecs(folders["ecs"])
        start = time.perf_counter()
        platform_outputs(PLATFORM, ROOT)  # the platform's own offline plan, once per process
        platform_seconds = time.perf_counter() - start
        best: dict[str, float] = {}
        resources: dict[str, int] = {}
        for order in (("docker", "ecs"), ("ecs", "docker")):  # neither always goes first
            for runtime in order:
                folder = folders[runtime]
                seconds, run = plan(folder)
                best[runtime] = min(best.get(runtime, seconds), seconds)
                resources[runtime] = run.fleet.totals()["resources"]
    agents = run.fleet.totals()["agents"]
    print(f"{count} generated tenants per runtime ({agents} agents), one process, no cache")
    print(f"load average when done: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"platform stack planned once per process: {platform_seconds * 1000:.0f} ms")
    for runtime, seconds in best.items():
        per_resource = seconds / resources[runtime] * 1000
        print(
            f"{runtime:>6}: {seconds:.2f} s, {seconds / count * 1000:.1f} ms per tenant, "
            f"{resources[runtime] / count:.1f} resources per tenant, {per_resource:.2f} ms each"
        )
    ratio = best["ecs"] / best["docker"]
    per_resource = (best["ecs"] / resources["ecs"]) / (best["docker"] / resources["docker"])
    print(f"ecs / docker per tenant: {ratio:.2f}x; per resource: {per_resource:.2f}x")


if __name__ == "__main__":
    main()
