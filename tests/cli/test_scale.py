"""`afrex scale up | down | tier`: tiers follow the agent count, history is dated so
invoices prorate it, scale-down archives first (and changes nothing when it cannot),
dry runs and bad input write nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import s3
from afrex.events import open_event_log
from afrex.onboard import NewTenant, onboard
from afrex.pricing import cents
from afrex.scaling import scale_up
from afrex.stackfiles import find_project
from afrex.tenants import load_tenant
from tests.afrex.backups.deployed import DeployedFleet, agent_image, deployed
from tests.billing.fleet import Fleet, ready_to_onboard
from tests.engine import engine
from tests.helpers import cli_heavy_imports
from tests.services import free_port

__all__ = ["agent_image", "deployed", "engine"]
runner = CliRunner()
DEPLOYED = "cust-scale-down-1767225600"


def only_error(result: object) -> str:
    stderr = str(getattr(result, "stderr", ""))
    assert "Traceback" not in stderr
    (message,) = [ln for ln in stderr.splitlines() if ln.strip()]
    return message


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def onboarded(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A growth tenant made by `afrex tenant new` a moment ago."""
    ready_to_onboard(fleet, monkeypatch)
    args = ["tenant", "new", "--name", "Grow Fast", "--email", "ceo@grow.example", "--tier"]
    result = runner.invoke(app, [*args, "growth", "--vertical", "finance", "--format", "json"])
    assert result.exit_code == 0, result.output
    yield str(json.loads(result.stdout)["tenant"])


