"""The extended suite's full reference run: every task's reference through the judge, every level 2-5 baseline
through its static stage. Writes docs/extended.md's run section and the references that failed (id -> what failed,
tasks/data/extended/failing_references.json, which the tests hold to failing).

Judge settings as the stratified sample's (tests/test_judge_references.py; CI runs one task per level and family
of this suite with them): 3 quality inputs, one timing round of 3 inputs, fixed inputs. A hard task's target is
1.2x the best the calibration found and may have no solution: its row reports the reference's S_a, and the
summary counts it apart. Run it alone (two torch processes on 2 cores spoil every timing):

    .venv/bin/python scripts/judge_extended.py
    .venv/bin/python scripts/judge_extended.py --level 1 --no-write
    .venv/bin/python scripts/judge_extended.py --task X3-001 --task X3-002   # these only; merged into the failures
"""

from __future__ import annotations

import argparse
import datetime
import json
import tempfile
import time
from pathlib import Path

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)

from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.evaluation.result import ErrorMode  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.schema import Difficulty  # noqa: E402
from diffbench.tasks.suite import KNOWN_FAILING_FILE, suite  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "extended.md"
BEGIN, END = "<!-- reference-run:begin -->", "<!-- reference-run:end -->"
OPTIONS = JudgeOptions(samples=3, repetitions=1, timing_inputs=3, inputs_seed=23)  # as the stratified sample


def figure(value: float | None, form: str) -> str:
    return form.format(value) if value is not None else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--level", type=int, default=None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--task", action="append", help="judge this task only (repeatable): its verdict is merged "
                        "into the failures file; the doc's table is left alone")  # fmt: skip
    args = parser.parse_args()
    build_standins(PROFILE)
    if args.task:
        tasks = [t for t in suite("extended") if t.id in args.task]
    else:
        tasks = [t for t in suite("extended") if args.level in (None, t.level)]
    rows, verdicts, failing = [], [], {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="judge-extended-") as tmp:
        for task in tasks:
            result = evaluate(task, task.reference_code, PROFILE, Path(tmp) / task.id, OPTIONS)
            baseline = "-"
            if task.level >= 2:
                base = evaluate(task, task.baseline_code, PROFILE, Path(tmp) / f"{task.id}-baseline", OPTIONS)
                baseline = "fails stage 1" if base.error_modes == [ErrorMode.KEY_ATTRIBUTES] else "NOT AS EXPECTED"
            target = task.targets.get(PROFILE.name)
            want = "-"
            if target is not None:
                want = f"U >= {target.speedup:.2f}" if task.level == 4 else f"<= {target.latency_s:.2f} s"
            hard = task.difficulty == Difficulty.HARD
            verdicts.append((task, result.passed, baseline))
            if not result.passed and not hard:
                failing[task.id] = (
                    f"{result.first_problem or ', '.join(result.error_modes)} (L "
                    f"{figure(result.quality_loss, '{:.2%}')}, U {figure(result.speedup, '{:.2f}')})"
                )
            row = (
                f"| {task.id} | {task.model_id.split('/')[1]} | {task.difficulty or '-'} | "
                f"{', '.join(m.key for m in task.methods) or '-'} ({task.sampler} {task.steps}) | "
                f"{'pass' if result.passed else ('S_a ' + figure(result.achievement, '{:.2f}') if hard else 'FAIL')} | "
                f"{', '.join(result.error_modes) or '-'} | {figure(result.quality_loss, '{:.2%}')} | "
                f"{figure(result.speedup, '{:.2f}')} | {figure(result.latency_s, '{:.2f} s')} | {want} | {baseline} | "
                f"{result.seconds:.0f} |"
            )
            rows.append(row)
            print(row, flush=True)
    wall = time.perf_counter() - start
    not_hard = [(t, p) for t, p, _ in verdicts if t.difficulty != Difficulty.HARD]
    hard = [(t, p) for t, p, _ in verdicts if t.difficulty == Difficulty.HARD]
    baselines = [b for t, _, b in verdicts if t.level >= 2]
    summary = (
        f"{sum(p for _, p in not_hard)}/{len(not_hard)} references pass (levels 1-3, and the easy and medium "
        f"targets of levels 4-5); hard targets met by {sum(p for _, p in hard)}/{len(hard)} references; "
        f"{baselines.count('fails stage 1')}/{len(baselines)} level 2-5 baselines fail at the static stage; "
        f"{wall / 60:.1f} min."
    )
    section = "\n".join(
        [
            BEGIN,
            f"Measured {datetime.date.today()} with `.venv/bin/python scripts/judge_extended.py"
            f"{f' --level {args.level}' if args.level else ''}` (profile `{PROFILE.name}`, stand-ins, this machine's "
            f"CPU; {OPTIONS.samples} quality inputs, {OPTIONS.repetitions} timing round x {OPTIONS.timing_inputs} "
            f"inputs): {summary}",
            "",
            "| task | checkpoint | difficulty | reference (sampler steps) | verdict | error modes | L | U | latency "
            "| target | baseline | s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            END,
        ]
    )
    print(summary)
    if args.task and not args.no_write:
        known = json.loads(KNOWN_FAILING_FILE.read_text()) if KNOWN_FAILING_FILE.is_file() else {}
        merged = {i: why for i, why in known.items() if i not in args.task} | failing
        KNOWN_FAILING_FILE.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        print(f"merged {len(tasks)} verdicts into {KNOWN_FAILING_FILE}")
        return
    if not args.no_write and args.level is None:
        KNOWN_FAILING_FILE.write_text(json.dumps(failing, indent=1, sort_keys=True) + "\n")
    publish(DOC, BEGIN, END, section, args.no_write, head=(Path(__file__).parent / "templates" / "extended_intro.md")
            .read_text())  # fmt: skip


if __name__ == "__main__":
    main()
