"""Resources in wire format (camelCase, numbers as floats) as the engine hands them to
the pack, built like HostedTenant builds them, and the calls that run one rule."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from afrex.catalog import load_catalog
from policies.backup_bucket import (
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    LIFECYCLE,
    PUBLIC_ACCESS,
    VERSIONING,
)

TENANT = "cust-acme-legal-1767225600"
PROJECT = "afrex"

TOKEN = "tok-3f9a8c1d2e7b4a6f"
CONTAINER = "docker:index/container:Container"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BACKUPS_PARENT = f"urn:pulumi:{TENANT}::{PROJECT}::afrex:hosted:BackupBucket::{TENANT}-backups"


def urn(kind: str, name: str) -> str:
    return f"urn:pulumi:{TENANT}::{PROJECT}::{kind}::{name}"


def container(
    tier: str = "growth", agent: str = "legal-researcher", tenant: str = TENANT
) -> dict[str, Any]:
    size = load_catalog().tiers[tier].container
    return {
        "name": f"afrex-{tenant}-{agent}",
        "image": "sha256:6adcaecc",
        "restart": "unless-stopped",
        "init": True,
        "privileged": False,
        "memory": float(size.memory_mb),
        "memorySwap": float(size.memory_mb),
        "cpus": str(size.cpus),
        "ulimits": [
            {"name": "nproc", "soft": float(size.pids_limit), "hard": float(size.pids_limit)}
        ],
        "capabilities": {"drops": ["ALL"]},
        "securityOpts": ["no-new-privileges:true"],
        "healthcheck": {"tests": ["CMD", "node", "-e", "probe"], "interval": "30s", "retries": 3.0},
        "logDriver": "json-file",
        "logOpts": {"max-size": "10m", "max-file": "3"},
        "envs": [f"OPENCLAW_GATEWAY_TOKEN={TOKEN}", "NODE_OPTIONS=--max-old-space-size=1152"],
        "ports": [{"ip": "127.0.0.1", "internal": 18789.0}],
        "labels": [
            {"label": "afrex.tenant", "value": tenant},
            {"label": "afrex.tier", "value": tier},
            {"label": "afrex.vertical", "value": "legal"},
            {"label": "afrex.agent", "value": agent},
        ],
    }


def alarms(
    tier: str = "growth", agent: str = "legal-researcher", tenant: str = TENANT
) -> list[dict[str, Any]]:
    """The long- and short-window alarms HostedTenant builds for one agent."""
    catalog = load_catalog()
    alerting = catalog.sla_alerting
    built = []
    for window in alerting.windows:
        for span, seconds in (("long", window.long_seconds), ("short", window.short_seconds)):
            built.append(
                {
                    "name": f"afrex-{tenant}-{agent}-{window.name}-{span}",
                    "namespace": alerting.namespace,
                    "metricName": alerting.metric,
                    "dimensions": {"Tenant": tenant, "Agent": agent},
                    "statistic": "Average",
                    "period": float(seconds),
                    "comparisonOperator": "LessThanThreshold",
                    "threshold": float(catalog.burn_threshold(tier, window)),
                }
            )
    return built


def bucket_resources(tenant: str = TENANT) -> dict[str, dict[str, Any]]:
    """A backup bucket and the resources guarding it, by type."""
    backups = load_catalog().backups
    name = f"afrex-backups-{tenant}"
    arn = f"arn:aws:s3:::{name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    return {
        BUCKET: {"bucket": name, "forceDestroy": False},
        LIFECYCLE: {
            "bucket": name,
            "rules": [
                {
                    "id": "expire-backups",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": float(backups.retention_days)},
                    "noncurrentVersionExpiration": {
                        "noncurrentDays": float(backups.noncurrent_retention_days)
                    },
                    "abortIncompleteMultipartUpload": {
                        "daysAfterInitiation": float(backups.abort_multipart_days)
                    },
                }
            ],
        },
        VERSIONING: {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
        ENCRYPTION: {
            "bucket": name,
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        },
        PUBLIC_ACCESS: {
            "bucket": name,
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        BUCKET_POLICY: {"bucket": name, "policy": json.dumps(policy)},
    }


def edited(props: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A deep copy of `props` with `change` applied to it."""
    copied = copy.deepcopy(props)
    change(copied)
    return copied


def _options(protect: bool, secret_outputs: list[str], parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), secret_outputs, parent
    )


def engine_props(props: dict[str, Any]) -> Any:
    """Properties as the pack's servicer hands them to a rule (unknown-checking proxies)."""
    return unknown_checking_proxy(deserialize_properties(copy.deepcopy(props)))


def resource_args(
    kind: str,
    props: dict[str, Any],
    name: str = "resource",
    protect: bool = False,
    secret_outputs: list[str] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        kind,
        engine_props(props),
        urn(kind, name),
        name,
        _options(protect, secret_outputs or [], None),
        None,
    )


def policy_resource(
    kind: str, props: dict[str, Any], name: str, parent: str | None = None
) -> PolicyResource:
    return PolicyResource(
        kind,
        engine_props(props),
        urn(kind, name),
        name,
        _options(False, [], parent),
        None,
        None,
        [],
        {},
    )


def stack_args(resources: list[PolicyResource]) -> StackValidationArgs:
    return StackValidationArgs(resources)


Report = tuple[str, str | None]


def run_resource_rule(
    validate: Callable[[ResourceValidationArgs, Any], None], args: ResourceValidationArgs
) -> list[str]:
    """The messages a resource rule reports."""
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


def run_stack_rule(
    validate: Callable[[StackValidationArgs, Any], None], args: StackValidationArgs
) -> list[Report]:
    """The (message, urn) pairs a stack rule reports."""
    found: list[Report] = []
    validate(args, lambda message, urn=None: found.append((message, urn)))
    return found
