"""What the agent is worth against what a user gets without it, request by request (issue 31, item 4).

Each row is a request as a user writes it; each arm is measured by the judge's protocol against its own baseline
in the same run (one search session, evaluation/measuring.py), one arm after the other, never two at once:
  (a) library defaults: each one-call method that applies, at its documented defaults (DeepCache, tomesd, T-GATE,
      FirstBlockCache, MagCache, cache-dit's enable_cache), the best within the bound;
  (b) calibration's search (calibration/search.py: its space, warm starts, TPE) with the agent's budget;
  (c) the agent (`diffagent solve`'s loop: heuristic planner, genetic selector, the search inside);
  (d) the agent with --best-of-n.
The agent runs with an unreachable speed goal here, so that, like the search, it spends its whole budget on the
fastest module within the bound; the request's own goal is in the table for reference. Columns: U at the bound
(the fastest candidate within it), its L, evaluations, wall seconds. Writes docs/agent_value.json and the
`agent-value` section of docs/agent.md (`--render` rewrites the section from the JSON).

    .venv/bin/python scripts/agent_value.py                      # every row, P=7, T_sel=4 (28 evaluations)
    .venv/bin/python scripts/agent_value.py --only sd15-i2i --population 3 --generations 2 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from doc_sections import publish

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "agent.md"
RECORD = HERE.parent / "docs" / "agent_value.json"
BEGIN, END = "<!-- agent-value:begin -->", "<!-- agent-value:end -->"
UNREACHABLE = 100.0  # the speed goal the agent's arms run with: never met, so the whole budget is spent
LIBRARY_DEFAULTS = ("deepcache", "tome", "tgate", "first_block_cache", "mag_cache", "cache_dit")
ROWS: dict[str, str] = {
    "sd15-t2i": "SD 1.5, DDIM 50 steps, 2.5x with at most 5% quality loss",
    "sd15-i2i": "SD 1.5 img2img, strength 0.6, 50 DDIM steps at 512. 3x faster please",
    "sd15-canny": "SD 1.5 ControlNet canny, DDIM 30 steps, 2x",
    "sd21": "SD 2.1 at 768, DDIM 50 steps, 2x",
    "sdxl-t2i": "SDXL base, Euler 30 steps, 2x",
    "sdxl-i2i": "SDXL img2img, strength 0.5, Euler 30 steps, 2x",
    "sdxl-canny": "SDXL ControlNet canny, UniPC 30 steps, 1.5x",
    "dit": "DiT 256, DDIM 50 steps, 2.5x",
    "pixart-alpha": "PixArt-Alpha 512, DPM-Solver++ 20 steps, 1.5x",
    "pixart-sigma": "PixArt-Sigma 1024, DPM-Solver++ 20 steps, 1.5x",
    "flux": "FLUX.1-dev, 28 steps, 2x",
    "sd35": "SD3.5 medium, 40 steps, 2x",
    "qwen": "Qwen-Image, 50 steps, 2x",
}


def _arm(best: tuple[float, float] | None, evaluations: int, seconds: float) -> dict[str, Any]:
    u, loss = best if best is not None else (None, None)
    return {"speedup": u, "loss": loss, "evaluations": evaluations, "seconds": round(seconds, 1)}


def _session(problem: Any, profile: Any, folder: Path) -> Any:
    """A search session at the agent's protocol, so every arm is measured as the agent measures."""
    from diffagent.agent.loop import AgentOptions
    from diffbench.evaluation.measure import AGENT_SEED
    from diffbench.evaluation.measuring import TaskBaseline, search_session

    base = problem.pipeline
    baseline = TaskBaseline(base.model_id, problem.baseline_code, base.conditioning)
    return search_session(folder, profile, baseline, AgentOptions().protocol, AGENT_SEED)


def library_defaults(problem: Any, kb: Any, profile: Any, folder: Path) -> dict[str, Any]:
    from diffbench.calibration.space import SearchPoint
    from diffbench.evaluation.child import SolutionError
    from diffbench.knowledge.compose import Applied
    from diffbench.models.families import family_of

    base, started = problem.pipeline, time.perf_counter()
    fam = family_of(base.model_id).key
    results: dict[str, Any] = {}
    with _session(problem, profile, folder) as session:
        for key in LIBRARY_DEFAULTS:
            if kb.method(key).why_unsupported(fam, str(base.conditioning)) is not None:
                continue
            config = SearchPoint(base.sampler, base.steps, (Applied(key, kb.method(key).resolve({})),))
            try:
                m = session.measure(base.write(kb, config, f"{key} at its defaults"), key, asked={key})
                results[key] = (m.speedup, m.loss)
            except SolutionError as err:
                results[key] = str(err).splitlines()[0][:120]
    within = [(u, loss, k) for k, v in results.items() if isinstance(v, tuple) for u, loss in [v]
              if loss <= problem.goal.bound]  # fmt: skip
    best = max(within, default=None)
    arm = _arm(best[:2] if best else None, len(results), time.perf_counter() - started)
    arm["method"] = best[2] if best else None
    arm["each"] = {k: v if isinstance(v, str) else {"speedup": v[0], "loss": v[1]} for k, v in results.items()}
    return arm


def calibration_search(problem: Any, kb: Any, profile: Any, folder: Path, budget: int, seed: int) -> dict[str, Any]:
    from diffagent.agent.tuner import agent_space
    from diffbench.calibration.search import search_baseline

    base, started = problem.pipeline, time.perf_counter()
    space = agent_space(kb, base, profile)
    with _session(problem, profile, folder) as session:
        records, _ = search_baseline(
            session, space, None, kb, budget, problem.goal.delta, seed,
            write=lambda config, title: base.write(kb, config, title), base_sampler=base.sampler,
        )  # fmt: skip
    within = [(r.speedup, r.loss) for r in records if r.speedup is not None and r.loss <= problem.goal.bound]
    return _arm(max(within, default=None), len(records), time.perf_counter() - started)


