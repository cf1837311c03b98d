"""`diffbench run`: solve and judge a selection of tasks into a resumable run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from diffbench.cli.agent_options import (
    BestOfNOption,
    CodeRestartsOption,
    DebugRoundsOption,
    GenerationsOption,
    NoDebuggerOption,
    NoGaOption,
    NoKnowledgeOption,
    NoTunerOption,
    ParentsOption,
    PopulationOption,
    SamplesOption,
)
from diffbench.cli.console import console, friendly_errors
from diffbench.cli.options import DEFAULT, DeviceOption, ProfileOption, UnsafeOption, open_profile
from diffbench.errors import DiffbenchError
from diffbench.evaluation.result import EvalResult
from diffbench.runner.agent_settings import given
from diffbench.tasks.schema import Task


@friendly_errors
def run_command(
    solver: Annotated[str, typer.Option(help="reference, baseline, direct or diffagent")],
    llm: Annotated[str | None, typer.Option(help="openai/MODEL, anthropic/MODEL or replay/PATH")] = None,
    llm_base_url: Annotated[str | None, typer.Option(help="an OpenAI-compatible server")] = None,
    level: Annotated[list[int] | None, typer.Option(help="levels to run (repeatable)")] = None,
    family: Annotated[list[str] | None, typer.Option(help="families to run (repeatable): sd15, sdxl, dit, ...")] = None,
    task: Annotated[list[str] | None, typer.Option(help="task ids to run (repeatable; any suite)")] = None,
    suite: Annotated[
        str, typer.Option("--suite", "-s", help="paper (604 tasks), extended (FLUX, SD3.5, Qwen) or video (Wan)")
    ] = ("paper"),
    limit: Annotated[int | None, typer.Option(min=1, help="the first N selected tasks")] = None,
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    run_dir: Annotated[Path, typer.Option(help="the run folder (resumed when it exists)")] = Path("runs/latest"),
    executor: Annotated[str, typer.Option(help="local or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="an existing Ray cluster (default: auto/local)")] = None,
    ray_cpus: Annotated[int | None, typer.Option(help="CPUs per judge job under Ray (default: a node's)")] = None,
    samples: Annotated[int, typer.Option(min=3, help="quality inputs per task (the paper's 10)")] = 10,
    reps: Annotated[int, typer.Option(min=1, help="timing rounds (levels 4-5)")] = 3,
    population: PopulationOption = None,
    parents: ParentsOption = None,
    generations: GenerationsOption = None,
    code_restarts: CodeRestartsOption = None,
    debug_rounds: DebugRoundsOption = None,
    no_knowledge: NoKnowledgeOption = False,
    no_ga: NoGaOption = False,
    best_of_n: BestOfNOption = False,
    no_debugger: NoDebuggerOption = False,
    no_tuner: NoTunerOption = False,
    agent_samples: SamplesOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the final line")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="one JSON line per finished task on stdout")] = False,
) -> None:
    """Solve and judge the selected tasks; results go to RUN_DIR/run.sqlite as they finish. Re-run the same
    command to resume: only what is missing is done."""
    from diffbench.evaluation.judge import JudgeOptions
    from diffbench.runner.run import Runner, RunSpec, select_tasks
    from diffbench.tasks.suite import all_tasks, suite_dir
    from diffbench.tasks.suite import suite as packaged_suite

    prof = open_profile(profile, device, unsafe_unconfined)
    if executor not in ("local", "ray"):
        raise DiffbenchError(f"unknown executor {executor!r}; local or ray")
    suite_dir(suite)  # an unknown suite: one line, exit 2
    pool = all_tasks() if task else list(packaged_suite(suite))
    tasks = select_tasks(pool, level, family, task, limit)
    options = given(population=population, parents=parents, generations=generations, code_restarts=code_restarts,
                    debug_rounds=debug_rounds, samples=agent_samples, no_knowledge=no_knowledge, no_ga=no_ga,
                    best_of_n=best_of_n, no_debugger=no_debugger, no_tuner=no_tuner)  # fmt: skip
    spec = RunSpec(
        solver=solver, profile=prof, llm=llm, llm_base_url=llm_base_url, agent_options=options,
        judge=JudgeOptions(samples=samples, repetitions=reps), executor=executor,
        ray_address=ray_address, ray_cpus=ray_cpus,
    )  # fmt: skip
    show = not quiet and not jsonl
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"), console=console, disable=not show,
    )  # fmt: skip
    bar_id = bar.add_task(f"{solver} on {prof.name}", total=len(tasks), rate="", eta="-")

    def on_result(task_: Task, result: EvalResult, progress) -> None:
        if jsonl:
            line = {"task_id": task_.id, "level": task_.level, "passed": result.passed,
                    "error_modes": [str(m) for m in result.error_modes], "quality_loss": result.quality_loss,
                    "speedup": result.speedup, "latency_s": result.latency_s, "seconds": round(result.seconds, 1),
                    "done": progress.done, "total": progress.total}  # fmt: skip
            typer.echo(json.dumps(line))
        eta = progress.eta_s
        bar.update(bar_id, completed=progress.done, rate=f"pass {progress.passed}/{progress.done}",
                   eta="-" if eta is None else f"{eta / 60:.0f} min")  # fmt: skip
        if show:
            verdict = "[green]pass[/]" if result.passed else f"[red]fail[/] {', '.join(result.error_modes)}"
            console.print(f"{task_.id} {verdict} ({result.seconds:.0f} s)", highlight=False)

    runner = Runner(run_dir, spec, on_result, on_event=lambda e: None)
    with bar:
        done = runner.run(tasks)
        bar.update(bar_id, completed=done.done, rate=f"pass {done.passed}/{done.done}")
    if not jsonl:
        console.print(
            f"{done.done}/{done.total} tasks judged, {done.passed} passed, {prof.describe()}; "
            f"run folder {run_dir} (diffbench report {run_dir})",
            highlight=False,
        )
