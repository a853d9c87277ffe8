"""The shared platform for tenants on ECS (`afrex:tenant.runtime: ecs`): one stack
of the `afrex-platform` project (platform/), read by every such tenant stack
through a `pulumi.StackReference`.

It holds what tenants share: the network (components/platform_network.py), an
ECS cluster with Container Insights, one encrypted EFS file system (a mount
target per private subnet, reachable on NFS only from the `efs-clients`
security group, TLS and an access point required by its policy), AWS Backup of
that file system, and the account's data-protection policy that masks
credentials in every log group (the agents' logs among them). Each tenant's
own pieces (access points, tasks, roles, its log group) live in its stack.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from afrex.catalog import Catalog, load_catalog
from afrex.errors import ConfigError, validation_problems
from components.naming import COMPONENT_PREFIX
from components.platform_network import PlatformNetwork, PlatformNetworkArgs

NFS_PORT = 2049
ZONE_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$"
# Credentials CloudWatch Logs can recognise; masked in every log event (audit kept).
MASKED_DATA = (
    "AwsSecretKey",
    "OpenSshPrivateKey",
    "PgpPrivateKey",
    "PkcsPrivateKey",
    "PuttyPrivateKey",
)
# What a tenant stack reads from the platform stack (see `platform_outputs`).
OUTPUT_KEYS = (
    "region",
    "clusterName",
    "clusterArn",
    "vpcId",
    "vpcCidr",
    "privateSubnetIds",
    "fileSystemId",
    "fileSystemArn",
    "efsClientSecurityGroupId",
    "logGroupPrefix",
    "natPublicIps",
)


class PlatformConfig(BaseModel):
    """The platform stack's config, validated; fields are named by their config keys
    (`<project>:name`, `:cidr`, `:zones`, `:natGateways`, and `aws:region`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(
        default="afrex", pattern=r"^[a-z][a-z0-9-]{2,30}$", description="Prefix of every name."
    )
    region: str = Field(
        alias="aws:region", pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="AWS region."
    )
    cidr: str = Field(default="10.40.0.0/16", description="The VPC's address range.")
    zones: tuple[str, ...] = Field(min_length=2, max_length=3, description="Availability zones.")
    nat_gateways: int = Field(
        default=2, ge=1, le=3, alias="natGateways", description="NAT gateways (1 saves cost)."
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 range; use e.g. 10.40.0.0/16") from None
        if not network.is_private or not 16 <= network.prefixlen <= 22:
            raise ValueError(f"{value}: use a private range from /16 to /22")
        return value

    @field_validator("zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [zone for zone in value if not re.fullmatch(ZONE_PATTERN, zone)]
        if bad or len(set(value)) != len(value):
            raise ValueError(
                f"zones {list(value)}: list two or three different zones, e.g. us-east-1a"
            )
        return value

    def check(self) -> PlatformConfig:
        """Cross-field rules: zones in the region, no more NAT gateways than zones."""
        problems = [
            f"zones: {zone} is not in {self.region}"
            for zone in self.zones
            if not zone.startswith(self.region)
        ]
        if self.nat_gateways > len(self.zones):
            problems.append(f"natGateways: {self.nat_gateways} is more than the zones")
        if problems:
            raise ConfigError(f"platform stack {pulumi.get_stack()}", problems)
        return self


@dataclass(frozen=True)
class PlatformArgs:
    config: PlatformConfig
    catalog: Catalog


def file_system_policy(file_system_arn: str) -> str:
    """Only over TLS, only through an access point, never as root."""
    everyone = {"AWS": "*"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": everyone,
                    "Action": "*",
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyMountsWithoutAccessPoint",
                    "Effect": "Deny",
                    "Principal": everyone,
                    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    "Resource": file_system_arn,
                    "Condition": {"Null": {"elasticfilesystem:AccessPointArn": "true"}},
                },
                {
                    "Sid": "DenyRootAccess",
                    "Effect": "Deny",
                    "Principal": everyone,
                    "Action": "elasticfilesystem:ClientRootAccess",
                    "Resource": file_system_arn,
                },
            ],
        },
        sort_keys=True,
    )


def log_data_protection_policy(name: str) -> str:
    """Audit and mask credentials in log events (CloudWatch Logs data protection)."""
    identifiers = [f"arn:aws:dataprotection::aws:data-identifier/{d}" for d in MASKED_DATA]
    return json.dumps(
        {
            "Name": name,
            "Description": "Mask credentials an agent might log",
            "Version": "2021-06-01",
            "Statement": [
                {
                    "Sid": "audit",
                    "DataIdentifier": identifiers,
                    "Operation": {"Audit": {"FindingsDestination": {}}},
                },
                {
                    "Sid": "mask",
                    "DataIdentifier": identifiers,
                    "Operation": {"Deidentify": {"MaskConfig": {}}},
                },
            ],
        },
        sort_keys=True,
    )


