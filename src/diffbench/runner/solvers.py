"""The solvers a run can use: `reference` and `baseline` here, and any registered under the `diffbench.solvers`
entry point (diffagent registers `direct` and `diffagent`), so diffbench never imports the agent.

A solver turns one task into one solution module: `solver(task, profile, folder, *, llm, llm_base_url, options,
on_exchange) -> SolverOutput`. `folder` is the task's own folder in the run; `on_exchange` receives every LLM
exchange as it happens (the runner writes it to the run database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from diffbench.errors import DiffbenchError
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Task

ENTRY_POINT_GROUP = "diffbench.solvers"
NEEDS_LLM = {"direct"}


@dataclass
class SolverOutput:
    code: str | None  # None: no module came out (the task fails at its first stage)
    usage: dict[str, Any] = field(default_factory=dict)  # llm, calls, tokens_in, tokens_out, cost_usd
    history: dict[str, Any] = field(default_factory=dict)  # the agent's candidates, for the report


class Solver(Protocol):
    def __call__(
        self,
        task: Task,
        profile: Profile,
        folder: Path,
        *,
        llm: str | None = None,
        llm_base_url: str | None = None,
        options: dict[str, Any] | None = None,
        on_exchange: Callable[[dict[str, Any]], None] | None = None,
    ) -> SolverOutput: ...


def reference(task: Task, profile: Profile, folder: Path, **_: Any) -> SolverOutput:
    """The task's ground truth (levels 4-5: the calibration's best configuration)."""
    return SolverOutput(task.reference_code, {"llm": "none (reference code)"})


def baseline(task: Task, profile: Profile, folder: Path, **_: Any) -> SolverOutput:
    """The task's baseline, unchanged: it should fail every level but 1 (where it is the reference)."""
    return SolverOutput(task.baseline_code, {"llm": "none (baseline code)"})


BUILTIN: dict[str, Solver] = {"reference": reference, "baseline": baseline}


def solver_names() -> list[str]:
    return sorted({*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def get_solver(name: str) -> Solver:
    if name in BUILTIN:
        return BUILTIN[name]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    raise DiffbenchError(f"unknown solver {name!r}; known: {', '.join(solver_names())}")
