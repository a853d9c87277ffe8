"""Billing: quotes, tier comparison, monthly invoices with proration and SLA
credits, and revenue toward the ARR goal.

Every number comes from the catalog; money is Decimal, rounded half-up to cents
per line, and every total is the sum of its lines.
"""
