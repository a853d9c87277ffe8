"""Portal runs: build the dashboards of one tenant or all, write them, sum up the fleet.

Files: `<output>/<tenant id>/dashboard.json` and `index.html`, written together
(`write_group`: both or neither) after every document is built and every input
checked, so bad input writes nothing. JSON has sorted keys and no time of
generation: the same data gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from afrex.atomicfiles import recover, write_group
from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput, OperationFailed
from afrex.portal.data import FleetTelemetry, dashboard, read_fleet_telemetry
from afrex.portal.figures import number
from afrex.portal.render import render_index
from afrex.sla.report import Window, judged_specs
from afrex.stackfiles import find_project
from afrex.telemetry import CloudWatchTelemetry

PORTAL_DIR = "portal"
Reader = Callable[[Catalog], CloudWatchTelemetry]


def cloudwatch_reader(catalog: Catalog) -> CloudWatchTelemetry:
    return CloudWatchTelemetry.for_catalog(catalog)


@dataclass
class PortalRun:
    """The dashboards built for a window, the files written, who was left out."""

    window: Window
    documents: dict[str, dict[str, Any]]
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_output(folder: Path) -> Path:
    """An output folder that exists as a folder or can be made (a file is bad input)."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise BadInput(f"--output {folder}: {part} is not a folder", "give a folder path")
            break
    return folder


def build_portal(
    month_text: str | None = None,
    tenant: str | None = None,
    now: datetime | None = None,
    reader: Reader = cloudwatch_reader,
) -> PortalRun:
    """Every tenant's (or one's) dashboard document for the month (default: this one)."""
    now = now or datetime.now(UTC)
    window = Window.of(month_text, now)
    catalog = load_catalog()
    specs, skipped = judged_specs(catalog, window, tenant, now)
    telemetry = reader(catalog)
    fleet = read_fleet_telemetry(telemetry, catalog, specs, window)
    documents = {spec.tenant_id: dashboard(catalog, spec, window, fleet) for spec in specs}
    warnings = [s.dropped.text() for s in fleet.series.values() if s.dropped is not None]
    return PortalRun(window, documents, skipped, warnings=warnings)


def portal_files(run: PortalRun, folder: Path) -> dict[Path, dict[Path, str]]:
    """Per tenant folder, its two files' text (rendered before anything is written)."""
    period = load_catalog().telemetry.chart_period_seconds
    return {
        folder / tenant: {
            folder / tenant / "dashboard.json": to_json(document),
            folder / tenant / "index.html": render_index(document, period),
        }
        for tenant, document in sorted(run.documents.items())
    }


def write_portal(run: PortalRun, output: Path | None) -> PortalRun:
    """Write every tenant's pair of files (each pair together or not at all)."""
    folder = check_output(output or find_project().root / PORTAL_DIR)
    groups = portal_files(run, folder)
    try:
        for tenant_folder, files in groups.items():
            recover(tenant_folder)
            write_group(files)
            run.files.extend(files)
    except OSError as error:
        raise OperationFailed(
            f"portal files not all written ({len(run.files)} of {2 * len(groups)} done): "
            f"{error.strerror or error}",
            f"check {folder} (space, permissions) and run again",
        ) from None
    return run


def generate(
    month_text: str | None,
    tenant: str | None,
    output: Path | None,
    now: datetime | None = None,
    reader: Reader = cloudwatch_reader,
) -> PortalRun:
    """Build and write the portal of one tenant (or all): the CLI's one call."""
    if output is not None:
        check_output(output)
    return write_portal(build_portal(month_text, tenant, now, reader), output)


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class FleetSummary:
    """The platform at a glance: tenants, agents, work and value, revenue vs the goal."""

    window: Window
    tenants: int
    agents: int
    tasks: Decimal | None
    hours_saved: Decimal | None
    value: Decimal | None
    mrr: Decimal
    arr: Decimal
    goal: Decimal
    measured_tenants: int

    @property
    def progress_pct(self) -> Decimal:
        return (self.arr * 100 / self.goal).quantize(Decimal("0.01")) if self.goal else Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.window.as_dict(),
            "tenants": self.tenants,
            "agents": self.agents,
            "tasksCompleted": number(self.tasks) if self.tasks is not None else None,
            "hoursSaved": number(self.hours_saved) if self.hours_saved is not None else None,
            "costSavings": number(self.value) if self.value is not None else None,
            "tenantsWithTaskData": self.measured_tenants,
            "mrr": self.mrr,
            "arr": self.arr,
            "arrGoal": self.goal,
            "arrProgressPct": self.progress_pct,
        }


def fleet_summary(
    month_text: str | None = None, now: datetime | None = None, reader: Reader = cloudwatch_reader
) -> FleetSummary:
    """Sum the fleet's dashboards and its recurring revenue against the catalog's goal."""
    from afrex.billing.revenue import revenue
    from afrex.tenants import load_tenants

    run = build_portal(month_text, None, now, reader)
    catalog = load_catalog()
    money = revenue(catalog, [t.spec for t in load_tenants(catalog=catalog, now=now)])
    docs = list(run.documents.values())
    return FleetSummary(
        window=run.window,
        tenants=len(docs),
        agents=sum(d["tenant"]["agents"] for d in docs),
        tasks=_total(docs, "tasksCompleted"),
        hours_saved=_total(docs, "hoursSaved"),
        value=_total(docs, "costSavings"),
        mrr=money.mrr,
        arr=money.arr,
        goal=money.goal,
        measured_tenants=sum(1 for d in docs if d["taskMinutes"]["value"] is not None),
    )


def _total(documents: list[dict[str, Any]], name: str) -> Decimal | None:
    """The sum of a figure over the tenants that measured it (None if none did)."""
    values = [Decimal(d[name]["value"]) for d in documents if d[name]["value"] is not None]
    return sum(values, Decimal(0)) if values else None


__all__ = ["FleetTelemetry", "PortalRun", "build_portal", "fleet_summary", "generate"]
