"""AfrexAI Hosted Agents: the catalog, tenant specs and operator tooling."""

__version__ = "0.1.0"
