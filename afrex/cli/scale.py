"""`afrex scale up | down | tier`: change a tenant's agents or tier, billing kept right.

Thin: parse the options, call one function of `afrex.scaling`, render. Only
`--dry-run` (which runs the offline plan diff) loads the Pulumi SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from afrex.billing import money
from afrex.cli.options import Format, FormatOption, OneTenant
from afrex.cli.output import console, emit_json, line, reported, styled

if TYPE_CHECKING:
    from afrex.scaling import PlanState, ScaleResult

app = typer.Typer(
    help="Scale a tenant: add or remove agents, change tier (history dated for billing).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Show the new plan, price and plan diff; write nothing.")
]


@app.command(name="up")
def up(
    tenant: OneTenant,
    add: Annotated[int, typer.Option("--add", help="How many agents to add.")],
    dry_run: DryRun = False,
    output: FormatOption = Format.table,
) -> None:
    """Add agents from the vertical's roster; moves to a larger tier when needed."""
    with reported():
        from afrex.scaling import scale_up

        result = scale_up(tenant, add, dry_run=dry_run)
    _show(result, output)


@app.command(name="down")
def down(
    tenant: OneTenant,
    remove: Annotated[
        int | None, typer.Option("--remove", help="How many agents to remove (the last added).")
    ] = None,
    agents: Annotated[
        str | None, typer.Option("--agents", help="Exactly these agents, comma-separated.")
    ] = None,
    keep_tier: Annotated[
        bool, typer.Option("--keep-tier", help="Stay on the current tier even if a smaller fits.")
    ] = False,
    dry_run: DryRun = False,
    output: FormatOption = Format.table,
) -> None:
    """Remove agents, archiving each one's state to the backup bucket first.

    If an archive fails, the stack file is left exactly as it was (exit 1).
    """
    with reported():
        from afrex.scaling import scale_down

        names = None if agents is None else [a.strip() for a in agents.split(",") if a.strip()]
        result = scale_down(tenant, remove, names, keep_tier, dry_run=dry_run)
    _show(result, output)


@app.command(name="tier")
def tier(
    tenant: OneTenant,
    to: Annotated[str, typer.Option("--tier", help="The tier to move to.")],
    dry_run: DryRun = False,
    output: FormatOption = Format.table,
) -> None:
    """Move a tenant to another tier, keeping its agents."""
    with reported():
        from afrex.scaling import change_tier

        result = change_tier(tenant, to, dry_run=dry_run)
    _show(result, output)


def _show(result: ScaleResult, output: Format) -> None:
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render(result)


def _plan_text(state: PlanState) -> str:
    return f"{state.tier}, {len(state.agents)} agent(s), {money(state.monthly)} a month"


def _render(result: ScaleResult) -> None:
    verb = "would change" if result.dry_run else "changed"
    console.print(
        line(
            (f"{result.tenant}:", "bold"),
            f" {verb} from {_plan_text(result.before)} to {_plan_text(result.after)}",
        )
    )
    if result.added:
        console.print(line(("+ agents:", "green"), " ", ", ".join(result.added)))
    if result.removed:
        console.print(line(("- agents:", "red"), " ", ", ".join(result.removed)))
    stamp = result.effective.isoformat().replace("+00:00", "Z")
    console.print(f"history: dated {stamp}; billed at the new plan from the next UTC day")
    sign = "+" if result.month_change >= 0 else "-"
    console.print(
        f"{result.month} invoice: {sign}{money(abs(result.month_change))} "
        f"({result.days_left} day(s) left at the new plan)"
    )
    for archive in result.archived:
        console.print(
            f"archived {archive['agent']} to s3://{archive['bucket']}/{archive['key']} "
            f"({archive['size']:,} bytes, sha256 {archive['sha256'][:12]}...)"
        )
    for agent in result.to_archive:
        console.print(f"would archive {agent}'s state to the backup bucket first")
    for agent, reason in result.not_archived.items():
        console.print(f"{agent}: {reason}")
    if result.plan_diff is not None:
        _render_diff(result.plan_diff)
    if result.dry_run:
        console.print(styled("dry run: nothing was written", "bold"))
    else:
        console.print(f"wrote {result.path}; next: afrex up --stack {result.tenant}")


def _render_diff(diff: dict[str, Any]) -> None:
    marks = (("added", "+", "green"), ("changed", "~", "yellow"), ("removed", "-", "red"))
    counts = " ".join(f"{mark}{len(diff.get(key) or [])}" for key, mark, _ in marks)
    console.print(line(("resources that would change:", "bold"), f" {counts}"))
    for key, mark, style in marks:
        for resource in diff.get(key) or []:
            console.print(line("  ", (f"{mark} {resource}", style)))
    if diff.get("error"):
        console.print(line(("plan error:", "bold red"), " ", str(diff["error"])))
