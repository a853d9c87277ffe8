"""The platform program (components/platform.py) under Pulumi's mock runtime, for both
of its stacks (platform/stacks/): network, cluster, shared file system, log masking,
and what it exports for tenant stacks."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from typing import Any

import pytest

from afrex.offline.platformref import platform_folder, platform_project
from afrex.offline.runtime import PlannedResource, PlannedStack, run_program
from afrex.secretvalues import unwrap_secrets
from afrex.stackfiles import Project, read_stack
from components.platform import OUTPUT_KEYS, main
from tests.helpers import ROOT

STACKS = ("prod", "local")


@pytest.fixture(scope="module")
def platform() -> Project:
    folder = platform_folder(ROOT)
    assert folder == ROOT / "platform"
    return platform_project(folder)


def plan(platform: Project, stack: str, **config: Any) -> PlannedStack:
    file = read_stack(platform.stack_path(stack))
    return run_program(main, replace(file, config={**file.config, **config}), platform)


@pytest.fixture(scope="module")
def planned(platform: Project) -> dict[str, PlannedStack]:
    results = {stack: plan(platform, stack) for stack in STACKS}
    for stack, result in results.items():
        assert result.error is None, f"{stack}: {result.error}"
    return results


def of_type(stack: PlannedStack, token: str) -> list[PlannedResource]:
    return [r for r in stack.resources if r.type == f"aws:{token}"]


def plain(resource: PlannedResource) -> dict[str, Any]:
    return dict(unwrap_secrets(resource.inputs))


def test_platform_project_is_its_own_pulumi_project(platform: Project) -> None:
    assert platform.name == "afrex-platform"
    assert platform.stack_dir == ROOT / "platform" / "stacks"
    assert (ROOT / "platform" / "program" / "__main__.py").is_file()
    assert not (ROOT / "platform" / "__init__.py").exists()  # would shadow stdlib `platform`


@pytest.mark.parametrize("stack", STACKS)
def test_private_and_public_subnets_in_two_zones(
    planned: dict[str, PlannedStack], stack: str
) -> None:
    result = planned[stack]
    (vpc,) = of_type(result, "ec2/vpc:Vpc")
    network = ipaddress.ip_network(plain(vpc)["cidrBlock"])
    assert plain(vpc)["enableDnsHostnames"] is True and plain(vpc)["enableDnsSupport"] is True
    subnets = [plain(s) for s in of_type(result, "ec2/subnet:Subnet")]
    zones = {s["availabilityZone"] for s in subnets}
    assert zones == {"us-east-1a", "us-east-1b"} and len(subnets) == 4
    ranges = [ipaddress.ip_network(s["cidrBlock"]) for s in subnets]
    assert all(r.subnet_of(network) for r in ranges)  # type: ignore[arg-type]
    assert not any(a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1 :])
    assert not any(s["mapPublicIpOnLaunch"] for s in subnets)
    assert len(result.outputs["privateSubnetIds"]) == 2


@pytest.mark.parametrize(("stack", "nats"), [("prod", 2), ("local", 1)])
def test_private_subnets_route_out_through_nat_and_s3_stays_inside(
    planned: dict[str, PlannedStack], stack: str, nats: int
) -> None:
    result = planned[stack]
    assert len(of_type(result, "ec2/natGateway:NatGateway")) == nats
    tables = [plain(t) for t in of_type(result, "ec2/routeTable:RouteTable")]
    private = [t for t in tables if "private" in t["tags"]["Name"]]
    assert len(private) == 2
    for table in private:
        (route,) = table["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0" and route["natGatewayId"].startswith("nat-")
    (endpoint,) = [plain(e) for e in of_type(result, "ec2/vpcEndpoint:VpcEndpoint")]
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint["vpcEndpointType"] == "Gateway" and len(endpoint["routeTableIds"]) == 2
    assert len(result.outputs["natPublicIps"]) == nats


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_has_container_insights(planned: dict[str, PlannedStack], stack: str) -> None:
    (cluster,) = of_type(planned[stack], "ecs/cluster:Cluster")
    assert plain(cluster)["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert planned[stack].outputs["clusterArn"] == cluster.outputs["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_one_encrypted_protected_file_system_mounted_in_each_private_subnet(
    planned: dict[str, PlannedStack], stack: str
) -> None:
    result = planned[stack]
    (file_system,) = of_type(result, "efs/fileSystem:FileSystem")
    assert plain(file_system)["encrypted"] is True
    assert file_system.protect and file_system.retain_on_delete
    mounts = [plain(m) for m in of_type(result, "efs/mountTarget:MountTarget")]
    assert sorted(m["subnetId"] for m in mounts) == sorted(result.outputs["privateSubnetIds"])
    (server,) = [
        g for g in of_type(result, "ec2/securityGroup:SecurityGroup") if g.name.endswith("-efs")
    ]
    (rule,) = [
        plain(r) for r in of_type(result, "vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ]
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (2049, 2049, "tcp")
    assert rule["referencedSecurityGroupId"] == result.outputs["efsClientSecurityGroupId"]
    clients = result.outputs["efsClientSecurityGroupId"]
    for mount in mounts:
        (group,) = mount["securityGroups"]
        assert group.startswith("sg-") and group != clients
    assert "NFS from efs-clients only" in plain(server)["description"]
    (backups,) = of_type(result, "efs/backupPolicy:BackupPolicy")
    assert plain(backups)["backupPolicy"] == {"status": "ENABLED"}


@pytest.mark.parametrize("stack", STACKS)
def test_file_system_policy_wants_tls_an_access_point_and_no_root(
    planned: dict[str, PlannedStack], stack: str
) -> None:
    (policy,) = of_type(planned[stack], "efs/fileSystemPolicy:FileSystemPolicy")
    statements = {s["Sid"]: s for s in json.loads(plain(policy)["policy"])["Statement"]}
    assert all(s["Effect"] == "Deny" for s in statements.values())
    transport = statements["DenyInsecureTransport"]["Condition"]
    assert transport == {"Bool": {"aws:SecureTransport": "false"}}
    no_point = statements["DenyMountsWithoutAccessPoint"]["Condition"]
    assert no_point == {"Null": {"elasticfilesystem:AccessPointArn": "true"}}
    assert statements["DenyRootAccess"]["Action"] == "elasticfilesystem:ClientRootAccess"


def test_credentials_are_masked_in_every_log_group(planned: dict[str, PlannedStack]) -> None:
    (policy,) = of_type(planned["prod"], "cloudwatch/logAccountPolicy:LogAccountPolicy")
    inputs = plain(policy)
    assert inputs["policyType"] == "DATA_PROTECTION_POLICY"
    operations = [s["Operation"] for s in json.loads(inputs["policyDocument"])["Statement"]]
    assert {"Deidentify": {"MaskConfig": {}}} in operations


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_are_what_tenant_stacks_read(planned: dict[str, PlannedStack], stack: str) -> None:
    outputs = planned[stack].outputs
    assert tuple(outputs) == OUTPUT_KEYS
    assert outputs["region"] == "us-east-1" and outputs["logGroupPrefix"] == "/afrex/tenants"
    assert outputs["fileSystemId"].startswith("fs-")
    assert outputs["fileSystemArn"].endswith(f"file-system/{outputs['fileSystemId']}")
    assert outputs["clusterArn"].endswith(f"cluster/{outputs['clusterName']}")
    assert planned[stack].secret_outputs == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"afrex-platform:zones": ["us-east-1a"]}, "afrex-platform:zones: "),
        ({"afrex-platform:zones": ["us-east-1a", "eu-west-1b"]}, "zones: eu-west-1b is not in"),
        ({"afrex-platform:natGateways": 3}, "natGateways: 3 is more than the zones"),
        ({"afrex-platform:cidr": "8.8.0.0/16"}, "afrex-platform:cidr: 8.8.0.0/16: use a private"),
        ({"aws:region": "mars"}, "aws:region: "),
    ],
)
def test_bad_platform_config_is_refused_with_the_key(
    platform: Project, config: dict[str, Any], problem: str
) -> None:
    result = plan(platform, "prod", **config)
    assert result.error is not None and problem in result.error
    assert result.resources == []
