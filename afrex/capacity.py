"""Capacity: what the fleet commits on each Docker host, and what its ECS tenants
cost on Fargate.

For each Docker host in use (the `docker:host` of the Docker tenants' stack
files), the memory and CPUs its tenants' containers may use (the tier's
container size x agents) against the host's size from the inventory file
(`hosts.yaml` at the project root). A host past the catalog's
`capacity.host_limit_pct` is flagged with the tenants to move off it, largest
first, until it is back under. For ECS tenants, the Fargate vCPU and GB they
commit and their monthly cost at the catalog's list prices.

No Pulumi, no cloud call: stack files, the catalog and the inventory only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from afrex.catalog import Catalog, Tier, load_catalog
from afrex.errors import BadInput, ConfigError, validation_problems
from afrex.stackfiles import find_project
from afrex.tenants import Tenant, check_docker_host, load_tenants
from afrex.yamlsafe import load_yaml_mapping

INVENTORY_FILE = "hosts.yaml"
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MB_PER_GB = 1024


class HostSize(BaseModel):
    """One Docker host: what its tenants' containers may use in all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(ge=512, le=64 * 1024 * 1024, description="Memory for containers.")
    cpus: Decimal = Field(gt=0, le=4096, allow_inf_nan=False, description="CPUs for containers.")
    note: str = Field(default="", max_length=200, description="What the host is, for people.")


class Inventory(BaseModel):
    """The Docker hosts' sizes, by `docker:host` value as written in stack files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: dict[str, HostSize] = Field(default_factory=dict)

    @field_validator("hosts")
    @classmethod
    def _engine_urls(cls, value: dict[str, HostSize]) -> dict[str, HostSize]:
        for host in value:
            check_docker_host(host)
        return {_host_key(host): size for host, size in value.items()}

    def size(self, host: str) -> HostSize | None:
        return self.hosts.get(_host_key(host))


def _host_key(host: str) -> str:
    return host.rstrip("/")


def load_inventory(path: Path) -> Inventory | None:
    """The inventory file, or None when there is none; a bad one is a ConfigError."""
    if not path.exists():
        return None
    data = load_yaml_mapping(path)
    try:
        return Inventory.model_validate(data)
    except ValidationError as error:
        raise ConfigError(str(path), validation_problems(error)) from None


def _fits(memory_mb: Decimal, cpus: Decimal, size: HostSize, limit_pct: Decimal) -> bool:
    """Whether a commitment stays within `limit_pct` of the host on memory and CPUs."""
    return memory_mb * 100 <= limit_pct * size.memory_mb and cpus * 100 <= limit_pct * size.cpus


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(TENTH, ROUND_HALF_UP)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class TenantLoad:
    """What one Docker tenant's containers may use, and what it would cost on Fargate."""

    tenant: str
    tier: str
    agents: int
    memory_mb: int
    cpus: Decimal
    fargate_monthly: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "tier": self.tier,
            "agents": self.agents,
            "memory_mb": self.memory_mb,
            "cpus": self.cpus,
            "fargate_monthly": self.fargate_monthly,
        }


@dataclass(frozen=True)
class HostReport:
    """One Docker host: committed against its size; what to move when it is too full."""

    host: str
    size: HostSize | None
    tenants: list[TenantLoad]
    limit_pct: Decimal
    move: list[str] = field(default_factory=list)

    @property
    def memory_mb(self) -> int:
        return sum(t.memory_mb for t in self.tenants)

    @property
    def cpus(self) -> Decimal:
        return sum((t.cpus for t in self.tenants), Decimal(0))

    @property
    def memory_pct(self) -> Decimal | None:
        return _pct(Decimal(self.memory_mb), Decimal(self.size.memory_mb)) if self.size else None

    @property
    def cpu_pct(self) -> Decimal | None:
        return _pct(self.cpus, self.size.cpus) if self.size else None

    @property
    def over(self) -> bool:
        """Past the limit on memory or CPUs (unknown size: not judged)."""
        return self.size is not None and not _fits(
            Decimal(self.memory_mb), self.cpus, self.size, self.limit_pct
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "size": None if self.size is None else self.size.model_dump(mode="json"),
            "committed": {"memory_mb": self.memory_mb, "cpus": self.cpus},
            "memory_pct": self.memory_pct,
            "cpu_pct": self.cpu_pct,
            "over_limit": self.over,
            "move": self.move,
            "tenants": [t.as_dict() for t in self.tenants],
        }


@dataclass(frozen=True)
class EcsTenant:
    """One ECS tenant's Fargate commitment and its monthly list price."""

    tenant: str
    tier: str
    agents: int
    vcpu: Decimal
    memory_gb: Decimal
    monthly: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "tier": self.tier,
            "agents": self.agents,
            "vcpu": self.vcpu,
            "memory_gb": self.memory_gb,
            "monthly": self.monthly,
        }


@dataclass(frozen=True)
class TierCost:
    """What one agent (and a tier's included agents) cost on Fargate, against the price."""

    tier: str
    cpu_units: int
    memory_mb: int
    per_agent: Decimal
    included_agents: int
    per_tenant: Decimal
    monthly_price: Decimal

    @property
    def share_pct(self) -> Decimal:
        """Fargate cost of the included agents as a share of the tier's monthly price."""
        return _pct(self.per_tenant, self.monthly_price) if self.monthly_price else Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "cpu_units": self.cpu_units,
            "memory_mb": self.memory_mb,
            "per_agent_monthly": self.per_agent,
            "included_agents": self.included_agents,
            "per_tenant_monthly": self.per_tenant,
            "monthly_price": self.monthly_price,
            "share_of_price_pct": self.share_pct,
        }


