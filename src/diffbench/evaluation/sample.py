"""A stratified sample of tasks for checking the judge against the suite's own reference code."""

from __future__ import annotations

from diffbench.models.families import FAMILIES, families_of
from diffbench.tasks.schema import LEVELS, Difficulty, Task
from diffbench.tasks.suite import suite


def _pick(tasks: list[Task], family: str, difficulty: Difficulty | None) -> Task | None:
    mine = [t for t in tasks if t.family == family and t.difficulty == difficulty]
    plain = [t for t in mine if t.conditioning == FAMILIES[family].plain_conditioning]
    return (plain or mine or [None])[0]


def stratified_sample(
    per_level: int | None = None, tasks: tuple[Task, ...] | None = None, suite_name: str = "paper"
) -> list[str]:
    """Task ids: for each level one task per family (plain conditioning first), levels 4-5 alternating easy and
    medium by family. `per_level` keeps the first n of each level, rotating which families come first so that
    a small sample still spreads over families."""
    tasks = tasks or suite(suite_name)
    out: list[str] = []
    families = [f.key for f in families_of(suite_name)]
    for level in LEVELS:
        at_level = [t for t in tasks if t.level == level]
        rotated = families[level - 1 :] + families[: level - 1]
        chosen = []
        for i, family in enumerate(rotated):
            difficulty = (Difficulty.EASY, Difficulty.MEDIUM)[i % 2] if level >= 4 else None
            task = _pick(at_level, family, difficulty) or _pick(at_level, family, Difficulty.EASY)
            if task is not None:
                chosen.append(task.id)
        out.extend(chosen[:per_level] if per_level else chosen)
    return out
