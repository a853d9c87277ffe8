"""Backup bucket: private, encrypted, versioned, TLS-only, expiring backups at
the catalog's retention; it survives a mistaken `pulumi destroy`."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from afrex.catalog import Catalog
from afrex.spec import TenantSpec
from components.naming import COMPONENT_PREFIX, aws_tags


@dataclass(frozen=True)
class BackupBucketArgs:
    spec: TenantSpec
    catalog: Catalog


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy that denies every request not made over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def lifecycle_rules(catalog: Catalog) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """Expire backups (and their noncurrent versions) at the retention, abort stale uploads."""
    backups = catalog.backups
    return [
        {
            "id": "expire-backups",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": backups.retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": backups.noncurrent_retention_days},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": backups.abort_multipart_days
            },
        }
    ]


class BackupBucket(pulumi.ComponentResource):
    """The tenant's S3 backup bucket and the settings that guard it."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:BackupBucket", name, None, opts)
        spec, catalog = args.spec, args.catalog
        # Customer data outlives a mistaken destroy: protected, and retained if unprotected.
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=spec.bucket_name(catalog),
            force_destroy=False,
            tags=aws_tags(spec),
            opts=keep,
        )
        settings = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=settings,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=settings,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=settings,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            opts=pulumi.ResourceOptions.merge(
                settings, pulumi.ResourceOptions(depends_on=[access_block])
            ),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(catalog),
            # S3 wants versioning in place before noncurrent-version rules.
            opts=pulumi.ResourceOptions.merge(
                settings, pulumi.ResourceOptions(depends_on=[versioning])
            ),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucketName": bucket.bucket, "bucketArn": bucket.arn})
