"""Scaling decisions: the tier follows the count, names come from the roster, the
history entry is dated in whole seconds after the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afrex.catalog import Catalog, load_catalog
from afrex.errors import BadInput
from afrex.scaling import dated_change, plan_scale_down, plan_scale_up, plan_tier_change
from afrex.spec import TenantSpec, parse_tenant

CATALOG = load_catalog()
LARGEST = max(t.max_agents for t in CATALOG.tiers.values())
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def tenant(tier: str, agents: int, vertical: str = "legal") -> TenantSpec:
    raw = {
        "company": "Acme",
        "contact": "a@acme.example",
        "tier": tier,
        "vertical": vertical,
        "agents": CATALOG.default_agents(vertical, agents),
    }
    return parse_tenant("cust-acme-1767225600", {"afrex:tenant": raw}, CATALOG, now=NOW)


plans = st.sampled_from(sorted(CATALOG.tiers)).flatmap(
    lambda tier: st.tuples(st.just(tier), st.integers(1, CATALOG.tiers[tier].max_agents))
)


@given(plans, st.integers(1, LARGEST + 5), st.sampled_from(sorted(CATALOG.verticals)))
def test_scale_up_keeps_the_tier_or_takes_the_smallest_that_fits(
    plan: tuple[str, int], add: int, vertical: str
) -> None:
    spec = tenant(*plan, vertical=vertical)
    count = len(spec.agents) + add
    if count > LARGEST:
        with pytest.raises(BadInput, match="the largest tier"):
            plan_scale_up(CATALOG, spec, add)
        return
    tier, agents = plan_scale_up(CATALOG, spec, add)
    assert len(agents) == count == len(set(agents)) and agents[: len(spec.agents)] == spec.agents
    fits = CATALOG.tiers[spec.tier].max_agents >= count
    assert tier == (spec.tier if fits else CATALOG.smallest_tier_for(count))


@given(plans, st.integers(1, LARGEST))
def test_scale_down_removes_the_last_and_takes_the_smallest_tier(
    plan: tuple[str, int], remove: int
) -> None:
    spec = tenant(*plan)
    if remove >= len(spec.agents):
        with pytest.raises(BadInput, match="leaves none"):
            plan_scale_down(CATALOG, spec, remove, None)
        return
    tier, agents = plan_scale_down(CATALOG, spec, remove, None)
    assert agents == spec.agents[:-remove] and tier == CATALOG.smallest_tier_for(len(agents))
    kept, same = plan_scale_down(CATALOG, spec, remove, None, keep_tier=True)
    assert kept == spec.tier and same == agents


def test_scale_down_by_name_and_unknown_names() -> None:
    spec = tenant("growth", 3)
    assert plan_scale_down(CATALOG, spec, None, ["contract-reviewer"]) == (
        "growth",
        ["legal-researcher", "compliance-monitor"],
    )
    with pytest.raises(BadInput, match="'ghost' is not an agent of"):
        plan_scale_down(CATALOG, spec, None, ["ghost"])


def test_tier_change_keeps_agents_and_refuses_a_tier_too_small() -> None:
    spec = tenant("growth", 2)
    assert plan_tier_change(CATALOG, spec, "enterprise") == ("enterprise", spec.agents)
    with pytest.raises(BadInput, match="holds at most 1"):
        plan_tier_change(CATALOG, spec, "starter")


@given(st.integers(0, 10**6), st.integers(0, 999_999))
def test_a_change_is_dated_in_whole_seconds_after_the_last(offset: int, micro: int) -> None:
    spec = tenant("growth", 3)
    now = spec.history[-1].effective + timedelta(seconds=offset, microseconds=micro)
    moment = dated_change(spec, now)
    assert moment.microsecond == 0 and moment > spec.history[-1].effective
    assert moment == max(
        now.replace(microsecond=0), spec.history[-1].effective + timedelta(seconds=1)
    )


def test_catalog_fixture_is_the_one_in_use(catalog: Catalog) -> None:
    assert catalog.digest == CATALOG.digest
