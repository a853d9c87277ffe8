"""Rules backup-bucket-settings and backup-bucket-complete: passes, then each violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE

from policies.backup_bucket import (
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    LIFECYCLE,
    PUBLIC_ACCESS,
    VERSIONING,
    validate_backup_bucket,
    validate_backup_bucket_complete,
)
from tests.policies.resources import (
    BACKUPS_PARENT,
    bucket_resources,
    edited,
    policy_resource,
    resource_args,
    run_resource_rule,
    run_stack_rule,
    stack_args,
)

GOOD = bucket_resources()


def problems(kind: str, props: dict[str, Any], protect: bool = False) -> list[str]:
    args = resource_args(kind, props, protect=protect)
    return run_resource_rule(validate_backup_bucket, args)


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_component_built_bucket_resources_pass(kind: str) -> None:
    assert problems(kind, GOOD[kind], protect=kind == BUCKET) == []


def _rule(block: str, field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda props: props["rules"][0][block].__setitem__(field, value)


VIOLATIONS: list[tuple[str, str, Callable[[dict[str, Any]], Any], str]] = [
    (
        "force destroy",
        BUCKET,
        lambda p: p.__setitem__("forceDestroy", True),
        "force_destroy: true",
    ),
    (
        "lifecycle 30 days",
        LIFECYCLE,
        _rule("expiration", "days", 30.0),
        "rules[].expiration.days: 30 days; backups must expire at exactly 90 days "
        "(catalog backups.retention_days)",
    ),
    (
        "lifecycle 365 days",
        LIFECYCLE,
        _rule("expiration", "days", 365.0),
        "expire at exactly 90 days",
    ),
    (
        "noncurrent versions kept",
        LIFECYCLE,
        lambda p: p["rules"][0].pop("noncurrentVersionExpiration"),
        "noncurrentVersionExpiration.noncurrentDays: none",
    ),
    (
        "stale uploads kept",
        LIFECYCLE,
        _rule("abortIncompleteMultipartUpload", "daysAfterInitiation", 30.0),
        "catalog backups.abort_multipart_days",
    ),
    (
        "versioning suspended",
        VERSIONING,
        lambda p: p["versioningConfiguration"].__setitem__("status", "Suspended"),
        "versioning_configuration.status: 'Suspended'",
    ),
    ("no encryption", ENCRYPTION, lambda p: p.__setitem__("rules", []), "sse_algorithm: not set"),
    (
        "public policy allowed",
        PUBLIC_ACCESS,
        lambda p: p.__setitem__("blockPublicPolicy", False),
        "block_public_policy: off",
    ),
    (
        "no TLS-only statement",
        BUCKET_POLICY,
        lambda p: p.__setitem__("policy", json.dumps({"Statement": []})),
        "does not deny requests without TLS",
    ),
]


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [(k, c, e) for _, k, c, e in VIOLATIONS],
    ids=[i for i, *_ in VIOLATIONS],
)
def test_each_violation_is_reported(
    kind: str, change: Callable[[dict[str, Any]], Any], expected: str
) -> None:
    found = problems(kind, edited(GOOD[kind], change), protect=kind == BUCKET)
    assert len(found) == 1, found
    assert expected in found[0]


def test_disabled_lifecycle_rule_does_not_count() -> None:
    props = edited(GOOD[LIFECYCLE], lambda p: p["rules"][0].__setitem__("status", "Disabled"))
    assert len(problems(LIFECYCLE, props)) == 3


def test_a_second_rule_expiring_earlier_is_reported() -> None:
    """Exactly the retention: one 90-day rule does not excuse a 30-day one beside it."""

    def add_rule(props: dict[str, Any]) -> None:
        props["rules"].append(
            {
                "id": "early",
                "status": "Enabled",
                "filter": {"prefix": "tmp/"},
                "expiration": {"days": 30.0},
            }
        )

    (found,) = problems(LIFECYCLE, edited(GOOD[LIFECYCLE], add_rule))
    assert found.startswith("rules[].expiration.days: 90 days, 30 days;")


def test_unprotected_bucket_is_reported() -> None:
    (found,) = problems(BUCKET, GOOD[BUCKET], protect=False)
    assert "protect: off" in found


def test_unknown_values_are_not_violations() -> None:
    """The TLS policy embeds the bucket ARN, unknown during a first preview."""
    assert (
        problems(BUCKET_POLICY, {"bucket": UNKNOWN_STRING_VALUE, "policy": UNKNOWN_STRING_VALUE})
        == []
    )
    assert problems(LIFECYCLE, {"bucket": "b", "rules": UNKNOWN_ARRAY_VALUE}) == []


def _stack(skip: str | None = None, bucket_input: Any = None) -> list[Any]:
    resources = []
    for kind, props in GOOD.items():
        if kind == skip:
            continue
        if kind != BUCKET and bucket_input is not None:
            props = {**props, "bucket": bucket_input}
        resources.append(policy_resource(kind, props, kind.rpartition(":")[2], BACKUPS_PARENT))
    return resources


def test_complete_bucket_passes() -> None:
    assert run_stack_rule(validate_backup_bucket_complete, stack_args(_stack())) == []


def test_companions_found_by_parent_when_the_bucket_id_is_unknown() -> None:
    resources = _stack(bucket_input=UNKNOWN_STRING_VALUE)
    assert run_stack_rule(validate_backup_bucket_complete, stack_args(resources)) == []


@pytest.mark.parametrize(
    "missing", [LIFECYCLE, VERSIONING, ENCRYPTION, PUBLIC_ACCESS, BUCKET_POLICY]
)
def test_missing_companion_is_reported(missing: str) -> None:
    found = run_stack_rule(validate_backup_bucket_complete, stack_args(_stack(skip=missing)))
    assert len(found) == 1, found
    message, urn = found[0]
    assert missing.rpartition(":")[2] in message and urn is not None and "Bucket" in urn


def test_companion_of_another_bucket_does_not_count() -> None:
    resources = _stack(skip=LIFECYCLE)
    other = {**GOOD[LIFECYCLE], "bucket": "afrex-backups-someone-else"}
    resources.append(policy_resource(LIFECYCLE, other, "other-lifecycle", BACKUPS_PARENT))
    assert len(run_stack_rule(validate_backup_bucket_complete, stack_args(resources))) == 1
