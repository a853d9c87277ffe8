"""The fleet as it was at a git ref: exported to a temporary folder, so the
base plan runs that ref's own program, catalog and stacks."""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from afrex.errors import BadInput, OperationFailed


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        raise OperationFailed("git is not installed", "install git to compare plans") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise BadInput(
            f"git {' '.join(args[:2])} failed: {message[-1] if message else 'unknown error'}",
            "pass a ref that exists here (a branch, tag or commit; fetch it first)",
        )
    return done.stdout


def resolve(root: Path, ref: str) -> str:
    """The commit a ref names, or BadInput if it names none."""
    return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()


@contextmanager
def checkout(root: Path, ref: str) -> Iterator[Path]:
    """The tree at `ref` in a temporary folder (removed afterwards)."""
    commit = resolve(root, ref)
    archive = _git(root, "archive", "--format=tar", commit)
    with tempfile.TemporaryDirectory(prefix="afrex-base-") as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)
