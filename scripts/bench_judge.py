"""How far the judge can be trusted: the same candidate measured several times in a row, and the harness's cost.

Runs `diffbench.evaluation.judge.evaluate` on one level-4 task's reference code `--runs` times (default 5), with
fixed inputs, and reports each run's speedup U, the max/min ratio of the speedups (bound 1.08), and
the harness overhead per candidate (wall seconds outside the solutions' load_pipeline and generate calls: child
start-up, imports, quality scoring, images) with the phases it is spent in. Writes the profile's section of
docs/benchmarks.md.

    .venv/bin/python scripts/bench_judge.py                 # L4-001, 5 runs, tiny-cpu
    .venv/bin/python scripts/bench_judge.py --task L4-062 --runs 3 --no-write
    python scripts/bench_judge.py --profile tiny-cuda      # on a GPU machine (its own section)
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import tempfile
from pathlib import Path

from script_profile import profile_from_argv

PROFILE = profile_from_argv()  # before anything imports huggingface_hub

from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.models.device import describe_hardware  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.suite import get_task  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
RATIO_BOUND = 1.08  # max/min of the speedups of the same module (issue 16)
OVERHEAD_BOUND = 0.25  # the harness's share of an evaluation's wall time
BEGIN, END = f"<!-- judge-{PROFILE.name}:begin -->", f"<!-- judge-{PROFILE.name}:end -->"


def run(task_id: str, runs: int, options: JudgeOptions) -> list[dict]:
    task = get_task(task_id)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-judge-") as tmp:
        for i in range(runs):
            result = evaluate(task, task.reference_code, PROFILE, Path(tmp) / f"run-{i}", options)
            if result.speedup is None:
                raise SystemExit(f"run {i}: no timing ({result.error_modes}: {result.stages[-1].problems})")
            rows.append(
                {
                    "passed": result.passed,
                    "speedup": result.speedup,
                    "loss": result.quality_loss,
                    "baseline": result.baseline_timing,
                    "candidate": result.candidate_timing,
                    "seconds": result.seconds,
                    "overhead": result.harness_overhead_s,
                    "phases": result.phases,
                }
            )
            print(f"run {i}: U = {result.speedup:.3f}, overhead {result.harness_overhead_s:.1f} s", flush=True)
    return rows


def dominant(rows: list[dict]) -> str:
    """The phase with the most wall time (median over the runs), outside the solutions' own total."""
    phases = {k: statistics.median(r["phases"].get(k, 0.0) for r in rows) for k in rows[0]["phases"]}
    phases.pop("inside the solutions' calls", None)
    name = max(phases, key=lambda k: phases[k])
    return f"{name}, {phases[name]:.1f} s"


def render(task_id: str, rows: list[dict], options: JudgeOptions) -> str:
    task = get_task(task_id)
    speedups = [r["speedup"] for r in rows]
    ratio = max(speedups) / min(speedups)
    overhead = statistics.median(r["overhead"] for r in rows)
    seconds = statistics.median(r["seconds"] for r in rows)
    share = overhead / seconds
    lines = [
        BEGIN,
        f"## Judge stability and harness overhead ({PROFILE.name})",
        "",
        f"Measured {datetime.date.today()} with `.venv/bin/python scripts/bench_judge.py --task {task_id} --runs "
        f"{len(rows)} --profile {PROFILE.name}` ({PROFILE.describe()}; {describe_hardware(PROFILE.device)}; no other "
        f"process running). The candidate is {task_id}'s reference "
        f"code ({task.family}, {task.model_id}, {task.resolution} px; {task.reference_source} reference) judged "
        f"{len(rows)} times in a row; each run: {options.samples} quality inputs, {options.repetitions} timing "
        f"rounds x {options.timing_inputs} fresh inputs, baseline and candidate interleaved in two children.",
        "",
        "| run | U | L | baseline s (median, min-max) | candidate s (median, min-max) | run s | overhead s |",
        "|---|---|---|---|---|---|---|",
    ]

    def spread(t: dict) -> str:
        return f"{t['median_s']:.3f} ({t['min_s']:.3f}-{t['max_s']:.3f})"

    for i, r in enumerate(rows):
        lines.append(
            f"| {i} | {r['speedup']:.3f} | {r['loss']:.2%} | {spread(r['baseline'])} | {spread(r['candidate'])} | "
            f"{r['seconds']:.1f} | {r['overhead']:.1f} |"
        )
    lines += [
        "",
        f"Speedup max/min = {ratio:.3f} (bound {RATIO_BOUND}: {'met' if ratio <= RATIO_BOUND else 'NOT met'}). "
        f"Harness overhead per candidate: median {overhead:.1f} s of a median {seconds:.1f} s run, {share:.0%} "
        f"(bound {OVERHEAD_BOUND:.0%}: {'met' if share <= OVERHEAD_BOUND else 'NOT met'}; the first run also makes "
        "the cached baseline images).",
        "",
        "Where a run's wall time goes (median over the runs, seconds; phases overlap the solutions' own calls, which "
        "the last row sums):",
        "",
        "| phase | s |",
        "|---|---|",
        *(
            f"| {name} | {statistics.median(r['phases'].get(name, 0.0) for r in rows):.1f} |"
            for name in rows[0]["phases"]
        ),
        "",
        f"What dominates: {dominant(rows)}. The harness's own share is the overhead column: process starts, "
        "imports, scoring and image files, outside every load_pipeline and generate call.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="L4-001")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--profile", default="tiny-cpu", help="tiny-cpu, or tiny-cuda on a GPU machine")
    parser.add_argument("--device", default="", help="override the profile's device")
    args = parser.parse_args()
    build_standins(PROFILE)
    options = JudgeOptions(samples=args.samples, inputs_seed=11)
    rows = run(args.task, args.runs, options)
    section = render(args.task, rows, options)
    publish(DOC, BEGIN, END, section, args.no_write)


if __name__ == "__main__":
    main()
