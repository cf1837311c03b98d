"""The agent's command-line options, declared once for `diffagent solve` and `diffbench run --solver diffagent`;
their defaults and `given()` are in runner/agent_settings.py, which the agent's core reads without typer."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from diffbench.runner import agent_settings as defaults


def _count_option(minimum: int, what: str, default: int) -> Any:
    return Annotated[int | None, typer.Option(min=minimum, help=f"{what} (default {default})")]


PopulationOption = _count_option(1, "P: candidates per generation", defaults.DEFAULT_POPULATION)
ParentsOption = _count_option(0, "M: parents refined per generation", defaults.DEFAULT_PARENTS)
GenerationsOption = _count_option(1, "T_sel: generations at most", defaults.DEFAULT_GENERATIONS)
CodeRestartsOption = _count_option(1, "T_code: coder restarts per plan", defaults.DEFAULT_CODE_RESTARTS)
DebugRoundsOption = _count_option(0, "T_debug: repairs per written module", defaults.DEFAULT_DEBUG_ROUNDS)
SamplesOption = _count_option(1, "agent: validation inputs per measurement", defaults.DEFAULT_SAMPLES)
NoKnowledgeOption = Annotated[bool, typer.Option("--no-knowledge", help="ablation: no knowledge base")]
NoGaOption = Annotated[bool, typer.Option("--no-ga", help="ablation: one plan, no genetic selection")]
BestOfNOption = Annotated[
    bool, typer.Option("--best-of-n", help="ablation: P x T_sel fresh plans, best kept, no parents refined")
]
NoDebuggerOption = Annotated[bool, typer.Option("--no-debugger", help="ablation: no repair")]
NoTunerOption = Annotated[
    bool, typer.Option("--no-tuner", help="ablation: the planner's own numbers, no TPE over refinements")
]


def _margin_option(goal: str, default: float) -> Any:
    help_ = f"how far its own measurement must clear a {goal} goal to call it met [{default}]"
    return Annotated[float | None, typer.Option(min=0.0, help=help_)]


MarginOption = _margin_option("speedup", defaults.SUCCESS_MARGIN)
LatencyMarginOption = _margin_option("latency", defaults.LATENCY_MARGIN)
