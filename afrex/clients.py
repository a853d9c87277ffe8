"""The one factory for AWS clients.

Every command that talks to AWS gets its boto3 client here: the endpoint comes
from `AWS_ENDPOINT_URL` when set (moto's server on 127.0.0.1 in the local
profile), the region from `AWS_REGION` / `AWS_DEFAULT_REGION` or us-east-1.
boto3 is imported inside the functions, so commands that never call AWS never
pay for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_efs import EFSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient

DEFAULT_REGION = "us-east-1"
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_KEY = "afrex-local"


def endpoint_url() -> str | None:
    """The AWS endpoint override, or None for real AWS."""
    return os.environ.get(ENDPOINT_ENV) or None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _client_options() -> dict[str, Any]:
    from botocore.config import Config

    options: dict[str, Any] = {
        "region_name": region(),
        "config": Config(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
        ),
    }
    endpoint = endpoint_url()
    if endpoint:
        options["endpoint_url"] = endpoint
        has_credentials = any(os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE"))
        # A local endpoint (moto) accepts any key; real AWS never gets these.
        if urlparse(endpoint).hostname in LOCAL_HOSTS and not has_credentials:
            options["aws_access_key_id"] = LOCAL_KEY
            options["aws_secret_access_key"] = LOCAL_KEY
    return options


def cloudwatch() -> CloudWatchClient:
    """A CloudWatch client for the configured endpoint and region."""
    import boto3

    return boto3.client("cloudwatch", **_client_options())


def s3() -> S3Client:
    """An S3 client for the configured endpoint and region (path-style on local endpoints)."""
    import boto3
    from botocore.config import Config

    options = _client_options()
    if endpoint_url():
        options["config"] = options["config"].merge(Config(s3={"addressing_style": "path"}))
    return boto3.client("s3", **options)


def sns() -> SNSClient:
    """An SNS client (SLA alerts to tenants' topics)."""
    import boto3

    return boto3.client("sns", **_client_options())


def sesv2() -> SESV2Client:
    """An SES (v2) client (welcome emails)."""
    import boto3

    return boto3.client("sesv2", **_client_options())


def ecs() -> ECSClient:
    """An ECS client (tenants on the ECS runtime)."""
    import boto3

    return boto3.client("ecs", **_client_options())


def efs() -> EFSClient:
    """An EFS client (ECS tenants' agent state)."""
    import boto3

    return boto3.client("efs", **_client_options())
