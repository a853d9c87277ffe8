"""A generated fleet for the benchmarks: stack files of every tier, vertical,
support level and billing cycle, some with a plan change inside the month."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from afrex.catalog import load_catalog

MONTH = "2026-10"
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)


def plan(rng: random.Random, catalog: Any) -> dict[str, Any]:
    tier = rng.choice(sorted(catalog.tiers))
    agents = rng.randint(1, catalog.tiers[tier].max_agents)
    return {"tier": tier, "agents": agents, "support": rng.choice(sorted(catalog.support))}


def tenant(rng: random.Random, catalog: Any, index: int) -> tuple[str, dict[str, Any]]:
    created = MONTH_START - timedelta(days=rng.randint(1, 600), minutes=rng.randint(0, 1439))
    moments = [created]
    if rng.random() < 0.3:  # a change inside the month, prorated by the day
        moments.append(MONTH_START + timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 23)))
    history = [{"effective": m.isoformat(), **plan(rng, catalog)} for m in moments]
    last = history[-1]
    tenant_id = f"cust-bench-{index:04d}-{int(created.timestamp())}"
    config = {
        "company": f"Bench {index:04d}",
        "contact": f"ops{index}@bench.example",
        "tier": last["tier"],
        "support": last["support"],
        "vertical": rng.choice(sorted(catalog.verticals)),
        "billing": rng.choice(["monthly", "annual"]),
        "agents": [f"agent-{n:02d}" for n in range(last["agents"])],
        "history": history,
    }
    return tenant_id, config


def make_project(folder: Path, count: int) -> list[str]:
    catalog = load_catalog()
    rng = random.Random(20261123)
    (folder / "stacks").mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
    ids = []
    for index in range(count):
        tenant_id, config = tenant(rng, catalog, index)
        token = {"secure": f"v1:bench-token-{index}"}
        stack = {"config": {"afrex:tenant": config, "afrex:gatewayToken": token}}
        (folder / "stacks" / f"Pulumi.{tenant_id}.yaml").write_text(yaml.safe_dump(stack))
        ids.append(tenant_id)
    return ids
