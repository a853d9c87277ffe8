"""Offline plans for dry runs (`tenant new --dry-run`, `scale ... --dry-run`), in a
worker process.

The plan runs the real Pulumi program under mocks, which imports pulumi_aws and
pulumi_docker (about a second). A dry run does that in one spawned worker, so
the command's own process never loads them, and the stack files planned can be
texts not yet written anywhere (they travel as `StackFile`s). The worker dies
with the command and leaves Ctrl-C to it (`afrex.procs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from afrex.catalog import Catalog
from afrex.procs import ctrl_c_held, worker_pool
from afrex.stackfiles import Project, StackFile


@dataclass(frozen=True)
class PlannedRows:
    """A stack's planned resources as `afrex plan` shows them, or why it could not be planned."""

    stack: str
    rows: list[dict[str, str]]
    error: str | None

    def as_base(self) -> dict[str, Any]:
        """The form `afrex.offline.diff.diff_tenant` compares."""
        return {"resources": self.rows, "error": self.error}


def _plan(stacks: list[StackFile], project: Project, catalog: Catalog) -> list[PlannedRows]:
    """Worker: plan each stack (the SDKs are imported here, once)."""
    from afrex.errors import AfrexError
    from afrex.offline.plan import plan_tenant

    planned = []
    for stack in stacks:
        try:
            tenant = plan_tenant(stack, project, catalog)
            planned.append(PlannedRows(stack.name, tenant.rows(), tenant.error))
        except AfrexError as error:
            planned.append(PlannedRows(stack.name, [], "; ".join(error.lines())))
    return planned


def plan_stacks(stacks: list[StackFile], project: Project, catalog: Catalog) -> list[PlannedRows]:
    """The offline plan of each stack, computed in one worker process."""
    with worker_pool(1, "planning the dry run") as pool:
        with ctrl_c_held():  # the worker (started on submit) boots deaf to Ctrl-C
            future = pool.submit(_plan, stacks, project, catalog)
        return future.result()
