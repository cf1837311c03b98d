"""`diffbench tasks validate`: the suite is what it claims to be.

Every reference and baseline compiles; the static parser extracts from every reference exactly its task's key
attributes and from every baseline its declared baseline attributes; on levels 2-5 the baseline fails the key
attributes (it lacks what the task asks for); the level counts are the suite's; and the committed files are
byte for byte what the generator writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from diffbench.evaluation.static import analyze
from diffbench.knowledge.loader import KnowledgeBase, load_knowledge
from diffbench.tasks.attributes import mismatches
from diffbench.tasks.schema import LEVELS, SUITE_LEVELS, Task
from diffbench.tasks.suite import DATA_DIR, dump_line, level_file


def check_task(task: Task, kb: KnowledgeBase) -> list[str]:
    problems = []
    reference, baseline = analyze(task.reference_code, kb), analyze(task.baseline_code, kb)
    for name, result in (("reference", reference), ("baseline", baseline)):
        if result.compile_error:
            problems.append(f"{name} code does not compile: {result.compile_error}")
    if reference.attributes is not None:
        for line in mismatches(task.key_attributes, reference.attributes, task.baseline_attributes):
            problems.append(f"reference fails its key attributes: {line}")
    if baseline.attributes is not None:
        for line in mismatches(task.baseline_attributes, baseline.attributes):
            problems.append(f"baseline code is not its declared baseline: {line}")
        if task.level >= 2 and not mismatches(task.key_attributes, baseline.attributes, task.baseline_attributes):
            problems.append("baseline passes the key attributes: it does not differ from the reference in the methods")
    return problems


def check_counts(tasks: list[Task], suite: str = "paper") -> list[str]:
    counts = Counter(t.level for t in tasks)
    return [
        f"level {lvl}: {counts.get(lvl, 0)} tasks, expected {n}"
        for lvl, n in SUITE_LEVELS[suite].items()
        if counts.get(lvl) != n
    ]


def check_regenerates(tasks: list[Task], data_dir: Path = DATA_DIR) -> list[str]:
    """Where the committed files differ from the generator's output."""
    problems = []
    for level in LEVELS:
        expected = [dump_line(t) + "\n" for t in tasks if t.level == level]
        path = level_file(level, data_dir)
        actual = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
        for number, (want, have) in enumerate(zip(expected, actual, strict=False), start=1):
            if want != have:
                problems.append(f"{path.name} line {number}: differs from the generator's output")
                break
        if len(expected) != len(actual):
            problems.append(f"{path.name}: {len(actual)} lines, the generator writes {len(expected)}")
    return problems


def validate(
    tasks: list[Task],
    kb: KnowledgeBase | None = None,
    progress: Callable[[Task], None] | None = None,
    suite: str = "paper",
) -> dict[str, list[str]]:
    """Problems by task id ("suite" for the whole); empty when everything holds."""
    kb = kb or load_knowledge()
    problems: dict[str, list[str]] = {}
    if suite_problems := check_counts(tasks, suite):
        problems["suite"] = suite_problems
    for task in tasks:
        if found := check_task(task, kb):
            problems[task.id] = found
        if progress:
            progress(task)
    return problems