def test_scale_up_past_growth_moves_to_enterprise_with_a_dated_change(
    onboarded: str, fleet: Fleet
) -> None:
    result = runner.invoke(
        app, ["scale", "up", "--tenant", onboarded, "--add", "2", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["before"]["tier"], data["after"]["tier"]) == ("growth", "enterprise")
    assert data["added"] == ["invoice-processor", "payroll-agent"]
    spec = load_tenant(onboarded).spec
    assert spec.tier == "enterprise" and len(spec.agents) == 5
    first, change = spec.history
    assert (first.tier, first.agents, change.tier, change.agents) == ("growth", 3, "enterprise", 5)
    assert change.effective == datetime.fromisoformat(data["effective"].replace("Z", "+00:00"))
    assert change.effective.microsecond == 0 and change.effective > first.effective
    events = [e.kind for e in open_event_log(fleet.root).read(tenant=onboarded)]
    assert events == ["tenant.onboarded", "tenant.scaled"]


def test_a_mid_month_scale_up_is_prorated_by_the_invoice(
    fleet: Fleet, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Onboarded on 5 October at growth, past growth's limit on the 20th: October's
    invoice bills growth for 5-20 October and enterprise from the 21st."""
    made, changed = datetime(2026, 10, 5, 9, tzinfo=UTC), datetime(2026, 10, 20, 15, 30, tzinfo=UTC)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "afrex-test")
    request = NewTenant("Grow Fast", "ceo@grow.example", "growth", "general")
    spec = onboard(request, now=made, project=find_project()).spec
    result = scale_up(spec.tenant_id, 1, now=changed, archiver=None)
    assert (result.before.tier, result.after.tier, result.days_left) == ("growth", "enterprise", 11)
    bill = runner.invoke(
        app, ["invoice", "--tenant", spec.tenant_id, "--month", "2026-10", "--json"]
    )
    assert bill.exit_code == 0, bill.output
    plan = [
        (ln["description"].split()[0], ln["days"], ln["amount"])
        for ln in json.loads(bill.stdout)["lines"]
        if ln["kind"] == "plan"
    ]
    growth, enterprise = (cents(Decimal(p) * d / 31) for p, d in (("4500", 16), ("12000", 11)))
    assert plan == [("growth", 16, str(growth)), ("enterprise", 11, str(enterprise))]


def test_scale_tier_and_its_limits(onboarded: str) -> None:
    small = runner.invoke(app, ["scale", "tier", "--tenant", onboarded, "--tier", "starter"])
    assert small.exit_code == 2
    assert "runs 3 agents and the starter tier holds at most 1" in only_error(small)
    same = runner.invoke(app, ["scale", "tier", "--tenant", onboarded, "--tier", "growth"])
    assert same.exit_code == 2 and "on the growth tier already" in only_error(same)
    up = runner.invoke(app, ["scale", "tier", "--tenant", onboarded, "--tier", "enterprise"])
    assert up.exit_code == 0, up.output
    assert load_tenant(onboarded).spec.tier == "enterprise"


def test_past_the_largest_tier_is_refused_with_the_reason(onboarded: str, fleet: Fleet) -> None:
    before = snapshot(fleet.root)
    result = runner.invoke(app, ["scale", "up", "--tenant", onboarded, "--add", "18"])
    assert result.exit_code == 2
    assert "would run 21 agents, and the largest tier (enterprise) holds at most 20" in (
        only_error(result)
    )
    assert snapshot(fleet.root) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--add", "0"], "--add 0 is not a number of agents to add"),
        (["down", "--agents", "bookkeeper,nope"], "--agents: 'nope' is not an agent of"),
        (["down", "--remove", "3"], "removing 3 leaves none"),
        (["down"], "give either --remove N or --agents a,b"),
        (["tier", "--tier", "platinum"], "unknown tier 'platinum'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    onboarded: str, fleet: Fleet, args: list[str], message: str
) -> None:
    before = snapshot(fleet.root)
    result = runner.invoke(app, ["scale", args[0], "--tenant", onboarded, *args[1:]])
    assert result.exit_code == 2, result.output
    assert message in only_error(result)
    assert snapshot(fleet.root) == before


def test_an_unknown_tenant_is_bad_input(fleet: Fleet) -> None:
    result = runner.invoke(app, ["scale", "up", "--tenant", "cust-nobody-1767225600", "--add", "1"])
    assert result.exit_code == 2 and "unknown stack cust-nobody-1767225600" in only_error(result)
    bad = runner.invoke(app, ["scale", "up", "--tenant", "[bold]x", "--add", "1"])
    assert bad.exit_code == 2 and "'[bold]x' is not a tenant id" in only_error(bad)


def test_dry_run_shows_plan_diff_and_price_and_writes_nothing(onboarded: str, fleet: Fleet) -> None:
    before = snapshot(fleet.root)
    result = runner.invoke(
        app, ["scale", "up", "--tenant", onboarded, "--add", "1", "--dry-run", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dryRun"] and data["after"]["tier"] == "enterprise"
    assert "docker:index:Container agents-invoice-processor" in data["planDiff"]["added"]
    assert data["monthChange"] != "0.00" or data["daysAtNewPlan"] == 0
    assert snapshot(fleet.root) == before


@pytest.fixture
def on_podman(deployed: DeployedFleet) -> DeployedFleet:
    deployed.deploy(DEPLOYED, tier="growth", vertical="general")
    return deployed


def test_scale_down_archives_each_removed_agent_then_rewrites(on_podman: DeployedFleet) -> None:
    result = runner.invoke(
        app, ["scale", "down", "--tenant", DEPLOYED, "--agents", "researcher", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (archive,) = data["archived"]
    assert archive["agent"] == "researcher" and archive["key"].startswith(
        "archived-agents/researcher/"
    )
    s3().head_object(Bucket=archive["bucket"], Key=archive["key"])
    spec = load_tenant(DEPLOYED).spec
    assert spec.agents == ["general-assistant", "scheduler"] and spec.tier == "growth"
    kinds = [e.kind for e in open_event_log(on_podman.root).read(tenant=DEPLOYED)]
    assert kinds == ["agent.archived", "tenant.scaled"]


def test_scale_down_while_the_bucket_is_unreachable_changes_nothing(
    on_podman: DeployedFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = on_podman.root / "stacks" / f"Pulumi.{DEPLOYED}.yaml"
    before = path.read_bytes()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["scale", "down", "--tenant", DEPLOYED, "--remove", "1"])
    assert result.exit_code == 1, result.output
    message = only_error(result)
    assert "could not archive scheduler of" in message and "the stack file is unchanged" in message
    assert path.read_bytes() == before
    assert open_event_log(on_podman.root).read(tenant=DEPLOYED) == []


def test_a_tenant_never_deployed_has_nothing_to_archive(onboarded: str) -> None:
    result = runner.invoke(app, ["scale", "down", "--tenant", onboarded, "--remove", "1"])
    assert result.exit_code == 0, result.output
    assert "the tenant was never deployed: no state to archive" in result.stdout
    assert load_tenant(onboarded).spec.tier == "growth"  # 2 agents: growth is the smallest fit


def test_history_stays_strictly_increasing_within_one_second(onboarded: str) -> None:
    for _ in range(3):
        assert (
            runner.invoke(app, ["scale", "up", "--tenant", onboarded, "--add", "1"]).exit_code == 0
        )
    times = [change.effective for change in load_tenant(onboarded).spec.history]
    assert len(times) == 4 and times == sorted(set(times))


def test_scale_dry_run_plans_in_a_worker_without_loading_the_sdks_here(
    onboarded: str, fleet: Fleet
) -> None:
    pre = f"import os; os.environ['AFREX_PROJECT'] = {str(fleet.root)!r}\n"
    args = ["scale", "up", "--tenant", onboarded, "--add", "1", "--dry-run"]
    assert cli_heavy_imports(args, pre) & {"pulumi", "pulumi_aws", "pulumi_docker"} == set()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.text(min_size=1, max_size=30) | st.sampled_from(["[bold]x[/]", "a\x1b[2Jb", ","]))
def test_any_agents_argument_is_refused_in_one_literal_line_or_removes_exactly_those(
    onboarded: str, fleet: Fleet, names: str
) -> None:
    before = snapshot(fleet.root)
    result = runner.invoke(app, ["scale", "down", "--tenant", onboarded, "--agents", names])
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    assert result.exit_code == 2, result.output  # none of these is one of the tenant's agents
    message = only_error(result)
    assert "\x1b" not in message and message.startswith("error: --agents: ")
    assert wanted == [] or repr(wanted[0])[1:-1] in message or wanted[0] in message
    assert snapshot(fleet.root) == before
