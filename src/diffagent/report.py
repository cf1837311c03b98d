"""What `diffagent solve` leaves behind: the best module, a report a person reads, the speed-quality front as a
plot, and the full history as JSON (every candidate with plan, code, figures, feedback and attempts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffagent.agent.heuristic import AUTHOR
from diffagent.agent.loop import Outcome, candidate_record
from diffagent.agent.selector import Candidate
from diffbench.models.device import describe_hardware
from diffbench.models.profiles import Profile


@dataclass
class Usage:
    """The language model's bill for the run; zero calls for the offline planner."""

    llm: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None


def _row(i: int, c: Candidate, best: Candidate | None) -> str:
    figures = (
        f"{c.loss:.2%} | {c.speedup:.2f}x | {c.latency_s:.3f} s | {c.fitness:.2f}"
        if c.loss is not None and c.speedup is not None and c.latency_s is not None and c.fitness is not None
        else "- | - | - | -"
    )
    mark = " **(winner)**" if c is best else ""
    parent = "-" if c.parent is None else f"#{c.parent}"
    note = c.feedback.replace("|", "/").replace("\n", " ")[:160]
    return f"| {i} | {c.generation} | {parent} | {c.plan.config.describe()}{mark} | {figures} | {note} |"


def _why(outcome: Outcome) -> str:
    best = outcome.best
    goal = outcome.problem.goal
    if best is None:
        return "No candidate ran; see the history for each one's error."
    if goal is None:
        return "It does what the request asks and passed the quick run in the sandbox."
    ran = [c for c in outcome.history if c.fitness is not None]
    if outcome.met:
        fittest = best.fitness == max(c.fitness for c in ran)  # type: ignore[type-var]
        return (
            f"It is the first candidate that met the goal, and the search stops at the first"
            f"{' (early: generations were left)' if outcome.stopped_early else ''}; "
            f"{'it is also' if fittest else 'it is not'} the fittest of the {len(ran)} measured "
            f"(fitness {best.fitness:.2f})."
        )
    return (
        f"No candidate met the goal; this one has the highest fitness ({best.fitness:.2f}) of {len(ran)} measured, "
        f"fitness = {outcome.options.weights.speed:g} x U - {outcome.options.weights.quality:g} x L / delta."
    )


