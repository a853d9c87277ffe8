"""Benchmark: wall time of `afrex quote` against `python -c pass`, run on demand.

    .venv/bin/python bench/bench_quote.py [runs]

Each command runs `runs` times (default 20) as a fresh process; the median and
best times are printed with their ratio to the baseline measured in the same
run, and `-X importtime` confirms that no Pulumi or boto3 module is imported.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pulumi", "pulumi_aws", "pulumi_docker", "boto3", "botocore")
AFREX = [sys.executable, "-m", "afrex.cli.main"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "afrex --help": [*AFREX, "--help"],
    "afrex quote --tier growth": [*AFREX, "quote", "--tier", "growth"],
    "afrex quote --agents 12 --annual --json": [
        *AFREX,
        "quote",
        "--agents",
        "12",
        "--annual",
        "--json",
    ],
}


def wall_times(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports() -> list[str]:
    """Top-level packages from HEAVY that `afrex quote` imports (expected: none)."""
    command = [sys.executable, "-X", "importtime", *COMMANDS["afrex quote --tier growth"][1:]]
    result = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    wall_times(COMMANDS["afrex quote --tier growth"], 2)  # warm the bytecode and disk caches
    results = {label: wall_times(command, runs) for label, command in COMMANDS.items()}
    baseline = statistics.median(results["python -c pass (baseline)"])
    print(f"{runs} runs each, python {sys.version.split()[0]}")
    print(f"{'command':<42} {'median ms':>10} {'best ms':>9} {'x baseline':>11}")
    for label, times in results.items():
        median = statistics.median(times)
        print(
            f"{label:<42} {median * 1000:>10.1f} {min(times) * 1000:>9.1f} "
            f"{median / baseline:>11.1f}"
        )
    heavy = heavy_imports()
    print("heavy modules imported by afrex quote:", ", ".join(heavy) if heavy else "none")
    if heavy:
        sys.exit(1)


if __name__ == "__main__":
    main()
