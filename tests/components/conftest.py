"""Run the real program under mocks for one tenant per tier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from afrex.offline.runtime import PlannedResource, PlannedStack, run_stack
from afrex.stackfiles import Project
from tests.helpers import make_stack

TENANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "starter": (
        "cust-solo-law-1767225600",
        {"company": "Solo Law", "contact": "a@solo.law", "tier": "starter", "vertical": "legal"},
    ),
    "growth": (
        "cust-mid-clinic-1767225600",
        {
            "company": "Mid Clinic",
            "contact": "b@mid.org",
            "tier": "growth",
            "vertical": "healthcare",
            "support": "priority",
        },
    ),
    "enterprise": (
        "cust-big-bank-1767225600",
        {
            "company": "Big Bank",
            "contact": "c@big.bank",
            "tier": "enterprise",
            "vertical": "finance",
            "billing": "annual",
            "agents": [f"agent-{n:02d}" for n in range(1, 13)],
        },
    ),
}


@pytest.fixture(scope="session")
def planned(project: Project) -> dict[str, PlannedStack]:
    """One mocked run per tier, shared by every test of the component."""
    results = {}
    for tier, (name, tenant) in TENANTS.items():
        result = run_stack(make_stack(name, tenant), project)
        assert result.error is None, f"{tier}: {result.error}"
        results[tier] = result
    return results


def of_type(stack: PlannedStack, token: str) -> list[PlannedResource]:
    return [r for r in stack.resources if r.type == token]


Finder = Callable[[PlannedStack, str], list[PlannedResource]]
