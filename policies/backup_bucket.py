"""Rules `backup-bucket-settings` and `backup-bucket-complete`: tenant backups stay
private, encrypted, versioned, TLS-only, expire exactly at the catalog's retention,
and are never force-destroyed.

`backup-bucket-settings` checks each S3 resource's own settings;
`backup-bucket-complete` (stack level) checks every bucket has all of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.props import UNKNOWN, Unknown, elements, is_unknown, lookup, number
from policies.tenancy import catalog

BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCKS = {
    "blockPublicAcls": "block_public_acls",
    "blockPublicPolicy": "block_public_policy",
    "ignorePublicAcls": "ignore_public_acls",
    "restrictPublicBuckets": "restrict_public_buckets",
}
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
COMPANIONS = {
    LIFECYCLE: "a BucketLifecycleConfiguration expiring backups at the catalog's retention",
    VERSIONING: "a BucketVersioning with status Enabled",
    ENCRYPTION: "a BucketServerSideEncryptionConfiguration",
    PUBLIC_ACCESS: "a BucketPublicAccessBlock with all four blocks on",
    BUCKET_POLICY: "a TLS-only BucketPolicy",
}


def _bucket_problems(args: ResourceValidationArgs) -> list[str]:
    problems = []
    if lookup(args.props, "forceDestroy") is True:
        problems.append(
            "force_destroy: true would delete every backup with the bucket; set force_destroy=False"
        )
    if not args.opts.protect:
        problems.append(
            "protect: off; a mistaken `pulumi destroy` would delete customer backups, "
            "set protect=True (and retain_on_delete=True)"
        )
    return problems


def _days(rule: Any, block: str, field: str) -> Any:
    value = lookup(rule, block, field)
    return value if value is UNKNOWN else number(value)


def _lifecycle_problems(args: ResourceValidationArgs) -> list[str]:
    backups = catalog().backups
    rules = elements(args.props, "rules")
    if isinstance(rules, Unknown):
        return []
    enabled = [r for r in rules if lookup(r, "status") in ("Enabled", UNKNOWN)]
    expected = (
        ("expiration", "days", backups.retention_days, "retention_days"),
        ("noncurrentVersionExpiration", "noncurrentDays", backups.noncurrent_retention_days,
         "noncurrent_retention_days"),
        ("abortIncompleteMultipartUpload", "daysAfterInitiation", backups.abort_multipart_days,
         "abort_multipart_days"),
    )  # fmt: skip
    problems = []
    for block, field, days, setting in expected:
        found = [_days(r, block, field) for r in enabled]
        known = [d for d in found if d is not None and d is not UNKNOWN]
        # Exactly the retention: set in some Enabled rule, and no Enabled rule says otherwise.
        if all(d == days for d in known) and (known or UNKNOWN in found):
            continue
        shown = ", ".join(f"{int(d)} days" for d in known) or "none"
        problems.append(
            f"rules[].{block}.{field}: {shown}; backups must expire at exactly {days} days "
            f"(catalog backups.{setting}) in every Enabled rule, set it to {days}"
        )
    return problems


def _versioning_problems(args: ResourceValidationArgs) -> list[str]:
    status = lookup(args.props, "versioningConfiguration", "status")
    if status in (UNKNOWN, "Enabled"):
        return []
    return [
        f"versioning_configuration.status: '{status or 'unset'}'; set it to \"Enabled\" so "
        "overwritten backups can be recovered"
    ]


def _encryption_problems(args: ResourceValidationArgs) -> list[str]:
    rules = elements(args.props, "rules")
    if isinstance(rules, Unknown):
        return []
    algorithms = [lookup(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in rules]
    if any(a is UNKNOWN or a in SSE_ALGORITHMS for a in algorithms):
        return []
    return [
        "rules[].apply_server_side_encryption_by_default.sse_algorithm: not set; "
        'encrypt backups at rest with sse_algorithm="AES256" (or aws:kms)'
    ]


def _public_access_problems(args: ResourceValidationArgs) -> list[str]:
    off = [
        setting
        for key, setting in PUBLIC_ACCESS_BLOCKS.items()
        if lookup(args.props, key) not in (True, UNKNOWN)
    ]
    if not off:
        return []
    return [f"{', '.join(off)}: off; turn all four public-access blocks on (True)"]


def denies_insecure_transport(policy: Any) -> bool:
    """Whether a bucket policy document denies every request made without TLS."""
    try:
        document = json.loads(policy) if isinstance(policy, str) else None
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if str(condition.get("aws:SecureTransport")).lower() == "false" and (
            "s3:*" in actions or "*" in actions
        ):
            return statement.get("Principal") in ("*", {"AWS": "*"})
    return False


def _bucket_policy_problems(args: ResourceValidationArgs) -> list[str]:
    policy = lookup(args.props, "policy")
    if is_unknown(policy) or denies_insecure_transport(policy):
        return []
    return [
        "policy: does not deny requests without TLS; add a Deny statement for s3:* with "
        'Condition {"Bool": {"aws:SecureTransport": "false"}} (components/backup_bucket.py)'
    ]


CHECKS: dict[str, Callable[[ResourceValidationArgs], list[str]]] = {
    BUCKET: _bucket_problems,
    LIFECYCLE: _lifecycle_problems,
    VERSIONING: _versioning_problems,
    ENCRYPTION: _encryption_problems,
    PUBLIC_ACCESS: _public_access_problems,
    BUCKET_POLICY: _bucket_policy_problems,
}


def validate_backup_bucket(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Report each backup-bucket setting that breaks the platform's guardrails."""
    check = CHECKS.get(args.resource_type)
    if check is None:
        return
    for problem in check(args):
        report(problem, None)


def _parent_urn(resource: PolicyResource) -> str | None:
    if resource.parent is not None:
        return resource.parent.urn
    return resource.opts.parent


def _guards(bucket: PolicyResource, candidate: PolicyResource) -> bool:
    """Whether `candidate` configures `bucket`: by its bucket name, else by shared parent."""
    target = lookup(candidate.props, "bucket")
    names = {lookup(bucket.props, "bucket"), lookup(bucket.props, "id")} - {None, UNKNOWN}
    if isinstance(target, str) and not is_unknown(target) and names:
        return target in names
    parent = _parent_urn(bucket)
    return parent is not None and parent == _parent_urn(candidate)


def validate_backup_bucket_complete(args: StackValidationArgs, report: ReportViolation) -> None:
    """Report every bucket that lacks one of the resources guarding it."""
    buckets = [r for r in args.resources if r.resource_type == BUCKET]
    for bucket in buckets:
        for kind, what in COMPANIONS.items():
            if not any(r.resource_type == kind and _guards(bucket, r) for r in args.resources):
                report(
                    f"bucket {bucket.name}: has no {what}; add it next to the bucket "
                    "(components/backup_bucket.py BackupBucket does)",
                    bucket.urn,
                )


backup_bucket_settings = ResourceValidationPolicy(
    name="backup-bucket-settings",
    description=(
        "Backup buckets: lifecycle expiring at the catalog's retention, versioning, encryption, "
        "all public-access blocks, TLS-only policy, protected and never force-destroyed."
    ),
    validate=validate_backup_bucket,
    enforcement_level=EnforcementLevel.MANDATORY,
)

backup_bucket_complete = StackValidationPolicy(
    name="backup-bucket-complete",
    description=(
        "Every backup bucket has its lifecycle, versioning, encryption, public-access block "
        "and TLS-only policy resources."
    ),
    validate=validate_backup_bucket_complete,
    enforcement_level=EnforcementLevel.MANDATORY,
)
