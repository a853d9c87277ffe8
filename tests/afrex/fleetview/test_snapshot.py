"""The fleet views against Podman, moto (CloudWatch, S3) and a file:// backend."""

from __future__ import annotations

from afrex.fleetview.issues import find_issues
from afrex.fleetview.snapshot import take_snapshot
from afrex.fleetview.status import fleet_status
from tests.afrex.backups.deployed import agent_image, deployed
from tests.afrex.fleetview.livefleet import (
    ALPHA,
    BRAVO,
    CHARLIE,
    DELTA,
    HEALTHY,
    NOWHERE,
    STOPPED,
    UNHEALTHY,
    LiveFleet,
    live_fleet,
)
from tests.engine import engine

__all__ = ["agent_image", "deployed", "engine", "live_fleet"]


def test_status_joins_files_state_containers_and_alarms(live_fleet: LiveFleet) -> None:
    snapshot = take_snapshot(timeout=20)
    rows = {row.tenant: row for row in fleet_status(snapshot)}
    alpha = rows[ALPHA]
    assert alpha.deployment == "deployed"
    assert alpha.agent_detail == {HEALTHY: "running", STOPPED: "stopped", UNHEALTHY: "unhealthy"}
    assert alpha.firing == (live_fleet.firing,)
    assert rows[BRAVO].deployment == "not deployed" and rows[BRAVO].firing == ()
    assert rows[CHARLIE].deployment == "drifted"
    assert set(rows[CHARLIE].agent_detail.values()) == {"missing"}
    assert set(rows[DELTA].agent_detail.values()) == {"unknown"}
    (unknown,) = snapshot.unknown
    assert unknown.source == f"Docker engine {NOWHERE}" and unknown.tenants == (DELTA,)


def test_issues_flag_every_kind_and_nothing_unknown(live_fleet: LiveFleet) -> None:
    found = {(i.tenant, i.kind) for i in find_issues(take_snapshot(timeout=20))}
    assert found == {
        (ALPHA, "agent-down"),
        (ALPHA, "agent-unhealthy"),
        (ALPHA, "alarm"),
        (BRAVO, "never-deployed"),
        (CHARLIE, "drifted"),
        (CHARLIE, "catalog-changed"),
        (CHARLIE, "no-lifecycle"),
        (CHARLIE, "agent-down"),
    }
