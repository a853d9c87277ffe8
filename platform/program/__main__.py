"""Pulumi entry point: `pulumi up -s <stack>` in platform/ builds the shared platform."""

from components.platform import main

main()
