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
    """Run the real program for each stack under Pulumi's mock runtime, show what it
    would create, and check it with the policy pack (policies/) over gRPC.
    Provider-computed values (ids, ARNs, ports) are placeholders. Exit code 1 when a
    mandatory policy is violated, 2 for bad stack config."""
    with reported():
        fleet, bad_input = _plan_fleet(stack)
    if as_json:
        emit_json(_as_json(fleet))
    else:
        _render(fleet)
        _render_violations(fleet)
    for tenant in fleet.tenants:
        if tenant.error:
            for line in tenant.error.splitlines():
                err_console.print(f"[bold red]error:[/] {line}")
    code = exit_code(fleet, bad_input)
    if code:
        raise typer.Exit(code=code)


def _plan_fleet(only: list[str] | None) -> tuple[Any, bool]:
    """Plan every (or only the named) stack, then run the policy pack over the fleet.

    The pack is launched first, so its start-up overlaps with planning the stacks.
    """
    from afrex.catalog import load_catalog
    from afrex.offline.plan import FleetPlan, TenantPlan, check_policies, plan_tenant, policy_pack
    from afrex.stackfiles import find_project, list_stacks

    project = find_project()
    catalog = load_catalog()
    stacks = list_stacks(project, only)
    tenants = []
    bad_input = False
    with policy_pack(project) as pack:
        for stack_file in stacks:
            try:
                tenants.append(plan_tenant(stack_file, project, catalog))
            except AfrexError as error:
                bad_input = bad_input or isinstance(error, ConfigError)
                lines = error.lines() if isinstance(error, ConfigError) else [str(error)]
                tenants.append(TenantPlan(stack=stack_file.name, error="\n".join(lines)))
        fleet = FleetPlan(tenants)
        check_policies(fleet, project, pack)
    return fleet, bad_input


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
            table.add_row(v.policy, f"[{style}]{v.level}[/]", resource, v.message)
        console.print(table)
    totals = fleet.totals()
    mandatory, advisory = totals["mandatory_violations"], totals["advisory_violations"]
    verdict = "[bold red]blocked[/]" if fleet.blocked else "[bold green]passed[/]"
    console.print(
        f"[bold]policy:[/] {fleet.policy.name} {fleet.policy.version}, "
        f"{len(fleet.policy.policies)} rules over {len(fleet.planned)} tenants: "
        f"{mandatory} mandatory, {advisory} advisory violation(s); {verdict}"
    )
