"""`afrex sla`: check, watch, report, breaches and dashboard.

Thin commands: parse, call one function of `afrex.sla`, render a table or JSON.
Domain modules (and through them boto3 and the docker SDK) are imported inside
each command, so `afrex --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from afrex.cli.options import AllTenants, Format, FormatOption, MonthOption
from afrex.cli.output import (
    Col,
    console,
    emit_json,
    err_console,
    line,
    print_grid,
    reported,
    styled,
    warn,
)

if TYPE_CHECKING:
    from afrex.errors import AfrexError
    from afrex.sla.breaches import BreachReport
    from afrex.sla.check import CheckRound
    from afrex.sla.report import SlaReport
    from afrex.sla.watch import Overrun

app = typer.Typer(
    help="SLA monitoring: probe agents, publish uptime, alert, and judge months.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


BAR_WIDTH = 30


@app.command()
def check(tenant: AllTenants = None, output: FormatOption = Format.table) -> None:
    """Probe every deployed agent once: publish Up and ResponseTimeMs, alert on down agents.

    Exits 1 when any agent is down (or a publish failed), 0 when all are up.
    """
    with reported():
        from afrex.sla.check import check_fleet

        result = check_fleet(tenant)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_round(result)
    if result.down or result.problems:
        raise typer.Exit(code=1)


@app.command()
def watch(
    interval: Annotated[
        str, typer.Option("--interval", help="Time between round starts: 60s, 5m, 1h.")
    ] = "60s",
    tenant: AllTenants = None,
) -> None:
    """Check on a schedule until SIGTERM or SIGINT, which finish the current round and exit 0.

    Down agents are alerted when they go down and again every `telemetry.realert_seconds`
    of the catalog while they stay down; recoveries are recorded as events.
    """
    with reported():
        from datetime import timedelta

        from afrex.catalog import load_catalog
        from afrex.sla.check import AlertMemory, check_fleet
        from afrex.sla.watch import parse_interval, stop_on_signals
        from afrex.sla.watch import watch as run_rounds

        seconds = parse_interval(interval)
        catalog = load_catalog()
        memory = AlertMemory(timedelta(seconds=catalog.telemetry.realert_seconds))
        with stop_on_signals() as stop:
            rounds = run_rounds(
                seconds,
                lambda: check_fleet(tenant, catalog=catalog, memory=memory),
                _round_line,
                _overrun_line,
                _round_error,
                stop,
            )
    err_console.print(f"sla watch: stopped after {rounds} round(s)")


def _round_line(number: int, result: CheckRound) -> None:
    down = ", ".join(f"{p.tenant}/{p.agent}" for p in result.down) or "none"
    console.print(
        line(
            f"round {number} {result.as_dict()['checked']}: {len(result.probes)} agents, ",
            (f"{len(result.down)} down", "bold red" if result.down else "green"),
            f" ({down}), {len(result.alerts)} alert(s), {result.seconds:.2f} s",
        )
    )
    for problem in result.problems:
        warn(problem)


def _overrun_line(overrun: Overrun) -> None:
    warn(overrun.text())


def _round_error(number: int, error: AfrexError) -> None:
    warn(f"round {number} failed: {error}")


@app.command()
def report(
    month: MonthOption = None, tenant: AllTenants = None, output: FormatOption = Format.table
) -> None:
    """A month's uptime per tenant and agent against the tier's target, and the credit owed.

    The same figures the month's invoices use (same reader, tier and credit table).
    """
    with reported():
        from afrex.sla.report import sla_report

        result = sla_report(month, tenant)
    for text in result.warnings:
        warn(text)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_report(result)


@app.command()
def breaches(
    month: MonthOption = None, tenant: AllTenants = None, output: FormatOption = Format.table
) -> None:
    """The periods (start, end, duration, agent) in which an agent was below its target."""
    with reported():
        from afrex.sla.breaches import sla_breaches

        result = sla_breaches(month, tenant)
    for text in result.warnings:
        warn(text)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_breaches(result)


@app.command()
def dashboard(month: MonthOption = None) -> None:
    """A bar per tenant of uptime against its target, worst first."""
    with reported():
        from afrex.sla.report import sla_report

        result = sla_report(month)
    for text in result.warnings:
        warn(text)
    _render_dashboard(result)


def _render_round(result: CheckRound) -> None:
    rows: list[list[object]] = []
    for probe in result.probes:
        answer = probe.answer
        rows.append(
            [
                probe.tenant,
                probe.agent,
                f"{probe.state}" + (f" ({probe.health})" if probe.health else ""),
                str(answer.status) if answer and answer.status is not None else "-",
                str(answer.response_ms) if answer and answer.response_ms is not None else "-",
                styled("UP", "bold green") if probe.up else styled("DOWN", "bold red"),
                probe.reason,
            ]
        )
    columns = [Col(n, n in ("HTTP", "ms")) for n in ("tenant", "agent", "container", "HTTP", "ms")]
    columns += [Col("verdict"), Col("why")]
    print_grid(columns, rows, title=f"SLA check {result.as_dict()['checked']}")
    published = result.published
    console.print(
        f"{len(result.probes)} agents, {len(result.down)} down; "
        f"{published.items if published else 0} metric(s) in "
        f"{published.calls if published else 0} PutMetricData call(s); "
        f"{sum(1 for a in result.alerts if a.sent)} alert(s) sent; {result.seconds:.2f} s"
    )
    from afrex.containers import LiveContainers

    for host, reason in result.unreachable.items():
        warn(f"{LiveContainers.source_title(host)}: {reason}")
    for problem in result.problems:
        warn(problem)


def _render_report(result: SlaReport) -> None:
    title = f"SLA {result.window.month.title}" + (" (so far)" if result.window.partial else "")
    rows: list[list[object]] = []
    for tenant in result.tenants:
        sla = tenant.sla
        verdict = (
            styled("not measured", "yellow")
            if tenant.met is None
            else styled("met", "green")
            if tenant.met
            else styled("breached", "bold red")
        )
        rows.append(
            [
                styled(tenant.tenant, "bold"),
                f"{sla.uptime.pct}%" if sla.uptime else "-",
                str(sla.uptime.samples) if sla.uptime else "0",
                f"{sla.target_pct}% ({sla.tier})",
                verdict,
                f"{sla.credit_pct}%",
            ]
        )
        for agent in tenant.agents:
            uptime = agent.uptime
            rows.append(
                [
                    f"  {agent.agent}",
                    f"{uptime.pct}%" if uptime else "-",
                    str(uptime.samples) if uptime else "0",
                    "",
                    "",
                    "",
                ]
            )
    names = ("tenant / agent", "uptime", "samples", "target", "verdict", "credit")
    print_grid([Col(n, n not in ("tenant / agent", "verdict")) for n in names], rows, title)
    for tenant_id, reason in result.skipped.items():
        console.print(f"not judged: {tenant_id} ({reason})")


def _render_breaches(result: BreachReport) -> None:
    title = f"SLA breaches {result.window.month.title} ({result.period // 60}-minute buckets)"
    names = ("tenant", "agent", "start", "end", "duration", "uptime", "target")
    rows = [
        [
            breach.tenant,
            breach.agent,
            breach.as_dict()["start"],
            breach.as_dict()["end"],
            str(breach.duration),
            f"{breach.uptime.pct}%",
            f"{breach.target_pct}%",
        ]
        for breach in result.breaches
    ]
    print_grid([Col(n, n in ("uptime", "target")) for n in names], rows, title)
    console.print(f"{len(result.breaches)} breach period(s)")


def _render_dashboard(result: SlaReport) -> None:
    """Per tenant, worst first: how much of the month's error budget (100% - target) the
    measured downtime used; past 100% the target is breached."""
    title = f"SLA dashboard {result.window.month.title}: error budget used"
    rows: list[list[object]] = []
    for tenant in result.worst_first():
        sla = tenant.sla
        if sla.uptime is None:
            rows.append(
                [tenant.tenant, styled("no data", "yellow"), "-", "-", f"{sla.target_pct}%"]
            )
            continue
        used = (100 - sla.uptime.pct) / (100 - sla.target_pct)
        filled = min(BAR_WIDTH, int(used * BAR_WIDTH))
        style = "green" if tenant.met else "bold red"
        bar = line(("█" * filled, style), ("░" * (BAR_WIDTH - filled), "dim"))
        rows.append(
            [tenant.tenant, bar, f"{used * 100:.0f}%", f"{sla.uptime.pct}%", f"{sla.target_pct}%"]
        )
    columns = [Col("tenant"), Col("budget used".ljust(BAR_WIDTH))]
    print_grid([*columns, Col("used", True), Col("uptime", True), Col("target", True)], rows, title)
