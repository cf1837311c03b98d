"""The benchmark's solvers from the agent's side: `direct` (one LLM call, the paper's Table 1 baseline rows) and
`diffagent` (the whole loop), each turning one task into one solution module. The runner finds them through the
`diffbench.solvers` entry point (see diffbench.runner.solvers for the interface), so diffbench never imports
diffagent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from diffagent.agent.loop import AgentOptions
from diffagent.agent.problem import from_task
from diffagent.report import history_json
from diffagent.solve import LLMSettings, direct, open_llm, run_agent, usage_of
from diffbench.errors import DiffbenchError
from diffbench.knowledge.loader import load_knowledge
from diffbench.models.profiles import Profile
from diffbench.runner.solvers import SolverOutput
from diffbench.tasks.schema import Task


def solve_direct(
    task: Task, profile: Profile, folder: Path, *, llm: str | None = None, llm_base_url: str | None = None,
    on_exchange: Callable[[dict[str, Any]], None] | None = None, **_: Any,
) -> SolverOutput:  # fmt: skip
    if llm is None:
        raise DiffbenchError("the direct solver asks a language model: give --llm")
    client = open_llm(LLMSettings(llm, llm_base_url), folder, on_exchange)
    assert client is not None
    code = direct(from_task(task, profile.name, load_knowledge()), client)
    return SolverOutput(code, vars(usage_of(client, client.name)))


def solve_diffagent(
    task: Task, profile: Profile, folder: Path, *, llm: str | None = None, llm_base_url: str | None = None,
    options: dict[str, Any] | None = None, on_exchange: Callable[[dict[str, Any]], None] | None = None, **_: Any,
) -> SolverOutput:  # fmt: skip
    kb = load_knowledge()
    problem = from_task(task, profile.name, kb)
    settings = LLMSettings(llm, llm_base_url)
    outcome, usage = run_agent(
        problem, kb, profile, folder, settings, AgentOptions.of(options or {}), on_exchange=on_exchange
    )
    code = outcome.best.code if outcome.best is not None else None
    return SolverOutput(code, vars(usage), history_json(outcome, usage))
