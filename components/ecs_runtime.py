"""Agent runtime on AWS ECS Fargate, with each agent's state on the platform's EFS.

Per tenant: a StackReference to the platform stack (components/platform.py), a
log group with the catalog's retention, the gateway token in Secrets Manager, a
security group with no ingress at all, an execution role (its own secret, its
own log group), a task role (write to its own backup bucket, its own access
points) and a restore role for `afrex backup restore`'s one-off tasks (read its
own bucket's backups, its own access points; components/ecs_policies.py).
Per agent: an EFS access point rooted at `/tenants/<tenant>/<agent>` with its own
POSIX uid/gid, a Fargate task definition hardened like the Docker container
(components/ecs_task.py) and one service (desired 1, circuit breaker with
rollback, no public IP) in the platform's private subnets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.ecs_policies import (
    execution_policy,
    restore_policy,
    role_trust_policy,
    task_policy,
)
from components.ecs_task import (
    CONTAINER_NAME,
    HTTPS,
    SCRATCH_VOLUME,
    STATE_VOLUME,
    TOKEN_ENV,
    EcsAgentRuntimeArgs,
    container_definitions,
    iam_name,
    posix_id,
    state_root,
)
from components.naming import COMPONENT_PREFIX, aws_tags, physical_name

__all__ = ["EcsAgentRuntime", "EcsAgentRuntimeArgs"]


@dataclass(frozen=True)
class _TenantParts:
    """What every agent task of the tenant shares."""

    platform: pulumi.StackReference
    log_group: aws.cloudwatch.LogGroup
    secret: aws.secretsmanager.Secret
    secret_value: aws.secretsmanager.SecretVersion
    security_group: aws.ec2.SecurityGroup
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    restore_role: aws.iam.Role

    def platform_output(self, key: str) -> pulumi.Output[Any]:
        return self.platform.require_output(key)

    @property
    def security_groups(self) -> list[pulumi.Output[str]]:
        """The tenant's own group, and the platform's group that may reach EFS."""
        return [self.security_group.id, self.platform_output("efsClientSecurityGroupId")]


class EcsAgentRuntime(pulumi.ComponentResource):
    """The tenant's agents as Fargate services on the shared platform."""

    agents: pulumi.Output[list[dict[str, Any]]]
    network_name: pulumi.Output[str]
    ecs: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: EcsAgentRuntimeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:EcsAgentRuntime", name, None, opts)
        spec = args.spec
        platform = pulumi.StackReference(
            f"{name}-platform", args.platform_stack, opts=pulumi.ResourceOptions(parent=self)
        )
        access_points = {
            agent: self._access_point(name, agent, args, platform) for agent in spec.agents
        }
        parts = self._tenant_parts(name, args, platform, access_points)
        agents = [
            self._agent(name, agent, args, parts, access_points[agent]) for agent in spec.agents
        ]
        self.agents = pulumi.Output.all(*agents)
        self.network_name = parts.security_group.name
        self.ecs = pulumi.Output.all(
            cluster=parts.platform_output("clusterArn"),
            clusterName=parts.platform_output("clusterName"),
            region=parts.platform_output("region"),
            subnets=parts.platform_output("privateSubnetIds"),
            securityGroups=pulumi.Output.all(*parts.security_groups),
            fileSystemId=parts.platform_output("fileSystemId"),
            taskRoleArn=parts.task_role.arn,
            executionRoleArn=parts.execution_role.arn,
            restoreRoleArn=parts.restore_role.arn,
            logGroup=parts.log_group.name,
            platformStack=args.platform_stack,
            platformVersion=args.catalog.fargate.platform_version,
        )
        self.register_outputs({"agents": self.agents, "ecs": self.ecs})

    def _tenant_parts(
        self,
        name: str,
        args: EcsAgentRuntimeArgs,
        platform: pulumi.StackReference,
        access_points: dict[str, aws.efs.AccessPoint],
    ) -> _TenantParts:
        spec, fargate = args.spec, args.catalog.fargate
        child = pulumi.ResourceOptions(parent=self)
        tags = aws_tags(spec)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"{fargate.log_group_prefix}/{spec.tenant_id}",
            retention_in_days=fargate.log_retention_days,
            tags=tags,
            opts=child,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-token",
            name=f"afrex/{spec.tenant_id}/gateway-token",
            description=f"{TOKEN_ENV} of {spec.tenant_id}'s agents",
            recovery_window_in_days=7,
            tags=tags,
            opts=child,
        )
        secret_value = aws.secretsmanager.SecretVersion(
            f"{name}-token-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(args.gateway_token),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=physical_name(spec, "agents"),
            description=f"Agents of {spec.tenant_id}: no ingress; HTTPS out",
            vpc_id=platform.require_output("vpcId"),
            ingress=[],  # nothing, from other tenants or anyone, may connect to an agent
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": HTTPS,
                    "to_port": HTTPS,
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": "model providers, image registry, AWS APIs",
                }
            ],
            tags=tags,
            opts=child,
        )
        roles = {
            kind: aws.iam.Role(
                f"{name}-{kind}-role",
                name=iam_name(spec, suffix),
                assume_role_policy=role_trust_policy(),
                description=f"{kind} role of {spec.tenant_id}'s agent tasks",
                tags=tags,
                opts=child,
            )
            for kind, suffix in (("execution", "exec"), ("task", "task"), ("restore", "restore"))
        }
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=roles["execution"].id,
            policy=pulumi.Output.all(secret.arn, log_group.arn).apply(
                lambda arns: execution_policy(arns[0], arns[1])
            ),
            opts=child,
        )
        # What the task and restore roles reach: the bucket, the file system, the points.
        scope = pulumi.Output.all(
            args.bucket_arn,
            platform.require_output("fileSystemArn"),
            *[point.arn for point in access_points.values()],
        )
        aws.iam.RolePolicy(
            f"{name}-task-policy",
            role=roles["task"].id,
            policy=scope.apply(lambda arns: task_policy(arns[0], arns[1], arns[2:])),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-restore-policy",
            role=roles["restore"].id,
            policy=scope.apply(lambda arns: restore_policy(arns[0], arns[1], arns[2:])),
            opts=child,
        )
        return _TenantParts(
            platform,
            log_group,
            secret,
            secret_value,
            security_group,
            roles["execution"],
            roles["task"],
            roles["restore"],
        )

    def _access_point(
        self, name: str, agent: str, args: EcsAgentRuntimeArgs, platform: pulumi.StackReference
    ) -> aws.efs.AccessPoint:
        spec = args.spec
        owner = posix_id(args.catalog, spec.tenant_id, agent)
        return aws.efs.AccessPoint(
            f"{name}-{agent}-state",
            file_system_id=platform.require_output("fileSystemId"),
            posix_user={"uid": owner, "gid": owner},
            root_directory={
                "path": state_root(spec.tenant_id, agent),
                "creation_info": {
                    "owner_uid": owner,
                    "owner_gid": owner,
                    "permissions": args.catalog.fargate.state_permissions,
                },
            },
            tags={**aws_tags(spec), "afrex:agent": agent, "Name": physical_name(spec, agent)},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _agent(
        self,
        name: str,
        agent: str,
        args: EcsAgentRuntimeArgs,
        parts: _TenantParts,
        access_point: aws.efs.AccessPoint,
    ) -> pulumi.Output[dict[str, Any]]:
        spec, fargate = args.spec, args.catalog.fargate
        size = fargate.sizes[spec.tier]
        tags = {**aws_tags(spec), "afrex:agent": agent}
        definitions = pulumi.Output.all(
            parts.secret.arn, parts.log_group.name, parts.platform_output("region")
        ).apply(lambda v: container_definitions(args, agent, v[0], v[1], v[2]))
        task = aws.ecs.TaskDefinition(
            f"{name}-{agent}-task",
            family=physical_name(spec, agent),
            cpu=str(size.cpu_units),
            memory=str(size.memory_mb),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={
                "operating_system_family": "LINUX",
                "cpu_architecture": fargate.cpu_architecture,
            },
            execution_role_arn=parts.execution_role.arn,
            task_role_arn=parts.task_role.arn,
            container_definitions=definitions,
            volumes=[
                {
                    "name": STATE_VOLUME,
                    "efs_volume_configuration": {
                        "file_system_id": parts.platform_output("fileSystemId"),
                        "transit_encryption": "ENABLED",
                        "authorization_config": {
                            "access_point_id": access_point.id,
                            "iam": "ENABLED",
                        },
                    },
                },
                {"name": SCRATCH_VOLUME},  # task storage, gone with the task
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        network: aws.ecs.ServiceNetworkConfigurationArgsDict = {
            "subnets": parts.platform_output("privateSubnetIds"),
            "security_groups": parts.security_groups,
            "assign_public_ip": False,
        }
        service = aws.ecs.Service(
            f"{name}-{agent}",
            name=physical_name(spec, agent),
            cluster=parts.platform_output("clusterArn"),
            task_definition=task.arn,
            desired_count=1,
            launch_type="FARGATE",
            platform_version=fargate.platform_version,
            # One writer on the agent's state: the old task stops before the new one starts.
            deployment_minimum_healthy_percent=0,
            deployment_maximum_percent=100,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            network_configuration=network,
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[parts.secret_value]),
        )
        return pulumi.Output.all(
            service.name,
            service.id,
            task.arn,
            task.family,
            access_point.id,
            access_point.arn,
            parts.log_group.name,
        ).apply(
            lambda v: {
                "name": agent,
                "container": v[0],
                "volume": v[4],
                "gatewayAddress": "",
                "service": v[1],
                "serviceName": v[0],
                "taskDefinition": v[2],
                "taskFamily": v[3],
                "containerName": CONTAINER_NAME,
                "accessPoint": v[4],
                "accessPointArn": v[5],
                "stateRoot": state_root(spec.tenant_id, agent),
                "logGroup": v[6],
                "logStreamPrefix": agent,
            }
        )
