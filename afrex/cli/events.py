"""`afrex events`: what operators did to the fleet, from the shared event log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import typer

from afrex.cli.options import Format, FormatOption
from afrex.cli.output import console, emit_json, print_grid, reported
from afrex.errors import BadInput


def parse_since(text: str) -> datetime:
    """`2026-11-01` (midnight UTC) or an ISO 8601 moment (UTC when no offset is given)."""
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            if len(text) == 10
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except ValueError:
        raise BadInput(
            f"--since {text!r} is not a date", "use YYYY-MM-DD or 2026-11-01T09:30:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plan(side: dict[str, Any]) -> str:
    return f"{side.get('tier')} x{side.get('agentCount')}"


def what(kind: str, details: dict[str, Any]) -> str:
    """One short line of what happened (the JSON format has every detail)."""
    if kind == "tenant.onboarded":
        return (
            f"{details.get('company')}: {details.get('tier')}, {len(details.get('agents') or [])} "
            f"agent(s), {details.get('vertical')}"
        )
    if kind in ("tenant.scaled", "tenant.tier-changed"):
        changes = [f"+{a}" for a in details.get("added") or []]
        changes += [f"-{a}" for a in details.get("removed") or []]
        moved = f"{_plan(details.get('before') or {})} -> {_plan(details.get('after') or {})}"
        return f"{moved}, from {details.get('effective')}" + (
            f" ({', '.join(changes)})" if changes else ""
        )
    if kind == "agent.archived":
        return f"{details.get('agent')} -> s3://{details.get('bucket')}/{details.get('key')}"
    return json.dumps(details, sort_keys=True, separators=(", ", ": "), default=str)


def events(
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Only this tenant's events.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date or moment on (UTC).")
    ] = None,
    output: FormatOption = Format.table,
) -> None:
    """The fleet's event log: onboarded, scaled, tier changed, archived; who, when, what."""
    with reported():
        from afrex.events import open_event_log
        from afrex.stackfiles import find_project
        from afrex.tenants import check_tenant_id

        if tenant is not None:
            check_tenant_id(tenant)
        start = parse_since(since) if since is not None else None
        found = open_event_log(find_project().root).read(start, tenant)
    if output is Format.json:
        emit_json([event.as_dict() for event in found])
        return
    rows = [
        [
            event.when.strftime("%Y-%m-%d %H:%M:%S"),
            event.kind,
            event.tenant or "",
            event.who,
            what(event.kind, event.details),
        ]
        for event in found
    ]
    print_grid(["when (UTC)", "kind", "tenant", "who", "what"], rows)
    console.print(f"{len(found)} event(s)")
