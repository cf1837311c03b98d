"""A benchmark run: the tasks chosen, each solved by the solver and judged by an executor, everything written to
the run database as it happens, and a re-run of the same command doing only what is missing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diffbench.errors import DiffbenchError, RunAbort
from diffbench.evaluation.judge import JudgeOptions
from diffbench.evaluation.result import EvalResult
from diffbench.models.profiles import Profile
from diffbench.runner.executors import Job, make_executor
from diffbench.runner.solvers import NEEDS_LLM, get_solver
from diffbench.runner.store import RunStore
from diffbench.tasks.schema import Task


@dataclass
class RunSpec:
    solver: str
    profile: Profile
    llm: str | None = None
    llm_base_url: str | None = None
    agent_options: dict[str, Any] = field(default_factory=dict)  # what a user gave (runner/agent_settings.py given())
    judge: JudgeOptions = field(default_factory=JudgeOptions)
    executor: str = "local"
    ray_address: str | None = None
    ray_cpus: int | None = None

    def identity(self) -> dict[str, str]:
        """What a run folder may not mix: solver, model, profile and the agent's settings."""
        return {
            "solver": self.solver,
            "llm": self.llm or "",
            "profile": self.profile.name,
            "options": json.dumps(self.agent_options, sort_keys=True),
        }


@dataclass
class Progress:
    total: int
    done: int = 0
    passed: int = 0
    started: float = field(default_factory=time.perf_counter)
    new: int = 0  # finished by this invocation (the ETA counts only these)

    @property
    def eta_s(self) -> float | None:
        if not self.new:
            return None
        return (time.perf_counter() - self.started) / self.new * (self.total - self.done)


def select_tasks(
    tasks: list[Task],
    levels: list[int] | None = None,
    families: list[str] | None = None,
    ids: list[str] | None = None,
    limit: int | None = None,
) -> list[Task]:
    """The tasks a run covers, in suite order: by id, else by level and family; the first `limit` of them."""
    if ids:
        by_id = {t.id: t for t in tasks}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise DiffbenchError(f"unknown task id {unknown[0]!r} (ids look like L1-001 ... L5-093, or X1-001 ...)")
        chosen = [by_id[i] for i in dict.fromkeys(ids)]
    else:
        chosen = [t for t in tasks if (not levels or t.level in levels) and (not families or t.family in families)]
    if not chosen:
        raise DiffbenchError("no task matches the selection")
    return chosen[:limit] if limit else chosen


class Runner:
    def __init__(
        self,
        run_dir: Path,
        spec: RunSpec,
        on_result: Callable[[Task, EvalResult, Progress], None] | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.spec = spec
        self.on_result = on_result or (lambda *_: None)
        self.on_event = on_event or (lambda _: None)
        if spec.solver in NEEDS_LLM and not spec.llm:
            raise DiffbenchError(f"the {spec.solver} solver asks a language model: give --llm")
        self.solver = get_solver(spec.solver)

    def run(self, tasks: list[Task]) -> Progress:
        with RunStore(self.run_dir) as store:
            store.claim(self.spec.identity(), {"executor": self.spec.executor})
            done = store.done()
            progress = Progress(total=len(tasks), done=sum(t.id in done for t in tasks))
            progress.passed = sum(r["passed"] for r in store.results() if r["task_id"] in {t.id for t in tasks})
            todo = [t for t in tasks if t.id not in done]
            if not todo:
                return progress
            executor = make_executor(
                self.spec.executor, self.spec.profile, self.spec.judge, self.spec.ray_address, self.spec.ray_cpus
            )

            def record(job: Job, result: EvalResult) -> None:
                store.save_result(result, job.task, job.solve_seconds)
                progress.done += 1
                progress.new += 1
                progress.passed += int(result.passed)
                self.on_result(job.task, result, progress)

            executor.run(self._jobs(store, todo), record)
            return progress

    def _jobs(self, store: RunStore, todo: list[Task]) -> Iterator[Job]:
        for task in todo:
            folder = self.run_dir / "tasks" / task.id
            saved = store.solution(task.id)
            if saved is not None:  # solved before a kill: judge it again, do not pay for it again
                code, seconds = saved["code"], saved["seconds"]
            else:
                code, seconds = self._solve(store, task, folder)
            yield Job(task, code or "", folder / "judge", seconds)

    def _solve(self, store: RunStore, task: Task, folder: Path) -> tuple[str | None, float]:
        self.on_event(f"{task.id}: solving with {self.spec.solver}")
        start = time.perf_counter()
        try:
            out = self.solver(
                task, self.spec.profile, folder / "solver", llm=self.spec.llm, llm_base_url=self.spec.llm_base_url,
                options=self.spec.agent_options, on_exchange=lambda entry: store.save_exchange(task.id, entry),
            )  # fmt: skip
            code, usage, history = out.code, out.usage, out.history
        except RunAbort:
            raise
        except DiffbenchError as err:  # this task's failure (no usable plan, say), not the run's
            code, usage, history = None, {"error": str(err)}, {"error": str(err)}
        seconds = time.perf_counter() - start
        store.save_solution(task.id, code, usage, history, seconds)
        if code is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "solution.py").write_text(code)
        return code, seconds
