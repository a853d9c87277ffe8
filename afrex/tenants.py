"""Tenants: the one door from stack files to validated customers.

Every command that needs the fleet's desired state (plan, billing, fleet, scale,
SLA, portal, backups) reads it here: the stack files (regular, UTF-8, no alias,
no twin key, one file per customer; see `afrex.stackfiles`), each validated as a
whole: the `afrex:tenant` contract (`TenantSpec`), the gateway token stored as a
secret, the alert email and the Docker host. Any problem is a `ConfigError`
(exit 2) naming the file, the key and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput, ConfigError
from afrex.spec import (
    EMAIL_PATTERN,
    PLATFORM_STACK_KEY,
    TENANT_ID_PATTERN,
    TOKEN_KEY,
    TenantSpec,
    parse_tenant,
)
from afrex.stackfiles import Project, StackFile, find_project, list_stacks

ALERT_EMAIL_KEY = "afrex:alertEmail"
DOCKER_HOST_KEY = "docker:host"
DEFAULT_ALERT_EMAIL = "sla-alerts@afrexai.com"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DOCKER_HOST_PATTERN = re.compile(
    r"(unix|npipe)://[!-~]{1,200}|(tcp|ssh|http|https)://[A-Za-z0-9._@\[\]:-]{1,200}/?"
)


@dataclass(frozen=True)
class Tenant:
    """One customer: its validated contract and where its stack file says it runs."""

    stack: StackFile
    spec: TenantSpec
    docker_host: str
    alert_email: str
    config_digest: str

    @property
    def id(self) -> str:
        return self.spec.tenant_id


def config_digest(
    spec: TenantSpec,
    docker_host: str | None,
    alert_email: str | None,
    platform_stack: str | None = None,
) -> str:
    """sha256 of what a deployment is made from: the contract and the settings afrex reads
    (as written in config; None when unset). The program exports it as `configDigest`, so
    `afrex fleet issues` knows exactly which stacks changed since their last `pulumi up`.
    `afrex:platformStack` counts only when set, so stacks without it (every Docker
    tenant) keep the digest they were deployed with."""
    document: dict[str, Any] = {
        "tenant": spec.model_dump(mode="json"),
        "dockerHost": docker_host,
        "alertEmail": alert_email,
    }
    if platform_stack is not None:
        document["platformStack"] = platform_stack
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def token_problem(present: bool, secret: bool) -> str | None:
    """Why the gateway token config is not acceptable, or None (shared with the program)."""
    if present and secret:
        return None
    state = "stored in plain text" if present else "missing"
    return (
        f"{TOKEN_KEY}: {state}; set it with `pulumi config set --secret {TOKEN_KEY} <token>` "
        "(or make the stack with `afrex tenant new`)"
    )


def check_alert_email(value: Any) -> str:
    """The operators' alert address, which must be one plain email address."""
    if not isinstance(value, str) or not EMAIL_PATTERN.fullmatch(value):
        raise ValueError(
            f"{ALERT_EMAIL_KEY}: {value!r} is not an email address; use name@domain.tld"
        )
    return value.lower()


def check_docker_host(value: Any) -> str:
    """A Docker engine URL (unix://, tcp://, ssh://, npipe://) on one line."""
    if not isinstance(value, str) or not DOCKER_HOST_PATTERN.fullmatch(value):
        raise ValueError(
            f"{DOCKER_HOST_KEY}: {value!r} is not a Docker engine URL; use e.g. "
            "ssh://agents-07 or unix:///run/podman/podman.sock"
        )
    return value


def default_docker_host() -> str:
    """The engine a stack without `docker:host` uses: $DOCKER_HOST, else the local socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def tenant_from_stack(
    stack: StackFile, project: Project, catalog: Catalog, now: datetime | None = None
) -> Tenant:
    """Validate one stack file as a whole; every problem is one line of a ConfigError."""
    source = str(stack.path)
    spec = parse_tenant(stack.name, stack.config, catalog, source=source, now=now)
    config = stack.merged_config(project)
    problems = []
    bad_token = token_problem(TOKEN_KEY in config, TOKEN_KEY in stack.secret_keys)
    if bad_token:
        problems.append(bad_token)
    alert_email, docker_host = DEFAULT_ALERT_EMAIL, default_docker_host()
    try:
        alert_email = check_alert_email(config.get(ALERT_EMAIL_KEY, DEFAULT_ALERT_EMAIL))
    except ValueError as error:
        problems.append(str(error))
    try:
        docker_host = check_docker_host(config.get(DOCKER_HOST_KEY, docker_host))
    except ValueError as error:
        problems.append(str(error))
    if problems:
        raise ConfigError(source, problems)
    digest = config_digest(
        spec,
        config.get(DOCKER_HOST_KEY),
        config.get(ALERT_EMAIL_KEY),
        config.get(PLATFORM_STACK_KEY),
    )
    return Tenant(stack, spec, docker_host, alert_email, digest)


def check_tenant_id(value: str) -> str:
    """A tenant id given as an argument (`--tenant`), before it names any file."""
    if not TENANT_ID_PATTERN.fullmatch(value):
        raise BadInput(
            f"--tenant {value!r} is not a tenant id",
            "tenant ids look like cust-<slug>-<unix seconds>; `afrex fleet list` shows them",
        )
    return value


def load_tenants(
    project: Project | None = None,
    catalog: Catalog | None = None,
    only: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[Tenant]:
    """Every tenant of the project (or `only` these ids), validated; the first bad
    stack file stops the read with its problems."""
    project = project or find_project()
    catalog = catalog or load_catalog()
    names = [check_tenant_id(name) for name in only] if only else None
    stacks = list_stacks(project, names)
    return [tenant_from_stack(stack, project, catalog, now) for stack in stacks]


def load_tenant(tenant_id: str, project: Project | None = None, **options: Any) -> Tenant:
    """One tenant by id (an unknown id is bad input naming where stacks live)."""
    (tenant,) = load_tenants(project, only=[tenant_id], **options)
    return tenant