def agent(problem: Any, kb: Any, profile: Any, folder: Path, options: Any) -> dict[str, Any]:
    from diffagent.solve import build_agent

    started = time.perf_counter()
    outcome = build_agent(problem, kb, profile, folder, None, options).solve()
    best = outcome.best
    arm = _arm((best.speedup, best.loss) if best else None, outcome.evaluations, time.perf_counter() - started)
    arm["configuration"] = best.plan.config.describe() if best else None
    return arm


def run_row(name: str, text: str, args: argparse.Namespace, root: Path, profile: Any, kb: Any) -> dict[str, Any]:
    from diffagent.agent.loop import AgentOptions
    from diffagent.agent.problem import from_prompt
    from diffbench.models.loading import require

    problem = from_prompt(text, kb)
    asked = problem.goal
    problem.goal = replace(asked, speedup=UNREACHABLE, latency_s=None)
    require(problem.pipeline.model_id, profile)
    options = AgentOptions(population=args.population, generations=args.generations, seed=args.seed)
    budget = args.population * args.generations
    row: dict[str, Any] = {"name": name, "request": text, "goal": problem.describe_goal(),
                           "asked": f"{asked.speedup:g}x" if asked.speedup else f"{asked.latency_s:g} s"}  # fmt: skip
    row["defaults"] = library_defaults(problem, kb, profile, root / "defaults")
    print(f"{name}: defaults {row['defaults']['speedup']}", flush=True)
    row["search"] = calibration_search(problem, kb, profile, root / "search", budget, args.seed)
    print(f"{name}: search {row['search']['speedup']}", flush=True)
    row["agent"] = agent(problem, kb, profile, root / "agent", options)
    print(f"{name}: agent {row['agent']['speedup']}", flush=True)
    row["best_of_n"] = agent(problem, kb, profile, root / "best-of-n", replace(options, best_of_n=True))
    print(f"{name}: best-of-n {row['best_of_n']['speedup']}", flush=True)
    return row


def _cell(arm: dict[str, Any]) -> str:
    if arm["speedup"] is None:
        return f"none within the bound ({arm['evaluations']} ev, {arm['seconds']:.0f} s)"
    return f"{arm['speedup']:.2f}x, L {arm['loss']:.2%} ({arm['evaluations']} ev, {arm['seconds']:.0f} s)"


def render(record: dict[str, Any]) -> str:
    rows = record["rows"]
    lines = [
        BEGIN,
        "## What the agent is worth",
        "",
        f"Measured {record['date']} with `.venv/bin/python scripts/agent_value.py` (profile `{record['profile']}`, "
        f"{record['weights']} on {record['device']}, heuristic planner (no LLM), P={record['population']} x "
        f"T_sel={record['generations']}, one arm at a time). Each cell: U at the bound (the fastest module within "
        "the request's quality bound, by the judge's protocol against a baseline measured in the same run), its L, "
        "evaluations, wall seconds. The agent's arms run with an unreachable goal so they spend the budget.",
        "",
        "| request | asked | (a) library default | (b) calibration's search | (c) agent | (d) agent, best-of-n |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        method = f" [{r['defaults']['method']}]" if r["defaults"].get("method") else ""
        lines.append(f"| {r['request']} | {r['asked']} | {_cell(r['defaults'])}{method} | {_cell(r['search'])} | "
                     f"{_cell(r['agent'])} | {_cell(r['best_of_n'])} |")  # fmt: skip
    agent_u = [r["agent"]["speedup"] or 0.0 for r in rows]
    search_u = [r["search"]["speedup"] or 0.0 for r in rows]
    default_u = [r["defaults"]["speedup"] or 1.0 for r in rows]
    at_least = sum(a >= s for a, s in zip(agent_u, search_u, strict=True))
    ratio = statistics.geometric_mean([max(a, 1e-3) / d for a, d in zip(agent_u, default_u, strict=True)])
    lines += ["", f"The agent >= calibration's search on {at_least} of {len(rows)} rows (aim: 80%); the agent over "
              f"the best library default: {ratio:.2f}x in geometric mean (aim: 1.3x).", END]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(ROWS), help="row names")
    parser.add_argument("--profile", default="tiny-cpu")
    parser.add_argument("--population", type=int, default=7)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render", action="store_true", help="rewrite the doc section from the recorded JSON")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.render:
        publish(DOC, BEGIN, END, render(json.loads(RECORD.read_text())), args.no_write)
        return
    from diffbench.knowledge.loader import load_knowledge
    from diffbench.models.loading import activate
    from diffbench.models.profiles import get_profile

    profile = get_profile(args.profile)
    activate(profile)  # once, before anything imports huggingface_hub
    kb = load_knowledge()
    rows = []
    with tempfile.TemporaryDirectory(prefix="agent-value-") as tmp:
        for name in args.only or list(ROWS):
            rows.append(run_row(name, ROWS[name], args, Path(tmp) / name, profile, kb))
    record = {"date": str(datetime.date.today()), "profile": profile.name, "device": profile.device,
              "weights": "stand-ins" if profile.builds_standins else "real weights",
              "population": args.population, "generations": args.generations, "rows": rows}  # fmt: skip
    if not args.no_write:
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
    publish(DOC, BEGIN, END, render(record), args.no_write)


if __name__ == "__main__":
    sys.exit(main())
