"""Child-process hygiene: no child outlives the command that started it.

- `die_with_parent(parent)`: run in a child (as `preexec_fn`, or as a process
  pool's `initializer`); Linux then sends the child SIGTERM when its parent
  dies, even by SIGKILL. A no-op elsewhere.
- `child_setup()`: the `preexec_fn` for `subprocess.Popen` that does that.
- `worker_setup(parent)`: a pool worker's initializer: dies with its parent and
  leaves Ctrl-C (SIGINT, sent to the whole terminal group) to the parent, which
  stops the pool; start the pool's workers inside `ctrl_c_held()` so that holds
  from their first instruction.
- `stop_workers(pool)`: end a process pool now: queued work is dropped and the
  workers are terminated, instead of waiting for the work already queued.
- `worker_pool(workers, doing)`: spawned workers set up as above, stopped on any
  error, Ctrl-C or signal; a worker that dies under it (killed, out of memory)
  is one line and exit 1, not a `BrokenProcessPool` traceback. Submit inside
  `ctrl_c_held()`: the workers start on the first submit.
- `terminate_on_signals()`: a context manager (or decorator) for a command:
  SIGTERM and SIGHUP unwind the main thread as `SystemExit(128 + signal)`, as
  Ctrl-C does with KeyboardInterrupt, so every `with` block (the policy pack,
  the worker pool, a temporary folder) cleans up on the way out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from afrex.errors import OperationFailed

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_TIMEOUT_SECONDS = 5.0
UNWIND_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent: a forked child about to exec
    must not load libraries (another thread may hold the loader's lock)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(parent: int) -> None:
    """In a child: SIGTERM ends it (as by default), and the kernel sends SIGTERM when
    the parent dies; if `parent` (its pid) died already, end now."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # an ignored SIGTERM survives exec
    if _PRCTL is None:
        return
    _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(128 + signal.SIGTERM)


def child_setup() -> Callable[[], None]:
    """A `preexec_fn` for Popen: the child dies with this process."""
    parent = os.getpid()
    return lambda: die_with_parent(parent)


def worker_setup(parent: int) -> None:
    """A pool worker's initializer: it dies with the parent, and leaves Ctrl-C (sent
    to the whole terminal group) to the parent, which stops the pool. Started
    inside `ctrl_c_held`, a worker boots with SIGINT blocked; it unblocks it once
    the signal is ignored, so a Ctrl-C during its start-up cannot kill it half-way."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Block SIGINT in this thread for the block: children started in it inherit
    the mask (see `worker_setup`); a Ctrl-C meanwhile arrives when the block ends."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once: drop the queued work, terminate the workers."""
    # The pool's process table is not public (Python 3.14 adds terminate_workers).
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(STOP_TIMEOUT_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()


@contextmanager
def worker_pool(workers: int, doing: str) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` spawned processes (never forked: the parent may hold gRPC
    threads) that die with this process and leave Ctrl-C to it; `doing` names the
    work in the one line said when a worker dies before its work is done."""
    import multiprocessing  # here: `afrex --help` imports this module
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_setup,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BrokenProcessPool:
        stop_workers(pool)
        raise OperationFailed(
            f"a worker process died while {doing} (killed, or out of memory)",
            "run the command again; AFREX_DEBUG=1 shows the worker's traceback if it had one",
        ) from None
    except BaseException:  # an error, Ctrl-C, SIGTERM or an abandoned generator
        stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True)


def _unwind(signum: int, _frame: FrameType | None) -> None:
    for number in UNWIND_SIGNALS:  # once: a second signal does not cut the clean-up short
        signal.signal(number, signal.SIG_IGN)
    raise SystemExit(128 + signum)


@contextmanager
def terminate_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise SystemExit(128 + signal) in the
    main thread (outside the main thread this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for number in UNWIND_SIGNALS:
        if signal.getsignal(number) == signal.SIG_DFL:  # ignored or handled: left alone
            previous[number] = signal.signal(number, _unwind)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
