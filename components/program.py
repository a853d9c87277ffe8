"""The Pulumi program: read the stack's config, validate it, build the tenant.

Bad config stops the run before any resource is registered, with one line per
problem naming the config key and the fix.
"""

from __future__ import annotations

import pulumi

from afrex.catalog import load_catalog
from afrex.errors import ConfigError
from afrex.spec import TENANT_KEY, TOKEN_KEY, parse_tenant
from components.hosted_tenant import HostedTenant, HostedTenantArgs, stack_outputs

DEFAULT_ALERT_EMAIL = "sla-alerts@afrexai.com"


def main() -> None:
    """Entry point used by `__main__.py` (and by `afrex plan` under mocks)."""
    config = pulumi.Config("afrex")
    try:
        catalog = load_catalog()
        spec = parse_tenant(pulumi.get_stack(), {TENANT_KEY: config.get_object("tenant")}, catalog)
        if not pulumi.runtime.is_config_secret(TOKEN_KEY):
            raise ConfigError(
                f"stack {pulumi.get_stack()}",
                [
                    f"{TOKEN_KEY}: missing or stored in plain text; set it with "
                    f"`pulumi config set --secret {TOKEN_KEY} <token>`"
                ],
            )
    except ConfigError as error:
        raise pulumi.RunError("\n".join(error.lines())) from None
    token = config.require_secret("gatewayToken")
    alert_email = config.get("alertEmail") or DEFAULT_ALERT_EMAIL
    tenant = HostedTenant(spec.tenant_id, HostedTenantArgs(spec, catalog, token, alert_email))
    for key, value in stack_outputs(tenant, spec, catalog, token).items():
        pulumi.export(key, value)
