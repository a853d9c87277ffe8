"""The platform's network: a VPC with a public and a private subnet in each zone.

Agent tasks run in the private subnets and never get a public address. They
reach their model providers (and the image registry) through NAT gateways in
the public subnets; backups to S3 stay inside AWS through a gateway endpoint
(free, and no NAT data charge on the largest transfers).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import COMPONENT_PREFIX

ANYWHERE = "0.0.0.0/0"
# Each subnet is this many bits smaller than the VPC: a /16 gives /20s (4,091 addresses
# each, one Fargate task per address).
SUBNET_BITS = 4


@dataclass(frozen=True)
class PlatformNetworkArgs:
    """Address range, zones and NAT gateways of the platform's VPC."""

    name: str
    region: str
    cidr: str
    zones: tuple[str, ...]
    nat_gateways: int
    tags: dict[str, str]


def subnet_ranges(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) subnet ranges: privates from the start of the VPC, publics
    from its second half, one of each per zone."""
    network = ipaddress.ip_network(cidr)
    subnets = list(network.subnets(prefixlen_diff=SUBNET_BITS))
    half = len(subnets) // 2
    if zones > half:
        raise ValueError(f"{cidr} is too small for {zones} zones; use a /16 to /22")
    return [str(s) for s in subnets[:zones]], [str(s) for s in subnets[half : half + zones]]


class PlatformNetwork(pulumi.ComponentResource):
    """VPC, subnets, internet and NAT gateways, routes and the S3 gateway endpoint."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnets: list[aws.ec2.Subnet]
    private_subnet_ids: pulumi.Output[list[str]]
    nat_public_ips: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: PlatformNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:PlatformNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,  # EFS mount targets and endpoints are found by DNS
            enable_dns_hostnames=True,
            tags={**tags, "Name": args.name},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": ANYWHERE, "gateway_id": gateway.id}],
            tags={**tags, "Name": f"{args.name}-public"},
            opts=child,
        )
        private_ranges, public_ranges = subnet_ranges(args.cidr, len(args.zones))
        nats: list[aws.ec2.NatGateway] = []
        self.private_subnets = []
        private_tables: list[pulumi.Output[str]] = []
        for index, zone in enumerate(args.zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=public_ranges[index],
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{args.name}-public-{zone}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            if index < args.nat_gateways:
                address = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=address.id,
                        subnet_id=public.id,
                        tags={**tags, "Name": f"{args.name}-nat-{zone}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                    )
                )
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=private_ranges[index],
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{args.name}-private-{zone}"},
                opts=child,
            )
            nat = nats[index % len(nats)]
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": ANYWHERE, "nat_gateway_id": nat.id}],
                tags={**tags, "Name": f"{args.name}-private-{zone}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}",
                subnet_id=private.id,
                route_table_id=table.id,
                opts=child,
            )
            self.private_subnets.append(private)
            private_tables.append(table.id)
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=private_tables,
            tags={**tags, "Name": f"{args.name}-s3"},
            opts=child,
        )
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.nat_public_ips = pulumi.Output.all(*[nat.public_ip for nat in nats])
        self.register_outputs({"vpcId": self.vpc_id, "privateSubnetIds": self.private_subnet_ids})
