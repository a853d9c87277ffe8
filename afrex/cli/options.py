"""Options the CLI's commands share: one spelling, one help text, one place."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table for people, json for machines.")
]
AllTenants = Annotated[
    str | None, typer.Option("--tenant", "-t", help="One tenant id (stack name); default: all.")
]
OneTenant = Annotated[str, typer.Option("--tenant", "-t", help="The tenant id (stack name).")]
MonthOption = Annotated[
    str | None, typer.Option("--month", help="Month, YYYY-MM (UTC); default: this month so far.")
]
