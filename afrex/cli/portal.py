"""`afrex portal`: generate (one tenant), all (every tenant), summary (the platform).

Thin commands: parse, call one function of `afrex.portal.run`, render. Domain
modules are imported inside each command, so `afrex --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from afrex.cli.options import Format, FormatOption, MonthOption
from afrex.cli.output import console, emit_json, reported, warn

if TYPE_CHECKING:
    from afrex.portal.run import FleetSummary, PortalRun

app = typer.Typer(
    help="Customer portal: dashboard.json and index.html per tenant, and the fleet summary.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Portal folder [default: <project>/portal]."),
]


@app.command()
def generate(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant id (stack name).")],
    month: MonthOption = None,
    output: OutputOption = None,
) -> None:
    """Write one tenant's `<folder>/<tenant>/dashboard.json` and `index.html`."""
    with reported():
        from afrex.portal.run import generate as run

        result = run(month, tenant, output)
    _report(result)


@app.command(name="all")
def all_tenants(month: MonthOption = None, output: OutputOption = None) -> None:
    """Write every tenant's `dashboard.json` and `index.html`."""
    with reported():
        from afrex.portal.run import generate as run

        result = run(month, None, output)
    _report(result)


@app.command()
def summary(month: MonthOption = None, output: FormatOption = Format.table) -> None:
    """The platform: tenants, agents, tasks, value delivered, MRR/ARR against the goal."""
    with reported():
        from afrex.portal.run import fleet_summary

        result = fleet_summary(month)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_summary(result)


def _report(result: PortalRun) -> None:
    for text in result.warnings:
        warn(text)
    for tenant_id, reason in result.skipped.items():
        console.print(f"left out: {tenant_id} ({reason})")
    folders = sorted({str(path.parent) for path in result.files})
    console.print(f"wrote {len(result.files)} files for {len(folders)} tenant(s)")
    for folder in folders:
        console.print(f"  {folder}")


def _render_summary(result: FleetSummary) -> None:
    data = result.as_dict()
    table = Table(title=f"Platform {result.window.month.title}", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("tenants", str(result.tenants)),
        ("agents", str(result.agents)),
        ("tasks completed", data["tasksCompleted"] or "no data"),
        ("hours saved", data["hoursSaved"] or "no data"),
        ("cost savings (USD)", data["costSavings"] or "no data"),
        ("tenants with task data", str(result.measured_tenants)),
        ("MRR (USD)", str(result.mrr)),
        ("ARR (USD)", str(result.arr)),
        ("ARR goal (USD)", str(result.goal)),
        ("progress to goal", f"{result.progress_pct}%"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
