"""A content-addressed cache of tenant plans, one JSON file per key.

Nothing read from the cache is trusted: a missing, unreadable, corrupt or
unexpected entry (anything the caller's parser rejects) is a miss, so the
tenant is planned again and the entry rewritten. Entries are written
atomically. A cache folder that cannot be used (a file in its place, no
permission, a full disk) turns the cache off for the run, with one warning
for the command to show; planning goes on without it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from afrex.atomicfiles import TEMP_SUFFIX, write_atomic

CACHE_ENV = "AFREX_CACHE_DIR"
STALE_TEMP_SECONDS = 24 * 3600  # temporaries of a writer killed at least this long ago
T = TypeVar("T")
# What parsing a hand-edited, truncated or foreign JSON value can raise.
CORRUPT_ENTRY = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


class PlanCache:
    """Plans keyed by `tenant_key`; a `None` folder disables caching.

    `warning` is set (once) when the folder turned out to be unusable.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self.warning: str | None = None
        if folder is not None and folder.exists() and not folder.is_dir():
            self._give_up("it is not a folder")

    @classmethod
    def for_project(cls, root: Path, enabled: bool = True) -> PlanCache:
        if not enabled:
            return cls(None)
        override = os.environ.get(CACHE_ENV)
        cache = cls(Path(override) if override else root / ".afrex-cache" / "plan")
        cache.sweep()
        return cache

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, parse: Callable[[str], T]) -> T | None:
        """The entry under `key` as `parse` reads its text, or None (a miss) when there
        is none, it cannot be read, or `parse` rejects it (raises)."""
        if self.folder is None:
            return None
        try:
            value = parse(self._path(key).read_text(encoding="utf-8"))
        except (OSError, *CORRUPT_ENTRY):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store an entry; if the folder cannot take it, stop caching (see `warning`)."""
        if self.folder is None:
            return
        try:
            write_atomic(self._path(key), json.dumps(entry, sort_keys=True, default=str))
        except OSError as error:
            self._give_up(error.strerror or str(error))

    def sweep(self) -> None:
        """Delete temporaries left by writers killed long ago (entries are written
        through a temporary file beside them)."""
        if self.folder is None or not self.folder.is_dir():
            return
        cutoff = time.time() - STALE_TEMP_SECONDS
        try:
            for temp in self.folder.glob(f"*/.*{TEMP_SUFFIX}"):
                if temp.stat().st_mtime < cutoff:
                    temp.unlink(missing_ok=True)
        except OSError:
            pass  # a sweep is housekeeping: the next run tries again

    def _give_up(self, reason: str) -> None:
        if self.warning is None:
            self.warning = (
                f"plan cache {self.folder} cannot be used ({reason}); planning without it. "
                f"Fix or remove that folder, or set {CACHE_ENV} to another one"
            )
        self.folder = None
