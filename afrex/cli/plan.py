"""`afrex plan`: the offline plan of every tenant stack (no cloud, no Pulumi CLI)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from afrex.cli.output import console, emit_json, err_console, line, literal, reported, styled, warn
from afrex.errors import BadInput
from afrex.procs import terminate_on_signals

if TYPE_CHECKING:
    from afrex.offline.cache import PlanCache
    from afrex.stackfiles import Project


def plan(
    stack: Annotated[
        list[str] | None,
        typer.Option("--stack", "-s", help="Plan only this tenant stack (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    base: Annotated[
        str | None,
        typer.Option(
            "--base", metavar="REF", help="Show what changes per tenant against a git ref."
        ),
    ] = None,
    changed_stacks: Annotated[
        bool,
        typer.Option(
            "--changed-stacks",
            help="With --base: print only the JSON list of stacks whose plan changed.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Processes to plan with (default: one per core)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Plan every tenant, ignoring the plan cache.")
    ] = False,
) -> None:
    """Offline plan of every tenant stack, checked by the policy pack (no cloud, no CLI).

    Runs the real program for each stack under Pulumi's mock runtime, shows what it
    would create, and sends every resource to the policy pack (policies/) over gRPC.
    Provider-computed values (ids, ARNs, ports) are placeholders. Exit code 1 when a
    mandatory policy is violated, 2 for bad stack config.
    """
    with terminate_on_signals(), reported():
        if changed_stacks and base is None:
            raise BadInput("--changed-stacks needs --base", "add --base <git ref>")
        from afrex.offline.cache import PlanCache
        from afrex.stackfiles import find_project

        project = find_project()
        cache = PlanCache.for_project(project.root, enabled=not no_cache)
        run = _plan_fleet(project, cache, stack, workers)
        head = _as_json(run.fleet)
        diffs = _diff_against(project, cache, base, head, stack) if base else None
        if cache.warning:
            warn(cache.warning)
    if changed_stacks and diffs is not None:
        typer.echo(json.dumps([d.stack for d in diffs if d.status in ("added", "changed")]))
        return
    if as_json:
        emit_json({**head, "diff": [d.as_dict() for d in diffs] if diffs is not None else None})
    else:
        shown = None if diffs is None else {d.stack for d in diffs if d.status != "unchanged"}
        _render(run.fleet, shown)
        _render_violations(run.fleet)
        if diffs is not None:
            _render_diff(diffs, base or "")
        err_console.print(
            styled(
                f"planned {run.planned} tenant(s) on {run.workers} process(es), "
                f"{run.cached} from the plan cache",
                "dim",
            )
        )
    for tenant in run.fleet.tenants:
        if tenant.error:
            for text in tenant.error.splitlines():
                err_console.print(line(("error:", "bold red"), " ", literal(text, one_line=True)))
    code = exit_code(run.fleet, run.bad_input)
    if code:
        raise typer.Exit(code=code)


def _plan_fleet(
    project: Project, cache: PlanCache, only: list[str] | None, workers: int | None
) -> Any:
    """Plan every (or only the named) stack, from the cache where nothing changed."""
    from afrex.catalog import load_catalog
    from afrex.offline.fleet import plan_fleet
    from afrex.stackfiles import list_stacks

    return plan_fleet(project, load_catalog(), list_stacks(project, only), cache, workers)


def _diff_against(
    project: Project, cache: PlanCache, ref: str, head: dict[str, Any], only: list[str] | None
) -> list[Any]:
    """Per-tenant diff between the plan at `ref` (run by that ref's code) and this one;
    with `--stack`, only those stacks are compared."""
    from afrex.offline.diff import diff_fleet
    from afrex.offline.gitbase import plan_at

    base = plan_at(project.root, ref, cache.folder)
    if base.get("warning"):
        warn(f"base {ref}: {base['warning']}")
    if only:
        base = {**base, "tenants": [t for t in base.get("tenants", []) if t["stack"] in only]}
    return diff_fleet(base, head)


def exit_code(fleet: Any, bad_input: bool) -> int:
    """2 for bad stack config, 1 for a failed plan or a mandatory violation, else 0."""
    if any(t.error for t in fleet.tenants):
        return 2 if bad_input else 1
    return 1 if fleet.blocked else 0


def _as_json(fleet: Any) -> dict[str, Any]:
    from afrex.offline.plan import PLACEHOLDER_NOTE

    return {
        "offline": True,
        "note": PLACEHOLDER_NOTE,
        "tenants": [
            {
                "stack": t.stack,
                "tier": t.tier,
                "vertical": t.vertical,
                "agents": t.agents,
                "mrr": t.mrr,
                "error": t.error,
                "resources": t.rows(),
                "outputs": t.outputs,
                "violations": [v.as_dict() for v in t.violations],
            }
            for t in fleet.tenants
        ],
        "policy": _policy_json(fleet),
        "fleet": fleet.totals(),
    }


def _policy_json(fleet: Any) -> dict[str, Any] | None:
    if fleet.policy is None:
        return None
    totals = fleet.totals()
    return {
        "pack": fleet.policy.name,
        "version": fleet.policy.version,
        "policies": fleet.policy.policies,
        "mandatory_violations": totals["mandatory_violations"],
        "advisory_violations": totals["advisory_violations"],
        "passed": not fleet.blocked,
    }


def _render(fleet: Any, shown: set[str] | None = None) -> None:
    """Per tenant a table of what it would create (only `shown` ones), then the fleet."""
    from afrex.offline.plan import PLACEHOLDER_NOTE

    console.print(styled(PLACEHOLDER_NOTE, "dim"))
    for tenant in fleet.planned:
        if shown is not None and tenant.stack not in shown:
            continue
        table = Table(
            title=f"{tenant.stack}  ({tenant.tier}, {tenant.vertical}, {tenant.agents} agents, "
            f"MRR ${tenant.mrr:,.2f})",
            title_justify="left",
        )
        table.add_column("type", no_wrap=True, style="cyan")
        table.add_column("name", no_wrap=True)
        table.add_column("key settings", overflow="fold")
        for row in tenant.rows():
            table.add_row(row["type"], row["name"], row["settings"])
        console.print(table)
    totals = fleet.totals()
    console.print(
        line(
            ("fleet:", "bold"),
            f" {totals['tenants']} tenants, {totals['agents']} agents, "
            f"{totals['resources']} resources to create, MRR ${totals['mrr']:,.2f} "
            f"(ARR ${totals['arr']:,.2f})",
            (f", {totals['failed']} failed" if totals["failed"] else "", "red"),
        )
    )


LEVEL_STYLE = {"mandatory": "bold red", "remediate": "bold red", "advisory": "yellow"}


def _render_violations(fleet: Any) -> None:
    """Violations per tenant and rule (mandatory first), then one summary line."""
    if fleet.policy is None:
        return
    for tenant in fleet.planned:
        if not tenant.violations:
            continue
        table = Table(title=f"{tenant.stack}: policy violations", title_justify="left")
        table.add_column("rule", no_wrap=True, style="cyan")
        table.add_column("level", no_wrap=True)
        table.add_column("resource", no_wrap=True)
        table.add_column("message", overflow="fold")
        ordered = sorted(
            tenant.violations, key=lambda v: (not v.mandatory, v.policy, v.resource, v.message)
        )
        for v in ordered:
            style = LEVEL_STYLE.get(v.level, "")
            resource = v.resource.removeprefix(f"{tenant.stack}-") or "(stack)"
            table.add_row(v.policy, styled(v.level, style), resource, v.message)
        console.print(table)
    totals = fleet.totals()
    mandatory, advisory = totals["mandatory_violations"], totals["advisory_violations"]
    verdict = styled("blocked", "bold red") if fleet.blocked else styled("passed", "bold green")
    console.print(
        line(
            ("policy:", "bold"),
            f" {fleet.policy.name} {fleet.policy.version}, "
            f"{len(fleet.policy.policies)} rules over {len(fleet.planned)} tenants: "
            f"{mandatory} mandatory, {advisory} advisory violation(s); ",
        )
        + verdict
    )


def _render_diff(diffs: list[Any], ref: str) -> None:
    """What the change does to each tenant, compared with `ref`."""
    changed = [d for d in diffs if d.status != "unchanged"]
    console.print(
        line((f"changes against {ref}:", "bold"), f" {len(changed)} of {len(diffs)} tenant(s)")
    )
    marks = (("added", "+", "green"), ("changed", "~", "yellow"), ("removed", "-", "red"))
    for diff in changed:
        console.print(
            f"  {diff.stack}: {diff.status} "
            f"(+{len(diff.added)} ~{len(diff.changed)} -{len(diff.removed)})"
        )
        for attribute, mark, style in marks:
            for resource in getattr(diff, attribute):
                console.print(line("    ", (f"{mark} {resource}", style)))
        if diff.warning:
            warn(diff.warning)
