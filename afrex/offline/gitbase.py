"""The fleet as it was at a git ref: exported to a temporary folder, so the
base plan runs that ref's own program, catalog and stacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from afrex.errors import AfrexError, BadInput, OperationFailed
from afrex.offline.cache import CACHE_ENV
from afrex.procs import child_setup
from afrex.stackfiles import PROJECT_ENV, STACK_PREFIX, STACK_SUFFIX, read_stack
from afrex.yamlsafe import load_yaml_mapping


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
            tar.extractall(folder, filter=_inside_only)
        yield Path(folder)


def _inside_only(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    """tarfile's `data` filter, except that a member it refuses (a link out of the
    tree) is left out instead of failing the whole base."""
    try:
        return tarfile.data_filter(member, destination)
    except tarfile.FilterError:
        return None


def plan_at(root: Path, ref: str, cache_dir: Path | None) -> dict[str, Any]:
    """`afrex plan --json` of the fleet at `ref`, run by that ref's own code.

    A ref without the project is an empty fleet; a ref whose tree holds stacks but
    not the code (a fleet repository) is planned with this code. A base that
    cannot be parsed never blocks the change that fixes it: stack files this code
    cannot read are left out and planned again without them, and if the base
    still cannot be planned, every tenant of it counts as not planned there. A
    tenant not planned at the base has an `error` saying so, and the plan a `warning`.
    """
    if set(ref) == {"0"}:  # GitHub's `before` of a branch's first push: nothing came before
        return {"tenants": [], "note": "no base commit"}
    with checkout(root, ref) as folder:
        if not (folder / "Pulumi.yaml").is_file():
            return {"tenants": [], "note": f"{ref} has no Pulumi project"}
        plan, failure = _run_plan(folder, cache_dir)
        unreadable: dict[str, str] = {}
        if plan is None:
            unreadable = _drop_unreadable_stacks(folder)
            if unreadable:
                plan, failure = _run_plan(folder, cache_dir)
        if plan is None:
            reasons = dict.fromkeys(_stack_files(folder), failure) | unreadable
            return {
                "tenants": [_not_planned(name, ref, reasons[name]) for name in sorted(reasons)],
                "warning": f"the fleet at {ref} could not be planned ({failure}); "
                "each of its tenants counts as not planned there",
            }
    if unreadable:
        tenants = plan.get("tenants", []) + [
            _not_planned(name, ref, reason) for name, reason in unreadable.items()
        ]
        plan["tenants"] = sorted(tenants, key=lambda t: str(t.get("stack")))
        plan["warning"] = (
            f"{len(unreadable)} stack file(s) at {ref} could not be read "
            f"({', '.join(sorted(unreadable))}); they count as not planned there"
        )
    return plan


def _run_plan(folder: Path, cache_dir: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The checkout's `afrex plan --json`, or None and the last line it printed on
    stderr. It dies with this process."""
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
        preexec_fn=child_setup(),
    )
    try:
        plan = json.loads(done.stdout)
    except ValueError:
        plan = None
    if isinstance(plan, dict) and isinstance(plan.get("tenants"), list):
        return plan, ""
    lines = done.stderr.strip().splitlines()
    return None, lines[-1].removeprefix("error: ") if lines else f"exit code {done.returncode}"


def _stack_files(folder: Path) -> dict[str, Path]:
    """The checkout's stack files by stack name (none if its Pulumi.yaml is unreadable)."""
    try:
        stack_dir = load_yaml_mapping(folder / "Pulumi.yaml").get("stackConfigDir", ".")
    except AfrexError:
        return {}
    stacks = (folder / str(stack_dir)).resolve()
    if not stacks.is_dir() or not stacks.is_relative_to(folder.resolve()):
        return {}
    return {
        path.name.removeprefix(STACK_PREFIX).removesuffix(STACK_SUFFIX): path
        for path in stacks.glob(f"{STACK_PREFIX}*{STACK_SUFFIX}")
    }


def _drop_unreadable_stacks(folder: Path) -> dict[str, str]:
    """Delete (from the throw-away checkout) the stack files this code cannot read,
    and say why each could not be read."""
    dropped: dict[str, str] = {}
    for name, path in _stack_files(folder).items():
        try:
            read_stack(path)
        except AfrexError as error:
            dropped[name] = "; ".join(error.lines())
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return dropped


def _not_planned(stack: str, ref: str, reason: str) -> dict[str, Any]:
    return {"stack": stack, "error": f"not planned at {ref}: {reason}", "resources": []}
