"""Does the judge agree with the agent? DiffAgent on a stratified sample of level-4/5 tasks, then the judge on every
module the agent calls a success; how often the judge passes it, with the U and L each side measured.

The sample: every family meets every difficulty (easy, medium, hard), levels 4 and 5 alternating; ordered so that
its first 12 tasks already cover every family twice and every difficulty four times (`--limit 12`). The agent runs
with the heuristic planner (no LLM) at its defaults (P=7, M=4, T_sel=4, its own fixed inputs); the judge as
`diffbench eval` runs it (10 quality inputs, 3 x 3 timed pairs, a secret draw of inputs). Results are appended to
`OUT/agreement.jsonl` as each task ends, so an interrupted run resumes (`--out` again). `--best-of-n` runs the
agent's best-of-N ablation instead of the genetic loop, at the same budget. Writes its section of docs/agent.md.

    .venv/bin/python scripts/agreement.py --limit 12 --out agreement-out      # tiny-cpu
    .venv/bin/python scripts/agreement.py --limit 12 --out bon-out --best-of-n --no-judge
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from script_profile import profile_from_argv

PROFILE = profile_from_argv()  # before anything imports huggingface_hub

from diffagent.agent.loop import AgentOptions  # noqa: E402
from diffagent.agent.problem import from_task  # noqa: E402
from diffagent.solve import LLMSettings, run_agent  # noqa: E402
from diffbench.evaluation.judge import JudgeOptions, evaluate  # noqa: E402
from diffbench.knowledge.loader import load_knowledge  # noqa: E402
from diffbench.models.device import describe_hardware  # noqa: E402
from diffbench.models.families import family_of  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.schema import Difficulty, Task  # noqa: E402
from diffbench.tasks.suite import load_suite  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "agent.md"
DIFFICULTIES = [Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD]


def stratified(tasks: list[Task]) -> list[Task]:
    """One task per (family, difficulty), in rounds: round r gives family i the difficulty (i + r) mod 3."""
    families = sorted({family_of(t.model_id).key for t in tasks if t.level >= 4})
    out: list[Task] = []
    for r in range(len(DIFFICULTIES)):
        for i, family in enumerate(families):
            difficulty = DIFFICULTIES[(i + r) % len(DIFFICULTIES)]
            level = 4 if (i + r) % 2 == 0 else 5
            out.append(next(t for t in tasks if t.level == level and t.difficulty == difficulty
                            and family_of(t.model_id).key == family))  # fmt: skip
    return out


def run_task(task: Task, folder: Path, options: AgentOptions, judge: bool) -> dict:
    kb = load_knowledge()
    problem = from_task(task, PROFILE.name, kb)
    started = time.perf_counter()
    outcome, _ = run_agent(problem, kb, PROFILE, folder / "agent", LLMSettings(), options)
    row: dict = {
        "task": task.id, "family": family_of(task.model_id).key, "difficulty": task.difficulty.value,
        "level": task.level, "agent_met": outcome.met, "evaluations": outcome.evaluations,
        "candidates": len(outcome.history), "agent_seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    best = outcome.best
    if best is not None:
        row |= {"agent_speedup": best.speedup, "agent_loss": best.loss, "agent_latency_s": best.latency_s}
        row["evaluations_to_success"] = outcome.evaluations_to_success
    if judge and outcome.met and best is not None and best.code:
        result = evaluate(task, best.code, PROFILE, folder / "judge", JudgeOptions())
        row |= {"judge_passed": result.passed, "judge_speedup": result.speedup, "judge_loss": result.quality_loss,
                "judge_latency_s": result.latency_s, "judge_problem": result.first_problem,
                "judge_seconds": round(result.seconds, 1)}  # fmt: skip
    return row


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def section(rows: list[dict], args: argparse.Namespace, seconds: float) -> str:
    name = "agreement-bon" if args.best_of_n else "agreement"
    met = [r for r in rows if r["agent_met"]]
    judged = [r for r in met if "judge_passed" in r]
    agree = sum(r["judge_passed"] for r in judged)
    mode = "best-of-N (no selection)" if args.best_of_n else "genetic selection (P=7, M=4, T_sel=4)"
    lines = [
        f"<!-- {name}:begin -->",
        f"Measured {datetime.date.today().isoformat()} on {describe_hardware(PROFILE.device)}, profile "
        f"`{PROFILE.name}` ({'stand-ins' if PROFILE.builds_standins else 'real weights'}), agent: heuristic "
        f"planner (no LLM), {mode}; `{' '.join(['python', *sys.argv])}`; {seconds / 60:.0f} min in all.",
        "",
        "| task | family | difficulty | agent met | evaluations | agent U / L | judge | judge U / L |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        judge = "-" if "judge_passed" not in r else ("passed" if r["judge_passed"] else f"failed: {r['judge_problem']}")
        lines.append(
            f"| {r['task']} | {r['family']} | {r['difficulty']} | {'yes' if r['agent_met'] else 'no'} | "
            f"{r['evaluations']} | {_fmt(r.get('agent_speedup'), '.2f')}x / {_fmt(r.get('agent_loss'), '.1%')} | "
            f"{judge} | {_fmt(r.get('judge_speedup'), '.2f')}x / {_fmt(r.get('judge_loss'), '.1%')} |"
        )
    lines.append("")
    lines.append(f"The agent met the goal on {len(met)} of {len(rows)} tasks"
                 + (f"; the judge passed {agree} of the {len(judged)} modules it judged: agreement "
                    f"{agree / len(judged):.0%}." if judged else "."))  # fmt: skip
    by_difficulty = {}
    for d in DIFFICULTIES:
        counts = [r["evaluations_to_success"] for r in rows if r["difficulty"] == d.value and r["agent_met"]]
        total = sum(1 for r in rows if r["difficulty"] == d.value)
        by_difficulty[d.value] = f"{len(counts)}/{total} met" + (
            f", median {sorted(counts)[len(counts) // 2]} evaluations to success" if counts else ""
        )
    lines.append("Per difficulty: " + "; ".join(f"{k}: {v}" for k, v in by_difficulty.items()) + ".")
    agent_s = sum(r["agent_seconds"] for r in rows)
    lines.append(f"Agent time: {agent_s / 60:.0f} min over {sum(r['evaluations'] for r in rows)} measured modules.")
    lines.append(f"<!-- {name}:end -->")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny-cpu")
    parser.add_argument("--device", default="")
    parser.add_argument("--limit", type=int, default=18, help="the first N tasks of the sample (12 covers all)")
    parser.add_argument("--out", type=Path, default=Path("agreement-out"))
    parser.add_argument("--tasks", default="", help="comma-separated task ids of the sample to run (default: all)")
    parser.add_argument("--best-of-n", action="store_true", help="the agent's best-of-N ablation")
    parser.add_argument("--no-judge", action="store_true", help="the agent only (for the ablation table)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/agent.md")
    args = parser.parse_args()
    if PROFILE.builds_standins:
        build_standins(PROFILE)
    sample = stratified(load_suite())[: args.limit]
    if args.tasks:
        sample = [t for t in sample if t.id in args.tasks.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "agreement.jsonl"
    done = {json.loads(line)["task"]: json.loads(line) for line in log.read_text().splitlines()} if log.exists() else {}
    options = AgentOptions(best_of_n=args.best_of_n)
    for task in sample:
        if task.id in done:
            continue
        print(f"{task.id} ({family_of(task.model_id).key}, {task.difficulty.value}, level {task.level})", flush=True)
        row = run_task(task, args.out / task.id, options, judge=not args.no_judge)
        print(f"  {row}", flush=True)
        done[task.id] = row
        with log.open("a") as f:
            f.write(json.dumps(row) + "\n")
    rows = [done[t.id] for t in sample]
    seconds = sum(r["agent_seconds"] + r.get("judge_seconds", 0.0) for r in rows)
    name = "agreement-bon" if args.best_of_n else "agreement"
    publish(DOC, f"<!-- {name}:begin -->", f"<!-- {name}:end -->", section(rows, args, seconds), args.no_write)


if __name__ == "__main__":
    main()
