"""The one factory for AWS clients.

Every command that talks to AWS gets its boto3 client here: the endpoint comes
from `AWS_ENDPOINT_URL` when set (moto's server on 127.0.0.1 in the local
profile), the region from `AWS_REGION` / `AWS_DEFAULT_REGION` or us-east-1.
boto3 is imported inside the functions, so commands that never call AWS never
pay for it.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from afrex.errors import AfrexError, BadInput, OperationFailed

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
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
# The bound on any one AWS call: connect 3 s, answer 10 s, tried twice, so an endpoint
# that accepts and never answers fails in about 25 s, never minutes.
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 10
ATTEMPTS = 2
CREDENTIAL_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


def endpoint_url() -> str | None:
    """The AWS endpoint override (an http(s) URL), or None for real AWS."""
    value = os.environ.get(ENDPOINT_ENV) or None
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or value != value.strip():
        raise BadInput(
            f"{ENDPOINT_ENV}={value!r} is not an http(s) URL",
            f"use e.g. http://127.0.0.1:5000 for moto, or unset {ENDPOINT_ENV} for real AWS",
        )
    try:
        parsed.port  # noqa: B018 (validates the port)
    except ValueError:
        raise BadInput(f"{ENDPOINT_ENV}={value!r} has a bad port", "use host:1-65535") from None
    return value


def region() -> str:
    """The AWS region: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1 (checked)."""
    name = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    if not REGION_PATTERN.fullmatch(name):
        raise BadInput(f"AWS region {name!r} is not a region name", "use e.g. us-east-1")
    return name


def where() -> str:
    """Where AWS calls go, for messages: the endpoint override or the region."""
    return endpoint_url() or f"AWS {region()}"


def aws_failure(error: Exception, service: str, doing: str) -> AfrexError:
    """One line for a failed AWS call: the endpoint, the credentials, or the service's refusal."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    target = where()
    if isinstance(error, ReadTimeoutError | ConnectionClosedError):
        return OperationFailed(
            f"{service} at {target} did not answer while {doing} "
            f"(waited {READ_TIMEOUT_S} s, {ATTEMPTS} tries)",
            f"check that {target} is the right endpoint and that it is up",
        )
    if isinstance(error, EndpointConnectionError | BotoConnectionError):
        return OperationFailed(
            f"cannot connect to {service} at {target} while {doing}",
            f"check {ENDPOINT_ENV} and the network",
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return OperationFailed(
            f"no usable AWS credentials for {service} while {doing}",
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Error"))
        message = str(error.response.get("Error", {}).get("Message", "")).splitlines()
        detail = f"{code}: {message[0]}" if message and message[0] else code
        if code in CREDENTIAL_CODES:
            return OperationFailed(
                f"{service} at {target} refused the AWS credentials while {doing} ({detail})",
                "check AWS_PROFILE / the access key and its permissions",
            )
        return OperationFailed(f"{service} at {target} refused {doing}: {detail}")
    return OperationFailed(
        f"{service} at {target} failed while {doing}: {type(error).__name__}: {error}"
    )


def _client_options() -> dict[str, Any]:
    from botocore.config import Config

    options: dict[str, Any] = {
        "region_name": region(),
        "config": Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
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


def _client(service: str, options: dict[str, Any] | None = None) -> Any:
    """A boto3 client; a bad profile or setting is bad input, not a traceback."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.client(service, **(options or _client_options()))  # type: ignore[call-overload]
    except (BotoCoreError, ValueError) as error:
        raise BadInput(
            f"cannot set up the AWS {service} client: {error}",
            "check AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL",
        ) from None


def cloudwatch() -> CloudWatchClient:
    """A CloudWatch client for the configured endpoint and region.

    botocore's client-side parameter validation is off for CloudWatch: every request
    is built by afrex.telemetry / afrex.sla from ids already validated at the tenant
    door, within the API's limits (500 queries per GetMetricData, 1,000 items per
    PutMetricData), and validating a 500-query request costs about 45 ms of CPU,
    a third of `afrex invoice --all`'s client time over 1,000 tenants
    (bench/bench_stacks.py). The service still validates everything it is sent.
    """
    from botocore.config import Config

    options = _client_options()
    options["config"] = options["config"].merge(Config(parameter_validation=False))
    client: CloudWatchClient = _client("cloudwatch", options)
    return client


def s3() -> S3Client:
    """An S3 client for the configured endpoint and region (path-style on local endpoints)."""
    from botocore.config import Config

    options = _client_options()
    if endpoint_url():
        options["config"] = options["config"].merge(Config(s3={"addressing_style": "path"}))
    client: S3Client = _client("s3", options)
    return client


def sns() -> SNSClient:
    """An SNS client (SLA alerts to tenants' topics)."""
    client: SNSClient = _client("sns")
    return client


def sesv2() -> SESV2Client:
    """An SES (v2) client (welcome emails)."""
    client: SESV2Client = _client("sesv2")
    return client


def ecs(region_name: str | None = None) -> ECSClient:
    """An ECS client (tenants on the ECS runtime), in `region_name` when given (an ECS
    tenant's cluster is in its platform's region, whatever the operator's default)."""
    options = _client_options()
    if region_name:
        if not REGION_PATTERN.fullmatch(region_name):
            raise BadInput(f"AWS region {region_name!r} is not a region name", "check the stack")
        options["region_name"] = region_name
    client: ECSClient = _client("ecs", options)
    return client


def efs() -> EFSClient:
    """An EFS client (ECS tenants' agent state)."""
    client: EFSClient = _client("efs")
    return client
