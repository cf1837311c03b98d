"""A suite's reference run (the extended suite, or `--suite video`): every task's reference through the judge, every
level 2-5 baseline through its static stage. Each verdict is kept in docs/extended_reference_run.json
(docs/video_reference_run.json) with the day, the machine and a digest of the task it judged (a redrawn task's old
verdict no longer counts), so runs of parts of the suite (`--task`, `--level`) add up to the full run; the script
then rewrites docs/extended.md's (docs/video.md's) run section from the whole record, and the references that failed
(id -> what failed, tasks/data/<suite>/failing_references.json, which the tests hold to failing).

Judge settings as the stratified sample's at full size (tests/test_judge_references.py; CI runs one task per level
and family of this suite with one timing round instead of three): 3 quality inputs, fixed inputs, and levels 4-5
timed at the judge's own size, three rounds of 3 inputs: the size the targets' margin is calibrated for. (One round
spreads wider: FLUX.1-dev's reference, judged at one round twelve times on 2026-11-29, ranged 1.80-2.22 s, max/min
1.23; its five stability runs at three rounds ranged 1.78-1.94 s, 1.09.) A hard task's target is
1.2x the best the calibration found and may have no solution: its row reports the reference's S_a, and the
summary counts it apart. A level-5 latency is read at the calibration's machine speed (the latency over the
baseline's slowdown, evaluation/machine_speed.py); a miss where the baseline ran over DRIFT_TOLERANCE times slower
than at calibration, where the judge reads the latency as measured, is reported as the machine's, not listed as a
failing reference. Run it alone (two torch processes on 2 cores spoil every timing):

    .venv/bin/python scripts/judge_extended.py
    .venv/bin/python scripts/judge_extended.py --level 1 --no-write
    .venv/bin/python scripts/judge_extended.py --task X3-001 --task X3-002   # these only, merged into the record
    .venv/bin/python scripts/judge_extended.py --suite video
"""

from __future__ import annotations

import argparse
import datetime
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)

from diffbench.calibration.machine_misses import fast_for, recorded_miss_reason  # noqa: E402
from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.evaluation.machine_speed import DRIFT_TOLERANCE  # noqa: E402
from diffbench.evaluation.result import ErrorMode, EvalResult  # noqa: E402
from diffbench.models.device import HALF_PRECISION_CPU_SLOWDOWN, describe_hardware  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.schema import Difficulty, Task  # noqa: E402
from diffbench.tasks.suite import known_failing_file, suite  # noqa: E402
from doc_sections import publish  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "extended.md"
RECORD = ROOT / "docs" / "extended_reference_run.json"
TEMPLATE = jinja2.Template((Path(__file__).parent / "templates" / "reference_run.md.j2").read_text())
BEGIN, END = "<!-- reference-run:begin -->", "<!-- reference-run:end -->"
OPTIONS = JudgeOptions(samples=3, repetitions=3, timing_inputs=3, inputs_seed=23)  # as the full-size sample


def figure(value: float | None, form: str) -> str:
    return form.format(value) if value is not None else "-"


def verdict_row(task: Task, result: EvalResult, baseline: str, wall_s: float) -> dict[str, Any]:
    target = task.targets.get(PROFILE.name)
    slower = result.baseline_slowdown
    if result.passed:
        verdict = "pass"
    elif task.difficulty == Difficulty.HARD:
        verdict = f"S_a {figure(result.achievement, '{:.2f}')}"
    else:
        verdict = "FAIL"  # or "machine": settled() says which, from the row
    want = "-"
    if target is not None:
        want = f"U >= {target.speedup:.2f}" if task.level == 4 else f"<= {target.latency_s:.2f} s"
    return {
        "task": task.id,
        "digest": task.digest,
        "checkpoint": task.model_id.split("/")[1],
        "difficulty": str(task.difficulty or "-"),
        "reference": f"{', '.join(m.key for m in task.methods) or '-'} ({task.sampler} {task.steps})",
        "passed": result.passed,
        "verdict": verdict,
        "error_modes": ", ".join(result.error_modes) or "-",
        "problem": result.first_problem,
        "L": figure(result.quality_loss, "{:.2%}"),
        "U": figure(result.speedup, "{:.2f}"),
        "latency": figure(result.latency_s, "{:.2f} s"),
        "latency_read": figure(result.latency_read_s, "{:.2f} s"),
        "target": want,
        "baseline_slowdown": round(slower, 2) if slower is not None else None,
        "timing_rounds": OPTIONS.repetitions if task.level >= 4 else None,
        "baseline": baseline,
        "seconds": round(wall_s),
        "judged": str(datetime.date.today()),
        "hardware": describe_hardware(PROFILE.device),
        "fast_half_precision": fast_for(task, PROFILE.device),  # the task's own half precision, where it has one
    }


def measures_the_machine(row: dict[str, Any], task: Task) -> bool:
    """A miss that measures the machine it ran on, not the reference: a level-4/5 relative-stage miss or a call
    past its deadline that calibration/machine_misses.py names (the rule the reference tests skip by)."""
    return recorded_miss_reason(task, row) is not None


def settled(row: dict[str, Any], task: Task) -> dict[str, Any]:
    """The row with its FAIL/machine verdict derived from its facts (a hard task's S_a and a pass stand)."""
    if row["passed"] or task.difficulty == Difficulty.HARD:
        return row
    return row | {"verdict": "machine" if measures_the_machine(row, task) else "FAIL"}


