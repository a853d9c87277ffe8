"""Content keys for the plan cache: a tenant's plan depends only on its stack
file, the catalog, and the code that builds and checks it."""

from __future__ import annotations

import hashlib
from pathlib import Path

CODE_FOLDERS = ("afrex", "components", "policies")
CODE_FILES = ("Pulumi.yaml", "__main__.py", "pyproject.toml")
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".txt")


def code_digest(root: Path) -> str:
    """sha256 over every source file that can change a plan, in a stable order."""
    digest = hashlib.sha256()
    paths = [root / name for name in CODE_FILES]
    for folder in CODE_FOLDERS:
        paths.extend(
            path
            for path in (root / folder).rglob("*")
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts
        )
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
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
