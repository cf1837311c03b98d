"""Putting the agent together for one problem: the offline planner or a language model, the ablations, the
recording of every exchange, and the files a run leaves behind. Used by `diffagent solve` and by the benchmark's
`direct` and `diffagent` solvers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffagent.agent.coder import LLMCoder
from diffagent.agent.debugger import Debugger, Developer, SmokeTest
from diffagent.agent.extract import extract_module
from diffagent.agent.heuristic import HeuristicPlanner
from diffagent.agent.loop import AgentOptions, DiffAgent, Outcome
from diffagent.agent.plan import Usage
from diffagent.agent.planner import LLMPlanner
from diffagent.agent.problem import Problem
from diffagent.agent.tuner import Tuner, agent_space
from diffagent.llm.base import LLM, Message
from diffagent.llm.recording import RecordingLLM
from diffagent.llm.registry import get_llm
from diffagent.prompt import render
from diffbench.errors import DiffbenchError
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.profiles import Profile

EXCHANGES_FILE = "llm.jsonl"


@dataclass
class LLMSettings:
    name: str | None = None  # None: the offline heuristic planner
    base_url: str | None = None
    stream: bool = False
    retries: int = 3
    timeout_s: float = 120.0


def open_llm(
    settings: LLMSettings, folder: Path, on_exchange: Callable[[dict[str, Any]], None] | None = None
) -> RecordingLLM | None:
    """The model client, recording every exchange to folder/llm.jsonl (appended to: a resumed run keeps all)."""
    if settings.name is None:
        return None
    inner = get_llm(settings.name, settings.base_url, settings.stream, settings.retries, settings.timeout_s)
    return RecordingLLM(inner, folder / EXCHANGES_FILE, on_exchange)


def usage_of(llm: RecordingLLM | None, planner_name: str) -> Usage:
    if llm is None:
        return Usage(planner_name)
    return Usage(llm.name, llm.calls, llm.tokens_in, llm.tokens_out, llm.cost_usd)


def build_agent(
    problem: Problem,
    kb: KnowledgeBase,
    profile: Profile,
    folder: Path,
    llm: LLM | None,
    options: AgentOptions,
    on_event: Callable[[str], None] | None = None,
) -> DiffAgent:
    smoke = SmokeTest(problem, profile, folder / "smoke")
    if llm is None:
        if not options.use_knowledge:
            raise DiffbenchError("the offline planner is the knowledge base: --no-knowledge needs --llm")
        delta = problem.goal.delta if problem.goal else 0.05
        asked = problem.requested_config() if problem.goal is None else None
        planner = HeuristicPlanner(kb, problem.pipeline, profile.name, delta=delta, asked=asked, device=profile.device)
        planner = _tuned(planner, problem, kb, profile, options)
        # Its code is composed from tested templates: at levels 4-5 the measurement itself is the quick run.
        developer = Developer(planner, smoke if problem.goal is None else None, None)
        return DiffAgent(problem, planner, developer, profile, folder, options, on_event)
    llm_planner = _tuned(LLMPlanner(llm, kb, problem, options.use_knowledge), problem, kb, profile, options)
    coder = LLMCoder(llm, kb, problem, options.use_knowledge)
    debugger = Debugger(llm) if options.use_debugger else None
    developer = Developer(coder, smoke, debugger, options.code_restarts, options.debug_rounds)
    return DiffAgent(problem, llm_planner, developer, profile, folder, options, on_event)


def _tuned(planner: Any, problem: Problem, kb: KnowledgeBase, profile: Profile, options: AgentOptions) -> Any:
    """The planner with TPE choosing its refinements' numbers (agent/tuner.py), where there is a goal to tune
    for and the tuner is on."""
    if problem.goal is None or not options.tune:
        return planner
    space = agent_space(kb, problem.pipeline, profile)
    return Tuner(planner, space, problem.goal, options.seed)


def direct(problem: Problem, llm: LLM) -> str:
    """The paper's Table 1 baseline rows: one call with the task and its baseline, the module in the reply."""
    prompt = render("direct", task_prompt=problem.prompt, baseline_code=problem.baseline_code)
    reply = llm.complete([Message("user", prompt)], temperature=0.2).text
    return extract_module(reply) or reply


def run_agent(
    problem: Problem,
    kb: KnowledgeBase,
    profile: Profile,
    folder: Path,
    settings: LLMSettings,
    options: AgentOptions,
    on_event: Callable[[str], None] | None = None,
    on_exchange: Callable[[dict[str, Any]], None] | None = None,
    llm: RecordingLLM | None = None,
) -> tuple[Outcome, Usage]:
    """The agent on `problem`; `llm`: a client already opened (the one that read the request), else from settings."""
    llm = llm or open_llm(settings, folder, on_exchange)
    agent = build_agent(problem, kb, profile, folder / "work", llm, options, on_event)
    outcome = agent.solve()
    return outcome, usage_of(llm, outcome.author)
