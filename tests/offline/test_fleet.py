"""Planning a fleet: the cache, parallel workers, and `afrex plan --base`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.offline.cache import PlanCache
from afrex.offline.fleet import PARALLEL_MIN, plan_fleet
from afrex.stackfiles import find_project, list_stacks
from tests.helpers import ROOT, git, write_stack

runner = CliRunner()
NORTHWIND = "cust-northwind-clinic-1772323200"


def _project_copy(folder: Path, extra_starters: int = 0) -> Path:
    """A project of stacks only (the code is this checkout's), with generated starters."""
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", folder / "stacks")
    for n in range(extra_starters):
        write_stack(folder / "stacks", f"cust-gen-{n:03d}-1767225600", tier="starter")
    return folder


def test_second_run_comes_from_the_cache_and_a_change_is_replanned(
    tmp_path: Path, catalog: Catalog
) -> None:
    project = find_project(_project_copy(tmp_path))
    cache = PlanCache(tmp_path / "cache")
    first = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    assert (first.cached, first.planned) == (0, 3)
    second = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    assert (second.cached, second.planned) == (3, 0)
    assert [t.rows() for t in second.fleet.tenants] == [t.rows() for t in first.fleet.tenants]
    assert second.fleet.policy == first.fleet.policy
    stack = project.stack_path(NORTHWIND)
    stack.write_text(stack.read_text().replace("support: standard", "support: priority"))
    third = plan_fleet(project, catalog, list_stacks(project), cache, workers=1)
    assert (third.cached, third.planned) == (2, 1)
    northwind = next(t for t in third.fleet.tenants if t.stack == NORTHWIND)
    assert northwind.outputs["support"] == "priority"


def test_parallel_workers_plan_the_same_fleet(tmp_path: Path, catalog: Catalog) -> None:
    project = find_project(_project_copy(tmp_path, extra_starters=PARALLEL_MIN))
    stacks = list_stacks(project)
    parallel = plan_fleet(project, catalog, stacks, PlanCache(None), workers=2)
    assert parallel.workers == 2 and parallel.planned == len(stacks)
    serial = plan_fleet(project, catalog, stacks, PlanCache(None), workers=1)
    assert [t.rows() for t in parallel.fleet.tenants] == [t.rows() for t in serial.fleet.tenants]
    assert not parallel.fleet.blocked and parallel.fleet.totals()["tenants"] == len(stacks)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_plan_base_shows_what_a_change_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _project_copy(tmp_path)

    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "fleet")
    stack = folder / "stacks" / f"Pulumi.{NORTHWIND}.yaml"
    stack.write_text(stack.read_text().replace("tier: starter", "tier: growth"))
    (folder / "stacks" / "Pulumi.cust-globex-finance-1769904000.yaml").unlink()  # offboarded
    monkeypatch.setenv("AFREX_PROJECT", str(folder))

    listed = runner.invoke(app, ["plan", "--base", "HEAD", "--changed-stacks"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [NORTHWIND]

    result = runner.invoke(app, ["plan", "--base", "HEAD", "--json"])
    assert result.exit_code == 0, result.output
    diffs = {d["stack"]: d for d in json.loads(result.stdout)["diff"]}
    assert diffs["cust-acme-legal-1767225600"]["status"] == "unchanged"
    assert diffs["cust-globex-finance-1769904000"]["status"] == "removed"
    northwind = diffs[NORTHWIND]
    assert northwind["status"] == "changed"
    assert "docker:index:Container agents-claims-processor" in northwind["added"]
    assert "docker:index:Container agents-patient-scheduler" in northwind["changed"]
