"""Class 4 of the hardening issue: YAML is parsed safely and quickly, at the one door.

Aliases are refused (no expansion anywhere), a key written twice is an error
naming the key and its line, bytes that are not UTF-8 are one line naming the
file, parse errors name the line, only regular files are read (a FIFO is
refused, not waited on) and a `.yml` stack file is reported.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.cli.main import app
from afrex.errors import BadInput, ConfigError
from afrex.yamlsafe import parse_yaml
from tests.billing.fleet import Fleet
from tests.helpers import write_stack

runner = CliRunner()
WIDE = {"COLUMNS": "400"}
ACME = "cust-acme-1767225600"
KEYS = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
VALUES = st.recursive(
    st.one_of(st.integers(), st.text(alphabet="xyz ", max_size=5), st.booleans()),
    lambda inner: st.dictionaries(KEYS, inner, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=12,
)


def laughs(levels: int) -> str:
    """The 'billion laughs': each level's list names the previous one ten times."""
    text = 'a0: &a0 ["lol"]\n'
    for n in range(1, levels):
        text += f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n"
    return text


def test_alias_expansion_is_refused_at_once() -> None:
    document = laughs(12)  # 10**11 strings if expanded; under a kilobyte
    assert len(document) < 1024
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        parse_yaml(document, "bomb.yaml")
    assert time.perf_counter() - started < 1.0
    (problem,) = caught.value.problems
    assert "anchors and aliases" in problem and problem.startswith("line ")


@settings(max_examples=150, deadline=None)
@given(document=st.dictionaries(KEYS, VALUES, min_size=1, max_size=5), data=st.data())
def test_a_key_written_twice_anywhere_is_named_with_its_line(
    document: dict[str, object], data: st.DataObject
) -> None:
    text = yaml.safe_dump(document, default_flow_style=False, sort_keys=True)
    assert parse_yaml(text, "ok.yaml") == document
    lines = text.splitlines()
    keyed = [i for i, ln in enumerate(lines) if ln.split(":")[0].strip() in document]
    top = [i for i in keyed if not lines[i].startswith(" ")]
    index = data.draw(st.sampled_from(top))
    key = lines[index].split(":")[0]
    doubled = "\n".join([*lines, f"{key}: again"]) + "\n"
    with pytest.raises(ConfigError) as caught:
        parse_yaml(doubled, "twice.yaml")
    (problem,) = caught.value.problems
    assert f"key '{key}' is written twice" in problem
    assert f"line {len(lines) + 1}" in problem and f"first on line {index + 1}" in problem


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet="é€ßüñ", min_size=1, max_size=20),
    codec=st.sampled_from(["latin-1", "utf-16", "cp1252"]),
)
def test_bytes_that_are_not_utf8_are_one_line_naming_the_file(text: str, codec: str) -> None:
    raw = f"config:\n  note: {text}\n".encode(codec, errors="replace")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(ConfigError) as caught:
            parse_yaml(raw, "stacks/Pulumi.x.yaml")
        (problem,) = caught.value.lines()
        assert problem.startswith("stacks/Pulumi.x.yaml: not UTF-8 text")


def test_parse_errors_name_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("config:\n  a: 1\n  b: [unclosed\n  c: 2\n", "bad.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("line ") and "column" in problem


def test_a_duplicate_gateway_token_in_a_stack_file_stops_the_plan(fleet: Fleet) -> None:
    path = write_stack(fleet.root / "stacks", ACME, tier="starter")
    path.write_text(path.read_text() + "  afrex:gatewayToken: plain\n")
    result = runner.invoke(app, ["plan"], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "key 'afrex:gatewayToken' is written twice" in result.stderr


def test_a_fifo_in_stacks_is_refused_not_waited_on(fleet: Fleet) -> None:
    write_stack(fleet.root / "stacks", ACME, tier="starter")
    os.mkfifo(fleet.root / "stacks" / "Pulumi.cust-pipe-1767225600.yaml")
    started = time.perf_counter()
    result = runner.invoke(app, ["revenue"], env=WIDE)
    assert time.perf_counter() - started < 10
    assert result.exit_code == 2, result.output
    assert "is not a regular file" in result.stderr


def test_a_yml_stack_file_is_reported(fleet: Fleet) -> None:
    write_stack(fleet.root / "stacks", ACME, tier="starter")
    (fleet.root / "stacks" / "Pulumi.cust-other-1767225600.yml").write_text("config: {}\n")
    result = runner.invoke(app, ["revenue"], env=WIDE)
    assert result.exit_code == 2
    assert "rename it to Pulumi.cust-other-1767225600.yaml" in result.stderr


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from afrex.yamlsafe import load_yaml_file

    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(BadInput, match="over the"):
        load_yaml_file(big)
