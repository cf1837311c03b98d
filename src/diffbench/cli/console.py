"""What every command prints through: the console (wide enough for hub ids when piped), JSON output, and a
DiffbenchError as one line on stderr with exit code 2 instead of a traceback."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from diffbench.errors import DiffbenchError

# Piped output (CI logs, files) gets a width that fits full hub ids; a terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a DiffbenchError into `error: ...` on stderr and exit code 2, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DiffbenchError as err:
            err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def quiet_transformers() -> None:
    """Silence transformers' import-time warnings (e.g. 'CLIPImageProcessor requires torchvision')."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
