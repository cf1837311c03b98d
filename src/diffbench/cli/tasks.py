"""`diffbench tasks ...`: the task suites (paper: the 604 tasks; extended: the families added since)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.syntax import Syntax
from rich.table import Table

from diffbench.cli.console import console, err_console, friendly_errors, print_json
from diffbench.cli.options import DEFAULT, JsonOption, ProfileOption
from diffbench.models.families import family as family_by_key
from diffbench.tasks.schema import LEVEL_NAMES, SUITE_LEVELS, Task
from diffbench.tasks.stats import TITLES
from diffbench.tasks.stats import stats as suite_stats
from diffbench.tasks.suite import get_task, load_suite, suite_dir

app = typer.Typer(help="The task suite: list, show, count, validate and regenerate tasks.", no_args_is_help=True)

LevelOption = Annotated[int | None, typer.Option("--level", "-l", min=1, max=5, help="only this level (1-5)")]
FamilyOption = Annotated[str | None, typer.Option("--family", "-f", help="only this family (sd15, dit, ...)")]
SuiteOption = Annotated[
    str,
    typer.Option(
        "--suite",
        "-s",
        help="paper (604 tasks), extended (FLUX.1, SD3.5, Qwen-Image; X1-001...) or video (Wan; V1-001...)",
    ),
]


def _summary(task: Task) -> dict:
    return {
        "id": task.id,
        "level": task.level,
        "family": task.family,
        "model_id": task.model_id,
        "conditioning": str(task.conditioning),
        "resolution": task.resolution,
        "baseline": f"{task.baseline_sampler} {task.baseline_steps}",
        "methods": list(task.required_methods),
        "difficulty": str(task.difficulty) if task.difficulty else None,
    }


@app.command("list")
@friendly_errors
def list_tasks(
    level: LevelOption = None, family: FamilyOption = None, suite: SuiteOption = "paper", as_json: JsonOption = False
) -> None:
    """Tasks with their pipeline, baseline and required methods."""
    if family is not None:
        family_by_key(family)
    chosen = load_suite(suite_dir(suite))
    tasks = [t for t in chosen if (level is None or t.level == level) and (family in (None, t.family))]
    if as_json:
        print_json([_summary(t) for t in tasks])
        return
    table = Table(title=f"{len(tasks)} task(s)")
    for col in ("id", "model", "conditioning", "res", "baseline", "asks for"):
        table.add_column(col, overflow="fold")
    for t in tasks:
        asks = ", ".join(t.required_methods) or (f"{t.difficulty} target" if t.difficulty else "plain pipeline")
        table.add_row(t.id, t.model_id, str(t.conditioning), str(t.resolution), _summary(t)["baseline"], asks)
    console.print(table)


@app.command()
@friendly_errors
def show(
    task_id: Annotated[str, typer.Argument(help="a task id, e.g. L2-017")],
    profile: ProfileOption = DEFAULT,
    baseline: Annotated[bool, typer.Option("--baseline", help="also print the baseline code")] = False,
    as_json: JsonOption = False,
) -> None:
    """A task's prompt (as a user of PROFILE reads it), key attributes and reference code."""
    task = get_task(task_id)
    if as_json:
        print_json(task.model_dump(mode="json") | {"rendered_prompt": task.prompt_for(profile)})
        return
    console.rule(f"{task.id}: level {task.level} ({LEVEL_NAMES[task.level]})")
    console.print(f"[bold]Prompt[/] ({profile} profile):", task.prompt_for(profile), highlight=False)
    console.print("[bold]Key attributes[/] (matched exactly; extras allowed):")
    for name, value in task.key_attributes.judged().items():
        console.print(f"  {name}: {value}", highlight=False)
    if task.level >= 4:
        target = task.targets.get(profile)
        told = target.model_dump() if target else f"not calibrated for {profile} (run `diffbench calibrate`)"
        console.print(f"[bold]Targets[/] ({task.difficulty}, delta {task.delta:.0%}): {told}", highlight=False)
        console.print(f"[bold]Reference[/] comes from: {task.reference_source}")
    console.print("[bold]Reference code:[/]")
    console.print(Syntax(task.reference_code, "python", line_numbers=False))
    if baseline:
        console.print("[bold]Baseline code:[/]")
        console.print(Syntax(task.baseline_code, "python", line_numbers=False))


@app.command()
@friendly_errors
def stats(suite: SuiteOption = "paper", as_json: JsonOption = False) -> None:
    """Counts by level, family, conditioning, resolution, sampler and method (the paper's Figure 2)."""
    data = suite_stats(list(load_suite(suite_dir(suite))))
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['total']} tasks[/]")
    for key, title in TITLES.items():
        table = Table(title=title, title_justify="left")
        table.add_column(title)
        table.add_column("tasks", justify="right")
        table.add_column("share", justify="right")
        total = sum(data[key].values())
        for name, count in data[key].items():
            label = f"{name} ({LEVEL_NAMES[int(name)]})" if key == "by_level" else name
            table.add_row(label, str(count), f"{count / total:.0%}")
        console.print(table)
    console.print(f"level-4/5 tasks calibrated: {data['calibrated']}")


@app.command()
@friendly_errors
def validate(suite: SuiteOption = "paper", as_json: JsonOption = False) -> None:
    """Check the suite: code compiles, the parser finds each reference's key attributes, baselines fail them
    (levels 2-5), the level counts, and that the files are exactly what the generator writes."""
    from diffbench.builders.generate import generate
    from diffbench.builders.validate import check_regenerates
    from diffbench.builders.validate import validate as validate_suite

    tasks = list(load_suite(suite_dir(suite)))
    problems = validate_suite(tasks, suite=suite)
    if drift := check_regenerates(generate(suite=suite), suite_dir(suite)):
        problems["suite"] = problems.get("suite", []) + drift
    levels = Counter(t.level for t in tasks)
    if as_json:
        print_json(
            {"ok": not problems, "suite": suite, "tasks": len(tasks), "by_level": dict(levels), "problems": problems}
        )
    else:
        for where, lines in problems.items():
            for line in lines:
                err_console.print(f"[red]{where}[/]: {line}", highlight=False)
        verdict = "[green]ok[/]" if not problems else f"[red]{sum(map(len, problems.values()))} problem(s)[/]"
        counts = ", ".join(f"L{lvl} {levels.get(lvl, 0)}/{n}" for lvl, n in SUITE_LEVELS[suite].items())
        console.print(f"{suite} suite, {len(tasks)} tasks ({counts}): {verdict}")
    if problems:
        raise typer.Exit(1)


@app.command()
@friendly_errors
def generate(
    check: Annotated[bool, typer.Option("--check", help="only report whether the files would change")] = False,
    suite: SuiteOption = "paper",
) -> None:
    """Regenerate a suite's data files from the knowledge base and the phrasings (deterministic)."""
    from diffbench.builders.generate import generate as generate_suite
    from diffbench.builders.validate import check_regenerates
    from diffbench.tasks.suite import write_suite

    tasks = generate_suite(suite=suite)
    if check:
        drift = check_regenerates(tasks, suite_dir(suite))
        for line in drift:
            err_console.print(line, highlight=False)
        console.print("up to date" if not drift else "would change")
        raise typer.Exit(1 if drift else 0)
    for path in write_suite(tasks, suite_dir(suite)):
        console.print(f"wrote {path}")
