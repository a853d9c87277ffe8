"""Benchmark: reading the fleet's stack files through the door, against a plain read.

    .venv/bin/python bench/bench_stacks.py [tenants]

Generates `tenants` stack files (default 1,000; bench/fleetgen.py) and times, as
fresh processes, best of 3:

- the baseline: a plain read of the same files (read every file, parse it with
  libyaml's C loader, nothing else), and the same with PyYAML's pure-Python
  loader (what `afrex revenue` used to spend its time in);
- `afrex revenue` (every stack through the door: safe YAML, one file per tenant,
  TenantSpec and the rest of the validation, then MRR/ARR);
- `afrex invoice --all` for a month, against moto's server with no samples (the
  CloudWatch queries are batched: 500 per call);
- a second baseline for invoices: a plain write of as many files (2 per tenant,
  3 KB each, created beside the target and renamed over it, no fsync), the floor
  of any run that writes one JSON and one HTML file per tenant on this disk.

The hardening issue's aim: revenue and invoice --all within 4x of the plain read.
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

from bench.fleetgen import MONTH, make_project  # noqa: E402
from tests.services import start_moto  # noqa: E402

PLAIN_READ = """
import pathlib, sys, yaml
loader = getattr(yaml, sys.argv[1])
for path in sorted(pathlib.Path(sys.argv[2]).glob("Pulumi.*.yaml")):
    yaml.load(path.read_bytes(), Loader=loader)
"""

PLAIN_WRITE = """
import os, pathlib, sys, tempfile
folder = pathlib.Path(sys.argv[1])
folder.mkdir(exist_ok=True)
for n in range(int(sys.argv[2])):
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".f.", suffix=".tmp")
    os.write(handle, b"x" * 3000)
    os.close(handle)
    os.replace(temp, folder / f"f{n}")
"""


def best_of(command: list[str], env: dict[str, str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    server = start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="afrex-bench-") as tmp:
            project = Path(tmp)
            make_project(project, count)
            env = {
                **os.environ,
                "AFREX_PROJECT": str(project),
                "AWS_ENDPOINT_URL": server.endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
            }
            stacks = str(project / "stacks")
            plain = best_of([sys.executable, "-c", PLAIN_READ, "CSafeLoader", stacks], env)
            pure = best_of([sys.executable, "-c", PLAIN_READ, "SafeLoader", stacks], env)
            afrex = [sys.executable, "-m", "afrex.cli.main"]
            revenue = best_of([*afrex, "revenue"], env)
            invoices = best_of([*afrex, "invoice", "--all", "--month", MONTH], env)
            write = [sys.executable, "-c", PLAIN_WRITE, str(project / "plain"), str(2 * count)]
            written = best_of(write, env)
    finally:
        server.stop()
    print(f"{count} stack files, each figure the best of 3 fresh processes")
    print(f"plain read (libyaml C loader, the baseline): {plain:.2f} s")
    print(f"plain read (pure-Python loader):             {pure:.2f} s ({pure / plain:.1f}x)")
    print(f"afrex revenue:                               {revenue:.2f} s ({revenue / plain:.1f}x)")
    print(
        f"afrex invoice --all --month {MONTH}:        {invoices:.2f} s "
        f"({invoices / plain:.1f}x; moto, no samples)"
    )
    floor = plain + written
    print(f"plain write of {2 * count} files:                {written:.2f} s")
    print(
        f"invoice --all against plain read + plain write ({floor:.2f} s): {invoices / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
