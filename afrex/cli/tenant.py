"""`afrex tenant new`: onboard a customer into a reviewed stack file.

Thin: parse the options, call `afrex.onboard.onboard`, render. Domain modules
are imported inside the command, so `afrex --help` stays light, and only
`--dry-run` (which runs the offline plan) loads the Pulumi SDK.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from afrex.billing import money
from afrex.cli.options import Format, FormatOption
from afrex.cli.output import console, emit_json, line, literal, reported, styled

if TYPE_CHECKING:
    from afrex.onboard import Onboarding

app = typer.Typer(
    help="Customers: onboard a new tenant into its own stack file.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class Billing(StrEnum):
    monthly = "monthly"
    annual = "annual"


class Profile(StrEnum):
    local = "local"
    aws = "aws"


class Runtime(StrEnum):
    docker = "docker"
    ecs = "ecs"


@app.command(name="new")
def new(
    name: Annotated[str, typer.Option("--name", help="The customer's company name.")],
    email: Annotated[str, typer.Option("--email", help="The customer's contact email.")],
    tier: Annotated[str, typer.Option("--tier", help="Tier from the catalog.")],
    vertical: Annotated[str, typer.Option("--vertical", help="Vertical from the catalog.")],
    support: Annotated[str, typer.Option("--support", help="Support level.")] = "standard",
    billing: Annotated[Billing, typer.Option("--billing", help="Billing cycle.")] = Billing.monthly,
    agents: Annotated[
        int | None,
        typer.Option("--agents", help="Agents to start with [default: the tier's included]."),
    ] = None,
    docker_host: Annotated[
        str | None,
        typer.Option("--docker-host", help="Docker engine for the agents, e.g. ssh://agents-07."),
    ] = None,
    profile: Annotated[
        Profile,
        typer.Option("--profile", help="Provider settings: local (moto, Podman) or aws."),
    ] = Profile.local,
    runtime: Annotated[
        Runtime,
        typer.Option(
            "--runtime", help="Where the agents run: docker (a Docker host) or ecs (Fargate)."
        ),
    ] = Runtime.docker,
    platform_stack: Annotated[
        str | None,
        typer.Option(
            "--platform-stack",
            help="ECS only: the platform stack, e.g. organization/afrex-platform/prod "
            "[default with --profile local: organization/afrex-platform/local].",
        ),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Also send the welcome email through SES.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the stack file, plan and quote; write nothing."),
    ] = False,
    output: FormatOption = Format.table,
) -> None:
    """Onboard a customer: a validated stack file with a fresh encrypted gateway token,
    the welcome email in the outbox, and an event in the fleet's log.

    Needs `PULUMI_CONFIG_PASSPHRASE` (the stacks' passphrase). `--dry-run` prints the
    stack file (secrets as ciphertext), the tenant's offline plan and its quote.
    `--runtime ecs` runs the agents as Fargate services on a platform stack
    (platform/README.md) instead of containers on a Docker host.
    """
    with reported():
        from afrex.onboard import NewTenant, onboard

        request = NewTenant(
            company=name,
            contact=email,
            tier=tier,
            vertical=vertical,
            support=support,
            billing=billing.value,
            agents=agents,
            docker_host=docker_host,
            profile=profile.value,
            runtime=runtime.value,
            platform_stack=platform_stack,
        )
        result = onboard(request, dry_run=dry_run, send_email=send)
    if output is Format.json:
        emit_json(result.as_dict())
    elif dry_run:
        _render_dry_run(result)
    else:
        _render(result)


def _render(result: Onboarding) -> None:
    spec = result.spec
    console.print(
        line(
            ("onboarded", "bold green"),
            f" {spec.tenant_id} ({spec.company}): {spec.tier}, {len(spec.agents)} agent(s), "
            f"{spec.vertical}, {spec.support} support, "
            f"{money(result.quote.monthly_total)} a month",
            f", on ECS ({result.platform_stack})" if result.platform_stack else "",
        )
    )
    console.print(f"wrote {result.path}")
    if result.welcome is not None:
        sent = f" (sent, SES id {result.sent})" if result.sent else ""
        console.print(f"welcome email: {result.welcome}{sent}")
    for step in result.next_steps:
        console.print(line(("next:", "bold"), " ", step))


def _render_dry_run(result: Onboarding) -> None:
    spec = result.spec
    console.print(styled(f"# {result.path} (not written)", "dim"))
    console.print(literal(result.stack_text.rstrip("\n")))
    table = Table(
        "type",
        "name",
        Column("key settings", overflow="fold"),
        title=f"offline plan of {spec.tenant_id}",
        title_justify="left",
    )
    for row in result.plan_rows:
        table.add_row(row["type"], row["name"], row["settings"])
    console.print(table)
    if result.plan_error:
        console.print(line(("plan error:", "bold red"), " ", literal(result.plan_error)))
    quote = Table("item", Column("amount", justify="right"), title="quote", title_justify="left")
    for label, amount in result.quote.lines():
        quote.add_row(label, money(amount))
    total = money(result.quote.monthly_total)
    quote.add_row(styled("monthly total", "bold"), styled(total, "bold"))
    console.print(quote)
    console.print(styled("dry run: nothing was written", "bold"))
