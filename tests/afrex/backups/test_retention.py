"""Retention against moto's S3: the lifecycle rule is compared with the catalog's, and
past-retention backups are deleted here only where the rule is missing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afrex.backups.manifest import backup_id, backup_prefix
from afrex.backups.retention import check_retention, expected_rule
from afrex.catalog import Catalog
from afrex.clients import s3
from afrex.deployed import TenantView
from afrex.events import open_event_log
from tests.afrex.backups.deployed import DeployedFleet, on_moto, state_tar

__all__ = ["on_moto"]

TENANT = "cust-retention-check-1767225600"
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
OLD = backup_id(NOW - timedelta(days=100))
RECENT = backup_id(NOW - timedelta(days=10))
OLD_ARCHIVE = f"archived-agents/researcher/{backup_id(NOW - timedelta(days=95))}.tar.gz"


def component_rule(catalog: Catalog) -> dict[str, Any]:
    """The component's own lifecycle rule (components/backup_bucket.py), as S3 stores it."""
    from components.backup_bucket import lifecycle_rules

    (rule,) = json.loads(json.dumps(lifecycle_rules(catalog)))  # plain data, no SDK types
    return {
        "ID": rule["id"],
        "Status": rule["status"],
        "Filter": {"Prefix": rule["filter"]["prefix"]},
        "Expiration": {"Days": rule["expiration"]["days"]},
        "NoncurrentVersionExpiration": {
            "NoncurrentDays": rule["noncurrent_version_expiration"]["noncurrent_days"]
        },
        "AbortIncompleteMultipartUpload": {
            "DaysAfterInitiation": rule["abort_incomplete_multipart_upload"][
                "days_after_initiation"
            ]
        },
    }


def test_the_expected_rule_is_the_components_rule(catalog: Catalog) -> None:
    assert expected_rule(catalog.backups) == component_rule(catalog)


@pytest.fixture
def tenant(on_moto: DeployedFleet) -> TenantView:
    """A versioned bucket with an old and a recent backup and an old agent archive,
    each written twice (two versions)."""
    view = on_moto.deploy(TENANT)
    bucket = str(view.bucket)
    s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for backup in (OLD, RECENT):
        for _ in range(2):
            on_moto.put_backup(view, backup, {"general-assistant": state_tar({"a": b"1"})})
    for key in (OLD_ARCHIVE, OLD_ARCHIVE + ".sha256"):
        s3().put_object(Bucket=bucket, Key=key, Body=b"x")
    return view


def set_rule(view: TenantView, rule: Any) -> None:
    s3().put_bucket_lifecycle_configuration(
        Bucket=str(view.bucket), LifecycleConfiguration={"Rules": [rule]}
    )


def versions(view: TenantView, prefix: str) -> int:
    page = s3().list_object_versions(Bucket=str(view.bucket), Prefix=prefix)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def test_a_matching_rule_does_the_expiring(tenant: TenantView, catalog: Catalog) -> None:
    set_rule(tenant, component_rule(catalog))
    report = check_retention(now=NOW)
    (bucket,) = report.buckets
    assert report.ok and bucket.rule == "matches" and bucket.deleted == []
    assert [item.name for item in bucket.past] == [OLD, OLD_ARCHIVE]
    assert bucket.next_expiry is not None and bucket.next_expiry.name == RECENT
    assert bucket.next_expiry.expires == NOW + timedelta(days=80)
    assert versions(tenant, backup_prefix(OLD)) == 4  # two objects, two versions each


def test_a_different_rule_is_reported_never_worked_around(
    tenant: TenantView, catalog: Catalog
) -> None:
    rule = component_rule(catalog)
    set_rule(tenant, {**rule, "Expiration": {"Days": 30}})
    (bucket,) = check_retention(now=NOW).buckets
    assert bucket.rule == "differs" and not bucket.ok
    assert bucket.differences == ["expiration days: 30, the catalog says 90"]
    assert bucket.deleted == [] and versions(tenant, backup_prefix(OLD)) == 4


def test_a_rule_for_another_prefix_is_missing(tenant: TenantView, catalog: Catalog) -> None:
    set_rule(tenant, {**component_rule(catalog), "Filter": {"Prefix": "logs/"}})
    (bucket,) = check_retention(now=NOW, dry_run=True).buckets
    assert bucket.rule == "missing"


def test_dry_run_without_a_rule_deletes_nothing(tenant: TenantView) -> None:
    report = check_retention(now=NOW, dry_run=True)
    (bucket,) = report.buckets
    assert bucket.rule == "missing" and not report.ok
    assert [item.name for item in bucket.past] == [OLD, OLD_ARCHIVE] and bucket.deleted == []
    assert versions(tenant, backup_prefix(OLD)) == 4 and versions(tenant, OLD_ARCHIVE) == 2


def test_without_a_rule_past_retention_goes_every_version_and_is_recorded(
    tenant: TenantView, on_moto: DeployedFleet
) -> None:
    (bucket,) = check_retention(now=NOW).buckets
    assert bucket.rule == "missing" and bucket.deleted == [OLD, OLD_ARCHIVE]
    assert versions(tenant, backup_prefix(OLD)) == 0
    assert versions(tenant, "archived-agents/") == 0
    assert versions(tenant, backup_prefix(RECENT)) == 4
    (event,) = open_event_log(on_moto.root).read(tenant=TENANT)
    assert event.kind == "backup.expired" and event.details["deleted"] == [OLD, OLD_ARCHIVE]


def test_a_tenant_never_deployed_is_skipped(on_moto: DeployedFleet) -> None:
    on_moto.add_stack("cust-never-deployed-1767225600", tier="starter", vertical="general")
    report = check_retention(now=NOW)
    assert report.buckets == [] and report.ok
    assert "never deployed" in report.skipped["cust-never-deployed-1767225600"]
