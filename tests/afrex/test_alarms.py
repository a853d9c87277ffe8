"""Alarm states by name prefix from moto's CloudWatch over HTTP."""

from __future__ import annotations

import pytest

from afrex.alarms import alarm_states, owner, shared_prefix
from afrex.errors import OperationFailed
from tests.afrex.fleetview.livefleet import alarm
from tests.services import free_port

ACME = "cust-acme-1767225600"
NESTED = "cust-acme-1767225600-b-1767225601"  # a valid id that starts with ACME's
OTHER = "cust-other-1767225600"


def test_owner_is_the_longest_known_id_an_alarm_name_starts_with() -> None:
    tenants = {ACME, NESTED, OTHER}
    assert owner(f"afrex-{ACME}-agent-page-fast", tenants) == ACME
    assert owner(f"afrex-{NESTED}-agent-page-fast", tenants) == NESTED
    assert owner("afrex-cust-unknown-1767225600-a", tenants) is None
    assert owner(f"other-{ACME}-a", tenants) is None


def test_the_shared_prefix_narrows_to_one_tenant() -> None:
    assert shared_prefix([ACME]) == f"afrex-{ACME}-"
    assert shared_prefix([ACME, OTHER]) == "afrex-cust-"


def test_states_by_tenant_with_the_pages_marked(aws_endpoint: str) -> None:
    for index in range(120):  # more than a page of alarms
        alarm(f"afrex-{ACME}-agent{index:03d}-page-fast-long", "OK")
    alarm(f"afrex-{ACME}-agent000-page-fast", "ALARM")
    alarm(f"afrex-{NESTED}-agent-page-fast", "ALARM")
    alarm("afrex-cust-stranger-1767225600-x-page-fast", "ALARM")
    paging = {ACME: [f"afrex-{ACME}-agent000-page-fast"]}
    states = alarm_states([ACME, NESTED], paging)
    assert len(states.of(ACME) or []) == 121
    firing = [(a.name, a.pages) for a in states.of(ACME) or [] if a.firing]
    assert firing == [(f"afrex-{ACME}-agent000-page-fast", True)]
    (nested,) = states.of(NESTED) or []
    assert nested.firing and not nested.pages  # not exported as a page, and not composite
    assert states.calls >= 1


def test_unreachable_cloudwatch_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(OperationFailed) as raised:
        alarm_states([ACME])
    assert str(raised.value).startswith("cannot connect to CloudWatch at http://127.0.0.1:")
