"""The telemetry range check (issue 7, class 6): `Up` samples outside [0, 1] and
negative response times never reach uptime or a credit. Generated samples are
published to moto over HTTP and read back through the real reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afrex.billing.invoice import check_sla
from afrex.catalog import load_catalog
from afrex.telemetry import (
    NON_NEGATIVE,
    UP_RANGE,
    Bucket,
    CloudWatchTelemetry,
    Series,
    Uptime,
    ValidRange,
    finest_period,
    window_period,
)
from tests.afrex.sla.telemetry_data import publish
from tests.services import MotoServer

TENANT, AGENT = "cust-range-check-1767225600", "general-assistant"
DAY = datetime(2026, 10, 20, tzinfo=UTC)
NOW = DAY + timedelta(days=2)  # minute data is still kept
CATALOG = load_catalog()

minutes = st.lists(st.integers(0, 24 * 60 - 1), unique=True, min_size=0, max_size=40)
bad_values = st.one_of(
    st.floats(min_value=1.0, max_value=1e9, exclude_min=True),
    st.floats(max_value=-1e-9, min_value=-1e9),
)


def reader() -> CloudWatchTelemetry:
    return CloudWatchTelemetry.connect("AfrexAI/Agents", "Up", now=lambda: NOW)


@st.composite
def valid_samples(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    """Distinct minutes of the day, each with an Up of 0 or 1."""
    taken = draw(minutes)
    values = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(taken), max_size=len(taken)))
    return taken, values


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    valid=valid_samples(),
    bad=st.lists(st.tuples(st.integers(0, 24 * 60 - 1), bad_values), max_size=5),
)
def test_out_of_range_up_samples_never_change_uptime_or_credit(
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    valid: tuple[list[int], list[float]],
    bad: list[tuple[int, float]],
) -> None:
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    taken, values = valid
    bad = [(m, v) for m, v in bad if m not in taken]  # CloudWatch cannot split a minute
    samples = [(DAY + timedelta(minutes=m), v) for m, v in zip(taken, values, strict=True)]
    publish(TENANT, AGENT, samples + [(DAY + timedelta(minutes=m), v) for m, v in bad])

    measured = reader().measure(DAY, DAY + timedelta(days=1), {TENANT: [AGENT]})

    expected = Uptime(len(values), Decimal(int(sum(values)))) if values else None
    assert measured.by_tenant.get(TENANT) == expected
    target = check_sla(CATALOG, "growth", expected)
    assert check_sla(CATALOG, "growth", measured.by_tenant.get(TENANT)) == target
    assert sum(d.samples for d in measured.dropped) == len(bad)
    assert all(d.minimum < 0 or d.maximum > 1 for d in measured.dropped)


def test_negative_response_times_are_dropped(aws_endpoint: str) -> None:
    at = DAY + timedelta(hours=3)
    publish(TENANT, AGENT, [(at, 100.0), (at + timedelta(minutes=5), -50.0)], "ResponseTimeMs")
    found = reader().series(
        [(TENANT, AGENT)], "ResponseTimeMs", DAY, DAY + timedelta(days=1), 86400
    )
    series = found[(TENANT, AGENT)]
    assert (series.samples, series.mean) == (1, Decimal(100))
    assert series.dropped is not None and series.dropped.samples == 1
    assert "outside >= 0" in series.dropped.text()


def test_valid_ranges_and_periods() -> None:
    assert UP_RANGE.holds(0.0, 1.0) and not UP_RANGE.holds(0.0, 1.0001)
    assert not UP_RANGE.holds(-0.1, 1.0) and NON_NEGATIVE.holds(0.0, 1e12)
    assert str(ValidRange(0.0, 1.0)) == "[0, 1]"
    assert finest_period(DAY, DAY + timedelta(days=1)) == 60
    assert finest_period(DAY, DAY + timedelta(days=30)) == 300
    assert finest_period(DAY, DAY + timedelta(days=90)) == 3600
    assert window_period(DAY, DAY + timedelta(minutes=61), DAY + timedelta(days=20)) == 3900


def test_rebucket_sums_into_longer_buckets() -> None:
    one = Bucket(DAY, 60, 1, Decimal(1), 1.0, 1.0)
    two = Bucket(DAY + timedelta(minutes=1), 60, 2, Decimal(1), 0.0, 1.0)
    late = Bucket(DAY + timedelta(hours=2), 60, 1, Decimal(0), 0.0, 0.0)
    merged = Series((one, two, late)).rebucket(DAY, 3600)
    assert [(b.start, b.samples, b.total) for b in merged] == [
        (DAY, 3, Decimal(2)),
        (DAY + timedelta(hours=2), 1, Decimal(0)),
    ]
