"""The fleet reader: each tenant's desired state (its stack file) joined with its
deployed facts (the stack's outputs in the state backend).

Built once, used by every command that looks at running tenants (`fleet`,
`scale`, `sla`, `portal`, `backup`): stack files come through the one door
(`afrex.tenants`), checkpoints straight from a `file://` or `s3://` backend
(`afrex.state`, no CLI process per stack), read in parallel threads.
Live sources (Docker engines, CloudWatch) are separate adapters that take
these views.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput
from afrex.stackfiles import Project, find_project
from afrex.state import StackState, StateBackend, backend_url, open_backend
from afrex.tenants import Tenant, load_tenants

READ_THREADS = 16


@dataclass(frozen=True)
class DeployedAgent:
    """An agent as its stack's outputs name it."""

    name: str
    container: str
    volume: str
    gateway_address: str

    @classmethod
    def from_output(cls, data: Any) -> DeployedAgent | None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        return cls(
            name=data["name"],
            container=str(data.get("container") or ""),
            volume=str(data.get("volume") or ""),
            gateway_address=str(data.get("gatewayAddress") or ""),
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
    def docker_host(self) -> str:
        """The engine the deployed containers run on (as deployed, else as configured)."""
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
