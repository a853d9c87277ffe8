"""Rewriting a stack file's `afrex:tenant` block keeps every other byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from afrex.errors import ConfigError
from afrex.stackedit import replace_tenant, stack_from_text, tenant_span
from afrex.yamlsafe import parse_yaml
from tests.helpers import ROOT

EXAMPLE = ROOT / "stacks" / "Pulumi.cust-acme-legal-1767225600.yaml"

words = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
scalars = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
)
tenants = st.dictionaries(
    words,
    st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(words, scalars, max_size=3)),
    min_size=1,
    max_size=6,
)
comments = st.from_regex(r"# [ -~]{0,30}", fullmatch=True)


@st.composite
def stack_texts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A stack file: header comments, other keys before and after the tenant block (secure
    values, nested provider config), indentation of 2 or 4, comments and blank lines
    around the block, block or flow style, LF or CRLF."""
    indent = " " * draw(st.sampled_from([2, 4]))
    tenant = draw(tenants)
    flow = draw(st.booleans())
    rendered = yaml.safe_dump(tenant, sort_keys=False, default_flow_style=flow, width=10**6)
    if flow:
        block = f"{indent}afrex:tenant: {rendered.strip()}"
    else:
        inner = "\n".join(indent * 2 + row for row in rendered.rstrip("\n").split("\n"))
        block = f"{indent}afrex:tenant:{draw(st.sampled_from(['', '  # the contract']))}\n{inner}"
    others = [
        f"{indent}afrex:gatewayToken:\n{indent * 2}secure: v1:abc:{draw(words)}==",
        f"{indent}aws:region: us-east-1  {draw(comments)}",
        f"{indent}aws:endpoints:\n{indent}- s3: http://127.0.0.1:5000\n{indent}  sns: x",
        f"{indent}docker:host: unix:///run/podman/podman.sock",
    ]
    position = draw(st.integers(0, len(others)))
    between = draw(st.sampled_from(["", "\n", f"\n{indent}{draw(comments)}\n"]))
    lines = [*others[:position], block + between.rstrip("\n"), *others[position:]]
    head = draw(st.sampled_from(["", "# header\n", "# a\n# b\n\n"]))
    text = f"{head}secretsprovider: passphrase\nconfig:\n" + "\n".join(lines)
    text += draw(st.sampled_from(["", "\n", "\n# trailing\n"]))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text, tenant


def config_of(text: str) -> dict[str, Any]:
    data = parse_yaml(text, "test")
    assert isinstance(data, dict)
    config = data["config"]
    assert isinstance(config, dict)
    return config


@settings(max_examples=300, deadline=None)
@given(stack_texts(), tenants)
def test_only_the_block_changes_and_it_reads_back(
    case: tuple[str, dict[str, Any]], new: dict[str, Any]
) -> None:
    text, old = case
    edited = replace_tenant(text, new)
    before, after = config_of(text), config_of(edited)
    assert after["afrex:tenant"] == config_of(replace_tenant(text, new))["afrex:tenant"]
    assert after["afrex:tenant"] == parse_yaml(yaml.safe_dump(new), "new")
    assert {k: v for k, v in after.items() if k != "afrex:tenant"} == {
        k: v for k, v in before.items() if k != "afrex:tenant"
    }
    span = tenant_span(text)
    end_old = span.insert_at if span.insert_at is not None else span.end
    assert edited.startswith(text[: span.start])
    assert edited.endswith(text[end_old:])  # every byte after the block (and its line) kept
    back = replace_tenant(edited, old)
    assert config_of(back) == before
    assert replace_tenant(back, new) == edited  # idempotent once in block style


def test_the_example_stack_keeps_comments_secrets_and_provider_config() -> None:
    text = EXAMPLE.read_text()
    tenant = config_of(text)["afrex:tenant"]
    edited = replace_tenant(text, {**tenant, "tier": "enterprise"})
    changed = [
        (a, b) for a, b in zip(text.splitlines(), edited.splitlines(), strict=True) if a != b
    ]
    assert changed == [("    tier: growth", "    tier: enterprise")]


def test_a_flow_style_config_is_refused_in_one_line() -> None:
    text = 'config: {"afrex:tenant": {company: X}, "aws:region": us-east-1}\n'
    with pytest.raises(ConfigError) as raised:
        replace_tenant(text, {"company": "Y"})
    assert raised.value.lines() == [
        "stack file: afrex:tenant: the block could not be rewritten in place; edit the file "
        "by hand or report the layout that stopped it"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("config:\n  aws:region: x\n", "afrex:tenant: missing"),
        ("secretsprovider: passphrase\n", "config: missing"),
        ("config:\n  afrex:tenant: &a {company: X}\n  b: *a\n", "aliases"),
    ],
)
def test_files_without_a_tenant_block_are_config_errors(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        replace_tenant(text, {"company": "Y"})
    assert problem in str(raised.value)


def test_stack_from_text_reads_as_the_door_does(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.cust-acme-legal-1767225600.yaml"
    stack = stack_from_text(path, EXAMPLE.read_text())
    assert stack.name == "cust-acme-legal-1767225600" and stack.path == path
    assert "afrex:gatewayToken" in stack.secret_keys and not path.exists()
