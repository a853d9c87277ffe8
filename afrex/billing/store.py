"""Where invoices go, and writing them: an invoice's JSON and HTML appear
together or not at all (see `afrex.atomicfiles`).

A run first `recover`s the month's folder (completing or clearing what a killed
run left), then writes all its invoices as one batch: every pair or none.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from pathlib import Path

from afrex.atomicfiles import recover, write_groups
from afrex.billing.invoice import Invoice
from afrex.billing.render import invoice_html, invoice_json
from afrex.errors import OperationFailed


def invoice_paths(folder: Path, invoice: Invoice) -> tuple[Path, Path]:
    """Where an invoice's JSON and HTML go: `<folder>/<YYYY-MM>/<id>.json|.html`
    (`<id>.draft.json|.html` for a draft, so a draft never stands in for the bill)."""
    name = f"{invoice.id}.draft" if invoice.draft else invoice.id
    base = folder / str(invoice.month) / name
    return base.with_name(f"{name}.json"), base.with_name(f"{name}.html")


def render_files(folder: Path, invoice: Invoice) -> dict[Path, str]:
    json_path, html_path = invoice_paths(folder, invoice)
    return {json_path: invoice_json(invoice), html_path: invoice_html(invoice)}


def write_invoices(folder: Path, rendered: Sequence[Mapping[Path, str]]) -> list[Path]:
    """Write every invoice's files into `folder` (the month's folder), all of them or
    none, after recovering the folder; returns the files written.

    One batch: staged, synced once, renamed together (see `afrex.atomicfiles`). On an
    OSError (a full disk, no permission) nothing of this run was written, and the
    OperationFailed says so and which invoice's file could not be staged; a rerun
    writes every invoice identically.
    """
    try:
        recover(folder)
    except OSError as error:
        raise OperationFailed(
            f"cannot prepare {folder}: {error.strerror or error}; no invoice was written",
            f"check that {folder} is a writable folder",
        ) from error
    try:
        write_groups(rendered)
    except OSError as error:
        raise OperationFailed(_nothing_written(rendered, error), _fix(folder, error)) from error
    return [path for files in rendered for path in files]


def _nothing_written(rendered: Sequence[Mapping[Path, str]], error: OSError) -> str:
    """What was and was not written when the batch failed: none of it."""
    name = Path(str(error.filename)).name if error.filename else ""
    failed = next(
        (
            i
            for i, files in enumerate(rendered)
            for p in files
            if name.startswith(f".{p.name}.") or name == p.name
        ),
        None,
    )
    where = (
        f" at invoice {failed + 1} of {len(rendered)} ({next(iter(rendered[failed])).stem})"
        if failed is not None
        else ""
    )
    return (
        f"cannot write the {len(rendered)} invoice(s): {error.strerror or error}{where}; "
        "none was written (a run writes all its invoices or none), nothing was half-written, "
        "and earlier files in the folder are as they were"
    )


def _fix(folder: Path, error: OSError) -> str:
    space = " with free space" if error.errno == errno.ENOSPC else ""
    return f"check that {folder.parent} is a writable folder{space}, then run again"
