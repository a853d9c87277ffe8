"""`afrex fleet list | status | usage | issues | summary | show`: the whole fleet.

Thin: parse the options, call one function of `afrex.fleetview`, render a table
or JSON. A live source that cannot be reached is one warning line on stderr
naming it; its tenants show `unknown`. The progress bar is on stderr, on a
terminal only. Nothing here imports the Pulumi SDK.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from afrex.billing import money
from afrex.cli.options import Format, FormatOption
from afrex.cli.output import (
    Col,
    console,
    emit_json,
    line,
    print_grid,
    progress,
    reported,
    styled,
    warn,
)

if TYPE_CHECKING:
    from afrex.fleetview.snapshot import Snapshot, Unknown
    from afrex.fleetview.status import TenantStatus
    from afrex.fleetview.summary import FleetSummary

app = typer.Typer(
    help="The whole fleet: desired (stack files), deployed (state) and live (engines, alarms).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class Source(StrEnum):
    docker = "docker"
    alarms = "alarms"
    backups = "backups"


SkipOption = Annotated[
    list[Source] | None,
    typer.Option("--skip", help="Do not ask this live source (repeatable)."),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for the live sources.")
]


def _snapshot(
    skip: list[Source] | None, timeout: float, default_skip: tuple[str, ...] = ()
) -> Snapshot:
    """The fleet, with a progress bar (one step per source) on a terminal."""
    from afrex.fleetview.snapshot import phases, take_snapshot

    skipped = {s.value for s in skip or []} | set(default_skip)
    with progress(phases(skipped), "fleet") as bar:
        return take_snapshot(skip=skipped, timeout=timeout, on_step=bar.advance)


def _warn_unknown(unknown: list[Unknown]) -> None:
    for source in unknown:
        warn(source.line())


@app.command(name="list")
def list_tenants(output: FormatOption = Format.table) -> None:
    """Every tenant: company, tier, agents, MRR and whether it is deployed as written."""
    with reported():
        from afrex.fleetview.snapshot import SOURCES
        from afrex.fleetview.status import fleet_status

        rows = fleet_status(_snapshot(None, 1.0, SOURCES))
    if output is Format.json:
        emit_json([row.as_dict() for row in rows])
        return
    columns = [Col("tenant"), Col("company"), Col("tier"), Col("vertical"), Col("agents", True)]
    columns += [Col("MRR", True), Col("deployment"), Col("last deployed")]
    print_grid(
        columns,
        [
            [
                row.tenant,
                row.company,
                row.tier,
                row.vertical,
                row.agents,
                money(row.mrr),
                _deployment(row.deployment),
                row.updated[:19].replace("T", " ") or "-",
            ]
            for row in rows
        ],
    )
    console.print(f"{len(rows)} tenant(s), MRR {money(sum((r.mrr for r in rows), _zero()))}")


def _zero() -> Any:
    from decimal import Decimal

    return Decimal("0.00")


def _deployment(state: str) -> Any:
    style = {"deployed": "green", "drifted": "yellow", "not deployed": "red"}.get(state, "")
    return styled(state, style)


def _agents_cell(row: TenantStatus) -> Any:
    if row.agent_states is None:
        return styled("not asked", "dim")
    counts = {k: v for k, v in row.agent_states.items() if v}
    if not counts:
        return "-"
    running = counts.pop("running", 0)
    parts = [(f"{running} running", "green")] if running else []
    for state, count in counts.items():
        parts.append((f"{count} {state}", "dim" if state == "unknown" else "bold red"))
    text = line()
    for index, part in enumerate(parts):
        text.append_text(line(", " if index else "", part))
    return text


def _alarms_cell(row: TenantStatus) -> Any:
    if row.deployment == "not deployed":
        return "-"
    if row.firing is None:
        return styled("unknown", "dim")
    if not row.firing:
        return styled("none firing", "green")
    return styled(f"{len(row.firing)} ALARM: {', '.join(row.firing)}", "bold red")


@app.command(name="status")
def status(
    skip: SkipOption = None, timeout: TimeoutOption = 10.0, output: FormatOption = Format.table
) -> None:
    """Per tenant: deployed / not deployed / drifted, agents running / stopped / unhealthy,
    alarms in ALARM."""
    with reported():
        from afrex.fleetview.status import fleet_status

        snapshot = _snapshot(skip, timeout, ("backups",))
        rows = fleet_status(snapshot)
    if output is Format.json:
        emit_json({"tenants": [row.as_dict() for row in rows], "sources": snapshot.sources()})
    else:
        print_grid(
            ["tenant", "tier", "deployment", "agents", "alarms"],
            [
                [
                    row.tenant,
                    row.tier,
                    _deployment(row.deployment),
                    _agents_cell(row),
                    _alarms_cell(row),
                ]
                for row in rows
            ],
        )
    _warn_unknown(snapshot.unknown)


@app.command(name="usage")
def usage(timeout: TimeoutOption = 30.0, output: FormatOption = Format.table) -> None:
    """CPU, memory and restarts per agent from its Docker engine, against the tier's limits."""
    with reported():
        from afrex.fleetview.usage import usage_run

        run = usage_run(timeout=timeout)
        with progress(run.agents, "agents") as bar:
            report = run.measure(bar.advance)
    if output is Format.json:
        emit_json(report.as_dict())
    else:
        rows: list[list[object]] = []
        for row in report.rows:
            if row.cpu_cores is not None:
                cpu = f"{row.cpu_cores:.2f} / {row.cpu_limit:g} ({row.cpu_pct}%)"
            elif row.allocated_cpu is not None:  # ECS: the task's allocation, use not measured
                cpu = f"{row.allocated_cpu:g} allocated / {row.cpu_limit:g}"
            else:
                cpu = "-"
            if row.memory_mb is not None:
                memory = f"{row.memory_mb:.0f} / {row.memory_limit_mb} ({row.memory_pct}%)"
            elif row.allocated_memory_mb is not None:
                memory = f"{row.allocated_memory_mb} allocated / {row.memory_limit_mb}"
            else:
                memory = "-"
            restarts = "-" if row.restarts is None else str(row.restarts)
            state = row.state if row.error is None else f"unknown: {row.error}"
            if row.note:
                state += f" ({row.note})"
            rows.append([row.tenant, row.agent, state, cpu, memory, restarts])
        numbers = [Col(n, True) for n in ("CPU (cores / limit)", "memory (MB / cap)", "restarts")]
        print_grid([Col("tenant"), Col("agent"), Col("state"), *numbers], rows)
    _warn_unknown(report.unknown)


