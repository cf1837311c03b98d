"""A/B of when the judge starts its timing baseline's child, on one level-4/5 task: beside the candidate's child
(`MeasuringSession.prepare_timing`, the judge since 2026-12-07) or at timing (before), alternating, printing each
judging's latency, baseline slowdown against calibration, U and harness overhead. Run it alone (two torch processes
on 2 cores spoil every timing):

    .venv/bin/python scripts/ab_timing_child.py L5-001 --pairs 4
    .venv/bin/python scripts/ab_timing_child.py L5-001 --pairs 4 --at-timing-first
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)  # before anything imports huggingface_hub

from diffbench.evaluation import measuring  # noqa: E402
from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.evaluation.measure import interleave  # noqa: E402
from diffbench.tasks.suite import get_task  # noqa: E402

EARLY = (measuring.MeasuringSession.time, measuring.MeasuringSession.prepare_timing)


def time_at_timing(self: measuring.MeasuringSession, candidate: Any, plan: Any) -> Any:
    """The judge's timing before 2026-12-07: the baseline's child started and loaded when timing begins."""

    def timed(inp: Any, name: str) -> tuple[dict, float]:
        answer, waited = self._generate(child, inp, name)
        self.baseline_times.append(answer["seconds"])
        return answer, waited

    with self._child("baseline-timing") as child:
        self._load_baseline(child)
        return interleave(timed, candidate, plan)


def judge(task_id: str, mode: str) -> dict[str, float]:
    if mode == "early":
        measuring.MeasuringSession.time, measuring.MeasuringSession.prepare_timing = EARLY
    else:
        measuring.MeasuringSession.time = time_at_timing  # type: ignore[method-assign]
        measuring.MeasuringSession.prepare_timing = lambda self: None  # type: ignore[method-assign]
    task = get_task(task_id)
    with tempfile.TemporaryDirectory() as tmp:
        r = evaluate(task, task.reference_code, PROFILE, Path(tmp), JudgeOptions(samples=3))
    return {"latency": r.latency_s or 0.0, "slowdown": r.baseline_slowdown or 0.0, "U": r.speedup or 0.0,
            "overhead": r.harness_overhead_s or 0.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--at-timing-first", action="store_true")
    args = parser.parse_args()
    order = ("at timing", "early") if args.at_timing_first else ("early", "at timing")
    rows: dict[str, list[dict[str, float]]] = {mode: [] for mode in order}
    for _ in range(args.pairs):
        for mode in order:
            rows[mode].append(row := judge(args.task, mode))
            print(f"{mode:9s} " + " ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    for mode, found in rows.items():
        means = {k: statistics.mean(r[k] for r in found) for k in found[0]}
        print(f"mean {mode:9s} " + " ".join(f"{k} {v:.3f}" for k, v in means.items()))


if __name__ == "__main__":
    main()
