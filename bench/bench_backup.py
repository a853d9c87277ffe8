"""Benchmark: `afrex backup create` of 256 MB of agent state to moto's S3, run on demand.

    .venv/bin/python bench/bench_backup.py [megabytes] [mix]

mix: `mixed` (default: half JSON lines of conversation, half random bytes, like memory
files next to embeddings), `random` (incompressible) or `text`.

Starts its own Podman service (private socket) and moto server, deploys one tenant
(stack file, checkpoint with the real program's outputs, bucket, agent container and
volume), writes the state into the agent's volume, then in the same run:

1. the baseline: a plain boto3 `upload_file` of the same bytes (the state as a tar
   file on local disk), in a fresh process;
2. `afrex backup create --tenant <id>` in a fresh process (engine archive API ->
   gzip -> parallel multipart upload, then the manifest);

alternated, best of three each, and prints each one's process wall time and its
transfer time (client + upload for the plain upload; for the backup, the tenant's
`seconds` from `--format json`: its S3 and engine clients, the archive and the
manifest), throughput over the state's bytes, both ratios, and each process's peak
memory (RSS high-water mark, VmHWM, the highest of its runs). It also measures
zlib's speed and ratio at several levels, and the deflate afrex uses (igzip), on
samples of each kind of state (the choice of `afrex.archive.GZIP_LEVEL`).
Aim: backup >= 0.8x the plain upload, peak < 150 MB.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from afrex import archive  # noqa: E402
from afrex.archive import GZIP_LEVEL  # noqa: E402
from tests.afrex.backups.deployed import DeployedFleet, build_image  # noqa: E402
from tests.engine import start_service, stop_service  # noqa: E402
from tests.services import start_moto  # noqa: E402

MB = 1000 * 1000
ROUNDS = 3
WORDS = (
    "the be to of and a in that have I it for not on with he as you do at this but his by "
    "from they we say her she or an will my one all would there their what so up out if "
    "about who get which go me when make can like time no just him know take people into "
    "year your good some could them see other than then now look only come its over think "
    "also back after use two how our work first well way even new want because any these "
    "give day most us customer invoice contract clause review meeting schedule report "
    "agent task result summary"
).split()
TENANT = "cust-bench-backup-1767225600"
PLAIN_UPLOAD = """
import sys, time, boto3
from boto3.s3.transfer import TransferConfig
started = time.perf_counter()
client = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
client.upload_file(sys.argv[3], sys.argv[2], "plain/state.tar", Config=TransferConfig())
print(time.perf_counter() - started)
"""


def conversation(rng: random.Random, size: int) -> bytes:
    """`size` bytes of JSON lines like an agent's memory: messages with ids, times, roles
    and English-like text (words drawn with Zipf-like weights)."""
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    out, count, number = io.StringIO(), 0, 0
    while count < size:
        record = {
            "id": f"msg-{number:08d}",
            "ts": f"2026-11-{1 + number % 28:02d}T{number % 24:02d}:{number % 60:02d}:00Z",
            "role": rng.choice(("user", "assistant", "tool")),
            "content": " ".join(rng.choices(WORDS, weights, k=rng.randint(6, 30))),
            "tokens": rng.randint(5, 900),
        }
        count += out.write(json.dumps(record) + "\n")
        number += 1
    return out.getvalue().encode()[:size]


def state_files(total: int, mix: str) -> dict[str, bytes]:
    """`total` bytes of agent state in files of 8 MB: text, random, or half of each."""
    rng = random.Random(256)
    files: dict[str, bytes] = {}
    size, index = 8 * MB, 0
    while sum(len(data) for data in files.values()) < total:
        kind = mix if mix != "mixed" else ("text" if index % 2 == 0 else "random")
        data = conversation(rng, size) if kind == "text" else rng.randbytes(size)
        files[f"memory/part-{index:03d}.{'jsonl' if kind == 'text' else 'bin'}"] = data
        index += 1
    return files


def as_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def peak_rss(pid: int) -> int:
    """The process's RSS high-water mark so far (VmHWM), in bytes; 0 once it is gone.
    Read from /proc rather than wait4's ru_maxrss, which also counts the pages the
    child shared with this (large) process between fork and exec."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for row in status.splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class Run:
    """One measured process: wall time, its own transfer time, peak RSS."""

    wall: float
    transfer: float
    peak: int


