"""One look at the fleet: desired (stack files), deployed (state) and live sources.

`take_snapshot` reads every stack file through the one door and every stack's
state straight from the backend, then asks the live sources at the same time,
each on daemon threads under one deadline:

- `docker`: container state and health, each Docker engine asked once, and for
  tenants on ECS their services' tasks, each cluster asked once (`afrex.containers`);
- `alarms`: CloudWatch alarm states by name prefix, paged (`afrex.alarms`);
- `backups`: each deployed bucket's lifecycle configuration in S3 (one call per
  bucket, there is no batch API), a few buckets at a time.

A source that cannot be reached, or does not answer by the deadline, makes its
tenants' facts unknown and is named once in `unknown`; the rest still comes
back. Sources can be skipped (`skip`), for a quick view or a benchmark.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from afrex.alarms import AlarmStates, alarm_states
from afrex.catalog import Catalog, load_catalog
from afrex.containers import ContainerStatus, LiveContainers, live_containers
from afrex.deployed import READ_THREADS, TenantView, read_states
from afrex.errors import AfrexError, BadInput
from afrex.fleetview.backups import Lifecycle, check_lifecycles
from afrex.fleetview.bounded import Outcome, run_all
from afrex.fleetview.tenantcache import load_tenants_fast
from afrex.stackfiles import Project, find_project
from afrex.state import backend_url, open_backend

SOURCES = ("docker", "alarms", "backups")
DEFAULT_TIMEOUT_S = 10.0
INNER_SHARE = 0.8  # of the deadline, for the sources' own timeouts
Step = Callable[[], None]


@dataclass(frozen=True)
class Unknown:
    """A live source that could not be asked, and the tenants whose facts it holds."""

    source: str
    reason: str
    tenants: tuple[str, ...]

    def line(self) -> str:
        return f"{self.source}: {self.reason} ({len(self.tenants)} tenant(s) unknown)"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "reason": self.reason, "tenants": list(self.tenants)}


@dataclass
class Snapshot:
    """The fleet as seen at `taken`; a source is None when it was skipped."""

    catalog: Catalog
    project: Project
    views: list[TenantView]
    containers: LiveContainers | None = None
    alarms: AlarmStates | None = None
    lifecycle: dict[str, Lifecycle] | None = None
    unknown: list[Unknown] = field(default_factory=list)
    skipped: tuple[str, ...] = ()
    taken: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def deployed(self) -> list[TenantView]:
        return [view for view in self.views if view.deployed]

    def container(self, tenant: str, agent: str) -> ContainerStatus | None:
        return self.containers.of(tenant, agent) if self.containers is not None else None

    def sources(self) -> dict[str, Any]:
        return {
            "skipped": list(self.skipped),
            "unknown": [u.as_dict() for u in self.unknown],
            "taken": self.taken.isoformat().replace("+00:00", "Z"),
        }


def check_sources(skip: Collection[str]) -> tuple[str, ...]:
    unknown = [name for name in skip if name not in SOURCES]
    if unknown:
        raise BadInput(f"--skip {unknown[0]!r} is not a source", f"use {' | '.join(SOURCES)}")
    return tuple(name for name in SOURCES if name in skip)


def phases(skip: Collection[str]) -> int:
    """How many times `take_snapshot` calls `on_step`."""
    return 1 + len([name for name in SOURCES if name not in skip])


def read_views(
    project: Project, catalog: Catalog, only: Sequence[str] | None = None
) -> list[TenantView]:
    """Every tenant with its deployed state (the fleet reader's parts, `afrex.deployed`;
    tenants through the door with its verdicts remembered, `tenantcache`).

    Checkpoints in a local folder are parsed on this thread: parsing JSON holds the
    interpreter lock, so threads only slow it down; remote ones are read in parallel."""
    tenants = load_tenants_fast(project, catalog, only)
    url = backend_url(project.root)
    backend = open_backend(url, project.name, project.root)
    ids = [t.id for t in tenants]
    if url.startswith("file://"):
        states = {name: backend.read(name) for name in ids}
    else:
        states = read_states(backend, ids, READ_THREADS)
    return [TenantView(tenant, states[tenant.id]) for tenant in tenants]


def take_snapshot(
    only: Sequence[str] | None = None,
    skip: Collection[str] = (),
    timeout: float = DEFAULT_TIMEOUT_S,
    on_step: Step | None = None,
    project: Project | None = None,
    catalog: Catalog | None = None,
) -> Snapshot:
    """Desired and deployed state, then every live source not skipped, within `timeout`.

    `on_step` is called once the state is read and once per live source (see `phases`)."""
    skipped = check_sources(skip)
    if timeout <= 0:
        raise BadInput(f"--timeout {timeout} is not a number of seconds", "use e.g. 10")
    project = project or find_project()
    catalog = catalog or load_catalog()
    snapshot = Snapshot(catalog, project, read_views(project, catalog, only), skipped=skipped)
    step = on_step or (lambda: None)
    step()
    deployed = snapshot.deployed
    calls: dict[str, Callable[[], Any]] = {}
    if "docker" not in skipped:
        # Each engine's own timeout ends first, so one slow engine is named, not all.
        calls["docker"] = lambda: live_containers(deployed, timeout * INNER_SHARE)
    if "alarms" not in skipped:
        paging = {view.id: view.alarm_names for view in deployed}
        calls["alarms"] = lambda: alarm_states([view.id for view in deployed], paging)
    if "backups" not in skipped:
        calls["backups"] = lambda: check_lifecycles(deployed, catalog, timeout * INNER_SHARE)
    _import_sdks(calls, any(view.on_ecs for view in deployed))
    outcomes = run_all(calls, timeout) if deployed else {}
    for name in calls:
        outcome = outcomes.get(name, Outcome(value=_empty(name)))
        _take(snapshot, name, outcome, deployed, timeout)
        step()
    return snapshot


def _import_sdks(calls: Collection[str], on_ecs: bool) -> None:
    """Import the SDKs on this thread before the sources' threads start: requests and
    botocore imported at the same moment on two threads print urllib3's warnings."""
    if "docker" in calls:
        import docker  # noqa: F401
    if "alarms" in calls or "backups" in calls or ("docker" in calls and on_ecs):
        import boto3  # noqa: F401


