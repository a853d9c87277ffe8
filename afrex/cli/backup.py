"""`afrex backup`: create, list, restore, export and retention of agent state backups.

Thin commands: parse, call one function of `afrex.backups`, render a table or JSON.
Domain modules (and through them boto3 and the docker SDK) are imported inside
each command, so `afrex --help` stays fast.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from afrex.cli.options import AllTenants, Format, FormatOption, OneTenant
from afrex.cli.output import (
    Col,
    Progress,
    console,
    emit_json,
    line,
    print_grid,
    progress,
    reported,
    styled,
    warn,
)
from afrex.errors import BadInput

if TYPE_CHECKING:
    from afrex.backups.create import BackupRun
    from afrex.backups.listing import BackupListing
    from afrex.backups.restore import RestorePlan, RestoreResult
    from afrex.backups.retention import BucketRetention, RetentionReport

app = typer.Typer(
    help="Back up agent state to each tenant's bucket; list, restore, export, expire.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def size_text(size: int) -> str:
    """Bytes for people: 512 B, 3.4 MB, 1.2 GB (decimal units)."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


@app.command()
def create(
    tenant: AllTenants = None,
    parallel: Annotated[
        int, typer.Option("--parallel", "-p", help="Tenants backed up at the same time.")
    ] = 4,
    output: FormatOption = Format.table,
) -> None:
    """Back up every agent's state to its tenant's bucket: one archive per agent, then
    the manifest.

    Exits 1 when any tenant failed (the others still run); tenants never deployed
    are skipped with the reason.
    """
    with reported(), ExitStack() as stack:
        from afrex.backups.create import create_backups

        bars: list[Progress] = []

        def start(total: int) -> None:
            bars.append(stack.enter_context(progress(total, "backing up tenants")))

        result = create_backups(
            tenant, parallel, on_start=start, on_done=lambda _: bars[0].advance()
        )
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_run(result)
    for item in result.tenants:
        for problem in item.problems:
            warn(f"{item.tenant}: {problem}")
    if not result.ok:
        raise typer.Exit(code=1)


@app.command(name="list")
def list_(tenant: AllTenants = None, output: FormatOption = Format.table) -> None:
    """Backups with time, size, agents, complete or not, and age against the retention.

    Only complete backups (with their manifest) can be restored.
    """
    with reported():
        from afrex.backups.listing import list_backups

        result = list_backups(tenant)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_listing(result)
    for tenant_id, reason in result.failed.items():
        warn(f"{tenant_id}: {reason}")
    if result.failed:
        raise typer.Exit(code=1)


@app.command()
def restore(
    tenant: OneTenant,
    backup_id: Annotated[
        str, typer.Option("--backup-id", "-b", help="The backup, e.g. 20260215-120000.")
    ],
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="One agent; default: all in the backup.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; required off a terminal.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            help="Seconds to wait for each agent to be up again (ECS deployments: about 300).",
        ),
    ] = 120.0,
    output: FormatOption = Format.table,
) -> None:
    """Restore a complete backup: every archive downloaded and checked first, then each
    agent stopped, its state replaced, started and waited for.

    A checksum mismatch or a missing manifest changes nothing and exits 1.
    """
    with reported():
        if not yes and not sys.stdin.isatty():
            raise BadInput(
                "restore replaces agent state and there is no terminal to ask", "pass --yes"
            )
        from afrex.backups.restore import restore_backup

        result = restore_backup(tenant, backup_id, agent, None if yes else _confirm, wait)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_restore(result)


def _confirm(plan: RestorePlan) -> bool:
    console.print(
        line(
            ("Restore", "bold"),
            f" backup {plan.backup_id} of {plan.tenant} ({size_text(plan.size)}): "
            f"the state of {', '.join(plan.agents)} will be replaced; "
            "each agent is stopped while it is restored.",
        )
    )
    if plan.not_deployed:
        warn(f"not deployed any more, left out: {', '.join(plan.not_deployed)}")
    return typer.confirm("Go ahead?", default=False)


@app.command()
def export(
    tenant: OneTenant,
    to: Annotated[
        Path, typer.Option("--output", "-o", help="A new or empty folder to export into.")
    ],
    output: FormatOption = Format.table,
) -> None:
    """Export every complete backup, the stack file (secrets stay encrypted) and a
    manifest into a folder, verified after writing (offboarding, compliance)."""
    with reported():
        from afrex.backups.export import export_tenant

        result = export_tenant(tenant, to)
    if output is Format.json:
        emit_json(result.as_dict())
        return
    console.print(
        line(
            ("Exported", "bold green"),
            f" {len(result.backups)} backup(s) of {result.tenant} and its stack file: "
            f"{len(result.files)} files, {size_text(result.size)}, verified, in {result.output}",
        )
    )
    if result.incomplete:
        warn(f"incomplete backups left out: {', '.join(result.incomplete)}")
    if not result.backups:
        warn(f"{result.tenant} has no complete backup: only its stack file was exported")


