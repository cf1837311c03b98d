"""The `diffbench` command: one sub-command group per part of the benchmark."""

from __future__ import annotations

import typer

from diffbench.cli.calibrate import calibrate_command
from diffbench.cli.evaluate import eval_command
from diffbench.cli.methods import app as methods_app
from diffbench.cli.models import app as models_app
from diffbench.cli.report import report_command
from diffbench.cli.run import run_command
from diffbench.cli.tasks import app as tasks_app

app = typer.Typer(
    name="diffbench",
    help="DiffBench: a benchmark for LLM-written diffusion acceleration code.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.add_typer(methods_app, name="methods")
app.add_typer(tasks_app, name="tasks")
app.command("eval")(eval_command)
app.command("calibrate")(calibrate_command)
app.command("run")(run_command)
app.command("report")(report_command)
