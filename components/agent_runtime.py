"""Agent runtime: the tenant's Docker network, the pinned image, and per agent a
state volume and a hardened OpenClaw gateway container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from afrex.catalog import Catalog
from afrex.spec import TenantSpec
from components.naming import COMPONENT_PREFIX, labels, physical_name

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class AgentRuntimeArgs:
    spec: TenantSpec
    catalog: Catalog
    gateway_token: pulumi.Input[str]


def healthcheck_command(port: int, path: str) -> list[str]:
    """A probe that needs only the gateway's own Node runtime (no curl in the image)."""
    script = (
        f"fetch('http://{LOOPBACK}:{port}{path}')"
        ".then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
    )
    return ["CMD", "node", "-e", script]


def _gateway_address(ports: Any) -> str:
    """`127.0.0.1:<host port>` from the container's port bindings (dicts or typed)."""
    first = (ports or [None])[0]
    if first is None:
        return ""
    external = first.get("external") if isinstance(first, dict) else first.external
    return f"{LOOPBACK}:{external}"


class AgentRuntime(pulumi.ComponentResource):
    """One isolated network per tenant and one container + volume per agent."""

    agents: pulumi.Output[list[dict[str, Any]]]
    network_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AgentRuntimeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:AgentRuntime", name, None, opts)
        spec, catalog = args.spec, args.catalog
        child = pulumi.ResourceOptions(parent=self)
        tags = labels(spec)

        network = docker.Network(
            f"{name}-net",
            name=physical_name(spec, "net"),
            driver="bridge",
            internal=False,  # agents must reach their model providers
            options={
                # Docker isolates bridge networks from each other by default; Podman
                # (netavark) only when asked to. Published ports default to loopback.
                "isolate": "true",
                "com.docker.network.bridge.host_binding_ipv4": LOOPBACK,
            },
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in tags.items()],
            opts=child,
        )
        image = docker.RemoteImage(
            f"{name}-image", name=catalog.agent_image.reference, keep_locally=True, opts=child
        )
        agents = [self._agent(name, agent, args, network, image, tags) for agent in spec.agents]
        self.network_name = network.name
        self.agents = pulumi.Output.all(*agents)
        self.register_outputs({"networkName": self.network_name, "agents": self.agents})

    def _agent(
        self,
        name: str,
        agent: str,
        args: AgentRuntimeArgs,
        network: docker.Network,
        image: docker.RemoteImage,
        tags: dict[str, str],
    ) -> pulumi.Output[dict[str, Any]]:
        spec, catalog = args.spec, args.catalog
        size = catalog.tiers[spec.tier].container
        gateway = catalog.gateway
        agent_tags = {**tags, "afrex.agent": agent}
        heap_mb = size.memory_mb * gateway.heap_share_pct // 100

        volume = docker.Volume(
            f"{name}-{agent}-state",
            name=physical_name(spec, agent, "state"),
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in agent_tags.items()],
            # Agent memory survives a mistaken destroy; `afrex scale` archives it first.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        envs = pulumi.Output.secret(args.gateway_token).apply(
            lambda token: [
                f"OPENCLAW_GATEWAY_TOKEN={token}",
                f"NODE_OPTIONS=--max-old-space-size={heap_mb}",
            ]
        )
        container = docker.Container(
            f"{name}-{agent}",
            name=physical_name(spec, agent),
            image=image.image_id,
            hostname=agent,
            restart="unless-stopped",
            init=True,
            privileged=False,
            memory=size.memory_mb,
            memory_swap=size.memory_mb,
            cpus=str(size.cpus),
            # pulumi-docker 5 has no pids_limit; nproc caps the processes of the gateway user.
            # Both limits are explicit: Podman's Docker API drops its default ulimits once a
            # container names any, and an inherited nofile above the host's cap fails the start.
            ulimits=[
                docker.ContainerUlimitArgs(
                    name="nproc", soft=size.pids_limit, hard=size.pids_limit
                ),
                docker.ContainerUlimitArgs(
                    name="nofile", soft=size.nofile_limit, hard=size.nofile_limit
                ),
            ],
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
            security_opts=["no-new-privileges:true"],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=healthcheck_command(gateway.port, gateway.health_path),
                interval="30s",
                timeout="5s",
                retries=3,
                start_period="60s",
            ),
            log_driver="json-file",
            log_opts={"max-size": gateway.log_max_size, "max-file": str(gateway.log_max_files)},
            envs=envs,
            volumes=[
                docker.ContainerVolumeArgs(
                    volume_name=volume.name, container_path=gateway.state_path
                )
            ],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[agent])
            ],
            ports=[docker.ContainerPortArgs(internal=gateway.port, ip=LOOPBACK)],
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in agent_tags.items()],
            destroy_grace_seconds=30,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["envs"]),
        )
        return pulumi.Output.all(container.name, volume.name, container.ports).apply(
            lambda values: {
                "name": agent,
                "container": values[0],
                "volume": values[1],
                "gatewayAddress": _gateway_address(values[2]),
            }
        )
