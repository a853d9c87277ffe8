"""Export against moto's S3: complete backups, the stack file and a manifest, verified;
a folder that is not empty, or a damaged backup, leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from afrex.backups.export import export_tenant
from afrex.backups.manifest import archive_key
from afrex.clients import s3
from afrex.deployed import TenantView
from afrex.errors import BadInput, OperationFailed
from tests.afrex.backups.deployed import DeployedFleet, on_moto, state_tar

__all__ = ["on_moto"]

TENANT = "cust-export-check-1767225600"
FIRST, SECOND, CUT = "20261101-020000", "20261102-020000", "20261103-020000"
AGENTS = ("general-assistant", "researcher", "scheduler")


@pytest.fixture
def tenant(on_moto: DeployedFleet) -> TenantView:
    view = on_moto.deploy(TENANT, tier="growth")
    for backup in (FIRST, SECOND, CUT):
        states = {
            agent: state_tar({"memory.json": f"{backup} {agent}".encode()}) for agent in AGENTS
        }
        on_moto.put_backup(view, backup, states, complete=backup != CUT)
    return view


@pytest.fixture
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for exports, apart from the project."""
    return tmp_path_factory.mktemp("exports")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_every_complete_backup_and_the_stack_file_exported_and_listed(
    tenant: TenantView, exports: Path
) -> None:
    out = exports / "offboarding" / TENANT
    result = export_tenant(TENANT, out)

    assert result.backups == [FIRST, SECOND] and result.incomplete == [CUT]
    expected = sorted(
        [f"stack/Pulumi.{TENANT}.yaml", "manifest.json"]
        + [f"backups/{b}/{name}" for b in (FIRST, SECOND) for name in ("manifest.json",)]
        + [f"backups/{b}/{a}.tar.gz" for b in (FIRST, SECOND) for a in AGENTS]
    )
    assert files_under(out) == expected
    stack = out / "stack" / f"Pulumi.{TENANT}.yaml"
    assert stack.read_bytes() == tenant.tenant.stack.path.read_bytes()
    assert "secure: v1:" in stack.read_text()  # the gateway token stays encrypted
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tenant"] == TENANT and manifest["incompleteLeftOut"] == [CUT]
    for entry in manifest["files"]:
        path = out / entry["path"]
        assert (path.stat().st_size, sha256(path)) == (entry["size"], entry["sha256"])
    stored = s3().get_object(Bucket=str(tenant.bucket), Key=archive_key(FIRST, "researcher"))
    assert (out / "backups" / FIRST / "researcher.tar.gz").read_bytes() == stored["Body"].read()
    assert files_under(out.parent) == [f"{TENANT}/{name}" for name in expected]  # no leftovers


def test_an_existing_empty_folder_is_used(tenant: TenantView, exports: Path) -> None:
    (exports / "out").mkdir()
    assert export_tenant(TENANT, exports / "out").output == exports / "out"
    assert (exports / "out" / "manifest.json").is_file()


def test_a_folder_that_is_not_empty_is_bad_input_and_untouched(
    tenant: TenantView, exports: Path
) -> None:
    (exports / "out").mkdir()
    (exports / "out" / "keep.txt").write_text("mine")
    with pytest.raises(BadInput, match="is not empty"):
        export_tenant(TENANT, exports / "out")
    assert files_under(exports) == ["out/keep.txt"]


def test_a_damaged_archive_fails_and_leaves_nothing(tenant: TenantView, exports: Path) -> None:
    s3().put_object(Bucket=str(tenant.bucket), Key=archive_key(SECOND, "scheduler"), Body=b"x")
    with pytest.raises(OperationFailed, match="does not match its manifest"):
        export_tenant(TENANT, exports / "out")
    assert list(exports.iterdir()) == []
