"""Invoices from stack history: proration by the day, annual discount, files, bad input."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from tests.billing.fleet import ACME, Fleet, acme

runner = CliRunner()
NEWCO = f"cust-newco-{int(datetime(2026, 5, 10, 15, 0, tzinfo=UTC).timestamp())}"
GLOBEX = "cust-globex-finance-1769904000"  # provisioned 2026-02-01


def invoice_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["invoice", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def amounts(data: dict[str, object]) -> list[tuple[str, str]]:
    lines = data["lines"]
    assert isinstance(lines, list)
    return [(line["kind"], line["amount"]) for line in lines]


def globex(fleet: Fleet) -> None:
    fleet.add(
        GLOBEX,
        tier="enterprise",
        vertical="finance",
        support="dedicated",
        billing="annual",
        agents=[f"agent-{n:02d}" for n in range(12)],
        history=[
            {"effective": "2026-02-01T00:00:00Z", "tier": "enterprise", "agents": 9,
             "support": "dedicated"},
            {"effective": "2026-10-20T09:00:00Z", "tier": "enterprise", "agents": 12,
             "support": "dedicated"},
        ],
    )  # fmt: skip


@pytest.mark.usefixtures("aws_endpoint")
def test_mid_month_upgrade_is_prorated_by_the_day(fleet: Fleet) -> None:
    acme(fleet)  # starter until 2026-03-15 10:30, so the 15th is still a starter day
    data = invoice_json("--tenant", ACME, "--month", "2026-03")
    assert amounts(data) == [
        ("plan", "725.81"),  # 1,500 x 15/31
        ("premium", "72.58"),  # 150 x 15/31
        ("plan", "2322.58"),  # 4,500 x 16/31
        ("premium", "232.26"),  # 450 x 16/31
        ("support", "258.06"),  # 500 x 16/31
    ]
    assert data["total"] == data["subtotal"] == "3611.29"
    assert data["id"] == f"INV-{ACME}-2026-03"
    assert "Mar 16-31 (16/31 days)" in json.dumps(data)


@pytest.mark.usefixtures("aws_endpoint")
def test_a_month_without_change_costs_exactly_the_monthly_price(fleet: Fleet) -> None:
    acme(fleet)
    data = invoice_json("--tenant", ACME, "--month", "2026-04")
    assert amounts(data) == [("plan", "4500.00"), ("premium", "450.00"), ("support", "500.00")]
    assert data["total"] == "5450.00" and data["daysBilled"] == 30


@pytest.mark.usefixtures("aws_endpoint")
def test_annual_discount_on_the_prorated_subtotal(fleet: Fleet) -> None:
    globex(fleet)  # 9 agents Oct 1-20, 12 from Oct 21 (the change came at 09:00 on the 20th)
    data = invoice_json("--tenant", GLOBEX, "--month", "2026-10")
    lines = amounts(data)
    assert ("overage", "1916.13") in lines  # 5,400 x 11/31
    subtotal = sum(Decimal(a) for kind, a in lines if kind != "discount")
    assert data["subtotal"] == str(subtotal) == "16611.94"
    assert lines[-1] == ("discount", "-2491.79")  # 15% of 16,611.94, half up
    assert data["total"] == "14120.15"


@pytest.mark.usefixtures("aws_endpoint")
def test_tenant_provisioned_mid_month_is_billed_from_its_first_day(fleet: Fleet) -> None:
    fleet.add(NEWCO, tier="growth", vertical="general")  # created 2026-05-10 15:00 UTC
    data = invoice_json("--tenant", NEWCO, "--month", "2026-05")
    assert amounts(data) == [("plan", "3193.55")]  # 4,500 x 22/31
    assert data["daysBilled"] == 22


@pytest.mark.usefixtures("aws_endpoint")
def test_files_are_deterministic(fleet: Fleet) -> None:
    acme(fleet)
    args = ["invoice", "--tenant", ACME, "--month", "2026-03"]
    first = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert first.exit_code == 0, first.output
    assert "total due" in first.stdout and "$3,611.29" in first.stdout
    assert "uptime not measured" in first.stdout
    folder = fleet.invoices / "2026-03"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"INV-{ACME}-2026-03.html", f"INV-{ACME}-2026-03.json"]
    before = {name: (folder / name).read_bytes() for name in names}
    assert runner.invoke(app, args).exit_code == 0
    assert {name: (folder / name).read_bytes() for name in names} == before
    html = before[f"INV-{ACME}-2026-03.html"].decode()
    assert "Issued 2026-03-31" in html and "$3,611.29" in html and "Acme Legal" in html


@pytest.mark.usefixtures("aws_endpoint")
def test_invoice_all_bills_every_tenant_that_existed(fleet: Fleet, tmp_path: Path) -> None:
    acme(fleet)
    globex(fleet)
    fleet.add(NEWCO, tier="starter")
    out = tmp_path / "elsewhere"
    result = runner.invoke(
        app,
        ["invoice", "--all", "--month", "2026-03", "--output", str(out)],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert f"not billed: {NEWCO} (provisioned 2026-05-10, after 2026-03)" in result.stdout
    assert "wrote 4 files" in result.stdout
    assert sorted(p.name for p in (out / "2026-03").iterdir()) == sorted(
        f"INV-{t}-2026-03.{ext}" for t in (ACME, GLOBEX) for ext in ("json", "html")
    )
    data = json.loads((out / "2026-03" / f"INV-{GLOBEX}-2026-03.json").read_text())
    assert data["total"] == "12410.00"  # 0.85 x (12,000 + 600 + 2,000)
    assert not fleet.invoices.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", ACME, "--month", "2026-13"], "--month '2026-13' is not a month; use YYYY-MM"),
        (["--tenant", ACME, "--month", "March"], "--month 'March' is not a month"),
        (["--tenant", "cust-nobody-1767225600", "--month", "2026-03"], "unknown stack"),
        (["--tenant", ACME, "--month", "2025-12"], "did not exist in 2025-12"),
        (["--tenant", ACME, "--month", "2099-01"], "--month 2099-01 has not started yet"),
        (["--month", "2026-03"], "give either --tenant <id> or --all"),
        (["--all", "--tenant", ACME, "--month", "2026-03"], "give either --tenant <id> or --all"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(fleet: Fleet, args: list[str], message: str) -> None:
    acme(fleet)
    before = fleet.files()
    result = runner.invoke(app, ["invoice", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert fleet.files() == before


def test_a_bad_stack_fails_the_whole_run_before_writing(fleet: Fleet) -> None:
    acme(fleet)
    fleet.add("cust-broken-1767225600", tier="platinum")
    result = runner.invoke(app, ["invoice", "--all", "--month", "2026-03"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "unknown tier 'platinum'" in result.stderr
    assert not fleet.invoices.exists()


@pytest.mark.usefixtures("aws_endpoint")
def test_a_failure_half_way_leaves_no_partial_invoice(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme(fleet)
    real_replace = os.replace
    calls: list[str] = []

    def second_rename_fails(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)  # store renames with os.replace
    result = runner.invoke(
        app, ["invoice", "--tenant", ACME, "--month", "2026-03"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1, result.output
    assert "cannot write the 1 invoice(s): No space left on device" in result.stderr
    assert "none was written" in result.stderr
    assert len(calls) == 2  # the JSON was in place when the HTML failed
    assert not [p for p in fleet.invoices.rglob("*") if p.is_file()]


@pytest.mark.usefixtures("aws_endpoint")
def test_a_failed_rewrite_keeps_the_previous_invoice(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme(fleet)
    args = ["invoice", "--tenant", ACME, "--month", "2026-03"]
    assert runner.invoke(app, args).exit_code == 0
    folder = fleet.invoices / "2026-03"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    fleet.add(ACME, tier="starter", vertical="legal")  # the history changed since
    real_replace = os.replace

    def html_rename_fails(src: str, dst: str) -> None:
        if str(dst).endswith(".html"):
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", html_rename_fails)
    assert runner.invoke(app, args).exit_code == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_output_that_is_a_file_fails_with_exit_1(fleet: Fleet, aws_endpoint: str) -> None:
    acme(fleet)
    blocker = fleet.root / "not-a-folder"
    blocker.write_text("")
    result = runner.invoke(
        app,
        ["invoice", "--tenant", ACME, "--month", "2026-03", "--output", str(blocker)],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "cannot write" in line and "writable folder" in line
