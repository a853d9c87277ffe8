"""`afrex quote`, `compare`, `invoice` and `revenue`: the price book and the bills.

Thin commands: parse the options, call one function of `afrex.billing`, render
a table or `--json`. Domain modules are imported inside each command, so
`afrex quote` never loads the Pulumi SDK or boto3.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from afrex.billing import money
from afrex.cli.output import Col, console, emit_json, line, print_grid, reported, styled, warn
from afrex.procs import terminate_on_signals

if TYPE_CHECKING:
    from afrex.billing.invoice import Invoice
    from afrex.billing.quote import Quote, TierOption
    from afrex.billing.revenue import Revenue, Slice
    from afrex.billing.run import InvoiceRun

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Vertical = Annotated[str, typer.Option("--vertical", help="Customer's vertical.")]
Support = Annotated[str, typer.Option("--support", help="Support level.")]


def quote(
    tier: Annotated[str | None, typer.Option("--tier", help="Tier to quote.")] = None,
    agents: Annotated[
        int | None, typer.Option("--agents", help="Agents; alone, picks the cheapest tier.")
    ] = None,
    vertical: Vertical = "general",
    support: Support = "standard",
    annual: Annotated[bool, typer.Option("--annual", help="Billed yearly (discounted).")] = False,
    extra_tasks: Annotated[
        int, typer.Option("--extra-tasks", help="Extra tasks a month, priced per task.")
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """Price a plan: base, overage, premium, support, tasks, discount and totals."""
    with reported():
        from afrex.billing.quote import quote as price
        from afrex.catalog import load_catalog

        result = price(
            load_catalog(),
            tier=tier,
            agents=agents,
            vertical=vertical,
            support=support,
            annual=annual,
            extra_tasks=extra_tasks,
        )
    if as_json:
        emit_json(result.as_dict())
    else:
        _render_quote(result)


def _render_quote(q: Quote) -> None:
    plan = q.plan
    billing = "annual" if q.annual else "monthly"
    console.print(
        line(
            ("Quote:", "bold"),
            f" {plan.tier}, {plan.agents} agents, {plan.vertical}, "
            f"{plan.support_level} support, {billing} billing",
        )
    )
    table = Table("item", Column("amount", justify="right"))
    lines = q.lines()
    for index, (label, amount) in enumerate(lines[:5]):
        table.add_row(label, money(amount), end_section=index == 4)
    table.add_row("subtotal", money(q.subtotal))
    for label, amount in lines[5:]:
        table.add_row(label, money(amount))
    table.add_row(styled("monthly total", "bold"), styled(money(q.monthly_total), "bold"))
    table.add_row("annual total (12 months)", money(q.annual_total))
    table.add_row("cost per agent per month", money(q.cost_per_agent))
    console.print(table)


def compare(
    agents: Annotated[int, typer.Option("--agents", help="How many agents to host.")],
    vertical: Vertical = "general",
    support: Support = "standard",
    as_json: AsJson = False,
) -> None:
    """Every tier side by side for a number of agents; the cheapest that fits is marked."""
    with reported():
        from afrex.billing.quote import compare as compare_tiers
        from afrex.catalog import load_catalog

        options = compare_tiers(load_catalog(), agents, vertical, support)
    if as_json:
        emit_json({"agents": agents, "tiers": [o.as_dict() for o in options]})
    else:
        _render_compare(agents, options)


def _render_compare(agents: int, options: list[TierOption]) -> None:
    from afrex.pricing import cents

    table = Table(title=f"Tiers for {agents} agent(s)", title_justify="left")
    table.add_column("tier")
    table.add_column(f"holds {agents}?")
    for column in ("monthly", "per year", "per year, annual billing", "per agent / month"):
        table.add_column(column, justify="right")
    for o in options:
        plan = o.quote.plan
        fits = "yes" if o.fits else f"no: {o.reason} (priced at {plan.agents})"
        name = styled(f"{o.tier} (cheapest)", "bold green") if o.cheapest else styled(o.tier)
        table.add_row(
            name,
            fits,
            money(plan.total),
            money(plan.total * 12),
            money(o.annual_billed),
            money(cents(plan.total / plan.agents)),
        )
    console.print(table)
    if not any(o.fits for o in options):
        console.print(f"no tier holds {agents} agents: split them across tenants")


def invoice(
    month: Annotated[str, typer.Option("--month", help="Month to bill, YYYY-MM (UTC).")],
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant id (stack name) to bill.")
    ] = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="Bill every tenant.")] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Invoices folder [default: <project>/invoices]."),
    ] = None,
    draft: Annotated[
        bool,
        typer.Option("--draft", help="Bill the current month's days so far, as a draft."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Bill a month: prorated plan lines, annual discount and SLA credit.

    Writes `FOLDER/YYYY-MM/INV-TENANT-YYYY-MM.json` and `.html` for each tenant. The
    current month is not over: `--draft` bills its days so far into
    `INV-TENANT-YYYY-MM.draft.json|html`; without it, the current month is refused.
    """
    with terminate_on_signals(), reported():
        from afrex.billing.run import invoice_month
        from afrex.errors import BadInput

        if all_tenants == (tenant is not None):
            raise BadInput("give either --tenant <id> or --all", "e.g. --all --month 2026-03")
        run = invoice_month(month, tenant=tenant, output=output, draft=draft)
    for warning in run.warnings:
        warn(warning)
    if as_json:
        _emit_run(run, single=tenant is not None)
    elif tenant is not None:
        _render_invoice(run.invoices[0])
        console.print("wrote " + ", ".join(str(p) for p in run.files))
    else:
        _render_run(run)


