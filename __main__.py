"""Pulumi entry point: `pulumi up -s <tenant id>` builds that tenant's HostedTenant."""

from components.program import main

main()
