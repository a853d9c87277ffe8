"""`afrex plan`: the offline plan of every tenant stack (no cloud, no Pulumi CLI)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from afrex.cli.output import console, emit_json, err_console, reported
from afrex.errors import AfrexError, ConfigError


def plan(
    stack: Annotated[
        list[str] | None,
        typer.Option("--stack", "-s", help="Plan only this tenant stack (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Run the real program for each stack under Pulumi's mock runtime and show what it
    would create. Provider-computed values (ids, ARNs, ports) are placeholders."""
    with reported():
        from afrex.catalog import load_catalog
        from afrex.offline.plan import FleetPlan, plan_tenant
        from afrex.stackfiles import find_project, list_stacks

        project = find_project()
        catalog = load_catalog()
        stacks = list_stacks(project, stack)
        tenants = []
        bad_input = False
        for stack_file in stacks:
            try:
                tenants.append(plan_tenant(stack_file, project, catalog))
            except AfrexError as error:
                from afrex.offline.plan import TenantPlan

                bad_input = bad_input or isinstance(error, ConfigError)
                lines = error.lines() if isinstance(error, ConfigError) else [str(error)]
                tenants.append(TenantPlan(stack=stack_file.name, error="\n".join(lines)))
        fleet = FleetPlan(tenants)
    if as_json:
        emit_json(_as_json(fleet))
    else:
        _render(fleet)
    for tenant in fleet.tenants:
        if tenant.error:
            for line in tenant.error.splitlines():
                err_console.print(f"[bold red]error:[/] {line}")
    if any(t.error for t in fleet.tenants):
        raise typer.Exit(code=2 if bad_input else 1)


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
            }
            for t in fleet.tenants
        ],
        "fleet": fleet.totals(),
    }


def _render(fleet: Any) -> None:
    from afrex.offline.plan import PLACEHOLDER_NOTE

    console.print(f"[dim]{PLACEHOLDER_NOTE}[/]")
    for tenant in fleet.planned:
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
        f"[bold]fleet:[/] {totals['tenants']} tenants, {totals['agents']} agents, "
        f"{totals['resources']} resources to create, MRR ${totals['mrr']:,.2f} "
        f"(ARR ${totals['arr']:,.2f})"
        + (f", [red]{totals['failed']} failed[/]" if totals["failed"] else "")
    )
