"""Atomic writes: a file, or a group of files, appears whole or not at all.

- `write_atomic(path, data)`: one file; readers see the old or the new content.
- `write_group({path: data, ...})`: several files (an invoice's JSON and HTML)
  that appear together; `write_groups([...])`: many such groups of one folder,
  all or none, synced once (a month of invoices). Each file is staged as a
  synced temporary file beside its target; then a journal
  (`.<first name>.<random>.commit`, listing temp -> target) is written, the
  temporaries are renamed over their targets with SIGINT and SIGTERM held back,
  and the journal is deleted. A failure before the journal leaves every target
  as it was; a failed rename puts the renamed targets back.
- `recover(folder)`: what a killed writer left behind. A journal rolls forward
  (its temporaries were complete before it was written); temporaries that no
  journal names are deleted. Call it on a folder before writing into it.

Writers hold a shared lock on each target folder while they write, and
`recover` takes it exclusively, so it never touches the files of a writer that
is still running. Temporary files are hidden: `.<target name>.<random>.tmp`.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not on POSIX: writers are not locked against `recover`
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".tmp"
JOURNAL_SUFFIX = ".commit"
HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
LOCK_WAIT_SECONDS = 5.0

Data = str | bytes


def stage_file(path: Path, data: Data, sync: bool = True) -> Path:
    """Write `data` to a temporary file beside `path`, to be renamed over it; synced
    unless the caller syncs a whole batch at once (`sync=False`, then `sync_filesystem`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_atomic(path: Path, data: Data) -> None:
    """Write one file so readers see the old or the new content, never half of it."""
    with _folder_lock(path.parent, exclusive=False):
        temp = stage_file(path, data)
        try:
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


def write_group(files: Mapping[Path, Data]) -> None:
    """Write every file (all in one folder) or none: on an error every target is
    left as it was; a writer killed half-way leaves a journal `recover` completes."""
    write_groups([files])


def write_groups(groups: Sequence[Mapping[Path, Data]]) -> None:
    """`write_group` for many groups of one folder at once (a month of invoices): all
    of them or none, staged unsynced and then synced once, with one journal, so a
    thousand files cost a handful of syncs instead of thousands."""
    files = {path: data for group in groups for path, data in group.items()}
    if not files:
        return
    targets = list(files)
    folder = targets[0].parent
    if any(t.parent != folder for t in targets):
        raise ValueError("write_group writes files of one folder only")
    batch = len(files) > 2
    with _folder_lock(folder, exclusive=False):
        previous = {t: t.read_bytes() if t.is_file() else None for t in targets}
        staged: dict[Path, Path] = {}
        journal: Path | None = None
        try:
            for target in targets:
                try:
                    staged[target] = stage_file(target, files[target], sync=not batch)
                except OSError as error:
                    error.filename = error.filename or str(target)  # name what failed
                    raise
            if batch:
                sync_filesystem(folder)
            journal = _write_journal(folder, staged)
        except BaseException:
            _discard(staged.values(), journal)
            raise
        with signals_held():
            _commit(staged, previous, journal)


def _commit(staged: dict[Path, Path], previous: dict[Path, bytes | None], journal: Path) -> None:
    """Rename every temporary over its target, then drop the journal. On a failed
    rename the targets already renamed are put back; if even that fails, the
    journal stays and `recover` completes the group."""
    done: list[Path] = []
    try:
        for target, temp in staged.items():
            os.replace(temp, target)
            done.append(target)
    except BaseException:
        for target in done:
            _put_back(target, previous[target])
        _discard(staged.values(), journal)
        raise
    _sync_folder(journal.parent)
    journal.unlink(missing_ok=True)


def _put_back(target: Path, content: bytes | None) -> None:
    if content is None:
        target.unlink(missing_ok=True)
    else:
        os.replace(stage_file(target, content), target)


def _discard(temps: Iterable[Path], journal: Path | None) -> None:
    if journal is not None:
        journal.unlink(missing_ok=True)
    for temp in temps:
        temp.unlink(missing_ok=True)


def _write_journal(folder: Path, staged: Mapping[Path, Path]) -> Path:
    """The commit record, synced before any rename; it is valid JSON only when whole."""
    first = next(iter(staged))
    renames = [[temp.name, target.name] for target, temp in staged.items()]
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{first.name}.", suffix=JOURNAL_SUFFIX)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"renames": renames}, out)
            out.flush()
            os.fsync(out.fileno())
        _sync_folder(folder)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def recover(folder: Path) -> list[Path]:
    """Finish what a killed writer left in `folder`: roll journals forward and
    delete temporaries no journal names. Returns the targets it completed.

    A folder that does not exist needs nothing; if another writer holds the
    folder for longer than a few seconds, it is left alone (that writer cleans
    up after itself).
    """
    if not folder.is_dir():
        return []
    completed: list[Path] = []
    with _folder_lock(folder, exclusive=True) as locked:
        if not locked:
            return []
        journals = [p for p in folder.iterdir() if _hidden(p, JOURNAL_SUFFIX) and p.is_file()]
        for journal in sorted(journals, key=lambda p: p.stat().st_mtime_ns):
            completed.extend(_roll_forward(journal))
        for path in folder.iterdir():
            if _hidden(path, TEMP_SUFFIX):
                path.unlink(missing_ok=True)
        _sync_folder(folder)
    return completed


def _hidden(path: Path, suffix: str) -> bool:
    return path.name.startswith(".") and path.name.endswith(suffix)


def _roll_forward(journal: Path) -> list[Path]:
    """Rename what the journal lists (each temporary still there); a journal that
    is not whole was never committed: it is dropped and its temporaries with it."""
    try:
        renames = _read_journal(journal)
    except (OSError, ValueError):
        renames = []
    completed = []
    for temp, target in renames:
        if temp.is_file():
            os.replace(temp, target)
            completed.append(target)
    _sync_folder(journal.parent)
    journal.unlink(missing_ok=True)
    return completed


def _read_journal(journal: Path) -> list[tuple[Path, Path]]:
    """The journal's renames: plain names in the journal's own folder, each from
    one of our temporaries to the target it was staged for."""
    data = json.loads(journal.read_text(encoding="utf-8"))
    pairs = data.get("renames") if isinstance(data, dict) else None
    if not isinstance(pairs, list):
        raise ValueError("not a journal")
    renames = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError("not a journal entry")
        temp, target = pair
        if not (isinstance(temp, str) and isinstance(target, str)):
            raise ValueError("not a journal entry")
        if "/" in temp + target or not temp.startswith(f".{target}.") or target in ("", ".", ".."):
            raise ValueError("not a temporary beside its target")
        renames.append((journal.parent / temp, journal.parent / target))
    return renames


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends, then act as they would have.

    In the main thread the Python handlers are swapped for recorders as well: a
    signal the kernel hands to another thread would otherwise still run the main
    thread's handler mid-block. In other threads only the thread's mask changes.
    """
    swapped: dict[signal.Signals, Any] = {}
    caught: list[int] = []
    if threading.current_thread() is threading.main_thread():
        for held in HELD_SIGNALS:
            if signal.getsignal(held) is not None:  # None: set outside Python, left alone
                swapped[held] = signal.signal(held, lambda s, _: caught.append(s))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # pending ones reach the recorders
        for number, handler in swapped.items():
            signal.signal(number, handler)
        for arrived in dict.fromkeys(caught):  # once each, in the order they came
            signal.raise_signal(arrived)


@contextmanager
def _folder_lock(folder: Path, exclusive: bool) -> Iterator[bool]:
    """flock(2) on the folder itself (no lock file beside the data): shared for
    writers, exclusive for `recover`, which gives up after a few seconds (False)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield True
        return
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if exclusive:
            yield _lock_exclusive(handle)
        else:
            fcntl.flock(handle, fcntl.LOCK_SH)
            yield True
    finally:
        os.close(handle)  # releases the lock


def _lock_exclusive(handle: int) -> bool:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def sync_filesystem(folder: Path) -> None:
    """Flush every file written on `folder`'s file system (syncfs(2); sync(2) elsewhere)."""
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if _syncfs is None or _syncfs(handle) != 0:
            os.sync()
    finally:
        os.close(handle)


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function: Callable[[int], int] = libc.syncfs
        return function
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()


def _sync_folder(folder: Path) -> None:
    """fsync a folder so the renames and deletions in it survive a power cut."""
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the renames still happened
    finally:
        os.close(handle)
