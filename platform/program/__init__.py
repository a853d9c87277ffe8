"""The platform project's program folder (see platform/Pulumi.yaml `main`)."""
