"""Class 7 of the hardening issue: the exit-code contract holds everywhere.

Bad configuration is exit 2 with one line naming what and how to fix; a failed
operation is exit 1; never a traceback. An AWS endpoint that accepts and never
answers fails within the documented bound (afrex/clients.py: 3 s to connect,
10 s to answer, 2 tries) with a message about the endpoint, not credentials.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.clients import ATTEMPTS, CONNECT_TIMEOUT_S, READ_TIMEOUT_S
from tests.billing.fleet import Fleet
from tests.helpers import write_stack

runner = CliRunner()
AFREX = Path(sys.executable).with_name("afrex")
WIDE = {"COLUMNS": "400"}
ACME = "cust-acme-1767225600"
INVOICE = ["invoice", "--all", "--month", "2026-10"]


def one_error(result: object, code: int) -> str:
    assert getattr(result, "exit_code", None) == code, getattr(result, "output", result)
    assert getattr(result, "exception", None) is None or isinstance(
        getattr(result, "exception", None), SystemExit
    )
    stderr = str(getattr(result, "stderr", ""))
    assert "Traceback" not in stderr
    (message,) = [ln for ln in stderr.splitlines() if ln.startswith("error: ")]
    return message


@pytest.fixture
def acme(fleet: Fleet) -> Fleet:
    write_stack(fleet.root / "stacks", ACME, tier="starter")
    return fleet


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.sampled_from(["not a url", "ftp://x", "http://", "http://h:99999", " http://h"])
    | st.text(max_size=12).filter(lambda u: "\x00" not in u and "://" not in u)
)
def test_a_bad_aws_endpoint_is_bad_input(acme: Fleet, url: str) -> None:
    if not url:
        return  # empty means "no override" (real AWS)
    result = runner.invoke(app, INVOICE, env={**WIDE, "AWS_ENDPOINT_URL": url})
    assert "AWS_ENDPOINT_URL" in one_error(result, 2)


@pytest.mark.parametrize("region", ["us east 1", "x", "us-east-1\n", "../../etc"])
def test_a_bad_region_is_bad_input(acme: Fleet, region: str) -> None:
    result = runner.invoke(app, INVOICE, env={**WIDE, "AWS_REGION": region})
    assert "is not a region name" in one_error(result, 2)


def test_a_catalog_path_that_is_a_folder_is_bad_input(acme: Fleet, tmp_path: Path) -> None:
    for args in (["quote", "--tier", "growth"], ["plan"], ["revenue"]):
        result = runner.invoke(app, args, env={**WIDE, "AFREX_CATALOG": str(tmp_path)})
        assert "is a folder, not a file" in one_error(result, 2)


@pytest.mark.parametrize(
    ("project_file", "expected"),
    [
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("description: no name\n", "name: missing"),
        ("name: afrex\nstackConfigDir: nowhere\n", "no folder would mean no tenants"),
        ("name: afrex\nconfig: [1, 2]\n", "config: must be a mapping"),
        ("name: afrex\nname: twice\n", "key 'name' is written twice"),
    ],
)
def test_a_malformed_project_file_is_bad_input(
    acme: Fleet, project_file: str, expected: str
) -> None:
    (acme.root / "Pulumi.yaml").write_text(project_file)
    for args in (["plan"], ["revenue"], INVOICE):
        assert expected in one_error(runner.invoke(app, args, env=WIDE), 2)


@pytest.mark.parametrize(
    ("token_line", "expected"),
    [(None, "afrex:gatewayToken: missing"), ("plain-text", "stored in plain text")],
)
def test_a_missing_or_plain_token_is_bad_input(
    fleet: Fleet, token_line: str | None, expected: str
) -> None:
    path = write_stack(fleet.root / "stacks", ACME, tier="starter")
    lines = [ln for ln in path.read_text().splitlines() if "gatewayToken" not in ln]
    lines = [ln for ln in lines if "secure:" not in ln]
    if token_line:
        lines.append(f"  afrex:gatewayToken: {token_line}")
    path.write_text("\n".join(lines) + "\n")
    for args in (["plan"], ["revenue"]):
        assert expected in one_error(runner.invoke(app, args, env=WIDE), 2)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_endpoint_that_never_answers_fails_within_the_bound(
    acme: Fleet, silent_endpoint: str
) -> None:
    started = time.monotonic()
    result = runner.invoke(app, INVOICE, env={**WIDE, "AWS_ENDPOINT_URL": silent_endpoint})
    elapsed = time.monotonic() - started
    message = one_error(result, 1)
    assert f"at {silent_endpoint} did not answer" in message, message
    assert "credential" not in message.lower()
    assert elapsed < ATTEMPTS * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S) + 10
    assert not acme.invoices.exists()


def test_an_endpoint_that_refuses_connections_is_named(acme: Fleet) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    result = runner.invoke(
        app, INVOICE, env={**WIDE, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    )
    message = one_error(result, 1)
    assert f"cannot connect to CloudWatch at http://127.0.0.1:{port}" in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["scale", "up", "--tenant", ACME], "Missing option '--add'; see 'afrex scale up --help'"),
        (["scale", "up", "--tenant", ACME, "--add", "two"], "Invalid value for '--add'"),
        (["fleet", "status", "--format", "xml"], "'xml' is not one of 'table', 'json'"),
        (["fleet", "status", "--fo", "json"], "No such option: --fo"),
        (["backup", "restore", "--tenant", ACME], "Missing option '--backup-id'"),
        (["portal", "nosuch"], "No such command 'nosuch'; see 'afrex portal --help'"),
        (["quote", "--tier", "growth", "\x1b[31m"], "unexpected extra argument(s) (\\x1b[31m)"),
    ],
    ids=["missing", "not-an-int", "bad-choice", "unknown-option", "missing-2", "command", "esc"],
)
def test_a_usage_error_is_one_literal_line_and_exit_2(args: list[str], says: str) -> None:
    """click's usage banner and boxed message become the one line every error is."""
    result = subprocess.run(
        [str(AFREX), *args], capture_output=True, text=True, timeout=60, env=os.environ | WIDE
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.rstrip("\n")], result.stderr
    assert result.stderr.startswith("error: ") and says in result.stderr, result.stderr


def test_no_arguments_still_prints_the_help() -> None:
    result = subprocess.run([str(AFREX)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Usage: afrex" in result.stdout + result.stderr
    assert "error:" not in result.stderr
