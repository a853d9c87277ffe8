"""The real policy pack, started as a subprocess and driven over the analyzer gRPC
interface with resources the real program registered under mocks.

The example fleet passes. The failing cases are built honestly from real
registrations: the spec validation would stop a bad stack before any resource
exists, so these stand for a stack or program changed outside afrex, which is
exactly what the pack is there to catch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime import mocks
from pulumi.runtime.sync_await import _sync_await
from typer.testing import CliRunner

from afrex.catalog import load_catalog
from afrex.cli.main import app
from afrex.offline import plan as offline_plan
from afrex.offline.analyzer import (
    PolicyPackProcess,
    Violation,
    analyze_request,
    find_policy_pack,
)
from afrex.offline.runtime import (
    PlaceholderMocks,
    PlannedResource,
    RecordingMonitor,
    run_stack,
)
from afrex.secretvalues import SECRET_SIG, SECRET_SIG_KEY
from afrex.spec import TenantSpec
from afrex.stackfiles import Project, list_stacks
from components.hosted_tenant import HostedTenant, HostedTenantArgs
from tests.helpers import ROOT

CONTAINER = "docker:index/container:Container"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
STARTER = "cust-northwind-clinic-1772323200"
GROWTH = "cust-acme-legal-1767225600"


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(find_policy_pack(ROOT)) as running:
        yield running


@pytest.fixture(scope="module")
def fleet(project: Project) -> dict[str, list[PlannedResource]]:
    planned = {}
    for stack in list_stacks(project):
        result = run_stack(stack, project)
        assert result.error is None, result.error
        planned[stack.name] = result.resources
    return planned


def analyze(
    pack: PolicyPackProcess, project: Project, stack: str, resources: list[PlannedResource]
) -> list[Violation]:
    return pack.analyze_stack(project.name, stack, resources)


def edit_inputs(
    resources: list[PlannedResource], kind: str, change: Callable[[dict[str, Any]], Any]
) -> list[PlannedResource]:
    """The same registrations with `change` applied to the inputs of the first of `kind`."""
    edited, done = [], False
    for resource in resources:
        if resource.type == kind and not done:
            inputs = json.loads(json.dumps(resource.inputs))
            change(inputs)
            resource, done = dataclasses.replace(resource, inputs=inputs), True
        edited.append(resource)
    assert done, f"no {kind} registered"
    return edited


def record_tenant(spec: TenantSpec, project: Project) -> list[PlannedResource]:
    """Build HostedTenant for `spec` under the recording mocks (no config validation)."""
    monitor = RecordingMonitor(PlaceholderMocks())
    mocks.set_mocks(
        monitor.mocks, project=project.name, stack=spec.tenant_id, preview=False, monitor=monitor
    )
    args = HostedTenantArgs(
        spec, load_catalog(), pulumi.Output.secret("[secret]"), "sla-alerts@afrexai.com"
    )
    HostedTenant(spec.tenant_id, args)
    _sync_await(pulumi.runtime.stack.wait_for_rpcs())
    return monitor.recorded


def test_pack_reports_its_policies(pack: PolicyPackProcess) -> None:
    assert pack.info.name == "afrex-guardrails" and pack.info.version == "0.2.0"
    assert "tier-agent-limit" in pack.info.policies and len(pack.info.policies) == 14


def test_example_fleet_passes(
    pack: PolicyPackProcess, project: Project, fleet: dict[str, list[PlannedResource]]
) -> None:
    assert len(fleet) == 3
    for stack, resources in fleet.items():
        assert analyze(pack, project, stack, resources) == [], stack


def test_starter_stack_asking_for_two_agents_fails_the_tier_limit(
    pack: PolicyPackProcess, project: Project
) -> None:
    """TenantSpec refuses 2 agents on starter before anything is registered, so the spec is
    built with `model_construct` (no validation) and the real HostedTenant registers its
    resources: two correctly sized, alarmed containers, one more than the tier allows."""
    spec = TenantSpec.model_construct(
        tenant_id=STARTER,
        company="Northwind Family Clinic",
        contact="ops@northwind-clinic.org",
        tier="starter",
        vertical="healthcare",
        support="standard",
        billing="monthly",
        agents=["patient-scheduler", "claims-processor"],
        history=[],
    )
    violations = analyze(pack, project, STARTER, record_tenant(spec, project))
    assert [(v.policy, v.level) for v in violations] == [("tier-agent-limit", "mandatory")]
    assert "2 agent containers exceed the starter tier's max_agents of 1" in violations[0].message


def test_growth_stack_with_a_30_day_lifecycle_fails(
    pack: PolicyPackProcess, project: Project, fleet: dict[str, list[PlannedResource]]
) -> None:
    """The growth stack's real registrations with the lifecycle rule edited to 30 days, as if
    the program (or the deployed stack) were changed by hand; the pack reads the real
    catalog's 90-day retention."""

    def thirty_days(inputs: dict[str, Any]) -> None:
        inputs["rules"][0]["expiration"]["days"] = 30.0

    resources = edit_inputs(fleet[GROWTH], LIFECYCLE, thirty_days)
    (violation,) = analyze(pack, project, GROWTH, resources)
    assert (violation.policy, violation.level) == ("backup-bucket-settings", "mandatory")
    assert "30 days; backups must expire at exactly 90 days" in violation.message
    assert violation.resource == f"{GROWTH}-backups-lifecycle"


