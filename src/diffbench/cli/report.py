"""`diffbench report RUN_DIR`: the paper's tables and error modes for one run or several side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diffbench.cli.console import console, friendly_errors, print_json
from diffbench.cli.options import JsonOption


@friendly_errors
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="a run folder made by `diffbench run`")],
    compare: Annotated[list[Path] | None, typer.Option(help="more run folders to put beside it (repeatable)")] = None,
    html: Annotated[Path | None, typer.Option(help="write a self-contained HTML page here")] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="only the tasks of this suite (paper, extended or video)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print Table 1 (S_p per level), Table 2 (S_a on hard tasks) and the error modes; --html writes the page."""
    from diffbench.report.summary import summarize
    from diffbench.report.terminal import print_report
    from diffbench.tasks.suite import suite_dir

    if suite is not None:
        suite_dir(suite)  # an unknown name: one line, exit 2
    runs = [summarize(folder, suite) for folder in [run_dir, *(compare or [])]]
    if html is not None:
        from diffbench.report.html import render_html

        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(runs), encoding="utf-8")
    if as_json:
        data = [run.model_dump(mode="json") for run in runs]
        print_json(data[0] if len(data) == 1 else data)
        return
    print_report(runs, console)
    if html is not None:
        console.print(f"HTML report: {html}", highlight=False)
