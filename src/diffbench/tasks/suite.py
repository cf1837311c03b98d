"""The task suite as stored in the package: one JSON object per line in `data/level<N>.jsonl`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from diffbench.errors import DiffbenchError
from diffbench.models.families import SUITES, UnknownModelError
from diffbench.tasks.schema import ID_PREFIX, LEVELS, Task

DATA_DIR = Path(__file__).parent / "data"
SUITE_DIRS = {"paper": DATA_DIR, "extended": DATA_DIR / "extended", "video": DATA_DIR / "video"}


def known_failing_file(name: str) -> Path:
    """A suite's references that its reference run (scripts/judge_extended.py [--suite video], tiny-cpu; each
    verdict in docs/<suite>_reference_run.json) saw fail: id -> what failed. Written by that script from the run's
    record, read by the tests that hold them to failing until fixed."""
    return SUITE_DIRS[name] / "failing_references.json"


class TaskFileError(DiffbenchError):
    """A task file that cannot be read as tasks: names the file, line, task id and field."""


class UnknownTaskError(DiffbenchError, LookupError):
    pass


def level_file(level: int, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"level{level}.jsonl"


def dump_line(task: Task) -> str:
    return json.dumps(task.model_dump(mode="json", exclude_defaults=False), ensure_ascii=False, sort_keys=False)


def write_suite(tasks: Iterable[Task], data_dir: Path = DATA_DIR) -> list[Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    by_level: dict[int, list[str]] = {level: [] for level in LEVELS}
    for task in tasks:
        by_level[task.level].append(dump_line(task))
    paths = []
    for level, lines in by_level.items():
        path = level_file(level, data_dir)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        paths.append(path)
    return paths


def _parse_line(path: Path, number: int, line: str) -> Task:
    where = f"{path.name} line {number}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as err:
        raise TaskFileError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(raw, dict):
        raise TaskFileError(f"{where}: expected a JSON object, found {type(raw).__name__}")
    task_id = raw.get("id", "<no id>")
    try:
        return Task.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(task)"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise TaskFileError(f"{where}: task {task_id}: field {field}: {first['msg']}{more}") from None
    except UnknownModelError as err:
        raise TaskFileError(f"{where}: task {task_id}: field model_id: {err}") from None


def read_file(path: Path) -> list[Task]:
    if not path.is_file():
        raise TaskFileError(f"task file {path} is missing; regenerate with `diffbench tasks generate`")
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            tasks.append(_parse_line(path, number, line))
    return tasks


def load_suite(data_dir: Path = DATA_DIR) -> list[Task]:
    """Every task, levels 1-5 in id order; a bad file raises TaskFileError naming the task and field."""
    tasks: list[Task] = []
    seen: set[str] = set()
    for level in LEVELS:
        path = level_file(level, data_dir)
        for task in read_file(path):
            if task.level != level:
                raise TaskFileError(f"{path.name}: task {task.id}: field level: {task.level} in the level-{level} file")
            if task.id in seen:
                raise TaskFileError(f"{path.name}: task {task.id}: field id: duplicate id")
            seen.add(task.id)
            tasks.append(task)
    return tasks


def suite_dir(name: str) -> Path:
    if name not in SUITE_DIRS:
        raise UnknownTaskError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    return SUITE_DIRS[name]


@cache
def suite(name: str = "paper") -> tuple[Task, ...]:
    """A packaged suite (paper: the 604 tasks; extended: the families added since), read once per process."""
    return tuple(load_suite(suite_dir(name)))


def all_tasks() -> list[Task]:
    """Every packaged task of every suite (paper first); ids never clash (L1-001, X1-001, V1-001)."""
    return [t for name in SUITES for t in suite(name)]


def get_task(task_id: str, tasks: Iterable[Task] | None = None) -> Task:
    """A task by id; without `tasks`, looked up in the suite its prefix names (L: paper, X: extended, V: video)."""
    if tasks is None:
        name = next((n for n, prefix in ID_PREFIX.items() if task_id.startswith(prefix)), "paper")
        tasks = suite(name)
    for task in tasks:
        if task.id == task_id:
            return task
    raise UnknownTaskError(
        f"unknown task {task_id!r}; ids look like L1-001 ... L5-093 (paper suite), X1-001 ... "
        "(extended suite; `diffbench tasks list --suite extended`) or V1-001 ... (video suite)"
    )
