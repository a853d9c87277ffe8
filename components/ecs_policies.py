"""IAM documents of an ECS tenant's roles: each grants exactly what its tasks need.

- Trust: only ECS tasks assume the roles.
- Execution role (used by ECS to start a task): read the tenant's own gateway-token
  secret, write the tenant's own log group. The image is public (no registry grant).
- Task role (used by the gateway, and by `afrex backup`'s one-off archive tasks):
  write to the tenant's own backup bucket, and mount the shared file system only
  through the tenant's own access points. It cannot read the bucket.
- Restore role (only `afrex backup restore`'s one-off tasks): read the tenant's own
  backups (`backups/*` of its bucket, nothing else) and write its agents' state
  through the same access points. Nothing the gateway runs as can read a backup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

VERSION = "2012-10-17"
BACKUP_WRITES = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
BACKUP_READS = ("s3:GetObject",)
BACKUPS_PREFIX = "backups/"
EFS_CLIENT = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": VERSION, "Statement": list(statements)}, sort_keys=True)


def role_trust_policy() -> str:
    """Roles only ECS tasks can assume."""
    return _document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )


def execution_policy(secret_arn: str, log_group_arn: str) -> str:
    """Read one secret; create streams and put events in one log group."""
    return _document(
        {
            "Sid": "GatewayToken",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        },
        {
            "Sid": "AgentLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
    )


def _agent_state(file_system_arn: str, access_point_arns: Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": "AgentState",
        "Effect": "Allow",
        "Action": list(EFS_CLIENT),
        "Resource": file_system_arn,
        "Condition": {
            "StringEquals": {"elasticfilesystem:AccessPointArn": list(access_point_arns)}
        },
    }


def task_policy(bucket_arn: str, file_system_arn: str, access_point_arns: Sequence[str]) -> str:
    """Write objects to one bucket; mount one file system through these access points."""
    return _document(
        {
            "Sid": "BackupWrites",
            "Effect": "Allow",
            "Action": list(BACKUP_WRITES),
            "Resource": f"{bucket_arn}/*",
        },
        _agent_state(file_system_arn, access_point_arns),
    )


def restore_policy(bucket_arn: str, file_system_arn: str, access_point_arns: Sequence[str]) -> str:
    """Read one bucket's backups; mount one file system through these access points."""
    return _document(
        {
            "Sid": "BackupReads",
            "Effect": "Allow",
            "Action": list(BACKUP_READS),
            "Resource": f"{bucket_arn}/{BACKUPS_PREFIX}*",
        },
        _agent_state(file_system_arn, access_point_arns),
    )
