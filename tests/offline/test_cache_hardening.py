"""The plan cache is never trusted: corrupt or foreign entries are misses, an
unusable folder is a warning, keys hold no absolute path (so `--base` plans hit),
and a base that cannot be parsed does not block the change that fixes it."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.catalog import Catalog
from afrex.cli.main import app
from afrex.offline import cache as cache_module
from afrex.offline import fleet as fleet_module
from afrex.offline.cache import PlanCache
from afrex.offline.fingerprint import code_digest, package_dirs
from afrex.offline.fleet import plan_fleet
from afrex.offline.plan import FleetPlan, TenantPlan
from afrex.stackfiles import find_project, list_stacks
from tests.helpers import ROOT, git

runner = CliRunner()
NORTHWIND = "cust-northwind-clinic-1772323200"
ACME = "cust-acme-legal-1767225600"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def project_copy(folder: Path) -> Path:
    """A project of the three example stacks (the code is this checkout's)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", folder / "stacks")
    return folder


def entries(cache_dir: Path) -> dict[str, int]:
    """Every cache entry file and when it was written."""
    return {str(p.relative_to(cache_dir)): p.stat().st_mtime_ns for p in cache_dir.rglob("*.json")}


@contextmanager
def pinned_code() -> Iterator[None]:
    """The code's part of every key, fixed: other work may edit the code while
    these tests run, and a changed key is a (correct) miss these tests do not expect."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fleet_module, "code_digest", lambda *_: "pinned")
        yield


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """A project, a cache filled by planning it, and one valid tenant entry."""
    from afrex.catalog import load_catalog

    folder = project_copy(tmp_path_factory.mktemp("warm") / "project")
    cache_dir = folder.parent / "cache"
    project = find_project(folder)
    with pinned_code():
        run = plan_fleet(project, load_catalog(), list_stacks(project), PlanCache(cache_dir), 1)
    assert run.planned == 3
    acme = next(t for t in run.fleet.tenants if t.stack == ACME)
    return folder, cache_dir, json.loads(json.dumps(acme.to_cache(), default=str))


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.lists(JSON, min_size=4, max_size=4))
def test_any_json_in_the_cache_is_a_miss_and_is_replanned(
    warm: tuple[Path, Path, dict[str, Any]],
    catalog: Catalog,
    tmp_path_factory: pytest.TempPathFactory,
    garbage: list[Any],
) -> None:
    folder, warm_dir, _ = warm
    cache_dir = tmp_path_factory.mktemp("cache") / "plan"
    shutil.copytree(warm_dir, cache_dir)
    paths = sorted(cache_dir.rglob("*.json"))
    assert len(paths) == 4  # three tenants and the pack's description
    for path, value in zip(paths, garbage, strict=True):
        path.write_text(json.dumps(value))
    project = find_project(folder)
    with pinned_code():
        first = plan_fleet(project, catalog, list_stacks(project), PlanCache(cache_dir), 1)
        second = plan_fleet(project, catalog, list_stacks(project), PlanCache(cache_dir), 1)
    assert (first.cached, first.planned) == (0, 3)
    assert first.fleet.policy is not None and not first.fleet.blocked
    assert (second.cached, second.planned) == (3, 0)  # rewritten, then trusted


def mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """`value` with the node at `path` (indices into its sorted keys / items) replaced."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    index, rest = path[0], path[1:]
    if isinstance(value, dict):
        key = sorted(value)[index % len(value)]
        return {**value, key: mutate(value[key], rest, replacement)}
    position = index % len(value)
    return [*value[:position], mutate(value[position], rest, replacement), *value[position + 1 :]]


@settings(max_examples=300, deadline=None)
@given(
    path=st.lists(st.integers(0, 50), max_size=6),
    replacement=JSON,
    drop=st.booleans(),
)
def test_a_damaged_entry_is_a_miss_or_a_plan_every_command_can_show(
    warm: tuple[Path, Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    path: list[int],
    replacement: Any,
    drop: bool,
) -> None:
    _, _, entry = warm
    damaged = mutate(entry, path, replacement)
    if drop and isinstance(damaged, dict) and damaged:
        gone = sorted(damaged)[(path[0] if path else 0) % len(damaged)]
        damaged = {k: v for k, v in damaged.items() if k != gone}
    cache = PlanCache(tmp_path_factory.mktemp("one"))
    cache.put("ab", damaged)
    tenant = cache.get("ab", fleet_module._tenant_reader(ACME))
    if tenant is None:
        assert cache.misses == 1
        return
    from afrex.cli.plan import _as_json

    assert isinstance(tenant, TenantPlan) and tenant.stack == ACME
    json.dumps(_as_json(FleetPlan([tenant])), default=str)


def test_an_entry_of_another_stack_is_not_used(
    warm: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, _, entry = warm
    cache = PlanCache(tmp_path)
    cache.put("ab", entry)
    assert cache.get("ab", fleet_module._tenant_reader(NORTHWIND)) is None
    assert cache.get("ab", fleet_module._tenant_reader(ACME)) is not None


def test_a_file_where_the_cache_folder_should_be_is_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project_copy(tmp_path / "project")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AFREX_PROJECT", str(folder))
    monkeypatch.setenv("AFREX_CACHE_DIR", str(blocker))
    result = runner.invoke(app, ["plan", "--json"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["tenants"]) == 3
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: plan cache {blocker} cannot be used")
    assert "planning without it" in warning


def test_a_full_disk_under_the_cache_is_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project_copy(tmp_path / "project")
    monkeypatch.setenv("AFREX_PROJECT", str(folder))
    monkeypatch.setenv("AFREX_CACHE_DIR", str(tmp_path / "cache"))

    def disk_full(path: Path, data: str | bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_module, "write_atomic", disk_full)
    result = runner.invoke(app, ["plan"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    warnings = [t for t in result.stderr.splitlines() if t.startswith("warning:")]
    assert len(warnings) == 1 and "(No space left on device)" in warnings[0]


def test_keys_do_not_depend_on_where_the_code_is(tmp_path: Path) -> None:
    copies = [tmp_path / "one", tmp_path / "two" / "deeper"]
    for copy in copies:
        for package in package_dirs():
            shutil.copytree(package, copy / package.name, ignore=shutil.ignore_patterns("*.pyc"))
        shutil.copy(ROOT / "Pulumi.yaml", copy / "Pulumi.yaml")
    one, two = (
        code_digest([c / p.name for p in package_dirs()], [c / "Pulumi.yaml"]) for c in copies
    )
    assert one == two


def afrex_plan(folder: Path, cache_dir: Path, *args: str) -> dict[str, Any]:
    """`afrex plan --json` run by the code inside `folder` (as in the real repository)."""
    env = {**os.environ, "AFREX_PROJECT": str(folder), "AFREX_CACHE_DIR": str(cache_dir)}
    env["PYTHONPATH"] = str(folder)
    done = subprocess.run(
        [sys.executable, "-m", "afrex.cli.main", "plan", "--json", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan: dict[str, Any] = json.loads(done.stdout)
    return plan


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_base_plan_comes_from_the_cache_the_second_time(tmp_path: Path) -> None:
    folder = project_copy(tmp_path / "project")
    for package in ("afrex", "components", "policies"):  # a repository with its code
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("*.pyc"))
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "fleet")
    stack = folder / "stacks" / f"Pulumi.{NORTHWIND}.yaml"
    stack.write_text(stack.read_text().replace("tier: starter", "tier: growth"))
    cache_dir = tmp_path / "cache"

    first = afrex_plan(folder, cache_dir, "--base", "HEAD")
    after_first = entries(cache_dir)
    # head: 3 tenants and the pack; the base (its own checkout, same code): only
    # Northwind's old plan is new. A key holding the checkout's path would add 4.
    assert len(after_first) == 5
    second = afrex_plan(folder, cache_dir, "--base", "HEAD")
    assert entries(cache_dir) == after_first  # nothing planned or written again
    assert second["diff"] == first["diff"]
    assert {d["stack"]: d["status"] for d in first["diff"]}[NORTHWIND] == "changed"


def broken_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, text: str) -> Path:
    """A repo whose last commit has `broken` (a path) holding `text`; the working tree
    (the change under review) has it fixed."""
    folder = project_copy(tmp_path / "project")
    good = (folder / broken).read_text()
    (folder / broken).write_text(text)
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "broken")
    (folder / broken).write_text(good)
    monkeypatch.setenv("AFREX_PROJECT", str(folder))
    return folder


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_stack_file_broken_at_the_base_does_not_block_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_base(tmp_path, monkeypatch, f"stacks/Pulumi.{NORTHWIND}.yaml", "config: [unclosed\n")
    result = runner.invoke(app, ["plan", "--base", "HEAD", "--json"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    diffs = {d["stack"]: d for d in json.loads(result.stdout)["diff"]}
    assert diffs[NORTHWIND]["status"] == "changed" and diffs[NORTHWIND]["added"]
    assert diffs[ACME]["status"] == "unchanged"
    (warning,) = [t for t in result.stderr.splitlines() if t.startswith("warning:")]
    assert f"base HEAD: 1 stack file(s) at HEAD could not be read ({NORTHWIND})" in warning

    listed = runner.invoke(app, ["plan", "--base", "HEAD", "--changed-stacks"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [NORTHWIND]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_project_file_broken_at_the_base_does_not_block_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_base(tmp_path, monkeypatch, "Pulumi.yaml", "name: [afrex\n")
    result = runner.invoke(app, ["plan", "--base", "HEAD", "--json"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    diffs = json.loads(result.stdout)["diff"]
    assert len(diffs) == 3 and {d["status"] for d in diffs} == {"added"}
    (warning,) = [t for t in result.stderr.splitlines() if t.startswith("warning:")]
    assert "the fleet at HEAD could not be planned" in warning and "Pulumi.yaml" in warning


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("odd", ["link-out-of-the-tree", "folder"])
def test_an_odd_stack_entry_at_the_base_does_not_block_its_removal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: str
) -> None:
    folder = project_copy(tmp_path / "project")
    entry = folder / "stacks" / "Pulumi.cust-odd-entry-1767225600.yaml"
    if odd == "folder":
        entry.mkdir()
        (entry / "note.txt").write_text("a folder where a stack file should be\n")
    else:
        entry.symlink_to("/nonexistent/stack.yaml")
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "odd")
    if odd == "folder":  # the change under review removes it
        shutil.rmtree(entry)
    else:
        entry.unlink()
    monkeypatch.setenv("AFREX_PROJECT", str(folder))
    result = runner.invoke(app, ["plan", "--base", "HEAD", "--json"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    statuses = {d["stack"]: d["status"] for d in json.loads(result.stdout)["diff"]}
    assert {statuses[s] for s in (ACME, NORTHWIND)} == {"unchanged"}
