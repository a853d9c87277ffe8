"""HostedTenant: one customer's whole environment, as one component resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from afrex.catalog import Catalog
from afrex.pricing import plan_price
from afrex.spec import TenantSpec
from components.agent_runtime import AgentRuntime, AgentRuntimeArgs
from components.backup_bucket import BackupBucket, BackupBucketArgs
from components.ecs_runtime import EcsAgentRuntime, EcsAgentRuntimeArgs
from components.naming import COMPONENT_PREFIX
from components.sla_alarms import SlaAlarms, SlaAlarmsArgs


@dataclass(frozen=True)
class HostedTenantArgs:
    """What a tenant is built from: its validated spec, the catalog and its secrets."""

    spec: TenantSpec
    catalog: Catalog
    gateway_token: pulumi.Input[str]
    alert_email: str
    platform_stack: str | None = None  # `afrex:platformStack`, for runtime ecs


class HostedTenant(pulumi.ComponentResource):
    """Agents (Docker containers + volumes on a private network, or Fargate services with
    EFS state on the shared platform), backups and SLA alarms."""

    agents: pulumi.Output[list[dict[str, Any]]]
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    alarm_names: pulumi.Output[list[str]]
    topic_arn: pulumi.Output[str]
    network_name: pulumi.Output[str]
    ecs: pulumi.Output[dict[str, Any]] | None = None

    def __init__(
        self, name: str, args: HostedTenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:HostedTenant", name, None, opts)
        spec, catalog = args.spec, args.catalog
        child = pulumi.ResourceOptions(parent=self)
        if spec.runtime == "ecs":
            assert args.platform_stack, "checked by the program (platform_stack_problem)"
            backups = BackupBucket(f"{name}-backups", BackupBucketArgs(spec, catalog), child)
            on_ecs = EcsAgentRuntime(
                f"{name}-agents",
                EcsAgentRuntimeArgs(
                    spec, catalog, args.gateway_token, args.platform_stack, backups.bucket_arn
                ),
                child,
            )
            self.agents, self.network_name, self.ecs = (
                on_ecs.agents,
                on_ecs.network_name,
                on_ecs.ecs,
            )
        else:
            runtime = AgentRuntime(
                f"{name}-agents", AgentRuntimeArgs(spec, catalog, args.gateway_token), child
            )
            backups = BackupBucket(f"{name}-backups", BackupBucketArgs(spec, catalog), child)
            self.agents, self.network_name = runtime.agents, runtime.network_name
        alarms = SlaAlarms(f"{name}-sla", SlaAlarmsArgs(spec, catalog, args.alert_email), child)

        self.bucket_name = backups.bucket_name
        self.bucket_arn = backups.bucket_arn
        self.alarm_names = alarms.alarm_names
        self.topic_arn = alarms.topic_arn
        self.register_outputs(
            {
                "agents": self.agents,
                "networkName": self.network_name,
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "alarmNames": self.alarm_names,
                "snsTopicArn": self.topic_arn,
            }
        )


def stack_outputs(
    tenant: HostedTenant, spec: TenantSpec, catalog: Catalog, token: pulumi.Output[str]
) -> dict[str, Any]:
    """The stack outputs the CLI reads (the gateway token only as a secret).

    An ECS tenant adds `runtime` ("ecs"), `cluster` (the cluster's ARN) and `ecs` (what
    running a task of its own needs: cluster, subnets, security groups, roles, file
    system, log group); its `agents` items name their service, task definition, access
    point and log group. A Docker tenant's outputs are as they always were (no
    `runtime` output means docker)."""
    price = plan_price(catalog, spec.tier, len(spec.agents), spec.vertical, spec.support)
    runtime: dict[str, Any] = {}
    if tenant.ecs is not None:
        runtime = {
            "runtime": spec.runtime,
            "cluster": tenant.ecs.apply(lambda ecs: ecs["cluster"]),
            "ecs": tenant.ecs,
        }
    return {
        "tenantId": spec.tenant_id,
        "company": spec.company,
        "contact": spec.contact,
        "tier": spec.tier,
        "vertical": spec.vertical,
        "support": spec.support,
        "billingCycle": spec.billing,
        "slaTargetPct": str(catalog.tiers[spec.tier].sla_uptime_pct),
        "monthlyPrice": price.as_dict(),
        "agents": tenant.agents,
        "networkName": tenant.network_name,
        "bucketName": tenant.bucket_name,
        "bucketArn": tenant.bucket_arn,
        "alarmNames": tenant.alarm_names,
        "snsTopicArn": tenant.topic_arn,
        "provisionedAt": spec.provisioned_at.isoformat().replace("+00:00", "Z"),
        "catalogDigest": catalog.digest,
        "gatewayToken": pulumi.Output.secret(token),
        **runtime,
    }