def judge(task: Task, tmp: Path) -> dict[str, Any]:
    start = time.perf_counter()
    result = evaluate(task, task.reference_code, PROFILE, tmp / task.id, OPTIONS)
    baseline = "-"
    if task.level >= 2:
        base = evaluate(task, task.baseline_code, PROFILE, tmp / f"{task.id}-baseline", OPTIONS)
        baseline = "fails stage 1" if base.error_modes == [ErrorMode.KEY_ATTRIBUTES] else "NOT AS EXPECTED"
    return verdict_row(task, result, baseline, time.perf_counter() - start)


def table_row(row: dict[str, Any]) -> str:
    return (
        f"| {row['task']} | {row['reference']} | {row['verdict']} | {row['error_modes']} | L {row['L']} | "
        f"U {row['U']} | {row['latency']} (read {row.get('latency_read', '-')}) | {row['target']} | "
        f"baseline {row['baseline']} | {row['seconds']} s |"
    )


def read_record(path: Path = RECORD) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text()) if path.is_file() else {}


@dataclass(frozen=True)
class RunDoc:
    """Where a reference run's record and doc section live, and how its section names the run."""

    script: str
    scope: str  # what it judges, and how to judge parts of it
    what: str  # "suite", "sample"
    record: Path
    begin: str
    end: str


EXTENDED_RUN = RunDoc("judge_extended.py", "the whole suite, or parts of it with `--task` or `--level`", "suite",
                      RECORD, BEGIN, END)  # fmt: skip
VIDEO_RUN = RunDoc("judge_extended.py --suite video", "the whole suite, or parts of it with `--task` or `--level`",
                   "suite", ROOT / "docs" / "video_reference_run.json", BEGIN, END)  # fmt: skip


@dataclass(frozen=True)
class SuiteRun:
    """A suite's reference run: its record and section, the doc it goes in and the page's head above the section."""

    run: RunDoc
    doc: Path
    head: str  # the template of the doc's text above the run section


SUITE_RUNS = {
    "extended": SuiteRun(EXTENDED_RUN, DOC, "extended_intro.md"),
    "video": SuiteRun(VIDEO_RUN, ROOT / "docs" / "video.md", "video_intro.md"),
}


def section(
    record: dict[str, dict[str, Any]], tasks: list[Task], run: RunDoc = EXTENDED_RUN
) -> tuple[str, dict[str, str], dict[str, dict[str, Any]]]:
    """The doc's run section over every task of the suite (or sample), the failing references (id -> what failed)
    and the record with its verdicts settled."""
    current = {t.id: settled(record[t.id], t) for t in tasks if t.id in record and record[t.id]["digest"] == t.digest}
    rows = [current[t.id] for t in tasks if t.id in current]
    normal = [r for r in rows if r["difficulty"] != Difficulty.HARD]
    hard = [r for r in rows if r["difficulty"] == Difficulty.HARD]
    failing = {
        r["task"]: f"{r['problem'] or r['error_modes']} (L {r['L']}, U {r['U']})"
        for r in normal
        if not r["passed"] and r["verdict"] != "machine"
    }
    baselines = [r["baseline"] for r in rows if r["baseline"] != "-"]
    text = TEMPLATE.render(
        begin=run.begin,
        end=run.end,
        script=run.script,
        scope=run.scope,
        what=run.what,
        record_name=run.record.name,
        rows=rows,
        days=sorted({r["judged"] for r in rows}),
        profile=PROFILE.name,
        options=OPTIONS,
        current=len(current),
        total=len(tasks),
        missing=[t.id for t in tasks if t.id not in current],
        normal=len(normal),
        normal_passed=sum(r["passed"] for r in normal),
        machine=[r["task"] for r in normal if r["verdict"] == "machine"],
        failing=list(failing),
        tolerance=DRIFT_TOLERANCE,
        half_slowdown=HALF_PRECISION_CPU_SLOWDOWN,
        hard=len(hard),
        hard_passed=sum(r["passed"] for r in hard),
        baselines=len(baselines),
        baselines_failing=baselines.count("fails stage 1"),
        minutes=round(sum(r["seconds"] for r in rows) / 60),
        machines=Counter(r["hardware"] for r in rows).most_common(),
        rounds=Counter(r["timing_rounds"] for r in rows if r.get("timing_rounds")).most_common(),
    )
    return text.strip("\n"), failing, record | current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITE_RUNS), default="extended")
    parser.add_argument("--level", type=int, default=None)
    parser.add_argument("--no-write", action="store_true", help="print the rows and the section, write nothing")
    parser.add_argument("--task", action="append", help="judge this task only (repeatable)")
    parser.add_argument("--render", action="store_true", help="judge nothing: rewrite the doc and the failures "
                        "file from the record")  # fmt: skip
    args = parser.parse_args()
    chosen = SUITE_RUNS[args.suite]
    record_file = chosen.run.record
    everything = list(suite(args.suite))
    tasks = [t for t in everything if (not args.task or t.id in args.task) and args.level in (None, t.level)]
    if args.render:
        tasks = []
    if tasks:
        build_standins(PROFILE)
    with tempfile.TemporaryDirectory(prefix="judge-extended-") as tmp:
        for task in tasks:
            row = judge(task, Path(tmp))
            print(table_row(row), flush=True)
            if not args.no_write:  # kept as it comes: an interrupted run loses only the task it was judging
                row_text = json.dumps(read_record(record_file) | {task.id: row}, indent=1, sort_keys=True)
                record_file.write_text(row_text + "\n")
    text, failing, record = section(read_record(record_file), everything, chosen.run)
    if args.no_write:
        print(text)
        return
    record_file.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    known_failing_file(args.suite).write_text(json.dumps(failing, indent=1, sort_keys=True) + "\n")
    head = (Path(__file__).parent / "templates" / chosen.head).read_text()
    publish(chosen.doc, BEGIN, END, text, False, head=head)


if __name__ == "__main__":
    main()
