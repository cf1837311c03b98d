"""The `diffagent` command: `solve` turns a sentence (and optionally a baseline module) into faster code."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from diffagent import __version__
from diffbench.cli.agent_options import (
    BestOfNOption,
    CodeRestartsOption,
    DebugRoundsOption,
    GenerationsOption,
    LatencyMarginOption,
    MarginOption,
    NoDebuggerOption,
    NoGaOption,
    NoKnowledgeOption,
    NoTunerOption,
    ParentsOption,
    PopulationOption,
    SamplesOption,
)
from diffbench.cli.console import console, friendly_errors, quiet_transformers
from diffbench.cli.options import DEFAULT, DeviceOption, ProfileOption, UnsafeOption, ready
from diffbench.errors import DiffbenchError
from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile
from diffbench.runner.agent_settings import given

app = typer.Typer(
    name="diffagent",
    help="DiffAgent: writes accelerated diffusion pipeline code under a quality bound.",
    no_args_is_help=True,
    add_completion=False,
)

LLMOption = Annotated[
    str | None,
    typer.Option("--llm", help="openai/MODEL, anthropic/MODEL or replay/PATH; default: the offline heuristic "
                 "planner (no LLM)"),
]  # fmt: skip


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(f"diffagent {__version__}")


@app.command()
@friendly_errors
def solve(
    prompt: Annotated[
        str,
        typer.Argument(
            help="what you want, e.g. 'Take an SD1.5 pipeline (DDIM, 50 steps) as the "
            "baseline and reach a 2.5x speedup with at most 5% quality loss'; the flags below state it exactly"
        ),
    ] = "",
    baseline: Annotated[
        Path | None, typer.Option(help="your baseline module (docs/contract.md); default: composed from the prompt")
    ] = None,
    model: Annotated[str | None, typer.Option(help="exact: the checkpoint (hub id or name), over the words")] = None,
    scheduler: Annotated[str | None, typer.Option(help="exact: the baseline's scheduler ('Euler a', 'DDIM')")] = None,
    steps: Annotated[int | None, typer.Option(help="exact: the baseline's step count")] = None,
    size: Annotated[str | None, typer.Option(help="exact: WxH (1216x832) or one side (1024)")] = None,
    strength: Annotated[float | None, typer.Option(help="exact: img2img strength")] = None,
    guidance: Annotated[float | None, typer.Option(help="exact: guidance scale")] = None,
    goal: Annotated[str | None, typer.Option(help="exact: 2x | 1.5s | 800ms | 60% (of today's latency)")] = None,
    bound: Annotated[str | None, typer.Option(help="exact: the quality bound, 5% or 0.05")] = None,
    request_file: Annotated[
        Path | None, typer.Option("--request", help="a TOML file with the same fields, and request = 'the words'")
    ] = None,
    llm: LLMOption = None,
    llm_base_url: Annotated[str | None, typer.Option(help="an OpenAI-compatible server (vLLM, Ollama, ...)")] = None,
    stream: Annotated[bool, typer.Option(help="stream the model's replies")] = False,
    llm_retries: Annotated[int, typer.Option(min=0, help="retries on 429, 5xx and timeouts")] = 3,
    llm_timeout: Annotated[float, typer.Option(help="seconds per model call")] = 120.0,
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    out: Annotated[Path, typer.Option(help="folder for solution.py, report.md, front.png, history.json")] = Path(
        "diffagent-out"
    ),
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
    margin: MarginOption = None,
    latency_margin: LatencyMarginOption = None,
    samples: SamplesOption = None,
    seed: Annotated[int, typer.Option(help="the selector's seed")] = 0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the baseline and goal as read, and every assumption; run nothing")
    ] = False,
) -> None:
    """Find faster code for PROMPT's pipeline under its quality bound; write the code and a report to --out."""
    quiet_transformers()
    prof = get_profile(profile, device)
    activate(prof)  # before anything imports huggingface_hub
    from diffagent.agent.llm_reader import read_with_llm
    from diffagent.agent.loop import AgentOptions
    from diffagent.agent.problem import from_prompt
    from diffagent.agent.request_exact import exact_request
    from diffagent.report import describe_result, write_report
    from diffagent.solve import LLMSettings, open_llm, run_agent
    from diffbench.knowledge.loader import load_knowledge
    from diffbench.models.loading import require

    kb = load_knowledge()
    if baseline is not None and not baseline.is_file():
        raise DiffbenchError(f"baseline file {baseline} does not exist")
    settings = LLMSettings(llm, llm_base_url, stream, llm_retries, llm_timeout)
    client = None
    if llm is not None:  # the model reads the request, as the paper's planner does (the rules read it offline)
        out.mkdir(parents=True, exist_ok=True)
        client = open_llm(settings, out)
    read = (lambda words, model_id: read_with_llm(words, client, kb, model_id)) if client else None
    flags = dict(model=model, scheduler=scheduler, steps=steps, size=size, strength=strength, guidance=guidance,
                 goal=goal, bound=bound)  # fmt: skip
    exact = exact_request(flags, request_file)
    words = prompt or exact.request
    problem = from_prompt(words, kb, baseline.read_text() if baseline else None, read, exact)
    if client is not None:
        console.print(f"request read by {client.name}", highlight=False)
    for line in problem.understanding():
        console.print(line, highlight=False, markup=False)
    if dry_run:
        return
    ready(prof, unsafe_unconfined)  # its device is checked once the request is read
    require(problem.pipeline.model_id, prof)
    options = AgentOptions.of(
        given(population=population, parents=parents, generations=generations, code_restarts=code_restarts,
              debug_rounds=debug_rounds, samples=samples, no_knowledge=no_knowledge, no_ga=no_ga,
              best_of_n=best_of_n, no_debugger=no_debugger, no_tuner=no_tuner, margin=margin,
              latency_margin=latency_margin, seed=seed)
    )  # fmt: skip
    planner = llm or "heuristic planner (no LLM)"
    console.print(f"[bold]diffagent solve[/] on {prof.describe()} with {planner}", highlight=False)
    start = time.perf_counter()

    def progress(event: str) -> None:
        console.print(f"[dim]{time.perf_counter() - start:6.0f}s[/] {escape(event)}", highlight=False)

    out.mkdir(parents=True, exist_ok=True)
    outcome, usage = run_agent(problem, kb, prof, out, settings, options, progress, llm=client)
    paths = write_report(outcome, out, usage, prof)
    for note in outcome.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    verdict = "[green]goal met[/]" if outcome.met else "[red]goal not met[/]"
    console.print(f"{verdict} in {outcome.seconds:.0f} s; {len(outcome.history)} candidates, {usage.calls} LLM calls")
    if not outcome.met and outcome.problem.goal is not None:
        for line in describe_result(outcome):
            console.print(line, highlight=False, markup=False)
    for name, path in paths.items():
        console.print(f"  {name:9} {path}", highlight=False)
    if not outcome.met:
        raise typer.Exit(1)
