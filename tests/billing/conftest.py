"""Billing fixtures: a throw-away project with tenant stacks (moto's server is in the
root conftest)."""

from tests.billing.fleet import fleet

__all__ = ["fleet"]
