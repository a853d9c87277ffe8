"""The customer portal: per tenant a `dashboard.json` (schema in `SCHEMA.md`) and an
`index.html` rendered from it, and the platform-wide summary, all from measured
telemetry, the catalog and the month's invoice. Nothing is invented: a metric
without data is null with its reason."""
