"""`afrex capacity`: Docker hosts against their sizes, ECS tenants on Fargate.

Thin: parse, call `afrex.capacity.fleet_capacity`, render a table or JSON. Reads
stack files, the catalog and the hosts inventory only (no Pulumi, no cloud).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from afrex.cli.options import Format, FormatOption
from afrex.cli.output import console, emit_json, line, reported, styled, warn

if TYPE_CHECKING:
    from afrex.capacity import CapacityReport


def capacity(
    output: FormatOption = Format.table,
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="The Docker hosts' sizes (default: hosts.yaml at the project root).",
        ),
    ] = None,
) -> None:
    """What each Docker host's tenants commit against its size (flagged past the catalog's
    limit, with the tenants to move), and the ECS tenants' Fargate vCPU, GB and monthly cost.
    """
    with reported():
        from afrex.capacity import fleet_capacity

        report = fleet_capacity(inventory)
    if output is Format.json:
        emit_json(report.as_dict())
        return
    _render(report)


def _pct(value: Decimal | None) -> str:
    return "?" if value is None else f"{value}%"


def _render(report: CapacityReport) -> None:
    if not report.inventory_found and report.hosts:
        warn(f"no host inventory at {report.inventory}; sizes unknown, hosts not judged")
    for host in report.unknown_hosts if report.inventory_found else []:
        warn(f"{host} is not in {report.inventory}; add its memory_mb and cpus")
    _render_hosts(report)
    _render_ecs(report)
    _render_tiers(report)


def _render_hosts(report: CapacityReport) -> None:
    table = Table(title=f"Docker hosts (flagged past {report.limit_pct}%)", title_justify="left")
    for column in ("host", "tenants", "agents", "memory", "cpus", "status"):
        table.add_column(column, no_wrap=column != "status", overflow="fold")
    for host in report.hosts:
        size = host.size
        memory = f"{host.memory_mb} MB" + (
            f" of {size.memory_mb} ({_pct(host.memory_pct)})" if size else ""
        )
        cpus = f"{host.cpus}" + (f" of {size.cpus} ({_pct(host.cpu_pct)})" if size else "")
        if host.over:
            status = styled(f"over: move {', '.join(host.move)}", "bold red")
        else:
            status = styled("ok" if size else "size unknown", "green" if size else "yellow")
        agents = sum(t.agents for t in host.tenants)
        table.add_row(host.host, str(len(host.tenants)), str(agents), memory, cpus, status)
    console.print(table)


def _render_ecs(report: CapacityReport) -> None:
    prices = report.prices
    if not report.ecs:
        console.print(line(("ecs:", "bold"), " no tenant runs on ECS"))
        return
    table = Table(
        title=f"ECS tenants on Fargate ({prices['region']} list prices of {prices['as_of']})",
        title_justify="left",
    )
    for column in ("tenant", "tier", "agents", "vCPU", "GB", "per month"):
        table.add_column(column, no_wrap=True)
    for tenant in report.ecs:
        table.add_row(
            tenant.tenant,
            tenant.tier,
            str(tenant.agents),
            f"{tenant.vcpu:g}",
            f"{tenant.memory_gb:g}",
            f"${tenant.monthly:,.2f}",
        )
    totals = report.ecs_totals()
    console.print(table)
    console.print(
        line(
            ("ecs:", "bold"),
            f" {totals['tenants']} tenants, {totals['agents']} agents, {totals['vcpu']:g} vCPU, "
            f"{totals['memory_gb']:g} GB, ${totals['monthly']:,.2f} per month",
        )
    )


def _render_tiers(report: CapacityReport) -> None:
    table = Table(title="Fargate cost per tier", title_justify="left")
    for column in ("tier", "task", "per agent", "included agents", "per tenant", "of price"):
        table.add_column(column, no_wrap=True)
    for tier in report.tiers:
        table.add_row(
            tier.tier,
            f"{tier.cpu_units / 1024:g} vCPU / {tier.memory_mb / 1024:g} GB",
            f"${tier.per_agent:,.2f}",
            str(tier.included_agents),
            f"${tier.per_tenant:,.2f}",
            f"{tier.share_pct}%",
        )
    console.print(table)
    console.print(styled(f"prices: {report.prices['source']}", "dim"))
