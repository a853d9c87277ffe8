"""One output object for every command: tables for people, JSON for machines,
diagnostics on stderr, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from afrex.errors import AfrexError

DEBUG_ENV = "AFREX_DEBUG"
P = ParamSpec("P")
R = TypeVar("R")

# A fixed, wide layout when not on a terminal (CI logs, pipes, tests).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
# Errors are one line each, never wrapped, whatever the terminal width.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Machine output: stable, sorted keys, Decimals as strings, on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n")


def fail(error: AfrexError) -> NoReturn:
    """Print a one-line error (one per problem for config errors) and exit."""
    for line in error.lines():
        err_console.print(f"[bold red]error:[/] {line}", markup=True, highlight=False)
    raise typer.Exit(code=error.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn AfrexError into its message and exit code; tracebacks only with AFREX_DEBUG."""
    try:
        yield
    except AfrexError as error:
        if os.environ.get(DEBUG_ENV):
            raise
        fail(error)


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator for command functions: errors become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reported():
            return fn(*args, **kwargs)

    return wrapper
