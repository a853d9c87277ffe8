"""The pack as a whole: names, levels, and a light start-up."""

from __future__ import annotations

import re
import subprocess
import sys

from pulumi_policy import EnforcementLevel

from policies.pack import POLICIES
from tests.helpers import ROOT, heavy_imports


def test_policy_names_are_unique_and_kebab_case() -> None:
    names = [p.name for p in POLICIES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", name) for name in names)


def test_only_the_secret_rule_is_advisory() -> None:
    levels = {p.name: p.enforcement_level for p in POLICIES}
    assert levels.pop("gateway-token-secret") == EnforcementLevel.ADVISORY
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}


def test_pack_imports_no_cloud_sdk_at_start() -> None:
    assert heavy_imports("import policies.pack") & {"pulumi_aws", "pulumi_docker"} == set()


def test_pack_starts_as_the_pulumi_cli_starts_it() -> None:
    """`pulumi preview --policy-pack policies` runs `python -u -m pulumi.policy <engine> .`
    in the pack's folder (pulumi-analyzer-policy-python); the pack must print its port."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().strip()
        assert port.isdigit(), process.stderr.read().decode() if process.stderr else port
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
