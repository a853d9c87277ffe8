"""Helpers shared by tests: stack files built in memory."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from afrex.spec import TENANT_KEY, TOKEN_KEY
from afrex.stackfiles import StackFile

ROOT = Path(__file__).resolve().parents[1]


def make_stack(name: str, tenant: dict[str, Any], token_secret: bool = True) -> StackFile:
    """A stack file held in memory, as `read_stack` would return it."""
    token: Any = {"secure": "v1:placeholder"} if token_secret else "plain-text-token"
    config = {TENANT_KEY: tenant, TOKEN_KEY: token}
    secret = frozenset({TOKEN_KEY}) if token_secret else frozenset()
    return StackFile(name, ROOT / "stacks" / f"Pulumi.{name}.yaml", config, secret)


def git(folder: Path, *args: str) -> None:
    """Run git in `folder` as a throw-away identity."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.tt", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )
