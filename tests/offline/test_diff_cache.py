"""Plan diff, the content-keyed cache and the git base checkout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from afrex.errors import BadInput
from afrex.offline import gitbase
from afrex.offline.cache import PlanCache
from afrex.offline.diff import diff_fleet
from afrex.offline.fingerprint import code_digest, tenant_key
from tests.helpers import git


def as_is(text: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(text)
    return entry


def _row(name: str, digest: str) -> dict[str, str]:
    return {"type": "docker:index:Container", "name": name, "settings": "", "digest": digest}


def test_diff_names_added_changed_removed_resources_and_tenants() -> None:
    base = {
        "tenants": [
            {"stack": "a", "resources": [_row("x", "1"), _row("y", "1")]},
            {"stack": "gone", "resources": [_row("z", "1")]},
            {"stack": "same", "resources": [_row("s", "1")]},
        ]
    }
    head = {
        "tenants": [
            {"stack": "a", "resources": [_row("x", "2"), _row("w", "1")]},
            {"stack": "new", "resources": [_row("n", "1")]},
            {"stack": "same", "resources": [_row("s", "1")]},
        ]
    }
    diffs = {d.stack: d for d in diff_fleet(base, head)}
    assert diffs["a"].status == "changed"
    assert diffs["a"].added == ["docker:index:Container w"]
    assert diffs["a"].changed == ["docker:index:Container x"]
    assert diffs["a"].removed == ["docker:index:Container y"]
    assert diffs["gone"].status == "removed" and diffs["new"].status == "added"
    assert diffs["same"].status == "unchanged"


def test_cache_round_trip_and_corrupt_entries_are_misses(tmp_path: Path) -> None:
    cache = PlanCache(tmp_path)
    assert cache.get("ab12", as_is) is None
    cache.put("ab12", {"stack": "a"})
    assert cache.get("ab12", as_is) == {"stack": "a"}
    (tmp_path / "cd" / "cd34.json").parent.mkdir()
    (tmp_path / "cd" / "cd34.json").write_text("{half")
    assert cache.get("cd34", as_is) is None
    assert (cache.hits, cache.misses) == (1, 2)
    assert PlanCache(None).get("ab12", as_is) is None


def test_keys_change_with_stack_catalog_or_code(tmp_path: Path) -> None:
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "x.py").write_text("A = 1\n")
    stack = tmp_path / "Pulumi.s.yaml"
    stack.write_text("config: {}\n")
    folders = [tmp_path / "components"]
    code = code_digest(folders)
    key = tenant_key(stack, "cat1", code)
    assert key == tenant_key(stack, "cat1", code_digest(folders))
    assert key != tenant_key(stack, "cat2", code)
    (tmp_path / "components" / "x.py").write_text("A = 2\n")
    assert key != tenant_key(stack, "cat1", code_digest(folders))
    stack.write_text("config: {a: 1}\n")
    assert tenant_key(stack, "cat1", code) != key


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_checkout_exports_the_tree_at_a_ref(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("one")
    git(tmp_path, "add", "f.txt")
    git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "f.txt").write_text("two")
    git(tmp_path, "commit", "-qam", "two")
    with gitbase.checkout(tmp_path, "HEAD~1") as folder:
        assert (folder / "f.txt").read_text() == "one"
    assert not folder.exists()
    with pytest.raises(BadInput, match="unknown git ref .no-such-branch."):
        gitbase.resolve(tmp_path, "no-such-branch")


def test_a_first_push_has_an_empty_base(tmp_path: Path) -> None:
    assert gitbase.plan_at(tmp_path, "0" * 40, None)["tenants"] == []
