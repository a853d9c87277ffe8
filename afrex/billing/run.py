"""A month's invoicing run: read the tenants' stack configs, measure their
uptime, build every invoice, then write each one's JSON and HTML.

Everything that can be bad input is checked before anything is written, so bad
input writes nothing; every invoice is rendered before the first file is
written, and each invoice's pair of files appears together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from afrex.billing.invoice import Invoice, build_invoice, first_billed_day
from afrex.billing.period import Month
from afrex.billing.store import render_files, write_invoices
from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput
from afrex.spec import TenantSpec
from afrex.stackfiles import find_project
from afrex.telemetry import Measurement
from afrex.tenants import load_tenants

INVOICES_DIR = "invoices"


class UptimeReader(Protocol):
    """Anything that measures tenants' uptime over a period (CloudWatch in production),
    range-checked: the samples it ignored come back as warnings."""

    def measure(
        self, start: datetime, end: datetime, tenants: Mapping[str, Collection[str]]
    ) -> Measurement: ...


@dataclass
class InvoiceRun:
    """What a run produced: the invoices, where they went, and who was not billed."""

    month: Month
    folder: Path
    invoices: list[Invoice] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def cloudwatch_reader(catalog: Catalog) -> UptimeReader:
    from afrex.telemetry import CloudWatchTelemetry

    return CloudWatchTelemetry.for_catalog(catalog)


def invoice_month(
    month_text: str,
    tenant: str | None = None,
    output: Path | None = None,
    reader: Callable[[Catalog], UptimeReader] = cloudwatch_reader,
    now: datetime | None = None,
    draft: bool = False,
) -> InvoiceRun:
    """Invoice `tenant` (or, when None, every tenant) for the month `YYYY-MM`.

    The current month is not over: it is invoiced only as a draft (`draft=True`),
    which bills the days so far (today included) and is written beside, never
    over, the final invoice."""
    now = now or datetime.now(UTC)
    month = Month.parse(month_text)
    current = Month.of(now)
    if month > current:
        raise BadInput(f"--month {month} has not started yet", f"invoice {current} or earlier")
    if month == current and not draft:
        raise BadInput(
            f"--month {month} is not over yet (today is {now.date()})",
            f"add --draft to bill its days so far, or invoice {_previous(month)}",
        )
    if draft and month != current:
        raise BadInput(f"--draft is for the current month ({current})", "drop --draft")
    project = find_project()
    catalog = load_catalog()
    tenants = load_tenants(project, catalog, [tenant] if tenant else None, now=now)
    specs = [t.spec for t in tenants]
    run = InvoiceRun(month, output or project.root / INVOICES_DIR)
    billable = []
    for spec in specs:
        first = first_billed_day(spec)
        if Month.of(first) <= month:
            billable.append(spec)
        elif tenant is None:
            run.skipped[spec.tenant_id] = f"provisioned {first}, after {month}"
        else:
            raise BadInput(
                f"tenant {tenant} did not exist in {month} (provisioned {first})",
                f"invoice {Month.of(first)} or later",
            )
    through = now.date() if draft else None
    end = _whole_minute(now) if draft else month.end
    measured = _measure(reader, catalog, billable, month.start, end) if billable else None
    uptime = measured.by_tenant if measured else {}
    run.warnings = measured.warnings if measured else []
    run.invoices = [
        build_invoice(catalog, spec, month, uptime.get(spec.tenant_id), through)
        for spec in billable
    ]
    rendered = [render_files(run.folder, invoice) for invoice in run.invoices]
    run.files = write_invoices(run.folder / str(month), rendered)
    return run


def _measure(
    reader: Callable[[Catalog], UptimeReader],
    catalog: Catalog,
    specs: list[TenantSpec],
    start: datetime,
    end: datetime,
) -> Measurement | None:
    """Uptime over [start, end) of each tenant that has samples: its configured agents, and
    any others the reader finds publishing for it (agents removed since)."""
    if end - start < timedelta(minutes=1):
        return None  # the first minute of the month: nothing to measure yet
    known = {spec.tenant_id: set(spec.agents) for spec in specs}
    return reader(catalog).measure(start, end, known)


def _whole_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _previous(month: Month) -> Month:
    return Month(month.year - 1, 12) if month.month == 1 else Month(month.year, month.month - 1)
