"""`afrex plan` with tenant runtimes: the example (Docker) stacks plan exactly as before
runtimes existed, a mixed fleet plans offline (the ECS tenants' platform from the
platform's own offline plan), and a `--base` diff of a tenant moved from Docker to ECS
shows its resources replaced with the backup-and-restore warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.offline.plan import plan_tenant
from afrex.stackfiles import Project, list_stacks
from tests.billing.fleet import Fleet
from tests.helpers import ROOT, git

runner = CliRunner()
BASELINE = Path(__file__).with_name("data") / "docker_plan_baseline.json"
NORTHWIND = "cust-northwind-clinic-1772323200"
PLATFORM = "organization/afrex-platform/prod"
WIDE = {"COLUMNS": "250"}


def to_ecs(path: Path, platform: str | None = PLATFORM) -> None:
    """Switch a stack file to `runtime: ecs` on `platform`, as an operator edits it."""
    data = yaml.safe_load(path.read_text())
    data["config"]["afrex:tenant"]["runtime"] = "ecs"
    if platform is not None:
        data["config"]["afrex:platformStack"] = platform
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_example_stacks_plan_exactly_as_before_tenant_runtimes(
    project: Project, catalog: Catalog
) -> None:
    """Rows (type, name, key settings, digest of inputs and options) and outputs of the
    three example stacks, against `afrex plan --json` taken before runtimes existed
    (tests/offline/data; `catalogDigest` follows the catalog file and is left out)."""
    baseline = {t["stack"]: t for t in json.loads(BASELINE.read_text())["tenants"]}
    stacks = list_stacks(project)
    assert sorted(baseline) == sorted(s.name for s in stacks)
    for stack in stacks:
        tenant = plan_tenant(stack, project, catalog)
        assert tenant.error is None, tenant.error
        assert tenant.rows() == baseline[stack.name]["resources"], stack.name
        outputs = {k: v for k, v in tenant.outputs.items() if k != "catalogDigest"}
        assert json.loads(json.dumps(outputs)) == baseline[stack.name]["outputs"], stack.name


def _mixed(fleet: Fleet) -> None:
    fleet.add("cust-docker-one-1767225600", tier="growth", vertical="legal")
    to_ecs(fleet.add("cust-ecs-one-1767225600", tier="enterprise", vertical="finance"))
    to_ecs(fleet.add("cust-ecs-two-1767225600", tier="starter", vertical="general"))


def test_a_mixed_fleet_plans_offline_and_passes_the_pack(fleet: Fleet) -> None:
    _mixed(fleet)
    assert not (fleet.root / "platform").exists()  # a project of stacks: the code's platform
    result = runner.invoke(app, ["plan", "--json"], env=WIDE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    tenants = {t["stack"]: t for t in data["tenants"]}
    types = {s: {r["type"] for r in t["resources"]} for s, t in tenants.items()}
    assert "docker:index:Container" in types["cust-docker-one-1767225600"]
    for ecs in ("cust-ecs-one-1767225600", "cust-ecs-two-1767225600"):
        assert "aws:ecs:Service" in types[ecs] and not any(
            t.startswith("docker") for t in types[ecs]
        )
        assert tenants[ecs]["outputs"]["runtime"] == "ecs"
    assert data["policy"]["passed"] is True and data["fleet"]["agents"] == 3 + 9 + 1
    services = [
        r for r in tenants["cust-ecs-one-1767225600"]["resources"] if r["type"] == "aws:ecs:Service"
    ]
    assert len(services) == 9
    assert "public-ip False circuit-breaker True rollback True" in services[0]["settings"]

    table = runner.invoke(app, ["plan"], env=WIDE)
    assert table.exit_code == 0, table.output
    assert "aws:ecs:TaskDefinition" in table.output
    assert "efs transit ENABLED" in table.output and "public-ip False" in table.output


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        (None, "afrex:platformStack: missing; an ecs tenant runs on a platform stack"),
        ("organization/afrex-platform/nowhere", "no platform stack file"),
    ],
)
def test_an_ecs_tenant_without_its_platform_is_bad_input(
    fleet: Fleet, platform: str | None, message: str
) -> None:
    to_ecs(fleet.add("cust-ecs-one-1767225600", tier="starter"), platform)
    result = runner.invoke(app, ["plan"], env=WIDE)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def _repository(folder: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", folder / "stacks")
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "fleet")
    return folder


def _by_type(names: list[str]) -> set[str]:
    return {name.split(" ")[0] for name in names}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_tenant_moved_to_ecs_is_replaced_with_a_restore_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _repository(tmp_path)
    to_ecs(folder / "stacks" / f"Pulumi.{NORTHWIND}.yaml")
    monkeypatch.setenv("AFREX_PROJECT", str(folder))

    listed = runner.invoke(app, ["plan", "--base", "HEAD", "--changed-stacks"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [NORTHWIND]

    result = runner.invoke(app, ["plan", "--base", "HEAD", "--json"], env=WIDE)
    assert result.exit_code == 0, result.output
    diff: dict[str, Any] = next(
        d for d in json.loads(result.stdout)["diff"] if d["stack"] == NORTHWIND
    )
    assert diff["moved"] == {"from": "docker", "to": "ecs"}
    assert _by_type(diff["removed"]) == {
        "docker:index:Container",
        "docker:index:Volume",
        "docker:index:Network",
        "docker:index:RemoteImage",
    }
    assert {"aws:ecs:Service", "aws:ecs:TaskDefinition", "aws:efs:AccessPoint"} <= _by_type(
        diff["added"]
    )
    assert not [
        r for r in diff["changed"] + diff["removed"] if r.startswith(("aws:s3", "aws:cloudwatch:"))
    ]
    warning = diff["warning"]
    assert f"afrex backup create --tenant {NORTHWIND}" in warning
    assert f"afrex backup restore --tenant {NORTHWIND} --backup-id <id>" in warning
    assert "into its EFS access points" in warning

    text = runner.invoke(app, ["plan", "--base", "HEAD"], env=WIDE)
    assert text.exit_code == 0, text.output
    assert f"{NORTHWIND} moves from docker to ecs" in text.stderr
    assert "- docker:index:Container agents-patient-scheduler" in text.stdout


def test_a_platform_stack_change_replans_from_the_cache(fleet: Fleet, catalog: Catalog) -> None:
    """The platform's stacks are part of the plan cache's key: an ECS tenant's plan is
    never served from the cache after the platform stack it reads has changed."""
    from afrex.offline.cache import PlanCache
    from afrex.offline.fleet import plan_fleet
    from afrex.stackfiles import find_project

    shutil.copytree(ROOT / "platform", fleet.root / "platform")  # the project's own platform
    to_ecs(fleet.add("cust-ecs-one-1767225600", tier="starter"))
    project = find_project()
    cache = PlanCache(fleet.root / "cache")
    first = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    again = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    assert (first.planned, again.cached) == (1, 1)
    prod = fleet.root / "platform" / "stacks" / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("us-east-1b", "us-east-1c"))
    changed = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    assert (changed.planned, changed.cached) == (1, 0)
    (tenant,) = changed.fleet.tenants
    assert tenant.error is None and len(tenant.outputs["ecs"]["subnets"]) == 2
