"""`afrex tenant new`: a validated stack file, the welcome email, the event; bad input
writes nothing; two operators at once both land in the event log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import sesv2
from afrex.events import open_event_log
from afrex.passphrase import PassphraseCrypter
from afrex.spec import TOKEN_KEY
from afrex.stackfiles import read_stack
from afrex.tenants import load_tenant
from tests.billing.fleet import PASSPHRASE, Fleet, ready_to_onboard
from tests.helpers import ROOT, cli_heavy_imports

runner = CliRunner()
NEW = ["tenant", "new", "--name", "Acme Legal", "--email", "CEO@acme.example", "--tier"]


@pytest.fixture
def project(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    return ready_to_onboard(fleet, monkeypatch)


def only_error(result: object) -> str:
    stderr = str(getattr(result, "stderr", ""))
    assert "Traceback" not in stderr
    (message,) = [ln for ln in stderr.splitlines() if ln.strip()]
    return message


def test_new_writes_a_valid_stack_file_outbox_and_event(project: Fleet) -> None:
    result = runner.invoke(app, [*NEW, "growth", "--vertical", "legal", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    tenant_id = data["tenant"]
    assert tenant_id.startswith("cust-acme-legal-")
    tenant = load_tenant(tenant_id)
    assert tenant.spec.agents == ["legal-researcher", "contract-reviewer", "compliance-monitor"]
    assert tenant.spec.contact == "ceo@acme.example" and len(tenant.spec.history) == 1
    stack = read_stack(tenant.stack.path)
    crypter = PassphraseCrypter.from_state(PASSPHRASE, str(stack.encryption_salt))
    token = crypter.decrypt(str(stack.token_ciphertext))
    assert len(token) >= 32 and TOKEN_KEY in stack.secret_keys
    written = b"".join(p.read_bytes() for p in project.root.rglob("*") if p.is_file())
    assert token.encode() not in written and token not in result.output
    (event,) = open_event_log(project.root).read()
    assert (event.kind, event.tenant, event.details["tier"]) == (
        "tenant.onboarded",
        tenant_id,
        "growth",
    )
    email = message_from_bytes(Path(data["welcomeEmail"]).read_bytes(), policy=policy.default)
    assert email["To"] == "ceo@acme.example" and "Acme Legal" in email["Subject"]
    kinds = [part.get_content_type() for part in email.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    assert "legal-researcher" in email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"pulumi up -s {tenant_id}" in " ".join(data["nextSteps"])


def test_the_table_says_what_was_written_and_the_next_step(project: Fleet) -> None:
    name = "[red]Acme[/red] :smile: Legal"
    args = ["tenant", "new", "--name", name, "--email", "a@acme.example", "--tier", "starter"]
    result = runner.invoke(app, [*args, "--vertical", "general"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "onboarded cust-red-acme-red-smile-legal-" in result.stdout
    assert f"({name})" in result.stdout and "next: pulumi up -s" in result.stdout


def test_dry_run_shows_file_plan_and_quote_and_writes_nothing(project: Fleet) -> None:
    before = project.files()
    args = [*NEW, "enterprise", "--vertical", "finance", "--agents", "10", "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert project.files() == before
    assert "encryptionsalt: v1:" in result.stdout and "secure: v1:" in result.stdout
    assert "docker:index:Container" in result.stdout and "agents-treasury-ops" in result.stdout
    assert "overage: 1 agents" in result.stdout and "dry run: nothing was written" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "platinum"], "--tier: unknown tier 'platinum'; use one of"),
        (["--email", "ceo.acme.example"], "--email: 'ceo.acme.example' is not an email address"),
        (["--agents", "0"], "--agents 0 is not a number of agents; use 1 or more"),
        (["--agents", "4"], "--agents: 4 agents exceed the growth tier limit of 3"),
        (["--vertical", "mining"], "--vertical: unknown vertical 'mining'"),
        (["--name", "Acme\x1b[31m"], "--name: the company name contains the control character"),
        (["--name", "!!!"], "--name: '!!!' has no letters or digits"),
        (["--profile", "aws"], "--profile aws needs --docker-host"),
        (["--docker-host", "ftp://x"], "--docker-host: 'ftp://x' is not a Docker engine URL"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    project: Fleet, args: list[str], message: str
) -> None:
    base = {
        "--name": "Acme",
        "--email": "a@acme.example",
        "--tier": "growth",
        "--vertical": "legal",
    }
    given_args = dict(zip(args[::2], args[1::2], strict=True))
    merged = [part for key, value in {**base, **given_args}.items() for part in (key, value)]
    result = runner.invoke(app, ["tenant", "new", *merged])
    assert result.exit_code == 2, result.output
    assert message in only_error(result)
    assert project.files() == ["Pulumi.yaml"]


def test_a_missing_passphrase_is_bad_input_with_the_fix(
    project: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    result = runner.invoke(app, [*NEW, "growth", "--vertical", "legal"])
    assert result.exit_code == 2
    assert "export PULUMI_CONFIG_PASSPHRASE=" in only_error(result)
    assert project.files() == ["Pulumi.yaml"]


def test_send_delivers_the_welcome_email_through_ses(project: Fleet, aws_endpoint: str) -> None:
    sesv2().create_email_identity(EmailIdentity="welcome@afrexai.com")
    result = runner.invoke(
        app, [*NEW, "growth", "--vertical", "legal", "--send", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    sent_id = json.loads(result.stdout)["welcomeSent"]
    with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json") as answer:
        kept = json.load(answer)["ses"]["RawMessage"]
    (message,) = [m for m in kept if m["id"] == sent_id]
    parsed = message_from_bytes(message["raw_data"].encode(), policy=policy.default)
    assert parsed["To"] == "ceo@acme.example" and parsed.is_multipart()
    (event,) = open_event_log(project.root).read()
    assert event.details["welcomeSent"] == sent_id


def test_a_failed_send_still_onboards_and_says_so(project: Fleet, aws_endpoint: str) -> None:
    # No verified sender identity: SES refuses the message.
    result = runner.invoke(app, [*NEW, "growth", "--vertical", "legal", "--send"])
    assert result.exit_code == 1
    assert "is onboarded (stack file, outbox, event log), but the welcome email was not sent" in (
        only_error(result)
    )
    assert len(list((project.root / "stacks").iterdir())) == 1
    assert len(open_event_log(project.root).read()) == 1


def test_two_operators_at_once_both_land_in_the_event_log(project: Fleet) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "afrex.cli.main",
                "tenant",
                "new",
                "--name",
                name,
                "--email",
                "ops@example.com",
                "--tier",
                "starter",
                "--vertical",
                "general",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for name in ("First Customer", "Second Customer")
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    events = open_event_log(project.root).read()
    assert sorted(e.details["company"] for e in events) == ["First Customer", "Second Customer"]
    assert {e.kind for e in events} == {"tenant.onboarded"}


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names | st.sampled_from(["[bold]Acme[/bold]", ":smile: Co", "A\x1b]0;x\x07B"]))
def test_any_company_name_is_refused_in_one_line_or_kept_as_written(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "stacks").mkdir()
        (root / "Pulumi.yaml").write_text("name: afrex\nstackConfigDir: stacks\n")
        monkeypatch.setenv("AFREX_PROJECT", folder)
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
        monkeypatch.delenv("AFREX_EVENTS", raising=False)
        result = runner.invoke(
            app,
            ["tenant", "new", "--name", name, "--email", "a@b.example", "--tier", "starter",
             "--vertical", "general", "--format", "json"],
        )  # fmt: skip
        if result.exit_code == 2:
            assert only_error(result).startswith("error: tenant new: --name: ")
            assert list((root / "stacks").iterdir()) == []
            return
        assert result.exit_code == 0, result.output
        tenant = load_tenant(json.loads(result.stdout)["tenant"])
        assert tenant.spec.company == name


def test_dry_run_plans_in_a_worker_without_loading_the_sdks_here(project: Fleet) -> None:
    pre = (
        f"import os; os.environ['AFREX_PROJECT'] = {str(project.root)!r}; "
        f"os.environ['PULUMI_CONFIG_PASSPHRASE'] = {PASSPHRASE!r}\n"
    )
    args = [*NEW, "growth", "--vertical", "legal", "--dry-run"]
    assert cli_heavy_imports(args, pre) & {"pulumi", "pulumi_aws", "pulumi_docker"} == set()
