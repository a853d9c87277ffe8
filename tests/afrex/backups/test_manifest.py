"""Backup ids, keys and manifests: generated round trips and damaged documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afrex.backups.manifest import (
    ArchivedAgent,
    Manifest,
    archive_key,
    backup_id,
    backup_time,
    check_backup_id,
    manifest_key,
)
from afrex.errors import BadInput, OperationFailed

TENANT = "cust-acme-legal-1767225600"
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
).map(lambda when: when.replace(microsecond=0))
agent_names = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)
digests = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)


@given(when=times)
def test_a_backup_id_is_its_start_time(when: datetime) -> None:
    assert backup_time(backup_id(when)) == when
    assert check_backup_id(backup_id(when)) == backup_id(when)


@given(value=st.text(max_size=20))
def test_anything_else_is_not_a_backup_id(value: str) -> None:
    if backup_time(value) is None:
        with pytest.raises(BadInput, match="is not a backup id"):
            check_backup_id(value)
    else:
        assert backup_id(backup_time(value) or datetime.now(UTC)) == value


@given(
    when=times,
    agents=st.dictionaries(
        agent_names, st.tuples(st.integers(0, 2**40), digests), min_size=1, max_size=20
    ),
)
def test_a_manifest_reads_back_as_written(
    when: datetime, agents: dict[str, tuple[int, str]]
) -> None:
    backup = backup_id(when)
    manifest = Manifest(
        tenant=TENANT,
        backup_id=backup,
        created=when,
        completed=when,
        tool_version="0.1.0",
        catalog_digest="c" * 64,
        state_path="/home/node/.openclaw",
        agents=tuple(
            ArchivedAgent(name, archive_key(backup, name), size, sha)
            for name, (size, sha) in agents.items()
        ),
    )
    assert Manifest.from_json(manifest.to_json(), TENANT, backup) == manifest
    assert manifest.size == sum(size for size, _ in agents.values())
    assert manifest_key(backup) == f"backups/{backup}/manifest.json"


def good() -> dict[str, object]:
    backup = "20261120-020000"
    return {
        "schema": 1,
        "tenant": TENANT,
        "backupId": backup,
        "created": "2026-11-20T02:00:00Z",
        "completed": "2026-11-20T02:01:00Z",
        "toolVersion": "0.1.0",
        "catalogDigest": "c" * 64,
        "statePath": "/home/node/.openclaw",
        "agents": [{"agent": "a", "key": archive_key(backup, "a"), "size": 1, "sha256": "0" * 64}],
    }


KEY = archive_key("20261120-020000", "a")


def agent_entry(**change: object) -> dict[str, object]:
    return {"agents": [{"agent": "a", "key": KEY, "size": 1, "sha256": "0" * 64, **change}]}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"schema": 2}, "schema"),
        ({"tenant": "cust-other-co-1767225600"}, "describes"),
        ({"backupId": "20261121-020000"}, "describes"),
        ({"agents": []}, "no agents"),
        (agent_entry(key="backups/x/a.tar.gz"), "key"),
        (agent_entry(size=-1), "size"),
        (agent_entry(sha256="xyz"), "sha256"),
        ({"created": "yesterday"}, "yesterday"),
    ],
)
def test_a_damaged_manifest_is_refused_in_one_line(change: dict[str, object], why: str) -> None:
    raw = json.dumps({**good(), **change}).encode()
    with pytest.raises(OperationFailed, match="is damaged") as refused:
        Manifest.from_json(raw, TENANT, "20261120-020000")
    assert why in str(refused.value) and "\n" not in str(refused.value)


def test_a_manifest_that_is_not_json_is_damaged() -> None:
    with pytest.raises(OperationFailed, match="is damaged"):
        Manifest.from_json(b"{not json", TENANT, "20261120-020000")