def test_container_without_a_memory_limit_fails(
    pack: PolicyPackProcess, project: Project, fleet: dict[str, list[PlannedResource]]
) -> None:
    """The starter stack's real container registration with `memory` (and its swap cap)
    removed, as a hand edit of the agent runtime would register it."""

    def no_memory(inputs: dict[str, Any]) -> None:
        del inputs["memory"], inputs["memorySwap"]

    resources = edit_inputs(fleet[STARTER], CONTAINER, no_memory)
    (violation,) = analyze(pack, project, STARTER, resources)
    assert (violation.policy, violation.level) == ("agent-container-hardening", "mandatory")
    assert violation.message.startswith("memory: not set; set memory=1024")
    assert violation.resource == f"{STARTER}-agents-patient-scheduler"


def test_secrets_travel_wrapped_and_are_never_printed(
    pack: PolicyPackProcess, project: Project, fleet: dict[str, list[PlannedResource]]
) -> None:
    """Secrets go to the pack as the engine sends them (signature objects); an agent whose
    envs are not kept secret gets the advisory rule, and no message shows the token."""
    container = next(r for r in fleet[STARTER] if r.type == CONTAINER)
    envs = json_format.MessageToDict(analyze_request(container).properties)["envs"]
    assert envs[SECRET_SIG_KEY] == SECRET_SIG
    exposed = dataclasses.replace(container, additional_secret_outputs=())
    resources = [exposed if r is container else r for r in fleet[STARTER]]
    (violation,) = analyze(pack, project, STARTER, resources)
    assert (violation.policy, violation.level) == ("gateway-token-secret", "advisory")
    assert not violation.mandatory and "[secret]" not in violation.message


runner = CliRunner()


def test_afrex_plan_exits_1_on_a_mandatory_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    """`afrex plan` with the program's container registrations losing their memory cap."""

    def run_without_memory(stack: Any, project: Project) -> Any:
        planned = run_stack(stack, project)
        for index, resource in enumerate(planned.resources):
            if resource.type == CONTAINER:
                inputs = {k: v for k, v in resource.inputs.items() if k != "memory"}
                planned.resources[index] = dataclasses.replace(resource, inputs=inputs)
        return planned

    monkeypatch.setattr(offline_plan, "run_stack", run_without_memory)
    result = runner.invoke(app, ["plan", "--json", "--stack", STARTER])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    (tenant,) = data["tenants"]
    assert {v["policy"] for v in tenant["violations"]} == {"agent-container-hardening"}
    assert data["policy"]["passed"] is False and data["fleet"]["mandatory_violations"] == 1

    text = runner.invoke(app, ["plan", "--stack", STARTER], env={"COLUMNS": "200"})
    assert text.exit_code == 1
    assert "policy violations" in text.output and "agent-container-hardening" in text.output
    assert "1 mandatory, 0 advisory violation(s); blocked" in text.output


def test_afrex_plan_passes_the_fleet_without_a_pulumi_cli() -> None:
    """As in a fresh clone: no `pulumi` binary on PATH, no cloud; exit code 0."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin"}
    assert subprocess.run(["which", "pulumi"], env=env, capture_output=True).returncode != 0
    result = subprocess.run(
        [sys.executable, "-m", "afrex.cli.main", "plan", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["policy"]["passed"] is True and data["fleet"]["mandatory_violations"] == 0


def test_exit_code_keeps_2_for_bad_config_and_1_for_mandatory_violations() -> None:
    from afrex.cli.plan import exit_code
    from afrex.offline.plan import FleetPlan, TenantPlan

    blocked = TenantPlan(
        stack=STARTER, violations=[Violation("tier-agent-limit", "mandatory", "x")]
    )
    advised = TenantPlan(
        stack=GROWTH, violations=[Violation("gateway-token-secret", "advisory", "y")]
    )
    broken = TenantPlan(stack="cust-bad-1767225600", error="afrex:tenant.tier: unknown tier")
    assert exit_code(FleetPlan([advised]), bad_input=False) == 0
    assert exit_code(FleetPlan([advised, blocked]), bad_input=False) == 1
    assert exit_code(FleetPlan([blocked, broken]), bad_input=True) == 2


def test_a_pack_that_cannot_start_is_an_operation_failure(tmp_path: Path) -> None:
    from afrex.errors import OperationFailed

    broken = tmp_path / "policies"
    broken.mkdir()
    (broken / "__main__.py").write_text("raise SystemExit('pulumi_policy is not installed')\n")
    with pytest.raises(OperationFailed) as failure, PolicyPackProcess(broken) as pack:
        pack.connect()
    assert "did not report a port" in str(failure.value)
    assert "pulumi_policy is not installed" in str(failure.value)