@dataclass(frozen=True)
class CapacityReport:
    """Docker hosts, ECS tenants, and Fargate cost per tier, with where prices came from."""

    hosts: list[HostReport]
    ecs: list[EcsTenant]
    tiers: list[TierCost]
    limit_pct: Decimal
    prices: dict[str, Any]
    inventory: str
    inventory_found: bool

    @property
    def unknown_hosts(self) -> list[str]:
        return [h.host for h in self.hosts if h.size is None]

    @property
    def over(self) -> list[HostReport]:
        return [h for h in self.hosts if h.over]

    def ecs_totals(self) -> dict[str, Any]:
        return {
            "tenants": len(self.ecs),
            "agents": sum(t.agents for t in self.ecs),
            "vcpu": sum((t.vcpu for t in self.ecs), Decimal(0)),
            "memory_gb": sum((t.memory_gb for t in self.ecs), Decimal(0)),
            "monthly": sum((t.monthly for t in self.ecs), Decimal(0)),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "limit_pct": self.limit_pct,
            "inventory": {"path": self.inventory, "found": self.inventory_found},
            "hosts": [h.as_dict() for h in self.hosts],
            "hosts_over_limit": [h.host for h in self.over],
            "hosts_without_size": self.unknown_hosts,
            "ecs": {"tenants": [t.as_dict() for t in self.ecs], "totals": self.ecs_totals()},
            "fargate_per_tier": [t.as_dict() for t in self.tiers],
            "prices": self.prices,
        }


def fargate_monthly(catalog: Catalog, tier: str, agents: int) -> Decimal:
    """List price of `agents` Fargate tasks of the tier's size for a month, to the cent."""
    fargate = catalog.fargate
    return _money(fargate.prices.monthly(fargate.sizes[tier]) * agents)


def tenant_load(catalog: Catalog, tenant: Tenant) -> TenantLoad:
    spec = tenant.spec
    size, agents = catalog.tiers[spec.tier].container, len(spec.agents)
    return TenantLoad(
        spec.tenant_id,
        spec.tier,
        agents,
        size.memory_mb * agents,
        size.cpus * agents,
        fargate_monthly(catalog, spec.tier, agents),
    )


def tenants_to_move(host: HostReport) -> list[str]:
    """Largest tenants first (memory, then CPUs) until the host is under its limit."""
    if host.size is None or not host.over:
        return []
    memory, cpus = Decimal(host.memory_mb), host.cpus
    moved = []
    for load in sorted(host.tenants, key=lambda t: (-t.memory_mb, -t.cpus, t.tenant)):
        if _fits(memory, cpus, host.size, host.limit_pct):
            break
        moved.append(load.tenant)
        memory, cpus = memory - load.memory_mb, cpus - load.cpus
    return moved


def tier_costs(catalog: Catalog) -> list[TierCost]:
    """Fargate list price per agent and per tenant (included agents), tier by tier."""
    costs = []
    for name, tier in catalog.tiers_by_size():
        size = catalog.fargate.sizes[name]
        costs.append(_tier_cost(catalog, name, tier, size.cpu_units, size.memory_mb))
    return costs


def _tier_cost(catalog: Catalog, name: str, tier: Tier, cpu: int, memory: int) -> TierCost:
    return TierCost(
        name,
        cpu,
        memory,
        fargate_monthly(catalog, name, 1),
        tier.agents_included,
        fargate_monthly(catalog, name, tier.agents_included),
        tier.monthly_price,
    )


def capacity_report(
    tenants: list[Tenant], catalog: Catalog, inventory: Inventory | None, inventory_path: Path
) -> CapacityReport:
    """The capacity of the fleet: Docker hosts against their sizes, ECS on Fargate."""
    limit = catalog.capacity.host_limit_pct
    by_host: dict[str, list[TenantLoad]] = defaultdict(list)
    ecs: list[EcsTenant] = []
    for tenant in tenants:
        spec = tenant.spec
        if spec.runtime == "ecs":
            task, agents = catalog.fargate.sizes[spec.tier], len(spec.agents)
            ecs.append(
                EcsTenant(
                    spec.tenant_id,
                    spec.tier,
                    agents,
                    task.vcpu * agents,
                    task.memory_gb * agents,
                    fargate_monthly(catalog, spec.tier, agents),
                )
            )
        else:
            by_host[_host_key(tenant.docker_host)].append(tenant_load(catalog, tenant))
    hosts = []
    for host, loads in sorted(by_host.items()):
        size = inventory.size(host) if inventory else None
        report = HostReport(host, size, sorted(loads, key=lambda t: t.tenant), limit)
        hosts.append(HostReport(host, size, report.tenants, limit, tenants_to_move(report)))
    prices = catalog.fargate.prices
    return CapacityReport(
        hosts,
        ecs,
        tier_costs(catalog),
        limit,
        {
            "region": prices.region,
            "as_of": prices.as_of.isoformat(),
            "source": prices.source,
            "vcpu_hour": prices.vcpu_hour,
            "gb_hour": prices.gb_hour,
            "hours_per_month": prices.hours_per_month,
        },
        str(inventory_path),
        inventory is not None,
    )


def fleet_capacity(inventory_path: Path | None = None) -> CapacityReport:
    """The capacity report of the project's fleet (`hosts.yaml` at its root by default)."""
    project = find_project()
    catalog = load_catalog()
    if inventory_path is not None and not inventory_path.is_file():
        raise BadInput(
            f"--inventory {inventory_path}: no such file",
            f"point it at the hosts inventory (see {INVENTORY_FILE} at the project root)",
        )
    path = inventory_path or project.root / INVENTORY_FILE
    inventory = load_inventory(path)
    return capacity_report(load_tenants(project, catalog), catalog, inventory, path)
