"""An invoice as files: canonical JSON for machines, a standalone HTML page for people.

Both are pure functions of the invoice (no clock, no environment), so the same
month invoiced twice gives byte-identical files.
"""

from __future__ import annotations

import json
from decimal import Decimal
from html import escape
from typing import Any

from afrex.billing import money
from afrex.billing.invoice import Invoice

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{padding:.35rem .5rem;"
    "border-bottom:1px solid #ddd;text-align:left}td.amount,th.amount{text-align:right;"
    "font-variant-numeric:tabular-nums}tr.total td{font-weight:bold;border-top:2px solid #222}"
    ".note{color:#555}.draft{background:#fff3cd;padding:.5rem}"
)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def invoice_json(invoice: Invoice) -> str:
    """Canonical JSON: sorted keys, money as strings, a final newline."""
    return json.dumps(invoice.as_dict(), indent=2, sort_keys=True, default=_plain) + "\n"


def invoice_html(invoice: Invoice) -> str:
    """A self-contained HTML invoice."""
    charges = "\n".join(_row(line.description, line.amount) for line in invoice.charges)
    adjustments = "\n".join(_row(line.description, line.amount) for line in invoice.adjustments)
    e = escape
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(invoice.id)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{"DRAFT invoice" if invoice.draft else "Invoice"} {e(invoice.id)}</h1>
{_draft_note(invoice)}<p>AfrexAI Hosted Agents<br>Issued {invoice.issued.isoformat()}
 for {e(invoice.month.title)} ({invoice.days_billed} of {invoice.month.days} days billed)</p>
<p>Bill to: <strong>{e(invoice.company)}</strong><br>{e(invoice.contact)}<br>
Tenant {e(invoice.tenant_id)}, {e(invoice.vertical)} vertical, {e(invoice.billing)} billing</p>
<table>
<thead><tr><th>Item</th><th class="amount">Amount (USD)</th></tr></thead>
<tbody>
{charges}
<tr class="total"><td>Subtotal</td><td class="amount">{money(invoice.subtotal)}</td></tr>
{adjustments}
<tr class="total"><td>Total due</td><td class="amount">{money(invoice.total)}</td></tr>
</tbody>
</table>
<p class="note">SLA: {e(invoice.sla.note)}.</p>
</body>
</html>
"""


def _row(item: str, amount: Decimal) -> str:
    return f'<tr><td>{escape(item)}</td><td class="amount">{money(amount)}</td></tr>'


def _draft_note(invoice: Invoice) -> str:
    if not invoice.draft:
        return ""
    return (
        f'<p class="draft"><strong>Draft, not a bill:</strong> {invoice.month.title} is not over; '
        f"this bills the days up to {invoice.issued.isoformat()} only.</p>\n"
    )
