"""The fleet as it was at a git ref: exported to a temporary folder, so the
base plan runs that ref's own program, catalog and stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from afrex.errors import BadInput, OperationFailed
from afrex.offline.cache import CACHE_ENV
from afrex.stackfiles import PROJECT_ENV


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
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except BadInput:
        raise BadInput(
            f"unknown git ref '{ref}'",
            "pass a branch, tag or commit that exists here (fetch it first)",
        ) from None


@contextmanager
def checkout(root: Path, ref: str) -> Iterator[Path]:
    """The tree at `ref` in a temporary folder (removed afterwards)."""
    commit = resolve(root, ref)
    archive = _git(root, "archive", "--format=tar", commit)
    with tempfile.TemporaryDirectory(prefix="afrex-base-") as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


def plan_at(root: Path, ref: str, cache_dir: Path | None) -> dict[str, Any]:
    """`afrex plan --json` of the fleet at `ref`, run by that ref's own code.

    A ref without the project is an empty fleet; a ref whose tree holds stacks but
    not the code (a fleet repository) is planned with this code.
    """
    if set(ref) == {"0"}:  # GitHub's `before` of a branch's first push: nothing came before
        return {"tenants": [], "note": "no base commit"}
    with checkout(root, ref) as folder:
        if not (folder / "Pulumi.yaml").is_file():
            return {"tenants": [], "note": f"{ref} has no Pulumi project"}
        env = {**os.environ, PROJECT_ENV: str(folder)}
        if (folder / "afrex" / "cli" / "main.py").is_file():
            env["PYTHONPATH"] = str(folder)
        if cache_dir is not None:
            env[CACHE_ENV] = str(cache_dir)
        done = subprocess.run(
            [sys.executable, "-m", "afrex.cli.main", "plan", "--json"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        plan: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        lines = done.stderr.strip().splitlines()
        raise OperationFailed(
            f"cannot plan the fleet at {ref}: {lines[-1] if lines else 'no output'}",
            "run `afrex plan` on that ref to see why",
        ) from None
    return plan
