"""The one family of errors the CLI knows how to report.

Every error carries a one-line message that says what is wrong and how to fix
it, and an exit code: 2 for bad input (nothing was attempted), 1 for an
operation that was attempted and failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError


class AfrexError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message

    def lines(self) -> list[str]:
        """The error as printed: one line (a config error: one per problem)."""
        return [str(self)]


class BadInput(AfrexError):
    """The operator asked for something invalid; nothing was changed."""

    exit_code = 2


class ConfigError(BadInput):
    """A stack's configuration or the catalog does not validate.

    Holds one line per problem, each naming the config key and the fix.
    """

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))

    def lines(self) -> list[str]:
        return [f"{self.source}: {problem}" for problem in self.problems]


class OperationFailed(AfrexError):
    """Something the operator asked for was attempted and did not succeed."""

    exit_code = 1


def validation_problems(error: ValidationError, prefix: str = "") -> list[str]:
    """Turn a pydantic ValidationError into `key: message` lines."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"] if part != "__root__")
        message = str(item["msg"]).removeprefix("Value error, ")
        named = re.match(r"^([a-z_][\w.]*): (.+)$", message)
        if not location and named:  # a model-level check that names its field
            location, message = named.groups()
        key = f"{prefix}.{location}" if prefix and location else (prefix or location)
        problems.append(f"{key}: {message}" if key else message)
    return problems
