"""Billing fixtures: a throw-away project with tenant stacks, and moto's server."""

from tests.billing.fleet import fleet
from tests.services import aws_endpoint, moto_server

__all__ = ["aws_endpoint", "fleet", "moto_server"]
