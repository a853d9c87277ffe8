"""The catalog's Fargate section: only valid Fargate task sizes, never smaller than the
tier's container, CloudWatch retentions, and list prices with where they came from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from afrex.catalog import (
    DEFAULT_CATALOG,
    FARGATE_TASK_SIZES,
    Catalog,
    FargateSize,
    fargate_memory_choices,
    load_catalog,
)
from afrex.errors import ConfigError

# Fargate's table (AWS ECS developer guide, "Task CPU and memory"), written out by hand.
AWS_TABLE = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
}


def test_the_catalogs_sizes_are_valid_and_priced(catalog: Catalog) -> None:
    fargate = catalog.fargate
    assert set(fargate.sizes) == set(catalog.tiers)
    for name, size in fargate.sizes.items():
        assert size.memory_mb in fargate_memory_choices(size.cpu_units)
        assert size.memory_mb >= catalog.tiers[name].container.memory_mb
        assert size.vcpu >= catalog.tiers[name].container.cpus
    prices = fargate.prices
    assert (prices.region, prices.as_of.isoformat()) == ("us-east-1", "2026-06-17")
    growth = fargate.sizes["growth"]  # 1 vCPU, 2 GB for 730 hours
    assert prices.monthly(growth) == (Decimal("0.04048") + 2 * Decimal("0.004445")) * 730
    assert catalog.capacity.host_limit_pct == 80


@pytest.mark.parametrize("cpu", sorted(AWS_TABLE))
def test_memory_choices_match_the_aws_table(cpu: int) -> None:
    assert fargate_memory_choices(cpu) == AWS_TABLE[cpu]


@given(cpu=st.sampled_from([*FARGATE_TASK_SIZES, 128, 768, 3072]), memory=st.integers(0, 130_000))
def test_a_size_validates_exactly_when_fargate_offers_it(cpu: int, memory: int) -> None:
    valid = memory in fargate_memory_choices(cpu)
    try:
        FargateSize(cpu_units=cpu, memory_mb=memory)
    except ValidationError as error:
        assert not valid, error
        assert "not a Fargate size" in str(error) or "is not valid with cpu_units" in str(error)
    else:
        assert valid


def _edited(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOG.read_text())
    change(data)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["fargate"]["sizes"].update(growth={"cpu_units": 512, "memory_mb": 1024}),
            "fargate.sizes: growth: 0.5 vCPU / 1024 MB is smaller than the tier's container",
        ),
        (lambda d: d["fargate"]["sizes"].pop("starter"), "fargate.sizes: starter: no Fargate size"),
        (
            lambda d: d["fargate"]["sizes"].update(platinum={"cpu_units": 256, "memory_mb": 512}),
            "platinum: not a tier",
        ),
        (
            lambda d: d["fargate"]["sizes"].update(starter={"cpu_units": 512, "memory_mb": 1536}),
            "memory_mb 1536 is not valid with cpu_units 512",
        ),
        (lambda d: d["fargate"].update(log_retention_days=45), "45 is not a CloudWatch retention"),
        (lambda d: d["fargate"].update(container_user="0:0"), "container_user"),
        (lambda d: d["fargate"]["prices"].update(as_of="last week"), "as_of"),
        (lambda d: d["capacity"].update(host_limit_pct="180"), "host_limit_pct"),
    ],
)
def test_bad_fargate_sections_are_refused(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(_edited(tmp_path, change))
    assert message in str(caught.value)