@app.command(name="issues")
def issues(
    skip: SkipOption = None, timeout: TimeoutOption = 10.0, output: FormatOption = Format.table
) -> None:
    """What needs an operator: agents down or unhealthy, alarms in ALARM, stacks never
    deployed or changed since deployed, an old catalog, a bucket without its lifecycle rule.

    Exit 1 when there is any, 0 when none (for cron and CI); sources that could not be
    asked are named on stderr.
    """
    with reported():
        from afrex.fleetview.issues import find_issues

        snapshot = _snapshot(skip, timeout)
        found = find_issues(snapshot)
    if output is Format.json:
        emit_json({"issues": [i.as_dict() for i in found], "sources": snapshot.sources()})
    else:
        print_grid(
            ["tenant", "issue", "detail", "fix"],
            [[i.tenant, styled(i.title, "bold red"), i.detail, i.fix] for i in found],
        )
        tenants = len({issue.tenant for issue in found})
        console.print(f"{len(found)} issue(s) on {tenants} of {len(snapshot.views)} tenant(s)")
    _warn_unknown(snapshot.unknown)
    if found:
        raise typer.Exit(code=1)


@app.command(name="summary")
def summary(
    skip: SkipOption = None, timeout: TimeoutOption = 10.0, output: FormatOption = Format.table
) -> None:
    """The fleet in a screen: counts, MRR/ARR against the goal, and the top problems."""
    with reported():
        from afrex.fleetview.summary import fleet_summary

        snapshot = _snapshot(skip, timeout)
        result = fleet_summary(snapshot)
    if output is Format.json:
        emit_json({**result.as_dict(), "sources": snapshot.sources()})
    else:
        _render_summary(result, snapshot.skipped)
    _warn_unknown(snapshot.unknown)


