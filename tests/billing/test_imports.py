"""`afrex quote` stays light: neither the Pulumi SDK nor boto3 is imported."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

PROBE = """
import sys
{pre}
from typer.testing import CliRunner
from afrex.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {{"pulumi", "pulumi_aws",
    "pulumi_docker", "boto3", "botocore"}})
print(",".join(heavy) or "none")
"""


def loaded_by(args: list[str], pre: str = "") -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, pre=pre)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def test_quote_imports_neither_pulumi_nor_boto3() -> None:
    assert loaded_by(["quote", "--tier", "growth"]) == "none"
    assert loaded_by(["compare", "--agents", "4", "--json"]) == "none"


def test_the_probe_sees_heavy_imports() -> None:
    assert "boto3" in loaded_by(["quote", "--tier", "growth"], pre="import boto3").split(",")