class Platform(pulumi.ComponentResource):
    """Network, ECS cluster, shared EFS file system and the log policy."""

    outputs: dict[str, pulumi.Output[Any]]

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:Platform", name, None, opts)
        config, fargate = args.config, args.catalog.fargate
        child = pulumi.ResourceOptions(parent=self)
        tags = {"afrex:platform": config.name, "afrex:managed-by": "pulumi"}
        network = PlatformNetwork(
            f"{name}-network",
            PlatformNetworkArgs(
                config.name, config.region, config.cidr, config.zones, config.nat_gateways, tags
            ),
            child,
        )
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=f"{config.name}-agents",
            settings=[{"name": "containerInsights", "value": "enabled"}],
            tags=tags,
            opts=child,
        )
        clients, file_system = self._file_system(name, config, network, tags)
        aws.cloudwatch.LogAccountPolicy(
            f"{name}-log-masking",
            policy_name=f"{config.name}-mask-credentials",
            policy_type="DATA_PROTECTION_POLICY",
            policy_document=log_data_protection_policy(f"{config.name}-mask-credentials"),
            opts=child,
        )
        self.outputs = {
            "region": pulumi.Output.from_input(config.region),
            "clusterName": cluster.name,
            "clusterArn": cluster.arn,
            "vpcId": network.vpc_id,
            "vpcCidr": network.vpc_cidr,
            "privateSubnetIds": network.private_subnet_ids,
            "fileSystemId": file_system.id,
            "fileSystemArn": file_system.arn,
            "efsClientSecurityGroupId": clients.id,
            "logGroupPrefix": pulumi.Output.from_input(fargate.log_group_prefix),
            "natPublicIps": network.nat_public_ips,
        }
        self.register_outputs(self.outputs)

    def _file_system(
        self, name: str, config: PlatformConfig, network: PlatformNetwork, tags: dict[str, str]
    ) -> tuple[aws.ec2.SecurityGroup, aws.efs.FileSystem]:
        """The encrypted file system, its mount targets, security groups, policy, backups."""
        child = pulumi.ResourceOptions(parent=self)
        # Agents' memory: protected, and kept if the platform stack is destroyed by mistake.
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        file_system = aws.efs.FileSystem(
            f"{name}-state",
            creation_token=f"{config.name}-agent-state",
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            lifecycle_policies=[
                {"transition_to_ia": "AFTER_30_DAYS"},
                {"transition_to_primary_storage_class": "AFTER_1_ACCESS"},
            ],
            tags={**tags, "Name": f"{config.name}-agent-state"},
            opts=keep,
        )
        server = aws.ec2.SecurityGroup(
            f"{name}-efs",
            name=f"{config.name}-efs",
            description="EFS mount targets: NFS from efs-clients only",
            vpc_id=network.vpc_id,
            tags=tags,
            opts=child,
        )
        clients = aws.ec2.SecurityGroup(
            f"{name}-efs-clients",
            name=f"{config.name}-efs-clients",
            description="Agent tasks: NFS to the mount targets; no ingress",
            vpc_id=network.vpc_id,
            tags=tags,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-efs-nfs-in",
            security_group_id=server.id,
            referenced_security_group_id=clients.id,
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description="NFS from agent tasks",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-efs-nfs-out",
            security_group_id=clients.id,
            referenced_security_group_id=server.id,
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description="NFS to the mount targets",
            opts=child,
        )
        for zone, subnet in zip(config.zones, network.private_subnets, strict=True):
            aws.efs.MountTarget(
                f"{name}-mount-{zone}",
                file_system_id=file_system.id,
                subnet_id=subnet.id,
                security_groups=[server.id],
                opts=child,
            )
        aws.efs.FileSystemPolicy(
            f"{name}-state-policy",
            file_system_id=file_system.id,
            policy=file_system.arn.apply(file_system_policy),
            opts=child,
        )
        aws.efs.BackupPolicy(
            f"{name}-state-backups",
            file_system_id=file_system.id,
            backup_policy={"status": "ENABLED"},
            opts=child,
        )
        return clients, file_system


def read_config() -> PlatformConfig:
    """The stack's config as a PlatformConfig; a ConfigError names each bad key."""
    config = pulumi.Config()
    raw: dict[str, Any] = {
        "aws:region": pulumi.Config("aws").get("region"),
        "zones": config.get_object("zones"),
    }
    for key in ("name", "cidr", "natGateways"):
        value = config.get_object(key) if key == "natGateways" else config.get(key)
        if value is not None:
            raw[key] = value
    try:
        return PlatformConfig.model_validate(raw).check()
    except ValidationError as error:
        project = pulumi.get_project()
        problems = [
            p if p.startswith("aws:") else f"{project}:{p}" for p in validation_problems(error)
        ]
        raise ConfigError(f"platform stack {pulumi.get_stack()}", problems) from None


def main() -> None:
    """Entry point of platform/__main__.py (and of the offline plan's platform run)."""
    try:
        config = read_config()
        catalog = load_catalog()
    except ConfigError as error:
        raise pulumi.RunError("\n".join(error.lines())) from None
    platform = Platform(config.name, PlatformArgs(config, catalog))
    for key in OUTPUT_KEYS:
        pulumi.export(key, platform.outputs[key])