def _emit_run(run: InvoiceRun, single: bool) -> None:
    if single:
        emit_json({**run.invoices[0].as_dict(), "files": [str(p) for p in run.files]})
        return
    emit_json(
        {
            "month": str(run.month),
            "folder": str(run.folder / str(run.month)),
            "invoices": [i.as_dict() for i in run.invoices],
            "skipped": run.skipped,
            "total": sum((i.total for i in run.invoices), Decimal("0.00")),
        }
    )


def _render_invoice(inv: Invoice) -> None:
    label = f"DRAFT through {inv.issued}  " if inv.draft else ""
    console.print(line((f"{label}{inv.id}", "bold"), f"  {inv.company}"), soft_wrap=True)
    table = Table()
    table.add_column("item")
    table.add_column("amount", justify="right")
    for index, charge in enumerate(inv.charges):
        table.add_row(
            charge.description, money(charge.amount), end_section=index == len(inv.charges) - 1
        )
    table.add_row("subtotal", money(inv.subtotal))
    for adjustment in inv.adjustments:
        table.add_row(adjustment.description, money(adjustment.amount))
    table.add_row(styled("total due", "bold"), styled(money(inv.total), "bold"))
    console.print(table)
    console.print(f"SLA: {inv.sla.note}")


def _render_run(run: InvoiceRun) -> None:
    drafts = " (drafts: the month is not over)" if any(i.draft for i in run.invoices) else ""
    rows: list[list[object]] = []
    for inv in run.invoices:
        sla = f"{inv.sla.uptime.pct}%" if inv.sla.uptime else "not measured"
        if inv.sla.credit_pct:
            sla += f", {inv.sla.credit_pct}% credit"
        rows.append([inv.id, inv.days_billed, money(inv.subtotal), sla, money(inv.total)])
    total = sum((i.total for i in run.invoices), Decimal("0.00"))
    rows.append([styled("total", "bold"), "", "", "", styled(money(total), "bold")])
    columns = [
        Col("invoice"),
        Col("days", True),
        Col("subtotal", True),
        Col("SLA"),
        Col("total", True),
    ]
    print_grid(columns, rows, title=f"Invoices for {run.month.title}{drafts}")
    for tenant_id, reason in run.skipped.items():
        console.print(f"not billed: {tenant_id} ({reason})")
    console.print(f"wrote {len(run.files)} files to {run.folder / str(run.month)}")


def revenue(as_json: AsJson = False) -> None:
    """MRR and ARR of the fleet by tier and vertical, and the way to the ARR goal."""
    with reported():
        from afrex.billing.revenue import fleet_revenue

        report = fleet_revenue()
    if as_json:
        emit_json(report.as_dict())
    else:
        _render_revenue(report)


def _render_revenue(report: Revenue) -> None:
    for title, slices in (("by tier", report.by_tier), ("by vertical", report.by_vertical)):
        _render_slices(f"Revenue {title}", slices)
    console.print(
        line(
            ("fleet:", "bold"),
            f" {len(report.by_tenant)} tenants, MRR {money(report.mrr)}, "
            f"ARR {money(report.arr)}: {report.progress_pct}% of the {money(report.goal)} goal",
        )
    )
    if report.gap:
        ways = ", ".join(f"{n:,} {tier}" for tier, n in report.to_close.items())
        console.print(
            f"gap {money(report.gap)}: closed by any one of {ways} new customers at list price"
        )
    else:
        console.print(styled("the ARR goal is reached", "bold green"))


def _render_slices(title: str, slices: list[Slice]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("name")
    for column in ("tenants", "MRR", "ARR"):
        table.add_column(column, justify="right")
    for s in slices:
        table.add_row(s.name, str(s.tenants), money(s.mrr), money(s.arr))
    console.print(table)