def _render_summary(result: FleetSummary, skipped: tuple[str, ...]) -> None:
    counts = ", ".join(f"{n} {state}" for state, n in sorted(result.deployment.items()))
    tiers = ", ".join(f"{n} {tier}" for tier, n in result.tiers.items())
    console.print(line(("tenants:", "bold"), f" {result.tenants} ({counts}); {tiers}"))
    agents = f"{result.agents} desired"
    if "docker" in skipped:
        agents += " (containers not asked: --skip docker)"
    elif result.agent_states is not None:
        agents += "; " + ", ".join(f"{n} {s}" for s, n in result.agent_states.items() if n)
    console.print(line(("agents:", "bold"), f" {agents}"))
    firing = str(result.alarms_firing)
    if result.alarms_firing is None:
        firing = "not asked (--skip alarms)" if "alarms" in skipped else "unknown"
    console.print(line(("alarms in ALARM:", "bold"), f" {firing}"))
    revenue = result.revenue
    console.print(
        line(
            ("revenue:", "bold"),
            f" MRR {money(revenue.mrr)}, ARR {money(revenue.arr)}: {revenue.progress_pct}% of the "
            f"{money(revenue.goal)} goal (gap {money(revenue.gap)})",
        )
    )
    console.print(line(("issues:", "bold"), f" {result.issues}"))
    for problem in result.problems:
        more = (
            f" (+{problem.count - len(problem.tenants)} more)"
            if problem.count > len(problem.tenants)
            else ""
        )
        console.print(
            line(
                "  ",
                (f"{problem.count} x {problem.as_dict()['title']}", "bold red"),
                ": ",
                ", ".join(problem.tenants) + more,
            )
        )


@app.command(name="show")
def show(
    tenant: Annotated[str, typer.Argument(help="Tenant id (stack name).")],
    skip: SkipOption = None,
    timeout: TimeoutOption = 10.0,
    output: FormatOption = Format.table,
) -> None:
    """One tenant, everything known: contract, deployment, agents, alarms, backups, use,
    recent events."""
    with reported():
        from afrex.fleetview.show import tenant_detail

        detail = tenant_detail(tenant, {s.value for s in skip or []}, timeout)
    if output is Format.json:
        emit_json(detail.as_dict())
    else:
        _render_detail(detail.as_dict())
    _warn_unknown(detail.unknown)


def _render_detail(data: dict[str, Any]) -> None:
    status, contract = data["status"], data["contract"]
    console.print(
        line((status["tenant"], "bold"), f"  {contract['company']} <{contract['contact']}>")
    )
    console.print(
        f"plan: {contract['tier']}, {len(contract['agents'])} agent(s), {contract['vertical']}, "
        f"{contract['support']} support, {contract['billing']} billing, MRR {money(status['mrr'])}"
    )
    history = ", ".join(f"{h['effective']} {h['tier']} x{h['agents']}" for h in contract["history"])
    console.print(f"history: {history}")
    console.print(
        line(
            "deployment: ",
            _deployment(status["deployment"]),
            f" (last {status['updated'] or 'never'}; {_runs_on(data)})",
        )
    )
    table = Table("agent", "container", "state", "health", "CPU", "memory", "restarts")
    usage = {u["agent"]: u for u in data["usage"] or []}
    for container in data["containers"] or []:
        use = usage.get(container["agent"], {})
        table.add_row(
            container["agent"],
            container["container"],
            container["state"],
            container["health"] or "-",
            "-" if use.get("cpuPctOfLimit") is None else f"{use['cpuPctOfLimit']}% of limit",
            "-"
            if use.get("memoryMb") is None
            else f"{use['memoryMb']:.0f} MB ({use['memoryPctOfLimit']}%)",
            "-" if use.get("restarts") is None else str(use["restarts"]),
        )
    if data["containers"]:
        console.print(table)
    alarms = data["alarms"]
    if alarms is not None:
        firing = [a["name"] for a in alarms if a["state"] == "ALARM"]
        console.print(f"alarms: {len(alarms)}, in ALARM: {', '.join(firing) or 'none'}")
    lifecycle = data["backupLifecycle"]
    if lifecycle is not None:
        bucket, state = lifecycle["bucket"], lifecycle["state"]
        console.print(f"backup bucket: {bucket}, lifecycle {state} {lifecycle['detail']}".rstrip())
    for issue in data["issues"]:
        console.print(
            line(
                ("issue:", "bold red"),
                f" {issue['title']}: {issue['detail']} (fix: {issue['fix']})",
            )
        )
    for event in data["events"] or []:
        console.print(f"event: {event['when']} {event['kind']} by {event['who']}")


def _runs_on(data: dict[str, Any]) -> str:
    """Where a tenant's agents run: its Docker engine, or its ECS cluster."""
    if data.get("runtime") == "ecs":
        outputs = (data.get("deployed") or {}).get("outputs") or {}
        cluster = (outputs.get("ecs") or {}).get("clusterName") or "its platform's cluster"
        return f"ECS cluster {cluster}"
    return str(data.get("dockerHost") or "no Docker host")
