"""`afrex sla`: bad input exits 2 with one line; commands load no Pulumi SDK."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from tests.billing.fleet import Fleet, acme
from tests.helpers import heavy_imports

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["sla", "report", "--month", "2026-13"],
        ["sla", "breaches", "--month", "13-2026"],
        ["sla", "dashboard", "--month", "2999-01"],
        ["sla", "report", "--tenant", "cust-nobody-1767225600", "--month", "2026-10"],
        ["sla", "check", "--tenant", "cust-nobody-1767225600"],
        ["sla", "watch", "--interval", "1s"],
        ["sla", "watch", "--interval", "soon"],
    ],
)
def test_bad_input_is_one_line(fleet: Fleet, aws_endpoint: str, args: list[str]) -> None:
    acme(fleet)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_tenant_never_deployed_cannot_be_checked(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme(fleet)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{fleet.root / 'state'}")
    result = runner.invoke(app, ["sla", "check", "--tenant", "cust-acme-legal-1767225600"])
    assert result.exit_code == 2
    assert "has no deployed agents" in result.stderr


def test_sla_and_portal_never_import_pulumi(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    probe = (
        "from typer.testing import CliRunner\n"
        "from afrex.cli.main import app\n"
        "for args in (['sla', 'report', '--month', '2026-10'], ['portal', 'summary', '--month', "
        "'2026-10'], ['sla', 'check']):\n"
        "    CliRunner().invoke(app, args)\n"
    )
    loaded = heavy_imports(probe)
    assert not loaded & {"pulumi", "pulumi_aws", "pulumi_docker"}
    assert "boto3" in loaded  # the probe did reach CloudWatch
