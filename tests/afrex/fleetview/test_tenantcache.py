"""The fleet's tenant cache gives exactly what the door gives, and never more."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from afrex.catalog import Catalog
from afrex.errors import BadInput, ConfigError
from afrex.fleetview.tenantcache import cache_file, load_tenants_fast
from afrex.stackfiles import find_project
from afrex.tenants import Tenant, load_tenants
from tests.billing.fleet import Fleet
from tests.helpers import ROOT, write_stack

ACME = "cust-acme-legal-1767225600"
GLOBEX = "cust-globex-finance-1769904000"


def same(a: list[Tenant], b: list[Tenant]) -> None:
    assert [t.id for t in a] == [t.id for t in b]
    for x, y in zip(a, b, strict=True):
        assert x.spec.model_dump() == y.spec.model_dump()
        assert (x.docker_host, x.alert_email, x.config_digest) == (
            y.docker_host,
            y.alert_email,
            y.config_digest,
        )
        assert (x.stack.config, x.stack.secret_keys, x.stack.path) == (
            y.stack.config,
            y.stack.secret_keys,
            y.stack.path,
        )


@pytest.fixture
def examples(fleet: Fleet) -> Fleet:
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, fleet.root / "stacks" / path.name)
    return fleet


def test_cold_and_warm_reads_equal_the_door(examples: Fleet, catalog: Catalog) -> None:
    project = find_project(examples.root)
    door = load_tenants(project, catalog)
    same(load_tenants_fast(project, catalog), door)
    assert len(json.loads(cache_file(project).read_bytes())) == len(door)
    same(load_tenants_fast(project, catalog), door)  # from the cache
    same(load_tenants_fast(project, catalog, [GLOBEX]), load_tenants(project, catalog, [GLOBEX]))


def test_a_changed_file_goes_through_the_door_again(examples: Fleet, catalog: Catalog) -> None:
    project = find_project(examples.root)
    load_tenants_fast(project, catalog)
    path = project.stack_path(ACME)
    path.write_text(path.read_text().replace("tier: growth", "tier: platinum", 1))
    with pytest.raises(ConfigError) as raised:
        load_tenants_fast(project, catalog)
    assert "unknown tier 'platinum'" in str(raised.value)


def test_a_copied_stack_file_is_refused_even_when_cached(examples: Fleet, catalog: Catalog) -> None:
    project = find_project(examples.root)
    load_tenants_fast(project, catalog)
    text = project.stack_path(ACME).read_text().replace("Acme Legal", "Acme Legal Two")
    (examples.root / "stacks" / "Pulumi.cust-acme-legal-two-1767225600.yaml").write_text(text)
    with pytest.raises(BadInput, match="are the same customer"):
        load_tenants_fast(project, catalog)


def test_a_damaged_cache_is_a_miss(examples: Fleet, catalog: Catalog) -> None:
    project = find_project(examples.root)
    load_tenants_fast(project, catalog)
    cached = json.loads(cache_file(project).read_bytes())
    for entry in cached.values():
        entry["spec"] = {"tenant_id": "cust-other-1767225600"}
    cache_file(project).write_text(json.dumps(cached))
    same(load_tenants_fast(project, catalog), load_tenants(project, catalog))
    cache_file(project).write_text("{not json")
    same(load_tenants_fast(project, catalog), load_tenants(project, catalog))


def test_unknown_ids_and_unquoted_dates_behave_as_at_the_door(
    fleet: Fleet, catalog: Catalog
) -> None:
    project = find_project(fleet.root)
    path = write_stack(fleet.root / "stacks", "cust-dated-1767225600", tier="starter")
    path.write_text(path.read_text() + "  extra:when: 2026-01-01T00:00:00Z\n")
    with pytest.raises(BadInput, match="unknown stack cust-nobody-1767225600"):
        load_tenants_fast(project, catalog, ["cust-nobody-1767225600"])
    for _ in range(2):
        (tenant,) = load_tenants_fast(project, catalog)
        assert tenant.stack.config["extra:when"].year == 2026  # a YAML timestamp, kept as one


def test_the_cache_lives_under_the_cache_folder(fleet: Fleet, tmp_path: Path) -> None:
    assert cache_file(find_project(fleet.root)).parts[-2:] == ("fleet", "tenants.json")
