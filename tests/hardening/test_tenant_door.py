"""Classes 2, 3 and 5 of the hardening issue, at the tenant door (afrex/tenants.py):

- dates are bounded (history from the id's time to now) and plan, revenue and
  invoices agree on what a tenant has; the current month is only a draft;
- one stack file, one tenant: a copy or a link under another id is refused by
  plan and billing, naming both files; ids, company slugs and file names agree;
- strings are strict: no control characters, no trailing newline through `$`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.billing.period import Month, month_segments
from afrex.catalog import load_catalog
from afrex.cli.main import app
from afrex.errors import BadInput, ConfigError
from afrex.spec import TENANT_KEY, parse_tenant
from afrex.tenants import check_tenant_id
from tests.billing.fleet import Fleet
from tests.helpers import write_stack

runner = CliRunner()
WIDE = {"COLUMNS": "400"}
CATALOG = load_catalog()
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
ACME = f"cust-acme-{int(CREATED.timestamp())}"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {"company": "Acme", "contact": "ops@acme.example", "tier": "starter"}
FIXTURES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def problems(**tenant: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_tenant(ACME, {TENANT_KEY: {**BASE, **tenant}}, CATALOG, now=NOW)
    return caught.value.problems


@given(minutes=st.integers(1, 10**7))
def test_history_before_the_tenant_existed_is_refused(minutes: int) -> None:
    early = CREATED - timedelta(minutes=minutes)
    (problem,) = problems(
        history=[{"effective": early.isoformat(), "tier": "starter", "agents": 1}]
    )
    assert "before the tenant was made" in problem


@given(minutes=st.integers(6, 10**7))
def test_a_change_dated_ahead_of_now_is_refused(minutes: int) -> None:
    later = NOW + timedelta(minutes=minutes)
    history = [
        {"effective": CREATED.isoformat(), "tier": "starter", "agents": 1},
        {"effective": later.isoformat(), "tier": "growth", "agents": 3},
    ]
    (problem,) = problems(tier="growth", history=history)
    assert "is in the future" in problem


@given(
    days=st.lists(st.integers(1, 300), min_size=1, max_size=4, unique=True),
    tiers=st.lists(st.sampled_from(["starter", "growth", "enterprise"]), min_size=5, max_size=5),
    hours=st.integers(0, 320 * 24),
)
def test_plan_revenue_and_invoices_agree_on_any_day(
    days: list[int], tiers: list[str], hours: int
) -> None:
    moments = [CREATED] + [CREATED + timedelta(days=d, hours=7) for d in sorted(days)]
    history = [
        {"effective": m.isoformat(), "tier": t, "agents": CATALOG.tiers[t].agents_included}
        for m, t in zip(moments, tiers, strict=False)
    ]
    tenant = {**BASE, "tier": history[-1]["tier"], "history": history}
    spec = parse_tenant(ACME, {TENANT_KEY: tenant}, CATALOG, now=NOW)
    # Today: the plan and revenue price spec.tier with its agents; nothing is dated ahead,
    # so that is exactly the plan the history has in effect now.
    now_plan = [h for h in spec.history if h.effective <= NOW][-1]
    assert (now_plan.tier, now_plan.agents) == (spec.tier, len(spec.agents))
    # Any past day: its invoice bills the plan in effect at the start of that day.
    day = (CREATED + timedelta(hours=hours)).date()
    segments = month_segments(spec.history, Month.of(day))
    (billed,) = [s for s in segments if s.first <= day <= s.last]
    start_of_day = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    effective = [spec.history[0]] + [h for h in spec.history[1:] if h.effective <= start_of_day]
    assert (billed.tier, billed.agents) == (effective[-1].tier, effective[-1].agents)


def test_the_current_month_is_refused_without_draft_and_billed_so_far_with_it(
    fleet: Fleet, aws_endpoint: str
) -> None:
    write_stack(fleet.root / "stacks", ACME, tier="starter")
    today = datetime.now(UTC)
    month = f"{today:%Y-%m}"
    refused = runner.invoke(app, ["invoice", "--tenant", ACME, "--month", month], env=WIDE)
    assert refused.exit_code == 2 and "is not over yet" in refused.stderr
    assert "--draft" in refused.stderr and not fleet.invoices.exists()
    drafted = runner.invoke(
        app, ["invoice", "--tenant", ACME, "--month", month, "--draft", "--json"], env=WIDE
    )
    assert drafted.exit_code == 0, drafted.output
    data = json.loads(drafted.stdout)
    assert data["draft"] is True and data["daysBilled"] == today.day
    assert data["issued"] == today.date().isoformat()
    names = sorted(p.name for p in (fleet.invoices / month).iterdir())
    assert names == [f"INV-{ACME}-{month}.draft.html", f"INV-{ACME}-{month}.draft.json"]
    past = runner.invoke(app, ["invoice", "--all", "--month", "2026-02", "--draft"], env=WIDE)
    assert past.exit_code == 2 and "--draft is for the current month" in past.stderr


@pytest.mark.parametrize("how", ["copy", "symlink", "hardlink"])
def test_a_copied_or_linked_stack_file_is_refused_by_plan_and_billing(
    fleet: Fleet, how: str
) -> None:
    original = write_stack(fleet.root / "stacks", ACME, tier="starter")
    twin = fleet.root / "stacks" / "Pulumi.cust-acme-1767225601.yaml"
    if how == "copy":
        shutil.copy(original, twin)
    elif how == "symlink":
        twin.symlink_to(original)
    else:
        twin.hardlink_to(original)
    for args in (["plan"], ["revenue"], ["invoice", "--all", "--month", "2026-10"]):
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == 2, (args, result.output)
        (message,) = result.stderr.strip().splitlines()
        assert str(original) in message and str(twin) in message, message
        assert "same customer" in message
    assert not fleet.invoices.exists()


@FIXTURES
@given(
    company=st.sampled_from(["Acme Legal", "Globex", "Initech LLC"]),
    other=st.sampled_from(["acme", "globex-inc", "x"]),
)
def test_an_id_whose_slug_is_not_the_company_is_refused(
    fleet: Fleet, company: str, other: str
) -> None:
    for old in (fleet.root / "stacks").glob("*.yaml"):
        old.unlink()
    write_stack(fleet.root / "stacks", f"cust-{other}-1767225600", company=company, tier="starter")
    result = runner.invoke(app, ["revenue"], env=WIDE)
    slug = company.lower().replace(" ", "-")
    if slug == other:
        assert result.exit_code == 0
    else:
        assert result.exit_code == 2
        assert f"whose tenant ids are cust-{slug}-<unix seconds>" in result.stderr


CONTROL = st.sampled_from(["\n", "\r", "\x00", "\x1b", "\t", "\x85", "\u2028"])


@given(suffix=CONTROL)
def test_strings_with_control_characters_or_a_final_newline_are_refused(suffix: str) -> None:
    with pytest.raises(BadInput):
        check_tenant_id(ACME + suffix)
    assert any("email" in p for p in problems(contact="ops@acme.example" + suffix))
    assert any("control character" in p for p in problems(company="Acme" + suffix + "x"))
    assert any("agent name" in p for p in problems(agents=["researcher" + suffix]))
    with pytest.raises(BadInput):
        Month.parse("2026-10" + suffix)


@given(value=st.text(min_size=1, max_size=30))
def test_alert_emails_are_strict(value: str) -> None:
    from afrex.tenants import check_alert_email

    try:
        accepted = check_alert_email(value)
    except ValueError as error:
        assert "is not an email address" in str(error)
    else:
        assert "@" in accepted and accepted == accepted.strip() and accepted.isprintable()


def test_a_bad_alert_email_in_a_stack_is_bad_input(fleet: Fleet) -> None:
    path = write_stack(fleet.root / "stacks", ACME, tier="starter")
    path.write_text(path.read_text() + '  afrex:alertEmail: "ops@x.example\\n"\n')
    result = runner.invoke(app, ["plan"], env=WIDE)
    assert result.exit_code == 2
    assert "afrex:alertEmail: 'ops@x.example\\n' is not an email address" in result.stderr
