"""The benchmark's solvers from the agent's side: `direct` (one LLM call, the paper's Table 1 baseline rows) and
`diffagent` (the whole loop), each turning one task into one solution module. The runner finds them through the
`diffbench.solvers` entry point, so diffbench never imports diffagent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diffagent.agent.loop import AgentOptions
from diffagent.agent.problem import from_task
from diffagent.report import Usage, history_json
from diffagent.solve import LLMSettings, direct, open_llm, run_agent, usage_of
from diffbench.errors import DiffbenchError
from diffbench.knowledge.loader import load_knowledge
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Task


@dataclass
class Solution:
    code: str | None  # None: the solver produced no module (the task then fails at its first stage)
    usage: Usage
    history: dict[str, Any] = field(default_factory=dict)  # the agent's candidates, for the report


def solve_direct(task: Task, profile: Profile, folder: Path, settings: LLMSettings, **_: Any) -> Solution:
    if settings.name is None:
        raise DiffbenchError("the direct solver asks a language model: give --llm")
    llm = open_llm(settings, folder)
    assert llm is not None
    kb = load_knowledge()
    code = direct(from_task(task, profile.name, kb), llm)
    return Solution(code, usage_of(llm, llm.name))


def solve_diffagent(
    task: Task, profile: Profile, folder: Path, settings: LLMSettings, options: AgentOptions | None = None, **_: Any
) -> Solution:
    kb = load_knowledge()
    problem = from_task(task, profile.name, kb)
    outcome, usage = run_agent(problem, kb, profile, folder, settings, options or AgentOptions(), profile.device)
    code = outcome.best.code if outcome.best is not None else None
    return Solution(code, usage, history_json(outcome, usage))
