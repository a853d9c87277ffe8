"""Walking the fleet's buckets in parallel: a bounded pool of workers, one S3 client
per worker thread, results in stack order, and a callback as each tenant finishes
(the CLI's progress bar)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, TypeVar

from afrex.errors import BadInput

if TYPE_CHECKING:
    from afrex.deployed import TenantView

T = TypeVar("T")
MAX_PARALLEL = 64


def check_parallel(value: int) -> int:
    if not 1 <= value <= MAX_PARALLEL:
        raise BadInput(f"--parallel {value} is out of range", f"use 1 to {MAX_PARALLEL}")
    return value


class PerThreadS3:
    """One S3 client per thread, made under a lock (boto3's default session is not
    safe to make clients from concurrently; a client is safe to share once made)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from afrex.clients import s3

            with self._lock:
                client = s3()
            self._local.client = client
        return client


def load_sdks() -> None:
    """Import boto3 and the docker SDK once, here, before worker threads need them: a
    package imported from two threads at once can run a submodule before its parent
    finished (requests then prints urllib3's SOCKS warning it means to silence)."""
    import boto3  # noqa: F401
    import docker  # noqa: F401


def for_each_tenant(
    views: Sequence[TenantView],
    work: Callable[[TenantView], T],
    parallel: int,
    on_done: Callable[[T], None] | None = None,
) -> list[T]:
    """`work(view)` for every view, `parallel` at a time; results in the views' order.
    `work` reports its own failures in its result; `on_done` runs in the calling thread."""
    if not views:
        return []
    results: dict[int, T] = {}
    with ThreadPoolExecutor(max_workers=min(parallel, len(views))) as pool:
        futures = {pool.submit(work, view): index for index, view in enumerate(views)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_done is not None:
                on_done(results[futures[future]])
    return [results[index] for index in range(len(views))]
