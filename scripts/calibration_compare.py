"""The new calibration search against the committed record, on the baselines of the agreement sample's hard tasks.

Runs `diffbench.calibration.search.calibrate` (screen + re-check, the judge's protocol) for those baselines into
`--folder` (resumable: a baseline already there is skipped), then the heuristic agent on each hard task with the
hard target the new U* implies, and reports per baseline the old and new U* and targets, and per hard task the
agent's evaluations to success under the old target (from `--agreement`, the agreement run's log) and the new.
Writes its section of docs/calibration.md. The committed record and task data are not touched.

    .venv/bin/python scripts/calibration_compare.py --folder calibration-new --agreement agreement-out/agreement.jsonl
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from script_profile import profile_from_argv

PROFILE = profile_from_argv()  # before anything imports huggingface_hub

from agreement import stratified  # noqa: E402
from diffagent.agent.loop import AgentOptions  # noqa: E402
from diffagent.agent.problem import from_task  # noqa: E402
from diffagent.solve import LLMSettings, run_agent  # noqa: E402
from diffbench.calibration.search import SEARCH, calibrate  # noqa: E402
from diffbench.calibration.store import CalibrationRecord, read_record, task_calibration_key  # noqa: E402
from diffbench.knowledge.loader import load_knowledge  # noqa: E402
from diffbench.models.device import describe_hardware  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.schema import Difficulty  # noqa: E402
from diffbench.tasks.suite import load_suite  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "calibration.md"
BEGIN, END = "<!-- calibration-compare:begin -->", "<!-- calibration-compare:end -->"


def agent_on(task, goal_speedup: float | None, goal_latency: float | None, folder: Path) -> dict:
    kb = load_knowledge()
    problem = from_task(task, PROFILE.name, kb)
    assert problem.goal is not None
    goal = replace(problem.goal, speedup=goal_speedup if task.level == 4 else None,
                   latency_s=goal_latency if task.level == 5 else None)  # fmt: skip
    problem = replace(problem, goal=goal)
    started = time.perf_counter()
    outcome, _ = run_agent(problem, kb, PROFILE, folder, LLMSettings(), AgentOptions())
    return {"met": outcome.met, "evaluations": outcome.evaluations, "to_success": outcome.evaluations_to_success,
            "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("calibration-new"))
    parser.add_argument("--agreement", type=Path, help="the agreement run's agreement.jsonl (the 'before' figures)")
    parser.add_argument("--old", type=Path, help="the record the agreement run's targets came from (default: the "
                        "committed one; name it once the new record is committed)")  # fmt: skip
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--limit", type=int, default=18, help="the agreement sample's first N tasks")
    parser.add_argument("--no-agent", action="store_true", help="render what is logged; run no agent")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    build_standins(PROFILE)
    tasks = load_suite()
    hard = [t for t in stratified(tasks)[: args.limit] if t.difficulty == Difficulty.HARD]
    old = CalibrationRecord.model_validate_json(args.old.read_text()) if args.old else read_record(PROFILE.name)
    assert old is not None
    args.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="calibration-compare-") as tmp:
        new = calibrate(
            PROFILE, tasks, Path(tmp), args.trials, args.samples, only=[t.id for t in hard], folder=args.folder,
            on_baseline=lambda key, result: print(f"{key}: U* {result.speedup}", flush=True),
        )  # fmt: skip
    search_s = sum(new.baselines[task_calibration_key(t)].seconds for t in hard)
    before = {}
    if args.agreement and args.agreement.is_file():
        before = {r["task"]: r for r in map(json.loads, args.agreement.read_text().splitlines())}
    after_log = args.folder / "agent-after.jsonl"
    after = {r["task"]: r for r in map(json.loads, after_log.read_text().splitlines())} if after_log.exists() else {}
    rows = []
    for task in hard:
        key = task_calibration_key(task)
        was, now = old.baselines[key], new.baselines[key]
        new_target = now.targets(Difficulty.HARD, new.platform)
        if task.id not in after and new_target is not None and not args.no_agent:
            print(f"agent on {task.id} with the new hard target", flush=True)
            figures = agent_on(task, new_target.speedup, new_target.latency_s, args.folder / task.id)
            after[task.id] = {"task": task.id, **figures}
            with after_log.open("a") as f:
                f.write(json.dumps(after[task.id]) + "\n")
        old_target = was.targets(Difficulty.HARD, old.platform)
        rows.append((task, key, was, now, old_target, new_target, before.get(task.id), after.get(task.id)))
    lines = [BEGIN, "## The two-pass search against the one-pass record (sample of hard tasks)", "",
             f"Measured {datetime.date.today().isoformat()} on {describe_hardware(PROFILE.device)}, profile `tiny-cpu` "
             f"(stand-ins): `python scripts/calibration_compare.py --trials {args.trials} --samples {args.samples}` "
             f"({SEARCH}); the baselines of the {len(hard)} hard tasks of the agreement sample (docs/agent.md), "
             f"{search_s / 60:.0f} min of searching. Old: `{old.command}` ({old.search}), recorded {old.date}. "
             "Agent: the heuristic planner at its defaults; 'before' is the agreement run against the old target.",
             "", "| task | baseline | old U* (config) | new U* re-measured (config) | hard target old / new | "
             "agent before: met, evaluations to success | agent after |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for task, key, was, now, old_t, new_t, b, a in rows:

        def agent(r: dict | None) -> str:
            if r is None:
                return "-"
            if not r.get("agent_met", r.get("met")):
                return f"not met ({r['evaluations']})"
            return f"met, {r.get('evaluations_to_success', r.get('to_success'))}"

        target = (f"{old_t.speedup:.2f}x / {new_t.speedup:.2f}x" if task.level == 4 else
                  f"{old_t.latency_s:.2f} s / {new_t.latency_s:.2f} s") if new_t and old_t else "-"  # fmt: skip
        found = f"{(now.speedup or 0):.2f} ({now.best_describe or '-'})"
        base = key.replace("|", ", ")
        lines.append(f"| {task.id} (L{task.level}) | {base} | {was.speedup:.2f} ({was.best_describe}) | {found} | "
                     f"{target} | {agent(b)} | {agent(a)} |")  # fmt: skip
    agent_s = sum(r["seconds"] for r in after.values())
    lines += ["", f"Agent time against the new targets: {agent_s / 60:.0f} min (the search's time is above).", END]
    publish(DOC, BEGIN, END, "\n".join(lines), args.no_write)


if __name__ == "__main__":
    sys.exit(main())
