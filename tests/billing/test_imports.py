"""`afrex quote` stays light: neither the Pulumi SDK nor boto3 is imported."""

from __future__ import annotations

from tests.helpers import cli_heavy_imports


def test_quote_imports_neither_pulumi_nor_boto3() -> None:
    assert cli_heavy_imports(["quote", "--tier", "growth"]) == set()
    assert cli_heavy_imports(["compare", "--agents", "4", "--json"]) == set()


def test_the_probe_sees_heavy_imports() -> None:
    assert "boto3" in cli_heavy_imports(["quote", "--tier", "growth"], pre="import boto3\n")
