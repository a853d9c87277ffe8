"""Class 1 of the hardening issue: text from users and files is never markup.

Whatever a stack file, an argument or the environment holds (square brackets,
Rich markup, emoji codes, escape sequences) is printed literally: it neither
crashes a command nor changes what the terminal shows.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afrex.catalog import load_catalog
from afrex.cli.main import app
from afrex.cli.output import LiteralConsole, line, literal, styled
from afrex.spec import tenant_slug
from tests.billing.fleet import Fleet
from tests.helpers import write_stack

runner = CliRunner()
WIDE = {"COLUMNS": "400"}
CATALOG = load_catalog()
# Text that would be markup, emoji codes or terminal control to a careless printer.
HOSTILE = st.lists(
    st.sampled_from([*"[]/:\\=#abAB01 \x1b\x07\x08\r\t\n\x9b", "[bold]", "[/]", ":x:", "[red"]),
    min_size=1,
    max_size=12,
).map("".join)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def printed(*objects: object) -> str:
    out = StringIO()
    LiteralConsole(file=out, width=1000, highlight=False, color_system=None).print(*objects)
    return out.getvalue()


@given(st.text(st.characters(exclude_characters="\t"), max_size=200))  # tabs: below
def test_any_string_prints_as_itself_with_controls_escaped(text: str) -> None:
    assert printed(text) == literal(text).expandtabs(8) + "\n"
    assert "\x1b" not in printed(text) and "\x07" not in printed(text)


@given(HOSTILE, HOSTILE)
def test_styled_parts_stay_literal(first: str, second: str) -> None:
    shown = printed(line(("error:", "bold red"), " ", first, (second, "bold")))
    assert shown == literal(f"error: {first}{second}").expandtabs(8) + "\n"
    assert printed(styled(first, "green")) == literal(first).expandtabs(8) + "\n"


@SETTINGS
@given(value=HOSTILE)
def test_arguments_come_back_literally_in_one_line_errors(value: str) -> None:
    for args in (
        ["quote", "--tier", value],
        ["quote", "--tier", "growth", "--vertical", value],
        ["compare", "--agents", "2", "--support", value],
        ["invoice", "--month", value, "--all"],
        ["invoice", "--month", "2026-10", "--tenant", value],
    ):
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == 2, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        (message,) = result.stderr.strip().splitlines()
        assert message.startswith("error: ") and "\x1b" not in message
        assert repr(value)[1:-1] in message or literal(value, one_line=True) in message


def company_names() -> st.SearchStrategy[str]:
    word = st.text(alphabet=st.sampled_from(list("abcxyz[]:/#\\*")), min_size=1, max_size=8)
    return (
        st.lists(word, min_size=1, max_size=4)
        .map(" ".join)
        .filter(lambda name: bool(tenant_slug(name, CATALOG)))
    )


@pytest.mark.usefixtures("aws_endpoint")
@settings(SETTINGS, max_examples=15)
@given(company=company_names())
def test_a_company_name_with_markup_is_billed_and_shown_as_written(
    fleet: Fleet, company: str
) -> None:
    tenant_id = f"cust-{tenant_slug(company, CATALOG)}-1767225600"
    for old in (fleet.root / "stacks").glob("*.yaml"):
        old.unlink()
    write_stack(fleet.root / "stacks", tenant_id, company=company, tier="starter")
    result = runner.invoke(app, ["invoice", "--tenant", tenant_id, "--month", "2026-10"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert company in result.stdout
    html = (fleet.invoices / "2026-10" / f"INV-{tenant_id}-2026-10.html").read_text()
    assert "<script" not in html.lower() or "&lt;script" in html


def test_a_tenant_error_message_with_markup_is_printed_literally(fleet: Fleet) -> None:
    path: Path = write_stack(
        fleet.root / "stacks", "cust-acme-1767225600", company="Acme", tier="[red]platinum[/]"
    )
    result = runner.invoke(app, ["revenue"], env=WIDE)
    assert result.exit_code == 2
    assert "unknown tier '[red]platinum[/]'" in result.stderr, result.stderr
    assert str(path) in result.stderr
