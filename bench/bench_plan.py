"""Benchmark: `afrex plan` over generated tenants (mixed tiers), run on demand.

    .venv/bin/python bench/bench_plan.py [tenants]

Generates a project of `tenants` stack files (default 100) and times the whole
command as a fresh process (policy pack included), against `python -c pass` in
the same run:
  1. cold, empty cache, one worker per core;
  2. warm, one tenant's stack file changed (the rest from the cache);
  3. cold, one process, no parallelism (`--workers 1`).
Prints seconds per tenant and the ratios between the runs.
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

from bench.fleetgen import make_project  # noqa: E402


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[2:])} exited {done.returncode}")
    return elapsed


def change_one(project: Path) -> None:
    """Edit one tenant's stack file the way an operator would (a new contact)."""
    stack = sorted((project / "stacks").glob("Pulumi.*.yaml"))[0]
    text = stack.read_text()
    stack.write_text(text.replace("contact: ops", "contact: billing-ops", 1))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory(prefix="afrex-bench-plan-") as tmp:
        project = Path(tmp)
        make_project(project, count)
        env = {**os.environ, "AFREX_PROJECT": str(project)}
        baseline = min(timed([sys.executable, "-c", "pass"], env) for _ in range(5))
        plan = [sys.executable, "-m", "afrex.cli.main", "plan", "--json"]
        runs = {}
        env["AFREX_CACHE_DIR"] = str(project / "cache-parallel")
        runs["cold, parallel"] = timed(plan, env)
        change_one(project)
        runs["warm, one tenant changed"] = timed(plan, env)
        runs["warm, nothing changed"] = timed(plan, env)
        env["AFREX_CACHE_DIR"] = str(project / "cache-serial")
        runs["cold, one process"] = timed([*plan, "--workers", "1"], env)
    print(f"{count} generated tenants, {os.cpu_count()} cores")
    print(f"python -c pass (baseline, best of 5): {baseline * 1000:.1f} ms")
    for label, seconds in runs.items():
        print(
            f"afrex plan, {label}: {seconds:.2f} s ({seconds / count * 1000:.1f} ms per tenant, "
            f"{seconds / baseline:.0f}x baseline)"
        )
    serial, parallel = runs["cold, one process"], runs["cold, parallel"]
    warm = runs["warm, one tenant changed"]
    print(f"parallel speed-up (cold, one process / cold, parallel): {serial / parallel:.2f}x")
    print(f"cache speed-up (cold, parallel / warm, one changed): {parallel / warm:.1f}x")


if __name__ == "__main__":
    main()
