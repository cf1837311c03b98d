"""The `diffagent` command. `solve` arrives with the agent (planner, coder, debugger, selector)."""

from __future__ import annotations

import typer

from diffagent import __version__

app = typer.Typer(
    name="diffagent",
    help="DiffAgent: writes accelerated diffusion pipeline code under a quality bound.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(f"diffagent {__version__}")
