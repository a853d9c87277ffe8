"""Signals leave nothing behind: real `afrex` processes are interrupted (SIGTERM,
Ctrl-C, SIGKILL) and checked for orphans and stray files.

Processes are followed through /proc (Linux only): every descendant of the
command is recorded, with its start time so a reused pid is not mistaken for
it, and must be gone (or a zombie) a few seconds after the command ends.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from afrex.atomicfiles import recover
from tests.helpers import ROOT, write_stack

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

AFREX = str(Path(sys.executable).with_name("afrex"))
MONTH = "2026-10"
GONE_WITHIN_SECONDS = 10.0
START_WITHIN_SECONDS = 120.0


def stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, process group, start time) of a live pid, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def processes() -> dict[int, tuple[str, int, int, int]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := stat(int(entry.name))) is not None:
            found[int(entry.name)] = info
    return found


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of `root`: pid -> start time."""
    table = processes()
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = table[pid][3]
        todo.extend(children.get(pid, []))
    return found


def alive(pid: int, started: int) -> bool:
    info = stat(pid)
    return info is not None and info[3] == started and info[0] not in ("Z", "X")


def survivors(recorded: dict[int, int], group: int) -> list[str]:
    """Recorded processes still running, and anything left in the command's group."""
    left = {pid for pid, started in recorded.items() if alive(pid, started)}
    left |= {p for p, i in processes().items() if i[2] == group and i[0] not in ("Z", "X")}
    return [f"{pid}: {cmdline(pid)}" for pid in sorted(left)]


def wait_for_no_survivors(recorded: dict[int, int], group: int) -> None:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while (left := survivors(recorded, group)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"orphans after {GONE_WITHIN_SECONDS}s: {left}"


def stray_files(folder: Path) -> list[Path]:
    """Temporaries and journals of interrupted writes."""
    return [p for p in folder.rglob(".*") if p.name.endswith((".tmp", ".commit"))]


@pytest.fixture
def plan_project(tmp_path: Path) -> Path:
    """A project of 27 stacks: enough that two workers plan while the pack runs."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", folder / "stacks")
    for n in range(24):
        write_stack(folder / "stacks", f"cust-sig-{n:03d}-1767225600", tier="starter")
    return folder


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`afrex <args>` in a session (and process group) of its own."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [AFREX, *args],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_pack_and_workers(process: subprocess.Popen[bytes]) -> dict[int, int]:
    """Poll until the policy pack and two plan workers run; their process tree."""
    deadline = time.monotonic() + START_WITHIN_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the plan ended before it could be interrupted"
        tree = descendants(process.pid)
        lines = [cmdline(pid) for pid in tree]
        pack = any("policies/__main__.py" in line for line in lines)
        workers = sum("spawn_main" in line for line in lines)
        if pack and workers >= 2:
            return tree
        time.sleep(0.05)
    raise AssertionError("the policy pack and two workers never ran together")


@pytest.mark.parametrize(
    ("sent", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True), (signal.SIGKILL, False)],
    ids=["sigterm", "ctrl-c", "sigkill-parent"],
)
def test_an_interrupted_plan_leaves_no_process_and_no_temporary_file(
    plan_project: Path, tmp_path: Path, sent: signal.Signals, to_group: bool
) -> None:
    cache = tmp_path / "cache"
    log = tmp_path / "plan.log"
    env = {"AFREX_PROJECT": str(plan_project), "AFREX_CACHE_DIR": str(cache)}
    process = start(["plan", "--workers", "2"], env, log)
    try:
        tree = wait_for_pack_and_workers(process)
        tree |= descendants(process.pid)  # and any started since
        if to_group:  # Ctrl-C: the terminal signals the whole foreground group
            os.killpg(process.pid, sent)
        else:
            os.kill(process.pid, sent)
        code = process.wait(timeout=30)
        wait_for_no_survivors(tree, process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text(errors="replace")
    if sent == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, output
        assert "Traceback" not in output, output
    elif sent == signal.SIGINT:
        assert code == 128 + signal.SIGINT, output
        assert "Traceback" not in output, output
    if sent != signal.SIGKILL and cache.exists():  # a SIGKILL may cut a write in two
        assert stray_files(cache) == []


def test_a_plan_worker_killed_mid_run_is_one_line_exit_1_and_no_orphans(
    plan_project: Path, tmp_path: Path
) -> None:
    """The out-of-memory killer (or an operator) ends one worker: the command says so
    in one line and exits 1; the other worker and the pack are stopped with it."""
    log = tmp_path / "plan.log"
    env = {"AFREX_PROJECT": str(plan_project), "AFREX_CACHE_DIR": str(tmp_path / "cache")}
    process = start(["plan", "--workers", "2", "--no-cache"], env, log)
    try:
        tree = wait_for_pack_and_workers(process)
        worker = next(pid for pid in tree if "spawn_main" in cmdline(pid))
        os.kill(worker, signal.SIGKILL)
        code = process.wait(timeout=30)
        wait_for_no_survivors(tree | descendants(process.pid), process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text(errors="replace")
    assert code == 1, output
    assert "Traceback" not in output, output
    assert "a worker process died while planning the fleet" in output, output


def invoice_fleet(folder: Path, count: int) -> Path:
    (folder / "stacks").mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
    for n in range(count):
        write_stack(folder / "stacks", f"cust-bill-{n:03d}-1767225600", tier="growth")
    return folder


def pairs(folder: Path) -> tuple[set[str], set[str]]:
    return {p.stem for p in folder.glob("*.json")}, {p.stem for p in folder.glob("*.html")}


def test_invoice_runs_killed_at_random_moments_leave_whole_pairs(
    tmp_path: Path, aws_endpoint: str
) -> None:
    project = invoice_fleet(tmp_path / "project", 150)
    env = {"AFREX_PROJECT": str(project)}
    reference = tmp_path / "reference"
    done = subprocess.run(
        [AFREX, "invoice", "--all", "--month", MONTH, "--output", str(reference)],
        env={**os.environ, **env},
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    expected = {p.name: p.read_bytes() for p in (reference / MONTH).iterdir()}
    assert len(expected) == 300

    rng = random.Random(20261124)
    for attempt in range(4):
        out = tmp_path / f"killed-{attempt}"
        folder = out / MONTH
        log = tmp_path / f"killed-{attempt}.log"
        process = start(["invoice", "--all", "--month", MONTH, "--output", str(out)], env, log)
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while not folder.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)  # writing starts when the month's folder appears
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if not folder.exists():
            continue

        if attempt % 2 == 0:  # what the next run does first, checked on its own
            recover(folder)
            json_files, html_files = pairs(folder)
            assert json_files == html_files, f"attempt {attempt}: a pair was split"
            assert stray_files(folder) == []
            for path in folder.iterdir():
                assert path.read_bytes() == expected[path.name], f"{path.name} is not whole"

        again = subprocess.run(
            [AFREX, "invoice", "--all", "--month", MONTH, "--output", str(out)],
            env={**os.environ, **env},
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert again.returncode == 0, again.stderr.decode(errors="replace")
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == expected  # no stray file