@app.command()
def retention(
    tenant: AllTenants = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; delete nothing.")
    ] = False,
    output: FormatOption = Format.table,
) -> None:
    """Check each bucket's lifecycle rule against the catalog's retention and show what
    expires next.

    S3's rule does the expiring. Only where a bucket's rule is missing are past-retention
    backups deleted here (and said so). Exits 1 when any rule is missing, differs or
    cannot be read: `pulumi up -s <tenant>` puts the rule back.
    """
    with reported():
        from afrex.backups.retention import check_retention

        result = check_retention(tenant, dry_run)
    if output is Format.json:
        emit_json(result.as_dict())
    else:
        _render_retention(result)
    if not result.ok:
        raise typer.Exit(code=1)


def _status(text: str) -> Text:
    colours = {"created": "green", "failed": "bold red", "skipped": "yellow"}
    return styled(text, colours.get(text, ""))


def _render_run(result: BackupRun) -> None:
    names = ("tenant", "status", "agents", "size", "seconds", "reason")
    rows = [
        [
            item.tenant,
            _status(item.status),
            ", ".join(a.agent for a in item.agents) or "-",
            size_text(item.size) if item.agents else "-",
            f"{item.seconds:.1f}" if item.status != "skipped" else "-",
            item.reason or "",
        ]
        for item in result.tenants
    ]
    columns = [Col(n, n in ("size", "seconds")) for n in names]
    print_grid(columns, rows, title=f"Backup {result.backup_id}")
    counts = {status: len(result.having(status)) for status in ("created", "failed", "skipped")}
    console.print(", ".join(f"{count} {status}" for status, count in counts.items()))


def _render_listing(result: BackupListing) -> None:
    names = ("tenant", "backup id", "state", "size", "agents", "age", "expires")
    rows = [
        [
            entry.tenant,
            entry.backup_id,
            styled("complete", "green") if entry.complete else styled("incomplete", "yellow"),
            size_text(entry.size),
            ", ".join([*entry.agents, *(f"{a} (cut off)" for a in entry.unfinished)]),
            f"{entry.age_days} d",
            f"{entry.expires:%Y-%m-%d}",
        ]
        for entry in result.backups
    ]
    title = f"Backups (retention {result.retention_days} days)"
    print_grid([Col(n, n in ("size", "age")) for n in names], rows, title)
    console.print(f"{len(result.backups)} backup(s); incomplete ones cannot be restored")
    for tenant_id, reason in result.skipped.items():
        console.print(f"no backups: {tenant_id} ({reason})")


def _render_restore(result: RestoreResult) -> None:
    plan = result.plan
    if result.cancelled:
        console.print("Cancelled: nothing was changed.")
        return
    for agent in result.agents:
        health = f", {agent.health}" if agent.health else ""
        console.print(
            line(
                ("restored", "bold green"),
                f" {plan.tenant}/{agent.agent} from {plan.backup_id}: "
                f"{agent.state}{health} after {agent.seconds:.1f} s",
            )
        )
    console.print(
        f"{len(result.agents)} agent(s) restored; {size_text(result.verified_bytes)} "
        "downloaded and verified against the manifest"
    )
    if plan.not_deployed:
        warn(f"in the backup but not deployed, left out: {', '.join(plan.not_deployed)}")


def _render_retention(result: RetentionReport) -> None:
    title = f"Retention {result.retention_days} days" + (" (dry run)" if result.dry_run else "")
    table = Table(title=title, title_justify="left")
    for name in ("tenant", "bucket", "lifecycle rule", "next to expire", "past retention"):
        table.add_column(name, justify="right" if name == "past retention" else "left")
    for bucket in result.buckets:
        rule = styled(bucket.rule, "green" if bucket.ok else "bold red")
        upcoming = bucket.next_expiry
        table.add_row(
            bucket.tenant,
            bucket.bucket,
            rule,
            f"{upcoming.name} on {upcoming.expires:%Y-%m-%d}" if upcoming else "-",
            str(len(bucket.past)),
        )
    console.print(table)
    for bucket in result.buckets:
        _explain(bucket, result.dry_run)
    for tenant_id, reason in result.skipped.items():
        console.print(f"not checked: {tenant_id} ({reason})")


def _explain(bucket: BucketRetention, dry_run: bool) -> None:
    where = f"{bucket.tenant} (s3://{bucket.bucket})"
    if bucket.rule == "differs":
        warn(
            f"{where}: the lifecycle rule differs from the catalog: {'; '.join(bucket.differences)}"
        )
    elif bucket.rule == "missing":
        names = ", ".join(item.name for item in bucket.past) or "nothing"
        if dry_run:
            warn(f"{where}: no lifecycle rule; past retention, would be deleted here: {names}")
        else:
            done = ", ".join(bucket.deleted) or "nothing past retention"
            warn(f"{where}: no lifecycle rule, so afrex deleted: {done}")
    elif bucket.past:
        console.print(f"{where}: {len(bucket.past)} past retention, awaiting S3's lifecycle rule")
    if bucket.error:
        warn(f"{where}: {bucket.error}")
