"""Content keys for the plan cache: a tenant's plan depends only on its stack
file, the catalog, the project file, and the code that builds and checks it
(the `afrex` and `components` packages actually imported, and the pack)."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from pathlib import Path

CODE_PACKAGES = ("afrex", "components")
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".txt")


def package_dirs() -> list[Path]:
    """Where the program's packages are imported from (without importing them)."""
    folders: list[Path] = []
    for name in CODE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(Path(p) for p in spec.submodule_search_locations)
    return folders


def code_digest(folders: Iterable[Path], files: Iterable[Path] = ()) -> str:
    """sha256 over every source file in `folders` (and `files`), in a stable order."""
    digest = hashlib.sha256()
    paths = [p for p in files if p.is_file()]
    for folder in folders:
        paths.extend(
            path
            for path in folder.rglob("*")
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file()
        )
    for path in sorted(set(paths)):
        digest.update(str(path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def tenant_key(stack_file: Path, catalog_digest: str, code: str) -> str:
    """The cache key of one tenant's plan."""
    digest = hashlib.sha256(stack_file.read_bytes())
    digest.update(catalog_digest.encode())
    digest.update(code.encode())
    return digest.hexdigest()
