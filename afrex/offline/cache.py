"""A content-addressed cache of tenant plans, one JSON file per key.

Entries are written atomically, so a crash never leaves a half entry; a
corrupt or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from afrex.stackfiles import write_atomic

CACHE_ENV = "AFREX_CACHE_DIR"


class PlanCache:
    """Plans keyed by `tenant_key`; `None` folder disables caching."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_project(cls, root: Path, enabled: bool = True) -> PlanCache:
        if not enabled:
            return cls(None)
        override = os.environ.get(CACHE_ENV)
        return cls(Path(override) if override else root / ".afrex-cache" / "plan")

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(entry, dict):
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        if self.folder is not None:
            write_atomic(self._path(key), json.dumps(entry, sort_keys=True, default=str))
