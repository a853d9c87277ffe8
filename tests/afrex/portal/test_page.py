"""The portal page in headless Chromium (Debian's package): a screenshot of a tenant's
index.html, which must show its name and uptime figure, and show a company name
with `<script>` in it as text (it never runs: the page allows no script at all)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afrex.cli.main import app
from tests.afrex.sla.telemetry_data import OCTOBER_START, hourly, publish
from tests.billing.fleet import Fleet

CHROMIUM = Path("/usr/bin/chromium")
TENANT = "cust-acme-script-1767225600"
COMPANY = "Acme <script>"  # its slug is acme-script
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium (/usr/bin/chromium; make engine installs it)",
)


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_page_shows_name_and_uptime_and_script_as_text(
    fleet: Fleet, aws_endpoint: str, tmp_path: Path
) -> None:
    fleet.add(TENANT, company=COMPANY, tier="starter", vertical="general")
    publish(TENANT, "general-assistant", hourly(OCTOBER_START, 31 * 24, [(10, 14)]))
    out = tmp_path / "portal"
    result = CliRunner().invoke(
        app, ["portal", "generate", "--tenant", TENANT, "--month", "2026-10", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = out / TENANT / "index.html"
    uptime = json.loads((out / TENANT / "dashboard.json").read_text())["uptime"]["value"]

    shot = tmp_path / "page.png"
    taken = chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=390,844")
    assert shot.is_file() and shot.stat().st_size > 1000, taken.stderr

    dom = chromium(page, tmp_path, "--dump-dom").stdout
    assert f'id="uptime">{uptime}%<' in dom
    assert '<h1 id="company">Acme &lt;script&gt;</h1>' in dom  # shown as text
    assert "<title>Acme &lt;script&gt;" in dom
    assert "<script" not in dom.lower()
