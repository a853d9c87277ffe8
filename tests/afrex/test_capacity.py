"""Capacity: Docker hosts against the inventory (flagged past the catalog's limit, with the
tenants to move, largest first), ECS tenants' Fargate commitment and monthly list price."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from afrex.capacity import (
    HostReport,
    HostSize,
    TenantLoad,
    fleet_capacity,
    load_inventory,
    tenants_to_move,
    tier_costs,
)
from afrex.catalog import Catalog
from afrex.errors import BadInput, ConfigError
from tests.billing.fleet import Fleet

HOST_A = "ssh://agents-01"
HOST_B = "ssh://agents-02"
GROWTH = "cust-mid-legal-1767225600"
BIG = "cust-big-bank-1767225600"
SMALL = "cust-solo-law-1767225600"
ECS = "cust-cloud-co-1767225600"


def add(fleet: Fleet, tenant_id: str, config: dict[str, Any], **tenant: Any) -> None:
    """A stack file with extra config keys (docker:host, afrex:platformStack)."""
    path = fleet.add(tenant_id, **tenant)
    data = yaml.safe_load(path.read_text())
    data["config"].update(config)
    path.write_text(yaml.safe_dump(data))


def inventory(fleet: Fleet, hosts: dict[str, Any]) -> Path:
    path = fleet.root / "hosts.yaml"
    path.write_text(yaml.safe_dump({"hosts": hosts}))
    return path


@pytest.fixture
def mixed(fleet: Fleet) -> Fleet:
    """Host A: growth (3 x 1536 MB, 1 CPU) and enterprise (12 x 2048 MB, 1.5 CPUs);
    host B: a starter; one enterprise tenant on ECS."""
    add(fleet, GROWTH, {"docker:host": HOST_A}, tier="growth", vertical="legal")
    agents = [f"agent-{n:02d}" for n in range(12)]
    add(fleet, BIG, {"docker:host": HOST_A}, tier="enterprise", agents=agents)
    add(fleet, SMALL, {"docker:host": f"{HOST_B}/"}, tier="starter")
    platform = {"afrex:platformStack": "organization/afrex-platform/prod"}
    add(fleet, ECS, platform, tier="enterprise", runtime="ecs")
    inventory(fleet, {HOST_A: {"memory_mb": 32768, "cpus": 16, "note": "r6i.xlarge"}})
    return fleet


def test_a_full_host_is_flagged_with_the_largest_tenant_to_move(mixed: Fleet) -> None:
    report = fleet_capacity()
    hosts = {h.host: h for h in report.hosts}
    host = hosts[HOST_A]
    assert (host.memory_mb, host.cpus) == (3 * 1536 + 12 * 2048, Decimal("21.0"))
    assert host.memory_pct == Decimal("89.1") and host.cpu_pct == Decimal("131.3")
    assert host.over and host.move == [BIG]
    assert report.over == [host]
    big = next(t for t in host.tenants if t.tenant == BIG)
    assert big.fargate_monthly == Decimal("864.96")  # 12 x $72.08 if moved to ECS


def test_hosts_missing_from_the_inventory_are_listed_not_judged(mixed: Fleet) -> None:
    report = fleet_capacity()
    assert report.unknown_hosts == [HOST_B]  # written with a trailing slash in its stack
    other = next(h for h in report.hosts if h.host == HOST_B)
    assert other.size is None and other.memory_pct is None and not other.over
    assert other.as_dict()["committed"] == {"memory_mb": 1024, "cpus": Decimal("0.5")}


def test_ecs_tenants_commit_fargate_vcpu_and_gb_at_list_price(mixed: Fleet) -> None:
    report = fleet_capacity()
    (tenant,) = report.ecs
    assert (tenant.tenant, tenant.agents) == (ECS, 9)
    assert (tenant.vcpu, tenant.memory_gb) == (Decimal(18), Decimal(36))
    assert tenant.monthly == Decimal("648.72")  # 9 x (2 x 0.04048 + 4 x 0.004445) x 730
    assert report.ecs_totals()["monthly"] == Decimal("648.72")
    assert report.prices["as_of"] == "2026-06-17" and report.prices["region"] == "us-east-1"
    assert all(ECS not in [t.tenant for t in h.tenants] for h in report.hosts)


def test_cost_per_tier_against_the_tiers_price(catalog: Catalog) -> None:
    costs = {c.tier: c for c in tier_costs(catalog)}
    assert [c.per_agent for c in costs.values()] == [
        Decimal("18.02"),
        Decimal("36.04"),
        Decimal("72.08"),
    ]
    assert costs["growth"].per_tenant == Decimal("108.12")
    assert costs["enterprise"].per_tenant == Decimal("648.72")
    assert costs["enterprise"].share_pct == Decimal("5.4")  # of $12,000


def test_without_an_inventory_no_host_is_judged(fleet: Fleet) -> None:
    add(fleet, GROWTH, {"docker:host": HOST_A}, tier="growth")
    report = fleet_capacity()
    assert not report.inventory_found and report.unknown_hosts == [HOST_A] and not report.over


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ({HOST_A: {"memory_mb": -1, "cpus": 4}}, "hosts.ssh://agents-01.memory_mb"),
        ({HOST_A: {"memory_mb": 4096, "cpus": 4, "disk": 1}}, "disk"),
        ({"agents-01": {"memory_mb": 4096, "cpus": 4}}, "is not a Docker engine URL"),
        ({HOST_A: {"memory_mb": 4096, "cpus": "NaN"}}, "cpus"),
    ],
)
def test_a_bad_inventory_names_the_entry(fleet: Fleet, hosts: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_inventory(inventory(fleet, hosts))
    assert message in str(caught.value)


def test_an_inventory_named_but_missing_is_bad_input(fleet: Fleet) -> None:
    with pytest.raises(BadInput, match="no such file"):
        fleet_capacity(fleet.root / "nope.yaml")


loads = st.lists(
    st.tuples(
        st.integers(1, 64),
        st.sampled_from([1024, 1536, 2048]),
        st.sampled_from(["0.5", "1", "1.5"]),
    ),
    min_size=1,
    max_size=12,
)


@given(loads=loads, memory_gb=st.integers(4, 256), cpus=st.integers(2, 96))
def test_the_tenants_to_move_are_the_shortest_largest_first_prefix(
    loads: list[tuple[int, int, str]], memory_gb: int, cpus: int
) -> None:
    tenants = [
        TenantLoad(f"t{i}", "x", agents, agents * mb, Decimal(cpu) * agents, Decimal(0))
        for i, (agents, mb, cpu) in enumerate(loads)
    ]
    size = HostSize(memory_mb=memory_gb * 1024, cpus=Decimal(cpus))
    host = HostReport("ssh://h", size, tenants, Decimal(80))
    moved = tenants_to_move(host)
    if not host.over:
        assert moved == []
        return
    order = sorted(tenants, key=lambda t: (-t.memory_mb, -t.cpus, t.tenant))
    assert moved == [t.tenant for t in order[: len(moved)]]

    def over_after(count: int) -> bool:
        kept = [t for t in tenants if t.tenant not in {o.tenant for o in order[:count]}]
        return HostReport("ssh://h", size, kept, Decimal(80)).over

    assert not over_after(len(moved))
    assert over_after(len(moved) - 1)
