"""Where invoices go, and writing them: an invoice's JSON and HTML appear
together or not at all (see `afrex.atomicfiles`).

A run first `recover`s the month's folder (completing or clearing what a killed
run left), then writes each invoice's pair as one group.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from pathlib import Path

from afrex.atomicfiles import recover, write_group
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
    """Write each invoice's files as one group, in order, into `folder` (the month's
    folder), after recovering it; returns the files written.

    On an OSError (a full disk, no permission) the OperationFailed names the
    invoices written, the one that failed and those not written; the failed one
    was not half-written, and a rerun rewrites every invoice identically.
    """
    try:
        recover(folder)
    except OSError as error:
        raise OperationFailed(
            f"cannot prepare {folder}: {error.strerror or error}; no invoice was written",
            f"check that {folder} is a writable folder",
        ) from error
    written: list[Path] = []
    for index, files in enumerate(rendered):
        try:
            write_group(files)
        except OSError as error:
            raise OperationFailed(
                _stopped_at(rendered, index, error), _fix(folder, error)
            ) from error
        written.extend(files)
    return written


def _invoice_id(files: Mapping[Path, str]) -> str:
    return next(iter(files)).stem


def _some(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 3 else f"{ids[0]} to {ids[-1]}"


def _stopped_at(rendered: Sequence[Mapping[Path, str]], index: int, error: OSError) -> str:
    """What was and was not written when invoice `index` failed."""
    files = rendered[index]
    done = [_invoice_id(f) for f in rendered[:index]]
    after = len(rendered) - index - 1
    before = f"written before it: {len(done)} ({_some(done)})" if done else "none written before it"
    rest = f" and the {after} after it" if after else ""
    return (
        f"cannot write {', '.join(p.name for p in files)}: {error.strerror or error} "
        f"(invoice {index + 1} of {len(rendered)}); {before}; "
        f"not written: {_invoice_id(files)}{rest}; nothing was half-written"
    )


def _fix(folder: Path, error: OSError) -> str:
    space = " with free space" if error.errno == errno.ENOSPC else ""
    return f"check that {folder.parent} is a writable folder{space}, then run again"
