"""Writing invoices: each invoice's JSON and HTML appear together or not at all.

Both files are staged as temporary files beside their targets and fsynced,
then renamed into place; if a rename fails, the files already renamed are put
back as they were, so a failure half-way never leaves a partial invoice.
"""

from __future__ import annotations

import os
from pathlib import Path

from afrex.billing.invoice import Invoice
from afrex.billing.render import invoice_html, invoice_json
from afrex.stackfiles import stage_text, write_atomic


def invoice_paths(folder: Path, invoice: Invoice) -> tuple[Path, Path]:
    """Where an invoice's JSON and HTML go: `<folder>/<YYYY-MM>/<id>.json|.html`."""
    base = folder / str(invoice.month) / invoice.id
    return base.with_suffix(".json"), base.with_suffix(".html")


def render_files(folder: Path, invoice: Invoice) -> dict[Path, str]:
    json_path, html_path = invoice_paths(folder, invoice)
    return {json_path: invoice_json(invoice), html_path: invoice_html(invoice)}


def write_together(files: dict[Path, str]) -> None:
    """Write every file, or leave every target as it was."""
    staged: dict[Path, Path] = {}
    previous: dict[Path, str | None] = {}
    done: list[Path] = []
    try:
        for path, text in files.items():
            previous[path] = path.read_text(encoding="utf-8") if path.exists() else None
            staged[path] = stage_text(path, text)
        for path, temp in staged.items():
            os.replace(temp, path)
            done.append(path)
    except BaseException:
        for path in done:
            _restore(path, previous[path])
        for temp in staged.values():
            Path(temp).unlink(missing_ok=True)
        raise


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, text)
