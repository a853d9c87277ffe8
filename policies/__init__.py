"""The AfrexAI guardrails: a CrossGuard policy pack for tier limits and platform rules.

The same pack runs under `pulumi preview --policy-pack policies`, in CI, and in
`afrex plan` (started as a subprocess and driven over the analyzer gRPC
interface). Every limit comes from the catalog (`afrex/catalog.yaml`).
"""
