"""Billing: quotes, tier comparison, monthly invoices with proration and SLA
credits, and revenue toward the ARR goal.

Every number comes from the catalog; money is Decimal, rounded half-up to cents
per line, and every total is the sum of its lines.
"""

from decimal import Decimal


def money(amount: Decimal) -> str:
    """`-1234.5` → `-$1,234.50` (amounts are already rounded to cents)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
