"""Content keys for the plan cache: a tenant's plan depends only on its stack
file, the catalog, the project file, and the code that builds and checks it
(the `afrex` and `components` packages actually imported, and the pack).

Keys hold names relative to their folder, never absolute paths, so the same
fleet and code give the same keys wherever they are checked out (the base of
`afrex plan --base` is planned in a temporary folder).
"""

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
    """sha256 over every source file in `folders` (and `files`), in a stable order;
    each file is named by its folder's name and its path inside it (a file of
    `files` by its name), so where the folders are does not count."""
    named = [(path.name, path) for path in files if path.is_file()]
    for folder in folders:
        for path in folder.rglob("*"):
            inside = path.relative_to(folder)
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in inside.parts:
                if path.is_file():
                    named.append((f"{folder.name}/{inside.as_posix()}", path))
    digest = hashlib.sha256()
    for name, content in sorted((name, path.read_bytes()) for name, path in named):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(content)
        digest.update(b"\0")
    return digest.hexdigest()


def tenant_key(stack_file: Path, catalog_digest: str, code: str) -> str:
    """The cache key of one tenant's plan: its stack file's name and bytes, the
    catalog and the code (two tenants with equal files still get their own plans)."""
    digest = hashlib.sha256(stack_file.name.encode())
    digest.update(b"\0")
    digest.update(stack_file.read_bytes())
    digest.update(catalog_digest.encode())
    digest.update(code.encode())
    return digest.hexdigest()
