"""Deploying stacks: `pulumi up` with the policy pack, through the Automation API.

Each stack gets its own `LocalWorkspace` and runs on its own thread, at most
`parallel` at a time. Selecting a stack writes the workspace's current-stack
file, which is not safe to do from two threads at once (pulumi/pulumi#8186),
so selection is serialised; the updates themselves name their stack
(`--stack`) and run side by side. The state backend is the one every other
afrex command reads (`$PULUMI_BACKEND_URL`, else `file://<project>/.pulumi-state`).

`--changed-since REF` picks the stacks whose offline plan changed since a git
ref, exactly as `afrex plan --base REF --changed-stacks` does.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput, OperationFailed
from afrex.stackfiles import Project, find_project
from afrex.state import BACKEND_ENV, backend_url
from afrex.tenants import load_tenants

INSTALL_HINT = (
    "install the Pulumi CLI (https://www.pulumi.com/docs/install/, e.g. "
    "`curl -fsSL https://get.pulumi.com | sh`) and put `pulumi` on PATH"
)
_SELECTING = threading.Lock()


@dataclass(frozen=True)
class StackRun:
    """One stack's update: whether it succeeded, what changed (or why not), how long."""

    stack: str
    ok: bool
    summary: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "summary": self.summary,
            "seconds": round(self.seconds, 1),
        }


def pulumi_binary() -> str:
    """The `pulumi` on PATH, or an operation failure saying what to install."""
    found = shutil.which("pulumi")
    if found is None:
        raise OperationFailed("`afrex up` needs the pulumi CLI; none is on PATH", INSTALL_HINT)
    return found


def changed_stacks(project: Project, catalog: Catalog, ref: str) -> list[str]:
    """Stacks added or changed since `ref`, by the offline plan (as `afrex plan --base`)."""
    from afrex.offline.cache import PlanCache
    from afrex.offline.diff import diff_fleet
    from afrex.offline.fleet import plan_fleet
    from afrex.offline.gitbase import plan_at
    from afrex.stackfiles import list_stacks

    cache = PlanCache.for_project(project.root)
    run = plan_fleet(project, catalog, list_stacks(project), cache)
    head = {
        "tenants": [
            {"stack": t.stack, "resources": t.rows(), "error": t.error} for t in run.fleet.tenants
        ]
    }
    base = plan_at(project.root, ref, cache.folder)
    return [d.stack for d in diff_fleet(base, head) if d.status in ("added", "changed")]


def check_choice(stacks: Sequence[str] | None, changed_since: str | None) -> None:
    if bool(stacks) == (changed_since is not None):
        raise BadInput(
            "give --stack ID (repeatable) or --changed-since REF",
            "e.g. afrex up --stack cust-acme-legal-1767225600",
        )


def stacks_to_update(
    project: Project, catalog: Catalog, stacks: Sequence[str] | None, changed_since: str | None
) -> list[str]:
    check_choice(stacks, changed_since)
    if stacks:
        return [tenant.id for tenant in load_tenants(project, catalog, list(stacks))]
    assert changed_since is not None
    return changed_stacks(project, catalog, changed_since)


def _error_line(error: Exception) -> str:
    """The last `error:` line of a failed CLI run (else its last line)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or [type(error).__name__])[-1]


def update_stack(project: Project, stack: str, pack: Path, env: dict[str, str]) -> StackRun:
    """`pulumi up --policy-pack <pack>` for one stack, in a workspace of its own."""
    from pulumi import automation

    started = time.monotonic()
    try:
        workspace = automation.LocalWorkspace(
            work_dir=str(project.root), env_vars=env, secrets_provider="passphrase"
        )
        with _SELECTING:  # pulumi/pulumi#8186
            target = automation.Stack.create_or_select(stack, workspace)
        result = target.up(policy_packs=[str(pack)], color="never", on_output=lambda _: None)
    except automation.CommandError as error:
        return StackRun(stack, False, _error_line(error), time.monotonic() - started)
    except FileNotFoundError:
        raise OperationFailed("the pulumi CLI disappeared from PATH", INSTALL_HINT) from None
    changes = result.summary.resource_changes or {}
    done = ", ".join(f"{n} {kind}" for kind, n in sorted(changes.items()) if kind != "same")
    ok = result.summary.result == "succeeded"
    return StackRun(stack, ok, done or "no changes", time.monotonic() - started)


def up_stacks(
    stacks: Sequence[str] | None,
    changed_since: str | None,
    parallel: int = 1,
    on_done: Callable[[StackRun], None] | None = None,
    project: Project | None = None,
) -> list[StackRun]:
    """Update the stacks (named, or changed since a ref), at most `parallel` at a time;
    `on_done` hears of each as it finishes."""
    if parallel < 1:
        raise BadInput(f"--parallel {parallel} is not a number of updates", "use 1 or more")
    check_choice(stacks, changed_since)
    pulumi_binary()
    project = project or find_project()
    names = stacks_to_update(project, load_catalog(), stacks, changed_since)
    from afrex.offline.analyzer import find_policy_pack

    pack = find_policy_pack(project.root)
    url = backend_url(project.root)
    folder = Path(url.removeprefix("file://")).expanduser()
    if url.startswith("file://") and folder.is_absolute():
        folder.mkdir(parents=True, exist_ok=True)  # pulumi wants the folder to exist
    env = {BACKEND_ENV: url}
    runs: list[StackRun] = []
    with ThreadPoolExecutor(max_workers=min(parallel, max(len(names), 1))) as pool:
        futures = [pool.submit(update_stack, project, name, pack, env) for name in names]
        for future in as_completed(futures):
            run = future.result()
            runs.append(run)
            if on_done is not None:
                on_done(run)
    return runs
