"""Pulumi-compatible passphrase secrets and the stack files that carry them."""

from __future__ import annotations

from pathlib import Path

import pytest

from afrex.errors import BadInput
from afrex.passphrase import PassphraseCrypter
from afrex.spec import TOKEN_KEY
from afrex.stackfiles import read_stack
from afrex.stackwriter import local_profile, render_stack_file

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks"


def test_round_trip_and_wrong_passphrase() -> None:
    crypter = PassphraseCrypter.new("correct horse")
    sealed = crypter.encrypt("s3cr3t-token")
    assert "s3cr3t" not in sealed and sealed.startswith("v1:")
    reopened = PassphraseCrypter.from_state("correct horse", crypter.state)
    assert reopened.decrypt(sealed) == "s3cr3t-token"
    with pytest.raises(BadInput, match="passphrase does not open"):
        PassphraseCrypter.from_state("wrong", crypter.state)


def test_example_stacks_open_with_the_documented_local_passphrase() -> None:
    stack = read_stack(EXAMPLES / "Pulumi.cust-acme-legal-1767225600.yaml")
    assert stack.encryption_salt is not None
    crypter = PassphraseCrypter.from_state("afrex-local-dev", stack.encryption_salt)
    token = crypter.decrypt(stack.config[TOKEN_KEY]["secure"])
    assert len(token) >= 32


def test_rendered_stack_file_keeps_secrets_encrypted(tmp_path: Path) -> None:
    text = render_stack_file(
        {"company": "X", "contact": "x@y.zz", "tier": "starter", "vertical": "general"},
        "pass",
        local_profile(),
        {"aws:secretKey": "dummy-secret-key"},
        gateway_token="tok-123456789",
    )
    assert "tok-123456789" not in text and "dummy-secret-key" not in text
    path = tmp_path / "Pulumi.cust-x-1767225600.yaml"
    path.write_text(text)
    stack = read_stack(path)
    assert stack.secret_keys == {TOKEN_KEY, "aws:secretKey"}
    assert stack.config["aws:s3UsePathStyle"] is True
    assert stack.config["aws:endpoints"][0]["s3"] == "http://127.0.0.1:5000"
