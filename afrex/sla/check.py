"""One SLA check round over the deployed fleet: container states (a few list calls
per Docker engine; ECS tenants' tasks, a few calls per cluster), health probes of
every Docker gateway at once (ECS agents by their task's health check:
afrex/sla/runtimes.py), `Up` and `ResponseTimeMs` to CloudWatch, and for each down
agent an alert to its tenant's SNS topic and an event in the fleet's event log.

A round never stops half-way for one broken service: a failed publish, alert
or event is kept in `problems` and reported with the probes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from afrex.catalog import Catalog, load_catalog
from afrex.containers import LiveContainers, live_containers
from afrex.deployed import TenantView, read_fleet
from afrex.errors import AfrexError, BadInput
from afrex.events import Event, EventLog, open_event_log
from afrex.sla.probe import AgentProbe
from afrex.sla.publish import Alert, Published, metric_data, publish_metrics, send_alerts
from afrex.sla.runtimes import probe_fleet
from afrex.stackfiles import Project, find_project

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sns import SNSClient

Key = tuple[str, str]
ContainerReader = Callable[[list[TenantView], float], LiveContainers]
DOWN_EVENT = "sla-agent-down"
RECOVERED_EVENT = "sla-agent-recovered"


@dataclass
class AlertMemory:
    """`sla watch`'s memory of alerts: an outage is alerted when it starts and again
    every `every` while it lasts; its end is recorded once."""

    every: timedelta
    alerted: dict[Key, datetime] = field(default_factory=dict)

    def due(self, key: Key, now: datetime) -> bool:
        last = self.alerted.get(key)
        return last is None or now - last >= self.every

    def recovered(self, up: Iterable[Key]) -> list[Key]:
        back = sorted(key for key in up if key in self.alerted)
        for key in back:
            del self.alerted[key]
        return back


@dataclass
class CheckRound:
    """What one round found and did."""

    started: datetime
    probes: list[AgentProbe]
    published: Published | None = None
    alerts: list[Alert] = field(default_factory=list)
    recovered: list[Key] = field(default_factory=list)
    events: int = 0
    unreachable: dict[str, str] = field(default_factory=dict)
    not_deployed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def down(self) -> list[AgentProbe]:
        return [p for p in self.probes if not p.up]

    @property
    def all_up(self) -> bool:
        return not self.down

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.started.isoformat().replace("+00:00", "Z"),
            "agents": len(self.probes),
            "up": len(self.probes) - len(self.down),
            "down": len(self.down),
            "probes": [p.as_dict() for p in self.probes],
            "metricsPublished": self.published.items if self.published else 0,
            "putMetricDataCalls": self.published.calls if self.published else 0,
            "alerts": [a.as_dict() for a in self.alerts],
            "recovered": [f"{t}/{a}" for t, a in self.recovered],
            "events": self.events,
            "unreachableEngines": self.unreachable,
            "notDeployed": self.not_deployed,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Services:
    """Where a round reads and writes; tests and benches swap in their own."""

    containers: ContainerReader = live_containers
    cloudwatch: Callable[[], CloudWatchClient] | None = None
    sns: Callable[[], SNSClient] | None = None
    events: EventLog | None = None

    def cloudwatch_client(self) -> CloudWatchClient:
        if self.cloudwatch is None:
            from afrex.clients import cloudwatch

            return cloudwatch()
        return self.cloudwatch()

    def sns_factory(self) -> Callable[[], SNSClient]:
        if self.sns is None:
            from afrex.clients import sns

            return sns
        return self.sns


def check_fleet(
    tenant: str | None = None,
    catalog: Catalog | None = None,
    project: Project | None = None,
    services: Services | None = None,
    memory: AlertMemory | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CheckRound:
    """Probe every deployed agent (or one tenant's), publish, alert: one round."""
    clock = time.perf_counter()
    catalog = catalog or load_catalog()
    project = project or find_project()
    services = services or Services()
    views = read_fleet(project, catalog, [tenant] if tenant else None)
    deployed = [view for view in views if view.deployed and view.agents]
    if tenant and not deployed:
        raise BadInput(f"tenant {tenant} has no deployed agents", f"run `pulumi up -s {tenant}`")
    started = now().replace(microsecond=0)
    live = services.containers(deployed, float(catalog.telemetry.engine_timeout_seconds))
    probes, not_judged = probe_fleet(deployed, live, catalog)
    result = CheckRound(started, probes, unreachable=dict(live.unreachable))
    result.problems.extend(not_judged)
    result.not_deployed = [view.id for view in views if not (view.deployed and view.agents)]
    _publish(result, catalog, services)
    _alert(result, deployed, services, memory, project)
    result.seconds = time.perf_counter() - clock
    return result


def _publish(result: CheckRound, catalog: Catalog, services: Services) -> None:
    data = metric_data(catalog, result.probes, result.started)
    try:
        client = services.cloudwatch_client()
        result.published = publish_metrics(client, catalog.sla_alerting.namespace, data)
    except AfrexError as error:
        result.problems.append(f"metrics not published: {error}")


def _alert(
    result: CheckRound,
    deployed: list[TenantView],
    services: Services,
    memory: AlertMemory | None,
    project: Project,
) -> None:
    topics = {view.id: view.topic_arn for view in deployed}
    due = [p for p in result.down if memory is None or memory.due(p.key, result.started)]
    try:
        result.alerts = send_alerts(
            services.sns_factory(), [(p, topics.get(p.tenant)) for p in due], result.started
        )
    except AfrexError as error:
        result.problems.append(f"alerts not sent: {error}")
    result.problems.extend(
        f"alert for {a.tenant}/{a.agent} not sent: {a.error}" for a in result.alerts if a.error
    )
    if memory is not None:
        memory.alerted.update({p.key: result.started for p in due})
        result.recovered = memory.recovered(p.key for p in result.probes if p.up)
    events = [_down_event(p, result) for p in due] + [
        Event(RECOVERED_EVENT, tenant, {"agent": agent}, when=result.started)
        for tenant, agent in result.recovered
    ]
    try:
        log = services.events or open_event_log(project.root)
        for event in events:
            log.record(event)
            result.events += 1
    except AfrexError as error:
        result.problems.append(f"events not recorded: {error}")


def _down_event(probe: AgentProbe, result: CheckRound) -> Event:
    sent = next(
        (a for a in result.alerts if a.tenant == probe.tenant and a.agent == probe.agent), None
    )
    details = {
        "agent": probe.agent,
        "reason": probe.reason,
        "container": probe.container,
        "containerState": probe.state,
        "alerted": bool(sent and sent.sent),
    }
    return Event(DOWN_EVENT, probe.tenant, details, when=result.started)
