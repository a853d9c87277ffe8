"""TenantSpec validation: each bad config names its key and the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from afrex.catalog import Catalog
from afrex.errors import ConfigError
from afrex.offline.runtime import run_stack
from afrex.spec import TENANT_KEY, parse_tenant, slugify
from afrex.stackfiles import Project
from tests.helpers import make_stack

TENANT = "cust-acme-legal-1767225600"
GOOD: dict[str, Any] = {
    "company": "Acme Legal",
    "contact": "ceo@acme.com",
    "tier": "growth",
    "vertical": "legal",
}


def problems(catalog: Catalog, name: str = TENANT, **changes: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_tenant(name, {TENANT_KEY: {**GOOD, **changes}}, catalog)
    assert caught.value.exit_code == 2
    return caught.value.problems


def test_defaults_take_the_first_agents_of_the_vertical(catalog: Catalog) -> None:
    spec = parse_tenant(TENANT, {TENANT_KEY: GOOD}, catalog)
    assert spec.agents == ["legal-researcher", "contract-reviewer", "compliance-monitor"]
    assert (spec.support, spec.billing) == ("standard", "monthly")
    assert spec.provisioned_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert [(h.tier, h.agents) for h in spec.history] == [("growth", 3)]


def test_unknown_tier_names_the_key_and_the_choices(catalog: Catalog) -> None:
    (line,) = problems(catalog, tier="platinum")
    assert line == (
        "afrex:tenant.tier: unknown tier 'platinum'; use one of starter, growth, enterprise"
    )


def test_more_agents_than_the_tier_allows(catalog: Catalog) -> None:
    (line,) = problems(catalog, tier="starter", agents=["one-agent", "two-agent"])
    assert line.startswith("afrex:tenant.agents: 2 agents exceed the starter tier limit of 1")
    assert "larger tier" in line


def test_malformed_email(catalog: Catalog) -> None:
    (line,) = problems(catalog, contact="ceo-at-acme")
    assert line.startswith("afrex:tenant.contact: 'ceo-at-acme' is not an email address")


def test_duplicate_agent_names(catalog: Catalog) -> None:
    (line,) = problems(catalog, agents=["researcher", "researcher"])
    assert line == ("afrex:tenant.agents: duplicate agent name(s) researcher; names must be unique")


def test_unknown_vertical(catalog: Catalog) -> None:
    (line,) = problems(catalog, vertical="mining")
    assert line.startswith("afrex:tenant.vertical: unknown vertical 'mining'; use one of legal")


def test_several_problems_are_reported_together(catalog: Catalog) -> None:
    lines = problems(catalog, tier="platinum", vertical="mining", contact="nope")
    assert {line.split(":")[1].split(" ")[0] for line in lines} == {
        "tenant.tier",
        "tenant.vertical",
        "tenant.contact",
    }


def test_bad_agent_name_and_unknown_field(catalog: Catalog) -> None:
    assert problems(catalog, agents=["Bad Name"])[0].startswith(
        "afrex:tenant.agents: invalid agent name(s) 'Bad Name'"
    )
    assert problems(catalog, colour="blue")[0].startswith("afrex:tenant.colour: Extra inputs")


def test_stack_name_must_be_a_tenant_id(catalog: Catalog) -> None:
    (line,) = problems(catalog, name="acme")
    assert line.startswith("stack name: 'acme' is not a tenant id")


def test_missing_tenant_object(catalog: Catalog) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_tenant(TENANT, {}, catalog)
    assert caught.value.problems[0].startswith("afrex:tenant: missing or not an object")


def test_history_must_end_at_the_current_plan(catalog: Catalog) -> None:
    history = [{"effective": "2026-01-01T00:00:00Z", "tier": "starter", "agents": 1}]
    (line,) = problems(catalog, history=history)
    assert line.startswith("afrex:tenant.history: the last entry must match the current tier")


def test_history_entries_are_validated_and_ordered(catalog: Catalog) -> None:
    late = {"effective": "2026-05-01T00:00:00Z", "tier": "growth", "agents": 3}
    early = {"effective": "2026-02-01T00:00:00Z", "tier": "growth", "agents": 3}
    assert problems(catalog, history=[late, early])[0].startswith(
        "afrex:tenant.history: entries must be in strictly increasing"
    )
    too_many = {"effective": "2026-01-01T00:00:00Z", "tier": "starter", "agents": 4}
    assert problems(catalog, history=[too_many, late])[0].startswith(
        "afrex:tenant.history.0: 4 agents exceed the starter tier limit of 1"
    )


def test_slug_follows_the_seed() -> None:
    assert slugify("BigLaw LLP & Partners") == "biglaw-llp-partners"


def test_bad_config_fails_the_program_before_any_resource(project: Project) -> None:
    stack = make_stack(TENANT, {**GOOD, "tier": "platinum"})
    result = run_stack(stack, project)
    assert result.error is not None and "afrex:tenant.tier: unknown tier 'platinum'" in result.error
    assert result.resources == []


def test_a_plain_text_token_is_refused(project: Project) -> None:
    result = run_stack(make_stack(TENANT, GOOD, token_secret=False), project)
    assert result.error is not None
    assert "afrex:gatewayToken: stored in plain text" in result.error
    assert result.resources == []
