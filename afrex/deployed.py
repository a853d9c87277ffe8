"""The fleet reader: each tenant's desired state (its stack file) joined with its
deployed facts (the stack's outputs in the state backend).

Built once, used by every command that looks at running tenants (`fleet`,
`scale`, `sla`, `portal`, `backup`): stack files come through the one door
(`afrex.tenants`), checkpoints straight from a `file://` or `s3://` backend
(`afrex.state`, no CLI process per stack), read in parallel threads.
Live sources (Docker engines, ECS, CloudWatch) are separate adapters that take
these views.

A tenant runs on one of two runtimes (`afrex:tenant.runtime`): `docker` (containers
on its Docker host) or `ecs` (Fargate services on the shared platform stack). The
view says which (`runtime`, from the deployed outputs, else from the stack file),
and for an ECS tenant what its outputs name: the cluster, subnets, security groups,
roles, file system and log group (`ecs`), and per agent its service, task
definition and EFS access point (`DeployedAgent.ecs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput
from afrex.spec import RUNTIMES
from afrex.stackfiles import Project, find_project
from afrex.state import StackState, StateBackend, backend_url, open_backend
from afrex.tenants import Tenant, load_tenants

READ_THREADS = 16


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _texts(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


@dataclass(frozen=True)
class EcsAgent:
    """Where an ECS agent runs: its service, task definition and state's access point."""

    service: str  # ARN
    service_name: str
    task_definition: str  # ARN (revision) the service was deployed with
    task_family: str
    container_name: str  # the gateway's container in the task
    access_point: str  # EFS access point id
    access_point_arn: str
    state_root: str  # the access point's root on the file system
    log_group: str
    log_stream_prefix: str

    @classmethod
    def from_output(cls, data: dict[str, Any]) -> EcsAgent | None:
        """The ECS half of an `agents[]` output item; None when it has no service."""
        if not _text(data, "serviceName"):
            return None
        return cls(
            service=_text(data, "service"),
            service_name=_text(data, "serviceName"),
            task_definition=_text(data, "taskDefinition"),
            task_family=_text(data, "taskFamily"),
            container_name=_text(data, "containerName") or "gateway",
            access_point=_text(data, "accessPoint"),
            access_point_arn=_text(data, "accessPointArn"),
            state_root=_text(data, "stateRoot"),
            log_group=_text(data, "logGroup"),
            log_stream_prefix=_text(data, "logStreamPrefix"),
        )


@dataclass(frozen=True)
class EcsPlacement:
    """What an ECS tenant's tasks share (its `ecs` output): where a task of its own runs."""

    cluster: str  # ARN
    cluster_name: str
    region: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]  # the tenant's group, and the EFS clients' group
    file_system_id: str
    task_role_arn: str  # what the agents (and archive tasks) run as
    execution_role_arn: str
    restore_role_arn: str  # restore tasks ("" when deployed before restore roles existed)
    log_group: str
    platform_stack: str
    platform_version: str

    @classmethod
    def from_output(cls, data: Any) -> EcsPlacement | None:
        if not isinstance(data, dict) or not _text(data, "cluster"):
            return None
        cluster = _text(data, "cluster")
        return cls(
            cluster=cluster,
            cluster_name=_text(data, "clusterName") or cluster.rpartition("/")[2],
            region=_text(data, "region"),
            subnets=_texts(data, "subnets"),
            security_groups=_texts(data, "securityGroups"),
            file_system_id=_text(data, "fileSystemId"),
            task_role_arn=_text(data, "taskRoleArn"),
            execution_role_arn=_text(data, "executionRoleArn"),
            restore_role_arn=_text(data, "restoreRoleArn"),
            log_group=_text(data, "logGroup"),
            platform_stack=_text(data, "platformStack"),
            platform_version=_text(data, "platformVersion"),
        )


@dataclass(frozen=True)
class DeployedAgent:
    """An agent as its stack's outputs name it (`ecs` set for an agent on ECS, whose
    `container` is its service's name and `volume` its access point)."""

    name: str
    container: str
    volume: str
    gateway_address: str
    ecs: EcsAgent | None = None

    @classmethod
    def from_output(cls, data: Any) -> DeployedAgent | None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        return cls(
            name=data["name"],
            container=str(data.get("container") or ""),
            volume=str(data.get("volume") or ""),
            gateway_address=str(data.get("gatewayAddress") or ""),
            ecs=EcsAgent.from_output(data),
        )


