"""An ECS agent's task: its container definition (hardened like the Docker container),
its state's place and owner on the shared file system, and names IAM accepts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi

from afrex.catalog import Catalog
from afrex.spec import TenantSpec
from components.agent_runtime import healthcheck_command
from components.naming import labels, physical_name

CONTAINER_NAME = "gateway"
STATE_VOLUME = "state"
SCRATCH_VOLUME = "scratch"
TOKEN_ENV = "OPENCLAW_GATEWAY_TOKEN"
HTTPS = 443
IAM_NAME_LIMIT = 64


@dataclass(frozen=True)
class EcsAgentRuntimeArgs:
    """What an ECS tenant's agents are built from."""

    spec: TenantSpec
    catalog: Catalog
    gateway_token: pulumi.Input[str]
    platform_stack: str
    bucket_arn: pulumi.Input[str]


def posix_id(catalog: Catalog, tenant: str, agent: str) -> int:
    """The uid/gid of an agent's access point: stable, and spread over the catalog's
    range so agents sharing the file system do not share an owner."""
    fargate = catalog.fargate
    digest = int(hashlib.sha256(f"{tenant}/{agent}".encode()).hexdigest(), 16)
    return fargate.posix_id_base + digest % fargate.posix_id_span


def state_root(tenant: str, agent: str) -> str:
    """Where an agent's state lives on the shared file system."""
    return f"/tenants/{tenant}/{agent}"


def iam_name(spec: TenantSpec, suffix: str) -> str:
    """`afrex-<tenant>-<suffix>`, shortened with a hash when IAM's 64 characters are exceeded."""
    name = physical_name(spec, suffix)
    if len(name) <= IAM_NAME_LIMIT:
        return name
    digest = hashlib.sha256(spec.tenant_id.encode()).hexdigest()[:8]
    keep = IAM_NAME_LIMIT - len(f"afrex--{digest}-{suffix}")
    return f"afrex-{spec.tenant_id[:keep]}-{digest}-{suffix}"


def container_definitions(
    args: EcsAgentRuntimeArgs, agent: str, secret_arn: str, log_group: str, region: str
) -> str:
    """The task's one container, as the ECS API takes it (JSON, camelCase)."""
    catalog, spec = args.catalog, args.spec
    gateway, fargate = catalog.gateway, catalog.fargate
    size = fargate.sizes[spec.tier]
    nofile = catalog.tiers[spec.tier].container.nofile_limit
    heap_mb = size.memory_mb * gateway.heap_share_pct // 100
    container = {
        "name": CONTAINER_NAME,
        "image": catalog.agent_image.reference,
        "essential": True,
        "user": fargate.container_user,
        "privileged": False,
        "readonlyRootFilesystem": True,  # writes go to the state (EFS) and scratch only
        "cpu": size.cpu_units,
        "memory": size.memory_mb,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "portMappings": [{"containerPort": gateway.port, "protocol": "tcp"}],
        "environment": [{"name": "NODE_OPTIONS", "value": f"--max-old-space-size={heap_mb}"}],
        "secrets": [{"name": TOKEN_ENV, "valueFrom": secret_arn}],
        "mountPoints": [
            {"sourceVolume": STATE_VOLUME, "containerPath": gateway.state_path, "readOnly": False},
            {
                "sourceVolume": SCRATCH_VOLUME,
                "containerPath": fargate.scratch_path,
                "readOnly": False,
            },
        ],
        "healthCheck": {
            "command": healthcheck_command(gateway.port, gateway.health_path),
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 60,
        },
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": agent,
            },
        },
        # Fargate sets only nofile; each task is its own micro-VM (no shared pid space).
        "ulimits": [{"name": "nofile", "softLimit": nofile, "hardLimit": nofile}],
        "stopTimeout": 30,
        "dockerLabels": {**labels(spec), "afrex.agent": agent},
    }
    return json.dumps([container], sort_keys=True)
