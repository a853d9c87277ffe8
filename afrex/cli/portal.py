"""`afrex portal`: placeholder until the portal lands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Customer portal data.", no_args_is_help=True)