def _empty(source: str) -> Any:
    return {"docker": LiveContainers(), "alarms": AlarmStates(), "backups": {}}[source]


def _why(outcome: Outcome[Any], timeout: float) -> str:
    if not outcome.finished:
        return f"no answer within {timeout:g} s"
    error = outcome.error
    if isinstance(error, AfrexError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _take(
    snapshot: Snapshot, source: str, outcome: Outcome[Any], views: list[TenantView], timeout: float
) -> None:
    """Put one source's answer into the snapshot, or mark its tenants unknown."""
    answered = outcome.finished and outcome.error is None
    why = "" if answered else _why(outcome, timeout)
    ids = tuple(view.id for view in views)
    if not answered:
        name = {"docker": "Docker engines", "alarms": "CloudWatch", "backups": "S3"}[source]
        snapshot.unknown.append(Unknown(name, why, ids))
    if source == "docker":
        live = outcome.value if answered else _unknown_containers(views, why)
        assert isinstance(live, LiveContainers)
        snapshot.containers = live
        for source, reason in sorted(live.unreachable.items()):
            served = live.tenants_behind(source)
            snapshot.unknown.append(Unknown(live.source_title(source), reason, served))
    elif source == "alarms":
        alarms = outcome.value if answered else AlarmStates(error=why)
        assert isinstance(alarms, AlarmStates)
        snapshot.alarms = alarms
    else:
        found: dict[str, Lifecycle] = dict(outcome.value or {}) if answered else {}
        if answered:
            for view in views:
                if view.id not in found:
                    found[view.id] = Lifecycle(view.id, view.bucket or "", "unknown", "not asked")
            _unknown_buckets(snapshot, found)
        else:
            found = {v.id: Lifecycle(v.id, v.bucket or "", "unknown", why) for v in views}
        snapshot.lifecycle = found


def _unknown_containers(views: list[TenantView], reason: str) -> LiveContainers:
    live = LiveContainers()
    for view in views:
        for agent in view.agents:
            live.statuses[(view.id, agent.name)] = ContainerStatus(
                view.id, agent.name, agent.container, "unknown", error=reason
            )
    return live


def _unknown_buckets(snapshot: Snapshot, found: dict[str, Lifecycle]) -> None:
    """One line per distinct reason S3 could not be asked."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for tenant, check in sorted(found.items()):
        if check.state == "unknown":
            by_reason[check.detail].append(tenant)
    for reason, tenants in by_reason.items():
        snapshot.unknown.append(Unknown("S3 (backup lifecycle)", reason, tuple(tenants)))
