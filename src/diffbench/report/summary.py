"""The figures of a run, computed from its database: the paper's Table 1 (S_p per level and their average),
Table 2 (S_a on the hard tasks of levels 4 and 5) and Figure 4 (error modes per level), plus per task what a
report shows (verdict, L, U, latency, the target, the agent's candidates, the image pairs)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean
from typing import Any

from pydantic import BaseModel

from diffbench.evaluation.result import ErrorMode
from diffbench.models.families import SUITES
from diffbench.runner.store import open_existing
from diffbench.tasks.schema import ID_PREFIX
from diffbench.tasks.suite import all_tasks

LEVELS = (1, 2, 3, 4, 5)
MODES = [str(m) for m in ErrorMode]


class LevelFigures(BaseModel):
    level: int
    tasks: int
    passed: int
    pass_rate: float  # S_p
    hard_tasks: int = 0
    achievement: float | None = None  # S_a: the mean over hard tasks (0 for a hard task that failed before stage 3)
    errors: dict[str, int]  # the first error mode of each failed task


class TaskFigures(BaseModel):
    task_id: str
    level: int
    family: str
    difficulty: str | None
    passed: bool
    error_modes: list[str]
    first_problem: str | None
    quality_loss: float | None
    speedup: float | None
    latency_s: float | None
    achievement: float | None
    target_speedup: float | None
    target_latency_s: float | None
    delta: float | None
    images_dir: str | None
    image_pairs: list[dict[str, str | None]]
    candidates: list[dict[str, Any]]


class RunSummary(BaseModel):
    run_dir: str
    suites: list[str]  # which task suites the summarised tasks come from (paper, extended)
    solver: str
    llm: str
    profile: str
    options: str
    tasks: int
    passed: int
    average_pass_rate: float | None  # the mean of the per-level S_p, over the levels in the run
    average_achievement: float | None
    levels: list[LevelFigures]
    usage: dict[str, Any]
    planners: list[str]  # who wrote the modules, as the solvers report it (a model, or "heuristic planner (no LLM)")
    task_figures: list[TaskFigures]

    @property
    def label(self) -> str:
        return f"{self.solver} ({', '.join(self.planners)})" if self.planners else self.solver


def _image_pairs(result: dict[str, Any]) -> list[dict[str, str | None]]:
    for stage in result.get("stages", []):
        if stage["name"] == "absolute quality":
            return stage.get("figures", {}).get("images", [])
    return []


def summarize(run_dir: Path, suite: str | None = None) -> RunSummary:
    """A run's figures; with `suite`, only its tasks of that suite (paper or extended)."""
    deltas = {t.id: t.delta for t in all_tasks()}
    with open_existing(run_dir) as store:
        meta = store.meta()
        rows = [r for r in store.results() if suite is None or r["task_id"].startswith(ID_PREFIX[suite])]
        tasks = []
        for row in rows:
            result = json.loads(row["result"])
            candidates = [json.loads(c["data"]) for c in store.candidates(row["task_id"])]
            for c in candidates:
                c.pop("code", None)
            tasks.append(
                TaskFigures(
                    task_id=row["task_id"],
                    level=row["level"],
                    family=row["family"],
                    difficulty=row["difficulty"],
                    passed=bool(row["passed"]),
                    error_modes=json.loads(row["error_modes"]),
                    first_problem=row["first_problem"],
                    quality_loss=row["quality_loss"],
                    speedup=row["speedup"],
                    latency_s=row["latency_s"],
                    achievement=row["achievement"],
                    target_speedup=row["target_speedup"],
                    target_latency_s=row["target_latency_s"],
                    delta=deltas.get(row["task_id"]),
                    images_dir=row["images_dir"],
                    image_pairs=_image_pairs(result),
                    candidates=candidates,
                )
            )
        usage = store.usage()
        planners = sorted(
            {json.loads(r["usage"]).get("llm") for r in store.db.execute("SELECT usage FROM solutions")} - {None}
        )
    levels = []
    for level in LEVELS:
        mine = [t for t in tasks if t.level == level]
        if not mine:
            continue
        hard = [t for t in mine if t.difficulty == "hard"]
        errors = {m: 0 for m in MODES}
        for t in mine:
            if not t.passed and t.error_modes:
                errors[t.error_modes[0]] += 1
        levels.append(
            LevelFigures(
                level=level,
                tasks=len(mine),
                passed=sum(t.passed for t in mine),
                pass_rate=sum(t.passed for t in mine) / len(mine),
                hard_tasks=len(hard),
                achievement=fmean(t.achievement or 0.0 for t in hard) if hard else None,
                errors=errors,
            )
        )
    rates = [lv.pass_rate for lv in levels]
    achieved = [lv.achievement for lv in levels if lv.achievement is not None]
    return RunSummary(
        run_dir=str(run_dir), suites=[n for n in SUITES if any(t.task_id.startswith(ID_PREFIX[n]) for t in tasks)],
        solver=meta.get("solver", "?"), llm=meta.get("llm", ""),
        profile=meta.get("profile", "?"), options=meta.get("options", "{}"), tasks=len(tasks),
        passed=sum(t.passed for t in tasks), average_pass_rate=fmean(rates) if rates else None,
        average_achievement=fmean(achieved) if achieved else None, levels=levels, usage=usage,
        planners=[p for p in planners if not p.startswith("none")], task_figures=tasks,
    )  # fmt: skip
