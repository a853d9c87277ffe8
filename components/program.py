"""The Pulumi program: read the stack's config, validate it, build the tenant.

Bad config stops the run before any resource is registered, with one line per
problem naming the config key and the fix.
"""

from __future__ import annotations

import pulumi

from afrex.catalog import load_catalog
from afrex.errors import ConfigError
from afrex.spec import (
    PLATFORM_STACK_KEY,
    TENANT_KEY,
    TOKEN_KEY,
    parse_tenant,
    platform_stack_problem,
)
from afrex.tenants import (
    DEFAULT_ALERT_EMAIL,
    check_alert_email,
    config_digest,
    token_problem,
)
from components.hosted_tenant import HostedTenant, HostedTenantArgs, stack_outputs


def main() -> None:
    """Entry point used by `__main__.py` (and by `afrex plan` under mocks)."""
    config = pulumi.Config("afrex")
    stack = pulumi.get_stack()
    try:
        catalog = load_catalog()
        spec = parse_tenant(stack, {TENANT_KEY: config.get_object("tenant")}, catalog)
        present = pulumi.runtime.get_config(TOKEN_KEY) is not None
        bad_token = token_problem(present, pulumi.runtime.is_config_secret(TOKEN_KEY))
        platform_stack = pulumi.runtime.get_config(PLATFORM_STACK_KEY)
        problems = [bad_token, platform_stack_problem(spec.runtime, platform_stack)]
        if any(problems):
            raise ConfigError(f"stack {stack}", [p for p in problems if p])
        try:
            alert_email = check_alert_email(config.get("alertEmail") or DEFAULT_ALERT_EMAIL)
        except ValueError as error:
            raise ConfigError(f"stack {stack}", [str(error)]) from None
    except ConfigError as error:
        raise pulumi.RunError("\n".join(error.lines())) from None
    token = config.require_secret("gatewayToken")
    docker_host = pulumi.Config("docker").get("host")
    digest = config_digest(spec, docker_host, config.get("alertEmail"), platform_stack)
    on_ecs = spec.runtime == "ecs"
    args = HostedTenantArgs(spec, catalog, token, alert_email, platform_stack if on_ecs else None)
    tenant = HostedTenant(spec.tenant_id, args)
    outputs = stack_outputs(tenant, spec, catalog, token)
    outputs.update(configDigest=digest, dockerHost="" if on_ecs else docker_host or "")
    for key, value in outputs.items():
        pulumi.export(key, value)
