"""The full-size run of the stratified reference check: every sampled task's reference through the judge.

Same sample and judge settings as tests/test_judge_references.py (which CI runs at one task per level). For each
level-4/5 task it also reports the reference's achievement S_a on the hard task of the same baseline (hard
targets are 1.2x the best found; the reference need not reach them). Writes a section of docs/evaluation.md.

    .venv/bin/python scripts/judge_sample.py
    .venv/bin/python scripts/judge_sample.py --per-level 1 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)

from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.evaluation.metrics import achievement  # noqa: E402
from diffbench.evaluation.sample import stratified_sample  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.schema import Difficulty, Task  # noqa: E402
from diffbench.tasks.suite import get_task, suite  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "evaluation.md"
BEGIN, END = "<!-- sample:begin -->", "<!-- sample:end -->"
OPTIONS = JudgeOptions(samples=3, repetitions=3, timing_inputs=3, inputs_seed=23)  # as the test at full size


def hard_sibling(task: Task) -> Task | None:
    return next(
        (
            t
            for t in suite()
            if t.level == task.level
            and t.difficulty == Difficulty.HARD
            and (t.model_id, t.conditioning, t.baseline_sampler)
            == (task.model_id, task.conditioning, task.baseline_sampler)
        ),
        None,
    )


def hard_achievement(task: Task, speedup: float | None, latency: float | None) -> str:
    hard = hard_sibling(task)
    target = hard.targets.get(PROFILE.name) if hard else None
    if hard is None or target is None or speedup is None or latency is None:
        return "-"
    if task.level == 4:
        return f"{hard.id}: {achievement(speedup, target.speedup):.2f}"
    return f"{hard.id}: {min(target.latency_s / latency, 1.0):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-level", type=int, default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    build_standins(PROFILE)
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="judge-sample-") as tmp:
        for task_id in stratified_sample(per_level=args.per_level):
            task = get_task(task_id)
            result = evaluate(task, task.reference_code, PROFILE, Path(tmp) / task_id, OPTIONS)
            target = task.targets.get(PROFILE.name)
            want = "-"
            if target is not None:
                want = f"U >= {target.speedup:.2f}" if task.level == 4 else f"<= {target.latency_s:.2f} s"
            row = (
                f"| {task.id} | {task.family} | {task.difficulty or '-'} | {'pass' if result.passed else 'FAIL'} | "
                f"{', '.join(result.error_modes) or '-'} | "
                + (f"{result.quality_loss:.2%}" if result.quality_loss is not None else "-")
                + " | "
                + (f"{result.speedup:.2f}" if result.speedup is not None else "-")
                + " | "
                + (f"{result.latency_s:.2f} s" if result.latency_s is not None else "-")
                + f" | {want} | {hard_achievement(task, result.speedup, result.latency_s)} | {result.seconds:.0f} |"
            )
            rows.append((result.passed, row))
            print(row, flush=True)
    wall = time.perf_counter() - start
    passed = sum(p for p, _ in rows)
    section = "\n".join(
        [
            BEGIN,
            f"Measured {datetime.date.today()} with `.venv/bin/python scripts/judge_sample.py` (profile "
            f"`{PROFILE.name}`; {OPTIONS.samples} quality inputs, {OPTIONS.repetitions} timing round(s) x "
            f"{OPTIONS.timing_inputs} inputs): {passed}/{len(rows)} references pass, {wall / 60:.1f} min.",
            "",
            "| task | family | difficulty | verdict | error modes | L | U | latency | target | hard task: S_a | s |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *(r for _, r in rows),
            END,
        ]
    )
    publish(DOC, BEGIN, END, section, args.no_write, head="# Evaluation\n")


if __name__ == "__main__":
    main()