def run_measured(
    command: list[str], env: dict[str, str], transfer: Callable[[bytes], float]
) -> Run:
    """Run a fresh process, polling its peak RSS; `transfer` reads its transfer time
    from its output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, peak_rss(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else b""
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed with exit {process.returncode}")
    return Run(wall, transfer(output), peak)


def gzip_levels(samples: dict[str, bytes]) -> list[tuple[str, str, float, float]]:
    """(kind, compressor, MB/s, compressed/original) of zlib's levels and the deflate
    afrex uses (igzip where `isal` is installed) on a sample of each kind of state."""
    results = []
    compressors: list[tuple[str, Callable[[bytes], bytes]]] = [
        (f"zlib level {level}", functools.partial(zlib.compress, level=level))
        for level in (0, 1, 3, 6)
    ]
    module = archive.deflate.__name__.split(".")[-1]
    compressors.append(
        (
            f"afrex ({module}) level {GZIP_LEVEL}",
            functools.partial(archive.deflate.compress, level=GZIP_LEVEL),
        )
    )
    for kind, data in samples.items():
        for name, compress in compressors:
            started = time.perf_counter()
            size = len(compress(data))
            seconds = time.perf_counter() - started
            results.append((kind, name, len(data) / MB / seconds, size / len(data)))
    return results


def deploy(folder: Path, total: int, mix: str, fleet: DeployedFleet, endpoint: str) -> str:
    """The tenant deployed, its agent holding the state; returns its bucket. The same
    bytes are left in `folder/state.tar` for the plain upload."""
    os.environ.update(
        AFREX_PROJECT=str(folder / "project"),
        PULUMI_BACKEND_URL=f"file://{folder / 'project' / 'state'}",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AFREX_EVENTS=str(folder / "events"),
    )
    assert fleet.engine is not None
    build_image(fleet.engine, folder)
    view = fleet.deploy(TENANT)
    state = as_tar(state_files(total, mix))
    fleet.put_state(view, view.agents[0].name, state)
    (folder / "state.tar").write_bytes(state)
    return str(view.bucket)


def compare(folder: Path, bucket: str, endpoint: str) -> tuple[list[Run], list[Run]]:
    """Plain upload and backup, alternated ROUNDS times (the machine is shared)."""
    env = dict(os.environ)
    plain = [sys.executable, "-c", PLAIN_UPLOAD, endpoint, bucket, str(folder / "state.tar")]
    backup = [sys.executable, "-m", "afrex.cli.main", "backup", "create"]
    backup += ["--tenant", TENANT, "--format", "json"]
    plains, backups = [], []
    for _ in range(ROUNDS):
        plains.append(run_measured(plain, env, lambda out: float(out)))
        time.sleep(1)  # a new backup id (one per second)
        backups.append(
            run_measured(backup, env, lambda out: json.loads(out)["tenants"][0]["seconds"])
        )
    return plains, backups


def main() -> None:
    total = int(sys.argv[1]) * MB if len(sys.argv) > 1 else 256 * MB
    mix = sys.argv[2] if len(sys.argv) > 2 else "mixed"
    samples = {"text": conversation(random.Random(1), 16 * MB), "random": os.urandom(16 * MB)}
    levels = gzip_levels(samples)
    del samples
    with tempfile.TemporaryDirectory(prefix="afrex-bench-") as tmp:
        folder = Path(tmp)
        (folder / "project" / "stacks").mkdir(parents=True)
        (folder / "project" / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
        server = start_moto()
        service, engine = start_service(folder, timeout=120)
        fleet = DeployedFleet(folder / "project", engine, f"unix://{folder / 'podman.sock'}")
        try:
            bucket = deploy(folder, total, mix, fleet, server.endpoint)
            plains, backups = compare(folder, bucket, server.endpoint)
        finally:
            fleet.clean()
            engine.client.close()
            stop_service(service)
            server.stop()
    report(total, mix, plains, backups, levels)


def report(
    total: int,
    mix: str,
    plains: list[Run],
    backups: list[Run],
    levels: list[tuple[str, str, float, float]],
) -> None:
    print("deflate on 16 MB samples (afrex stores a block that would not shrink)")
    for kind, name, speed, ratio in levels:
        print(f"  {kind:6} {name:30}: {speed:5.0f} MB/s, to {ratio:4.0%}")
    print(f"state: {total / MB:.0f} MB ({mix}); best of {ROUNDS} alternated runs each")
    best = {}
    for label, runs in (("plain boto3 upload_file", plains), ("afrex backup create", backups)):
        wall, transfer = min(r.wall for r in runs), min(r.transfer for r in runs)
        peak = max(r.peak for r in runs)
        best[label] = (wall, transfer)
        print(
            f"{label}: process {wall:.2f} s; transfer {transfer:.2f} s = "
            f"{total / MB / transfer:.0f} MB/s of state; peak RSS {peak / 2**20:.0f} MiB"
        )
    (plain_wall, plain_transfer), (backup_wall, backup_transfer) = best.values()
    print(
        f"backup / plain upload throughput: {plain_transfer / backup_transfer:.2f}x transfer, "
        f"{plain_wall / backup_wall:.2f}x whole process (aim >= 0.8x)"
    )
    highest = max(r.peak for r in backups) / 2**20
    print(f"backup peak memory, highest of the runs: {highest:.0f} MiB (aim < 150 MiB)")


if __name__ == "__main__":
    main()
