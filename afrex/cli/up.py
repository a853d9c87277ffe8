"""`afrex up`: `pulumi up` with the policy pack for some stacks, a few at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from afrex.cli.output import console, line, reported, styled

if TYPE_CHECKING:
    from afrex.up import StackRun


def _report(run: StackRun) -> None:
    """One line per stack as it finishes."""
    verdict = ("ok", "green") if run.ok else ("failed", "bold red")
    console.print(
        line((f"{run.stack}:", "bold"), " ", verdict, f" {run.summary} ({run.seconds:.0f} s)")
    )


def up(
    stack: Annotated[
        list[str] | None, typer.Option("--stack", "-s", help="A tenant stack (repeatable).")
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since", metavar="REF", help="Every stack whose plan changed since REF."
        ),
    ] = None,
    parallel: Annotated[
        int, typer.Option("--parallel", help="At most this many updates at once.")
    ] = 1,
) -> None:
    """Deploy: `pulumi up --policy-pack policies` per stack through the Automation API.

    One workspace per stack, at most `--parallel` at a time; one line per stack and a
    summary. Needs the `pulumi` CLI. Exit 1 when any update fails.
    """
    with reported():
        from afrex.up import up_stacks

        runs = up_stacks(stack, changed_since, parallel, on_done=_report)
    failed = [run for run in runs if not run.ok]
    console.print(
        styled(
            f"up: {len(runs)} stack(s), {len(runs) - len(failed)} ok, {len(failed)} failed",
            "bold red" if failed else "bold",
        )
    )
    if failed:
        raise typer.Exit(code=1)
