"""`afrex portal`: bad input exits 2 with one line and writes nothing; no Pulumi SDK."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from tests.billing.fleet import ACME, Fleet, acme
from tests.helpers import cli_heavy_imports

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["portal", "all", "--month", "2026-13"],
        ["portal", "generate", "--tenant", "cust-nobody-1767225600", "--month", "2026-10"],
        ["portal", "generate", "--tenant", "not a tenant"],
        ["portal", "all", "--month", "2999-01"],
        ["portal", "summary", "--month", "2026-1"],
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    fleet: Fleet, aws_endpoint: str, tmp_path: Path, args: list[str]
) -> None:
    acme(fleet)
    out = tmp_path / "out"
    result = runner.invoke(app, [*args, *(["-o", str(out)] if args[1] != "summary" else [])])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (fleet.root / "portal").exists()


def test_an_output_that_is_a_file_is_bad_input(fleet: Fleet, tmp_path: Path) -> None:
    acme(fleet)
    target = tmp_path / "taken"
    target.write_text("mine\n")
    for output in (target, target / "below"):
        result = runner.invoke(
            app, ["portal", "generate", "--tenant", ACME, "--month", "2026-10", "-o", str(output)]
        )
        assert result.exit_code == 2, result.output
        assert "is not a folder" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert target.read_text() == "mine\n"


def test_portal_imports_no_pulumi() -> None:
    heavy = cli_heavy_imports(["portal", "--help"]) | cli_heavy_imports(["portal", "all", "--help"])
    assert heavy == set()
