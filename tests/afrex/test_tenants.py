"""The config digest (`configDigest`, what `fleet issues` calls drift): Docker stacks keep
the digest they were deployed with; an ECS stack's digest covers its platform stack, and
the program and the CLI compute the same one."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from afrex.catalog import Catalog
from afrex.offline.runtime import run_stack
from afrex.spec import PLATFORM_STACK_KEY
from afrex.stackfiles import Project, find_project, list_stacks, read_stack
from afrex.tenants import load_tenants
from tests.billing.fleet import Fleet

BASELINE = Path(__file__).parents[1] / "offline" / "data" / "docker_plan_baseline.json"
ECS = "cust-digest-ecs-1767225600"


def test_docker_stacks_keep_the_digest_they_were_deployed_with(
    project: Project, catalog: Catalog
) -> None:
    """The example stacks' digests are the ones `afrex plan` exported before runtimes
    (and platform stacks) existed."""
    before = {
        t["stack"]: t["outputs"]["configDigest"]
        for t in json.loads(BASELINE.read_text())["tenants"]
    }
    tenants = load_tenants(project, catalog)
    assert {t.id: t.config_digest for t in tenants} == before
    assert not any(PLATFORM_STACK_KEY in t.stack.config for t in tenants)


def _ecs_stack(fleet: Fleet, platform: str) -> Path:
    path = fleet.add(ECS, tier="starter", vertical="general")
    data = yaml.safe_load(path.read_text())
    data["config"]["afrex:tenant"]["runtime"] = "ecs"
    data["config"][PLATFORM_STACK_KEY] = platform
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_ecs_stacks_digest_covers_its_platform_stack_as_the_program_does(
    fleet: Fleet, catalog: Catalog
) -> None:
    path = _ecs_stack(fleet, "organization/afrex-platform/prod")
    project = find_project(fleet.root)
    (prod,) = load_tenants(project, catalog)
    planned = run_stack(read_stack(path), project)
    assert planned.error is None, planned.error
    assert planned.outputs["configDigest"] == prod.config_digest  # deployed = not drifted

    _ecs_stack(fleet, "organization/afrex-platform/local")
    (local,) = load_tenants(project, catalog)
    assert local.spec == prod.spec and local.config_digest != prod.config_digest
    assert [s.name for s in list_stacks(project)] == [ECS]
