"""One output object for every command: tables for people, JSON for machines,
diagnostics on stderr, and the one place errors become exit codes.

Text is literal. Both consoles are `LiteralConsole`s: every plain string they
render (a printed line, a table cell, a title) is shown exactly as written:
square brackets are not Rich markup, `:name:` is not an emoji, and control
characters (an escape sequence in a company name) are shown as `\\x1b`, never
sent to the terminal. Styling is explicit, with `styled()` and `line()`, whose
text parts are made literal the same way. Commands never print user text any
other way.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text

from afrex.errors import AfrexError

DEBUG_ENV = "AFREX_DEBUG"
P = ParamSpec("P")
R = TypeVar("R")

# C0 controls but tab and newline, DEL, and the C1 controls (ESC, CSI, OSC, ...).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def literal(text: object, one_line: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), never obeyed;
    `one_line` also shows tabs and newlines as `\\t` / `\\n`."""
    pattern = _CONTROL_OR_NEWLINE if one_line else _CONTROL
    return pattern.sub(lambda m: repr(m.group())[1:-1], str(text))


def styled(text: object, style: str | Style = "") -> Text:
    """`text`, literal, in `style` (e.g. "bold", "red")."""
    return Text(literal(text), style=style)


def line(*parts: object | tuple[object, str]) -> Text:
    """One line from parts: plain values, or `(value, style)` pairs; every part literal."""
    out = Text()
    for part in parts:
        if isinstance(part, tuple):
            value, style = part
            out.append(literal(value), style=style)
        else:
            out.append(literal(part))
    return out


class LiteralConsole(Console):
    """A Rich console that never reads markup or emoji codes in strings, and shows
    control characters as escapes."""

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(literal(text), **options)


# A fixed, wide layout when not on a terminal (CI logs, pipes, tests).
console = LiteralConsole(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 160
)
# Errors are one line each, never wrapped, whatever the terminal width.
err_console = LiteralConsole(
    stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True
)


@dataclass(frozen=True)
class Col:
    """A column of `print_grid`: its heading, and whether it is right-aligned (numbers)."""

    name: str
    right: bool = False


def print_grid(
    columns: Sequence[Col | str],
    rows: Iterable[Sequence[object]],
    title: object | None = None,
    out: Console | None = None,
) -> None:
    """A plain table for long lists (a thousand tenants render in milliseconds, where a
    Rich table takes seconds): a title, a bold header, a rule, one line per row.
    Cells are any value (made literal) or a `Text` from `styled()` (kept styled)."""
    out = out or console
    heads = [c if isinstance(c, Col) else Col(c) for c in columns]
    body = [[_cell(c) for c in row] for row in rows]
    widths = [cell_len(h.name) for h in heads]
    for cells in body:
        for index, cell in enumerate(cells[: len(widths)]):
            widths[index] = max(widths[index], cell_len(cell.plain))
    text = Text()
    if title is not None:
        text.append(literal(title, one_line=True) + "\n", style="bold")
    header = [Text(h.name, style="bold") for h in heads]
    for cells in (header, [Text("─" * w) for w in widths], *body):
        for index, (cell, width, head) in enumerate(zip(cells, widths, heads, strict=False)):
            pad = " " * (width - cell_len(cell.plain))
            text.append_text(Text(pad) + cell if head.right else cell + Text(pad))
            if index < len(heads) - 1:
                text.append("  ")
        text.rstrip()
        text.append("\n")
    out.print(text, soft_wrap=True, end="")


def _cell(value: object) -> Text:
    return value if isinstance(value, Text) else Text(literal(value, one_line=True))


def progress(total: int, what: str) -> Progress:
    """A progress bar on stderr for a walk over the fleet; silent off a terminal, so
    `--format json` and pipes stay clean. Use as `with progress(n, "tenants") as bar:`
    and call `bar.advance()` per item."""
    return Progress(total, what, enabled=err_console.is_terminal)


class Progress:
    """A minimal, literal progress bar (see `progress`)."""

    def __init__(self, total: int, what: str, enabled: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not enabled,
        )
        self._task = self._bar.add_task(literal(what, one_line=True), total=total)

    def __enter__(self) -> Progress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def advance(self, steps: int = 1) -> None:
        self._bar.advance(self._task, steps)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Machine output: stable, sorted keys, Decimals as strings, ASCII-escaped, on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n")


def warn(message: object) -> None:
    """One warning line on stderr."""
    err_console.print(line(("warning:", "bold yellow"), " ", literal(message, one_line=True)))


def fail(error: AfrexError) -> NoReturn:
    """Print a one-line error (one per problem for config errors) and exit."""
    for text in error.lines():
        err_console.print(line(("error:", "bold red"), " ", literal(text, one_line=True)))
    raise typer.Exit(code=error.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn AfrexError into its message and exit code; tracebacks only with AFREX_DEBUG.

    Ctrl-C is exit 130 (128 + SIGINT, as shells report it and as SIGTERM is 143),
    not click's "Aborted!" and 1, so a script can tell an interrupt from a failure.
    """
    try:
        yield
    except AfrexError as error:
        if os.environ.get(DEBUG_ENV):
            raise
        fail(error)
    except KeyboardInterrupt:
        if os.environ.get(DEBUG_ENV):
            raise
        err_console.print(line(("interrupted", "bold red"), " (Ctrl-C): stopped"))
        raise typer.Exit(code=128 + signal.SIGINT) from None


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator for command functions: errors become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reported():
            return fn(*args, **kwargs)

    return wrapper
