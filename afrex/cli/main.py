"""The `afrex` command: one Typer app per noun, joined here.

Command modules import only what `--help` needs; anything heavy (the Pulumi
SDK, pulumi_aws, pulumi_docker, boto3) is imported inside the command that
uses it, so `afrex --help` and `afrex quote` stay fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from afrex import __version__
from afrex.cli import backup as backup_cli
from afrex.cli import billing, fleet, plan, scale, tenant
from afrex.cli import capacity as capacity_cli
from afrex.cli import events as events_cli
from afrex.cli import portal as portal_cli
from afrex.cli import sla as sla_cli
from afrex.cli import up as up_cli

app = typer.Typer(
    name="afrex",
    help="Operate the AfrexAI hosted-agents fleet: plan, bill, scale, back up, watch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command(name="plan")(plan.plan)
app.command(name="quote")(billing.quote)
app.command(name="compare")(billing.compare)
app.command(name="invoice")(billing.invoice)
app.command(name="revenue")(billing.revenue)
app.add_typer(sla_cli.app, name="sla")
app.add_typer(portal_cli.app, name="portal")
app.add_typer(tenant.app, name="tenant")
app.add_typer(scale.app, name="scale")
app.add_typer(fleet.app, name="fleet")
app.add_typer(backup_cli.app, name="backup")
app.command(name="events")(events_cli.events)
app.command(name="up")(up_cli.up)
app.command(name="capacity")(capacity_cli.capacity)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"afrex {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Operate the AfrexAI hosted-agents fleet."""


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
