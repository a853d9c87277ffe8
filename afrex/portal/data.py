"""Portal data: one `dashboard.json` document per tenant, from measured telemetry.

All tenants' metrics are read together (`read_fleet_telemetry`): one window's
requests carry `Up` in chart buckets and the task and response-time metrics in
one bucket each, for every agent (16 queries per agent, 500 per request); the
last day's `Up` in 5-minute buckets gives each agent's status and last
heartbeat; percentiles are asked for separately, as not every endpoint
computes them. Uptime, its target and credit are the invoice's (`check_sla`
with the tier held for most of the month); the price paid is the month's
invoice total. Nothing is invented: a metric without samples is null with a
reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from afrex.billing.invoice import build_invoice
from afrex.catalog import Catalog
from afrex.portal.figures import SCHEMA, figure, iso, missing, number
from afrex.sla.report import Window, tenant_sla
from afrex.spec import TenantSpec
from afrex.telemetry import (
    NON_NEGATIVE,
    UP_RANGE,
    CloudWatchTelemetry,
    Dropped,
    Percentiles,
    Series,
    SeriesRequest,
    Uptime,
    Wanted,
    finest_period,
)

Key = tuple[str, str]
HEARTBEAT_WINDOW = timedelta(hours=24)
HEARTBEAT_PERIOD = 300


@dataclass(frozen=True)
class FleetTelemetry:
    """Everything the portal reads for a window, for every agent of every tenant."""

    keys: tuple[Key, ...]
    series: dict[tuple[str, Key], Series]
    percentiles: Percentiles
    heartbeats: dict[Key, tuple[str, str] | None]  # (time, status) of the last bucket

    def of(self, metric: str, key: Key) -> Series:
        return self.series.get((metric, key)) or Series(())

    def agents(self, tenant: str) -> list[str]:
        return [agent for _, agent in self._by_tenant.get(tenant, [])]

    def dropped(self, tenant: str) -> list[Dropped]:
        """The range check's dropped samples of one tenant's series, in series order."""
        pairs = sorted(self._series_by_tenant.get(tenant, []))
        return [d for pair in pairs if (d := self.series[pair].dropped) is not None]

    @cached_property
    def _by_tenant(self) -> dict[str, list[Key]]:
        index: dict[str, list[Key]] = defaultdict(list)
        for key in self.keys:
            index[key[0]].append(key)
        return index

    @cached_property
    def _series_by_tenant(self) -> dict[str, list[tuple[str, Key]]]:
        index: dict[str, list[tuple[str, Key]]] = defaultdict(list)
        for metric, key in self.series:
            index[key[0]].append((metric, key))
        return index


def read_fleet_telemetry(
    reader: CloudWatchTelemetry, catalog: Catalog, specs: Sequence[TenantSpec], window: Window
) -> FleetTelemetry:
    """One batched pass over the fleet's metrics for the window (see the module doc)."""
    names = catalog.telemetry
    keys = tuple(reader.agents({spec.tenant_id: set(spec.agents) for spec in specs}))
    whole = _whole_period(window, reader)
    chart = -(-names.chart_period_seconds // finest_period(window.start, reader.now()))
    chart *= finest_period(window.start, reader.now())
    requests = [SeriesRequest(reader.metric, chart, UP_RANGE, keys)] + [
        SeriesRequest(metric, whole, NON_NEGATIVE, keys)
        for metric in (
            names.tasks_completed_metric,
            names.task_minutes_metric,
            names.response_time_metric,
        )
    ]
    series = reader.read(requests, window.start, window.end) if keys else {}
    percentiles = (
        reader.percentiles(keys, names.response_time_metric, window.start, window.end)
        if keys
        else Percentiles({})
    )
    return FleetTelemetry(keys, series, percentiles, _heartbeats(reader, keys, window))


def _whole_period(window: Window, reader: CloudWatchTelemetry) -> int:
    from afrex.telemetry import window_period

    return window_period(window.start, window.end, reader.now())


def _heartbeats(
    reader: CloudWatchTelemetry, keys: Sequence[Key], window: Window
) -> dict[Key, tuple[str, str] | None]:
    """Per agent, the last 5-minute bucket with an in-range `Up` sample in the window's
    last day: its start and the status it shows (up, down, or mixed)."""
    start = max(window.start, window.end - HEARTBEAT_WINDOW)
    wanted = [
        Wanted(key, reader.metric, HEARTBEAT_PERIOD, stat)
        for key in keys
        for stat in ("Minimum", "Maximum")
    ]
    raw = reader.statistics(wanted, start, window.end) if keys else {}
    found: dict[Key, tuple[str, str] | None] = {}
    for key in keys:
        lows = raw.get(Wanted(key, reader.metric, HEARTBEAT_PERIOD, "Minimum"), {})
        highs = raw.get(Wanted(key, reader.metric, HEARTBEAT_PERIOD, "Maximum"), {})
        usable = [at for at in lows if at in highs and UP_RANGE.holds(lows[at], highs[at])]
        last = max(usable, default=None)
        if last is None:
            found[key] = None
            continue
        status = "up" if lows[last] == 1 else "down" if highs[last] == 0 else "mixed"
        found[key] = (iso(last), status)
    return found


def dashboard(
    catalog: Catalog, spec: TenantSpec, window: Window, fleet: FleetTelemetry
) -> dict[str, Any]:
    """The tenant's `dashboard.json` document (schema `afrex.portal.dashboard/1`)."""
    names, tenant = catalog.telemetry, spec.tenant_id
    agents = sorted(set(fleet.agents(tenant)) | set(spec.agents))
    keys = [(tenant, agent) for agent in agents]
    up = [fleet.of(catalog.sla_alerting.metric, key) for key in keys]
    uptime = _total_uptime(up)
    sla = tenant_sla(catalog, spec, window, uptime)
    invoice = build_invoice(catalog, spec, window.month, uptime, window.through)
    tasks = _sum([fleet.of(names.tasks_completed_metric, key) for key in keys])
    minutes = _sum([fleet.of(names.task_minutes_metric, key) for key in keys])
    value = _value(catalog, minutes, invoice.total, invoice.id, str(window.month))
    latest = [hb[0] for hb in (fleet.heartbeats.get(k) for k in keys) if hb is not None]
    return {
        "schema": SCHEMA,
        "tenant": {
            "id": tenant,
            "company": spec.company,
            "tier": sla.tier,
            "vertical": spec.vertical,
            "agents": len(spec.agents),
        },
        "period": _period(window),
        "asOf": max(latest, default=None),
        "tasksCompleted": _metric(tasks, "tasks", names.tasks_completed_metric, window),
        "taskMinutes": _metric(minutes, "minutes", names.task_minutes_metric, window),
        **value,
        "uptime": {
            **_uptime_figure(uptime, catalog, window, "all agents"),
            "targetPct": str(sla.target_pct),
            "met": None if uptime is None else sla.credit_pct == 0,
            "creditPct": str(sla.credit_pct),
        },
        "responseTimeMs": _response(
            catalog, [fleet.of(names.response_time_metric, k) for k in keys], window
        ),
        "agents": [_agent(catalog, key, window, fleet) for key in keys],
        "ignoredSamples": [
            d.as_dict() for d in fleet.dropped(spec.tenant_id) if (d.tenant, d.agent) in keys
        ],
    }


def _total_uptime(series: Sequence[Series]) -> Uptime | None:
    samples = sum(s.samples for s in series)
    return Uptime(samples, sum((s.total for s in series), Decimal(0))) if samples else None


def _sum(series: Sequence[Series]) -> Series:
    return Series(tuple(b for s in series for b in s.buckets))


def _source(metric: str, statistic: str, window: Window, what: str = "all agents") -> str:
    return f"CloudWatch {metric} {statistic}, {what}, {window.month}"


def _period(window: Window) -> dict[str, Any]:
    period: dict[str, Any] = {
        "month": str(window.month),
        "from": iso(window.start),
        "monthToDate": window.partial,
    }
    if not window.partial:
        period["to"] = iso(window.end)
    return period


def _metric(
    series: Series, unit: str, metric: str, window: Window, what: str = "all agents"
) -> dict[str, Any]:
    source = _source(metric, "Sum", window, what)
    if not series.samples:
        return missing(unit, source, f"no {metric} samples in {window.month}")
    return figure(number(series.total), unit, source)


def _value(
    catalog: Catalog, minutes: Series, price: Decimal, invoice_id: str, month: str
) -> dict[str, Any]:
    """Hours saved, cost savings, price paid and ROI, each from the one before."""
    value = catalog.portal_value
    rule = (
        f"taskMinutes x {value.human_time_multiplier} / 60 "
        "(catalog portal_value.human_time_multiplier)"
    )
    paid = figure(number(price), "USD", f"invoice {invoice_id} total ({month})")
    if not minutes.samples:
        reason = "needs taskMinutes, which has no samples"
        return {
            "hoursSaved": missing("hours", rule, reason),
            "costSavings": missing("USD", "hoursSaved x hourly_rate", reason),
            "pricePaid": paid,
            "roiPct": missing("%", "(costSavings - pricePaid) / pricePaid", reason),
        }
    hours = minutes.total * value.human_time_multiplier / 60
    savings = hours * value.hourly_rate
    rate = f"hoursSaved x {value.hourly_rate} USD/hour (catalog portal_value.hourly_rate)"
    roi_source = "(costSavings - pricePaid) / pricePaid x 100"
    roi = (
        figure(number((savings - price) * 100 / price), "%", roi_source)
        if price
        else missing("%", roi_source, "nothing was paid this month")
    )
    return {
        "hoursSaved": figure(number(hours), "hours", rule),
        "costSavings": figure(number(savings), "USD", rate),
        "pricePaid": paid,
        "roiPct": roi,
    }


def _uptime_figure(
    uptime: Uptime | None, catalog: Catalog, window: Window, what: str
) -> dict[str, Any]:
    metric = catalog.sla_alerting.metric
    source = f"mean of CloudWatch {metric} samples, {what}, {window.month} (as invoiced)"
    if uptime is None:
        return {**missing("%", source, f"no {metric} samples in {window.month}"), "samples": 0}
    return {**figure(str(uptime.pct), "%", source), "samples": uptime.samples}


def _response(
    catalog: Catalog, series: Sequence[Series], window: Window, what: str = "all agents"
) -> dict[str, Any]:
    metric = catalog.telemetry.response_time_metric
    merged = _sum(series)
    reason = f"no {metric} samples in {window.month}"
    if not merged.samples:
        return {
            "mean": missing("ms", _source(metric, "Average", window, what), reason),
            "max": missing("ms", _source(metric, "Maximum", window, what), reason),
        }
    return {
        "mean": figure(
            number(merged.total / merged.samples), "ms", _source(metric, "Average", window, what)
        ),
        "max": figure(merged.maximum, "ms", _source(metric, "Maximum", window, what)),
    }


def _agent(catalog: Catalog, key: Key, window: Window, fleet: FleetTelemetry) -> dict[str, Any]:
    names, agent = catalog.telemetry, key[1]
    what = f"agent {agent}"
    up = fleet.of(catalog.sla_alerting.metric, key)
    response = fleet.of(names.response_time_metric, key)
    beat = fleet.heartbeats.get(key)
    beat_source = (
        f"latest {HEARTBEAT_PERIOD // 60}-minute bucket with a CloudWatch "
        f"{catalog.sla_alerting.metric} sample in the period's last 24 hours"
    )
    beat_reason = f"no {catalog.sla_alerting.metric} sample in the period's last 24 hours"
    return {
        "name": agent,
        "status": figure(beat[1], "state", beat_source)
        if beat
        else missing("state", beat_source, beat_reason),
        "lastHeartbeat": figure(beat[0], "time", beat_source)
        if beat
        else missing("time", beat_source, beat_reason),
        "uptime": _uptime_figure(up.uptime, catalog, window, what),
        "tasksCompleted": _metric(
            fleet.of(names.tasks_completed_metric, key),
            "tasks",
            names.tasks_completed_metric,
            window,
            what,
        ),
        "taskMinutes": _metric(
            fleet.of(names.task_minutes_metric, key),
            "minutes",
            names.task_minutes_metric,
            window,
            what,
        ),
        "responseTimeMs": {
            **_response(catalog, [response], window, what),
            **_percentiles(fleet.percentiles, key, names.response_time_metric, response, window),
        },
        "uptimeChart": [
            {
                "start": iso(b.start),
                "uptimePct": str(Uptime(b.samples, b.total).pct),
                "samples": b.samples,
            }
            for b in up.rebucket(window.start, catalog.telemetry.chart_period_seconds)
        ],
    }


def _percentiles(
    found: Percentiles, key: Key, metric: str, series: Series, window: Window
) -> dict[str, Any]:
    out = {}
    for stat in ("p50", "p95", "p99"):
        source = _source(metric, stat, window, f"agent {key[1]}")
        value = found.by_agent.get(key, {}).get(stat)
        if series.dropped is not None:
            out[stat] = missing(
                "ms", source, "withheld: samples outside the valid range this month"
            )
        elif value is not None:
            out[stat] = figure(number(Decimal(repr(value))), "ms", source)
        else:
            out[stat] = missing("ms", source, found.unavailable or f"no {metric} samples")
    return out
