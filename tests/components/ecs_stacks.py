"""ECS tenant stacks held in memory, and their mocked runs (shared by the ECS tests)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from afrex.offline.runtime import PlannedResource, PlannedStack, run_stack
from afrex.spec import PLATFORM_STACK_KEY
from afrex.stackfiles import Project, StackFile
from tests.components.conftest import TENANTS
from tests.helpers import make_stack

PLATFORM = "organization/afrex-platform/prod"


def ecs_stack(name: str, tenant: dict[str, Any], platform: str | None = PLATFORM) -> StackFile:
    """A stack file of an ECS tenant (`runtime: ecs`) on `platform` (None: no key)."""
    stack = make_stack(name, {**tenant, "runtime": "ecs"})
    config = dict(stack.config)
    if platform is not None:
        config[PLATFORM_STACK_KEY] = platform
    return replace(stack, config=config)


def ecs_tenants() -> dict[str, tuple[str, dict[str, Any]]]:
    """The component tests' tenant per tier, on ECS."""
    return TENANTS


def run_ecs(project: Project, tier: str) -> PlannedStack:
    name, tenant = TENANTS[tier]
    result = run_stack(ecs_stack(name, tenant), project)
    assert result.error is None, f"{tier}: {result.error}"
    return result


def of_type(stack: PlannedStack, token: str) -> list[PlannedResource]:
    return [r for r in stack.resources if r.type == token]