@dataclass(frozen=True)
class TenantView:
    """One tenant: desired (stack file) and deployed (stack outputs, None if never)."""

    tenant: Tenant
    state: StackState | None

    @property
    def id(self) -> str:
        return self.tenant.id

    @property
    def deployed(self) -> bool:
        return self.state is not None and bool(self.state.outputs)

    def output(self, key: str) -> Any:
        return self.state.outputs.get(key) if self.state is not None else None

    @property
    def agents(self) -> list[DeployedAgent]:
        """Deployed agents (from outputs); empty when the stack was never deployed."""
        found = [DeployedAgent.from_output(a) for a in self.output("agents") or []]
        return [agent for agent in found if agent is not None]

    def agent(self, name: str) -> DeployedAgent:
        """A deployed agent by name; bad input naming the tenant's agents otherwise."""
        for agent in self.agents:
            if agent.name == name:
                return agent
        known = ", ".join(a.name for a in self.agents) or "none deployed"
        raise BadInput(f"tenant {self.id} has no deployed agent {name!r}", f"its agents: {known}")

    @property
    def bucket(self) -> str | None:
        value = self.output("bucketName")
        return value if isinstance(value, str) and value else None

    @property
    def topic_arn(self) -> str | None:
        value = self.output("snsTopicArn")
        return value if isinstance(value, str) and value else None

    @property
    def alarm_names(self) -> list[str]:
        return [str(name) for name in self.output("alarmNames") or []]

    @property
    def runtime(self) -> str:
        """`docker` or `ecs`: as deployed (the `runtime` output; none means docker), or,
        never deployed, as the stack file says."""
        if self.deployed:
            value = self.output("runtime")
            return value if value in RUNTIMES else "docker"
        return self.tenant.spec.runtime

    @property
    def on_ecs(self) -> bool:
        return self.runtime == "ecs"

    @property
    def ecs(self) -> EcsPlacement | None:
        """An ECS tenant's cluster, network, roles and file system (None on Docker, or
        when its outputs do not name a cluster)."""
        return EcsPlacement.from_output(self.output("ecs")) if self.on_ecs else None

    @property
    def docker_host(self) -> str:
        """The engine the deployed containers run on (as deployed, else as configured);
        empty for an ECS tenant, which has no engine."""
        if self.on_ecs:
            return ""
        deployed = self.output("dockerHost")
        return deployed if isinstance(deployed, str) and deployed else self.tenant.docker_host

    @property
    def drifted(self) -> bool:
        """Deployed, and the stack file changed since (by the exported config digest)."""
        deployed = self.output("configDigest")
        return self.deployed and deployed != self.tenant.config_digest

    @property
    def updated(self) -> datetime | None:
        """When the stack was last deployed (from the checkpoint's manifest)."""
        if self.state is None or not self.state.updated:
            return None
        try:
            return datetime.fromisoformat(self.state.updated.replace("Z", "+00:00"))
        except ValueError:
            return None


def read_states(
    backend: StateBackend, stacks: Sequence[str], threads: int = READ_THREADS
) -> dict[str, StackState | None]:
    """Every stack's state, read in parallel (a missing stack is None)."""
    if len(stacks) <= 1:
        return {name: backend.read(name) for name in stacks}
    with ThreadPoolExecutor(max_workers=min(threads, len(stacks))) as pool:
        return dict(zip(stacks, pool.map(backend.read, stacks), strict=True))


def read_fleet(
    project: Project | None = None,
    catalog: Catalog | None = None,
    only: Sequence[str] | None = None,
    backend: StateBackend | None = None,
) -> list[TenantView]:
    """Every tenant (or `only` these) with its deployed state, in stack-name order."""
    project = project or find_project()
    catalog = catalog or load_catalog()
    tenants = load_tenants(project, catalog, only)
    if backend is None:
        backend = open_backend(backend_url(project.root), project.name, project.root)
    states = read_states(backend, [t.id for t in tenants])
    return [TenantView(tenant, states[tenant.id]) for tenant in tenants]


def read_tenant(tenant_id: str, **options: Any) -> TenantView:
    """One tenant's view (unknown ids are bad input)."""
    (view,) = read_fleet(only=[tenant_id], **options)
    return view
