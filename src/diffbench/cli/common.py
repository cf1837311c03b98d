"""What every diffbench command shares: the console, the profile option, and one-line errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from diffbench.errors import DiffbenchError
from diffbench.models.profiles import DEFAULT_PROFILE, Profile, get_profile

# Piped output (CI logs, files) gets a width that fits full hub ids; a terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile", "-p", help="tiny-cpu (stand-ins on the CPU), tiny-cuda (stand-ins on a GPU) or cuda (real weights)"
    ),
]
DeviceOption = Annotated[
    str | None, typer.Option("--device", help="override the profile's device: cpu, cuda or cuda:N")
]
UnsafeOption = Annotated[
    bool,
    typer.Option(
        "--unsafe-unconfined",
        help="run candidates even where no read-only sandbox can be made (no bubblewrap, no mount namespace)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON on stdout instead of a table")]
DEFAULT = DEFAULT_PROFILE

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


def open_profile(
    name: str, device: str | None = None, unsafe_unconfined: bool = False, loads_here: bool = True
) -> Profile:
    """The profile a model-running command works under: on its device (checked here, one line if missing), and,
    when this process loads models itself (`loads_here`), pointed at its model store: call that before anything
    imports huggingface_hub. Commands whose children do all the loading pass the profile's env to them instead."""
    from diffbench.models.loading import activate
    from diffbench.sandbox.confinement import allow_unconfined

    profile = get_profile(name, device)
    profile.require_device()
    if loads_here:
        activate(profile)
    if unsafe_unconfined:
        allow_unconfined()
    return profile


def quiet_transformers() -> None:
    """Silence transformers' import-time warnings (e.g. 'CLIPImageProcessor requires torchvision')."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
