"""The `afrex` command: one Typer app per noun, joined here.

Command modules import only what `--help` needs; anything heavy (the Pulumi
SDK, pulumi_aws, pulumi_docker, boto3) is imported inside the command that
uses it, so `afrex --help` and `afrex quote` stay fast.
"""

from __future__ import annotations

import sys
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
from afrex.cli.output import err_console, line, literal

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


def _click_exception() -> type[Exception]:
    """click's ClickException as the installed typer has it (typer vendors click)."""
    return next(base for base in typer.BadParameter.__mro__ if base.__name__ == "ClickException")


def run() -> None:
    """Console-script entry point.

    A usage error (a missing or unknown option, a value of the wrong type) is one
    line and exit 2 like every other bad input, instead of click's usage banner
    and boxed message; `--help` says the rest.
    """
    try:
        result = app(standalone_mode=False)
    except _click_exception() as error:
        code = int(getattr(error, "exit_code", 2))
        if type(error).__name__ != "NoArgsIsHelpError":  # that one printed the help
            ctx = getattr(error, "ctx", None)
            where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            message = str(getattr(error, "format_message", error.__str__)())
            joined = " ".join(part.strip() for part in message.splitlines() if part.strip())
            joined = joined.replace("Value error, ", "").rstrip(".")
            err_console.print(
                line(("error:", "bold red"), " ", literal(joined + where, one_line=True))
            )
        sys.exit(code)
    except typer.Abort:
        err_console.print(line(("aborted", "bold red")))
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