def plot_front(outcome: Outcome, path: Path) -> bool:
    """Every measured candidate's L against its U, the Pareto front joined, the target and bound marked."""
    ran = [c for c in outcome.history if c.loss is not None and c.speedup is not None]
    if not ran:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    gens = sorted({c.generation for c in ran})
    for g in gens:
        pts = [c for c in ran if c.generation == g]
        ax.scatter([c.speedup for c in pts], [100 * c.loss for c in pts], label=f"generation {g}", alpha=0.8)  # type: ignore[operator]
    front, best_loss = [], float("inf")
    for c in sorted(ran, key=lambda c: -c.speedup):  # type: ignore[operator]
        if c.loss < best_loss:  # type: ignore[operator]
            front.append(c)
            best_loss = c.loss  # type: ignore[assignment]
    ax.plot([c.speedup for c in front], [100 * c.loss for c in front], "k--", lw=1, label="speed-quality front")  # type: ignore[operator]
    goal = outcome.problem.goal
    if goal is not None:
        ax.axhline(100 * goal.delta, color="red", lw=1, label=f"quality bound {goal.delta:.0%}")
        if goal.speedup is not None:
            ax.axvline(goal.speedup, color="green", lw=1, label=f"target {goal.speedup:.2f}x")
    if outcome.best is not None and outcome.best.speedup is not None and outcome.best.loss is not None:
        ax.scatter([outcome.best.speedup], [100 * outcome.best.loss], s=180, facecolors="none", edgecolors="black",
                   label="winner")  # fmt: skip
    ax.set_xlabel("speedup U over the baseline (x)")
    ax.set_ylabel("quality loss L (%)")
    ax.set_title(f"candidates measured by {outcome.author}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def history_json(outcome: Outcome, usage: Usage) -> dict[str, Any]:
    goal = outcome.problem.goal
    return {
        "prompt": outcome.problem.prompt,
        "author": outcome.author,
        "options": outcome.options.describe(),
        "pipeline": vars(outcome.problem.pipeline) | {"conditioning": str(outcome.problem.pipeline.conditioning)},
        "goal": None if goal is None else vars(goal),
        "met": outcome.met,
        "stopped_early": outcome.stopped_early,
        "best": None if outcome.best is None else outcome.history.index(outcome.best),
        "best_fitness_by_generation": outcome.best_by_generation,
        "baseline_s": outcome.baseline_s,
        "evaluations": outcome.evaluations,
        "smoke_runs": outcome.smoke_runs,
        "seconds": round(outcome.seconds, 1),
        "llm": vars(usage),
        "candidates": [candidate_record(c) for c in outcome.history],
    }


def write_report(outcome: Outcome, out: Path, usage: Usage, profile: Profile) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"report": out / "report.md", "history": out / "history.json", "baseline": out / "baseline.py"}
    paths["baseline"].write_text(outcome.problem.baseline_code)
    if outcome.best is not None and outcome.best.code:
        paths["solution"] = out / "solution.py"
        paths["solution"].write_text(outcome.best.code)
    if plot_front(outcome, out / "front.png"):
        paths["plot"] = out / "front.png"
    paths["history"].write_text(json.dumps(history_json(outcome, usage), indent=2, default=str))
    problem, best = outcome.problem, outcome.best
    planner = outcome.author + ("" if outcome.author == AUTHOR else " (a language model)")
    lines = [
        "# DiffAgent report",
        "",
        f"> {problem.prompt}",
        "",
        "## What was understood",
        "",
        *(f"- {line}" for line in problem.understanding()),
        "",
        "## Outcome",
        "",
        f"- **Profile:** `{profile.name}`: {profile.weights}, device `{profile.device}` "
        f"({describe_hardware(profile.device)}), quality by {profile.quality_metric}. Every figure below was measured "
        "on it by the agent itself (its own validation inputs); `diffbench eval` is the independent check.",
        f"- **Planner and coder:** {planner}. Loop: {outcome.options.describe()}.",
        f"- **Baseline:** {problem.describe_baseline()}"
        + (f"; {outcome.baseline_s:.3f} s per image as measured" if outcome.baseline_s else ""),
        f"- **Goal:** {problem.describe_goal()}.",
        f"- **Result:** {'met' if outcome.met else 'NOT met'}"
        + (f": {best.plan.config.describe()} — {best.feedback}" if best else ""),
        f"- **Cost:** {len(outcome.history)} candidates, {outcome.evaluations} measurements, {outcome.smoke_runs} "
        f"quick runs, {usage.calls} LLM calls ({usage.tokens_in} tokens in, {usage.tokens_out} out"
        + (f", ${usage.cost_usd:.4f}" if usage.cost_usd is not None else "")
        + f"), {outcome.seconds:.0f} s wall.",
        *(f"- **Note:** {note}" for note in outcome.notes),
        "",
        "## Why the winner won",
        "",
        _why(outcome),
        "",
    ]
    if "plot" in paths:
        lines += ["## Speed-quality front", "", "![speed-quality front](front.png)", ""]
    lines += [
        "## Every candidate",
        "",
        "| # | gen | parent | plan | L | U | latency | fitness | feedback |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_row(i, c, best) for i, c in enumerate(outcome.history)),
        "",
        "Files: `solution.py` (the winner), `baseline.py`, `history.json` (every candidate's code and attempts)"
        + (", `llm.jsonl` (every exchange, replayable with `--llm replay/llm.jsonl`)" if usage.calls else "")
        + ".",
        "",
    ]
    paths["report"].write_text("\n".join(lines))
    return paths
