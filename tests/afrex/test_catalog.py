"""The catalog file: its numbers are the business's, and bad edits are refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from afrex.catalog import DEFAULT_CATALOG, Catalog, load_catalog
from afrex.errors import ConfigError


def test_tiers_match_the_price_book(catalog: Catalog) -> None:
    table = {
        name: (t.agents_included, t.max_agents, t.monthly_price, t.sla_uptime_pct)
        for name, t in catalog.tiers.items()
    }
    assert table == {
        "starter": (1, 1, Decimal("1500.00"), Decimal("99.5")),
        "growth": (3, 3, Decimal("4500.00"), Decimal("99.9")),
        "enterprise": (9, 20, Decimal("12000.00"), Decimal("99.95")),
    }
    assert catalog.tiers["enterprise"].overage_per_agent == Decimal("1800.00")


def test_smallest_tier_that_fits(catalog: Catalog) -> None:
    assert [catalog.smallest_tier_for(n) for n in (1, 2, 3, 4, 20, 21)] == [
        "starter",
        "growth",
        "growth",
        "enterprise",
        "enterprise",
        None,
    ]


def test_credit_table(catalog: Catalog) -> None:
    target = Decimal("99.9")
    assert catalog.credit_pct(Decimal("99.95"), target) == 0
    assert catalog.credit_pct(Decimal("99.5"), target) == 10
    assert catalog.credit_pct(Decimal("98.9"), target) == 25
    assert catalog.credit_pct(Decimal("94.0"), target) == 50


def test_default_rosters_run_past_nine(catalog: Catalog) -> None:
    names = catalog.default_agents("general", 11)
    assert names[:2] == ["general-assistant", "researcher"]
    assert names[9:] == ["general-assistant-2", "researcher-2"]
    assert len(set(names)) == 11


def _edited(tmp_path: Path, edit: dict[str, object]) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOG.read_text())
    for dotted, value in edit.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"agent_image.tag": "latest"}, "agent_image: tag must be pinned"),
        ({"fargate.ops_image.tag": "latest"}, "fargate.ops_image: tag must be pinned"),
        ({"tiers.growth.max_agents": 2}, "tiers.growth: max_agents must be at least"),
        ({"tiers.starter.max_agents": 2}, "needs overage_per_agent"),
        (
            {
                "sla_alerting.windows": [
                    {"name": "page-x", "long_seconds": 300, "short_seconds": 600, "burn_rate": "2"}
                ]
            },
            "short_seconds must be below",
        ),
    ],
)
def test_bad_catalog_edits_are_refused(
    tmp_path: Path, edit: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(_edited(tmp_path, edit))
    assert message in str(caught.value)


def test_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_catalog(tmp_path / "nope.yaml")
