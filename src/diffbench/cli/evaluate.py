"""`diffbench eval TASK_ID CANDIDATE.py`: judge one solution module on one task."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from diffbench.cli.console import console, friendly_errors, print_json
from diffbench.cli.options import DEFAULT, DeviceOption, JsonOption, ProfileOption, UnsafeOption, open_profile
from diffbench.errors import DiffbenchError
from diffbench.evaluation.inputs import read_prompts
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.tasks.suite import get_task


@friendly_errors
def eval_command(
    task_id: Annotated[str, typer.Argument(help="a task id, e.g. L4-003")],
    candidate: Annotated[Path, typer.Argument(help="the solution module to judge (docs/contract.md)")],
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    out: Annotated[Path | None, typer.Option("--out", help="folder for images, logs and result.json")] = None,
    samples: Annotated[int, typer.Option(min=3, help="quality inputs (the paper uses 10)")] = 10,
    reps: Annotated[int, typer.Option(min=1, help="timing rounds (levels 4-5)")] = 3,
    inputs_seed: Annotated[int | None, typer.Option(help="fix the drawn inputs (default: a secret draw)")] = None,
    prompts: Annotated[Path | None, typer.Option(help="prompt file, one per line (e.g. COCO captions)")] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="seconds allowed per generate() call after the first (default: from the baseline's time)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Judge CANDIDATE.py on TASK_ID: static attributes, run-time checks, quality, and for levels 4-5 L and U."""
    if not candidate.is_file():
        raise DiffbenchError(f"candidate file {candidate} does not exist")
    task = get_task(task_id)
    prof = open_profile(profile, device, unsafe_unconfined)
    options = JudgeOptions(
        samples=samples,
        repetitions=reps,
        inputs_seed=inputs_seed,
        prompts=read_prompts(prompts) if prompts else None,
        call_timeout_s=timeout,
    )
    out_dir = out or Path("diffbench-eval") / f"{task.id}-{candidate.stem}"
    result = evaluate(task, candidate.read_text(encoding="utf-8", errors="replace"), prof, out_dir, options)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        verdict = "[green]PASSED[/]" if result.passed else f"[red]FAILED[/] ({', '.join(result.error_modes) or '-'})"
        console.print(f"{task.id} on {prof.describe()}: {verdict}  in {result.seconds:.1f} s", highlight=False)
        table = Table(show_header=True)
        for col in ("stage", "result", "details"):
            table.add_column(col, overflow="fold")
        for stage in result.stages:
            state = {True: "[green]pass[/]", False: "[red]fail[/]", None: "-"}[stage.passed]
            table.add_row(stage.name, state, "\n".join(stage.problems) or "")
        console.print(table)
        if result.quality_metric:
            console.print(f"quality metric: {result.quality_metric}")
        if result.speedup is not None:
            console.print(
                f"L = {result.quality_loss:.2%}, U = {result.speedup:.2f}x, latency {result.latency_s:.3f} s "
                f"(baseline {result.baseline_timing}, candidate {result.candidate_timing})",
                highlight=False,
            )
        if result.harness_overhead_s is not None:
            console.print(
                f"harness overhead {result.harness_overhead_s:.1f} s of {result.seconds:.1f} s (outside the solutions' "
                f"load_pipeline and generate calls); sandbox: {result.sandbox.get('namespaces', '-')}",
                highlight=False,
            )
        if result.time_limits:
            console.print(f"time limits: {result.time_limits['rule']}", highlight=False)
        console.print(f"images and logs: {result.images_dir}")
    if not result.passed:
        raise typer.Exit(1)
