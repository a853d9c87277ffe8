"""Atomic writes: groups appear whole, a killed writer is recovered, a full disk
says what was and was not written."""

from __future__ import annotations

import errno
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex import atomicfiles
from afrex.atomicfiles import recover, signals_held, stage_file, write_atomic, write_group
from afrex.cli.main import app
from tests.billing.fleet import Fleet

runner = CliRunner()
MONTH = "2026-10"
TENANTS = [f"cust-disk-{name}-1767225600" for name in ("alpha", "bravo", "charlie")]


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def test_write_atomic_and_group_write_whole_files(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "one.txt", "first")
    write_atomic(tmp_path / "a" / "one.txt", b"second")
    assert (tmp_path / "a" / "one.txt").read_text() == "second"
    write_group({tmp_path / "a" / "x.json": "{}", tmp_path / "a" / "x.html": "<p>"})
    assert contents(tmp_path / "a") == {"one.txt": b"second", "x.json": b"{}", "x.html": b"<p>"}
    assert hidden(tmp_path / "a") == []
    with pytest.raises(ValueError, match="one folder"):
        write_group({tmp_path / "a" / "y": "1", tmp_path / "b" / "y": "2"})


def killed_writer(folder: Path, files: dict[str, str], renamed: int, journal: bool) -> None:
    """The files a writer SIGKILLed inside `write_group` leaves: every temporary
    staged, the journal written (or not yet), the first `renamed` renames done."""
    staged = {folder / name: stage_file(folder / name, text) for name, text in files.items()}
    if journal:
        atomicfiles._write_journal(folder, staged)
    for target, temp in list(staged.items())[:renamed]:
        os.replace(temp, target)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
    ),
    data=st.data(),
)
def test_recover_completes_a_journaled_group_and_drops_an_unjournaled_one(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("group")
    old = {f"{n}.json": f"old {n}" for n in names}
    new = {f"{n}.json": f"new {n}" for n in names}
    had_old = data.draw(st.booleans(), label="targets existed before")
    if had_old:
        write_group({folder / k: v for k, v in old.items()})
    journal = data.draw(st.booleans(), label="killed after the journal")
    renamed = data.draw(st.integers(0, len(names) if journal else 0), label="renames done")
    killed_writer(folder, new, renamed, journal)
    (folder / ".stray.json.x1.tmp").write_text("a temporary no journal names")

    recover(folder)

    expected = new if journal else (old if had_old else {})
    assert {k: v.decode() for k, v in contents(folder).items()} == expected
    assert hidden(folder) == []


def test_a_torn_journal_was_never_committed(tmp_path: Path) -> None:
    write_group({tmp_path / "a.json": "old a", tmp_path / "a.html": "old a"})
    killed_writer(tmp_path, {"a.json": "new a", "a.html": "new a"}, 0, journal=False)
    (tmp_path / ".a.json.torn.commit").write_text('{"renames": [[".a.json.')
    (tmp_path / ".b.json.evil.commit").write_text(json.dumps({"renames": [["a.json", "../x"]]}))
    recover(tmp_path)
    assert contents(tmp_path) == {"a.json": b"old a", "a.html": b"old a"}
    assert hidden(tmp_path) == []


def test_recover_leaves_a_running_writers_files_alone(tmp_path: Path) -> None:
    temp = stage_file(tmp_path / "a.json", "being written")
    with atomicfiles._folder_lock(tmp_path, exclusive=False):  # a writer holds the folder
        atomicfiles.LOCK_WAIT_SECONDS, wait = 0.2, atomicfiles.LOCK_WAIT_SECONDS
        try:
            assert recover(tmp_path) == []
        finally:
            atomicfiles.LOCK_WAIT_SECONDS = wait
        assert temp.exists()
    recover(tmp_path)
    assert not temp.exists()


def test_sigterm_during_the_renames_waits_for_the_whole_group(tmp_path: Path) -> None:
    caught: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda s, _: caught.append(s))
    real_replace = os.replace

    def replace_then_signal(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
        assert caught == []

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "replace", replace_then_signal)
            write_group({tmp_path / "a.json": "1", tmp_path / "a.html": "2"})
        assert caught == [signal.SIGTERM]  # delivered once, after the group
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert contents(tmp_path) == {"a.json": b"1", "a.html": b"2"}
    before = signal.getsignal(signal.SIGINT)
    with signals_held():
        pass
    assert signal.getsignal(signal.SIGINT) is before


@pytest.fixture
def disk_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_endpoint: str) -> Fleet:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
    monkeypatch.setenv("AFREX_PROJECT", str(tmp_path))
    fleet = Fleet(tmp_path)
    for tenant in TENANTS:
        fleet.add(tenant, tier="growth", vertical="general")
    return fleet


@pytest.mark.parametrize("failing_call", range(1, 2 * len(TENANTS) + 1))
def test_a_full_disk_says_what_was_and_was_not_written(
    disk_fleet: Fleet, monkeypatch: pytest.MonkeyPatch, failing_call: int
) -> None:
    folder = disk_fleet.invoices / MONTH
    folder.mkdir(parents=True)
    (folder / "earlier.json").write_text("kept\n")
    calls: list[Path] = []
    real = atomicfiles.stage_file

    def disk_fills_up(path: Path, data: str | bytes, sync: bool = True) -> Path:
        calls.append(path)
        if len(calls) == failing_call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data, sync)

    monkeypatch.setattr(atomicfiles, "stage_file", disk_fills_up)
    result = runner.invoke(app, ["invoice", "--all", "--month", MONTH], env={"COLUMNS": "400"})
    assert result.exit_code == 1, result.output
    (message,) = result.stderr.strip().splitlines()
    failed = (failing_call - 1) // 2  # two files (a stage call each) per invoice
    ids = [f"INV-{t}-{MONTH}" for t in sorted(TENANTS)]
    assert f"cannot write the {len(ids)} invoice(s): No space left on device" in message
    assert f"at invoice {failed + 1} of {len(ids)} ({ids[failed]})" in message
    assert "none was written" in message and "nothing was half-written" in message
    assert "with free space" in message
    assert set(contents(folder)) == {"earlier.json"} and hidden(folder) == []
    assert (folder / "earlier.json").read_text() == "kept\n"
