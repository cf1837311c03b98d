"""What `diffagent solve` leaves behind: the best module, a report a person reads, the speed-quality front as a
plot, and the full history as JSON (every candidate with plan, code, figures, feedback and attempts)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from diffagent.agent.loop import Outcome, candidate_record
from diffagent.agent.plan import AUTHOR, Candidate, Usage
from diffbench.models.device import describe_hardware
from diffbench.models.profiles import Profile
from diffbench.report.plots import Point, save, speed_quality

TEMPLATES = Path(__file__).parent / "templates"
OPTION_FILE = "option-over-bound.py"  # the fastest candidate over the quality bound: never delivered as solution.py


def _figures(c: Candidate) -> str:
    return f"{c.plan.config.describe()}, U {c.speedup:.2f}x, L {c.loss:.2%}"


def describe_result(outcome: Outcome) -> list[str]:
    """The result in lines a person reads first: met or not, what is delivered, and the option over the bound."""
    best, option, goal = outcome.best, outcome.over_bound_option, outcome.problem.goal
    if goal is None or outcome.met:
        return [f"met: {best.plan.config.describe()}" if best else "met"]
    bound = f"L <= {goal.bound:.1%}"
    lines = [
        f"not met: best within the bound ({bound}) is {_figures(best)}, written to solution.py"
        if best is not None and best.ran
        else f"not met: no candidate within the bound ({bound}); no solution.py is written"
    ]
    if option is not None:
        lines.append(
            f"fastest over the bound: {_figures(option)}, an option only if that loss is acceptable ({OPTION_FILE})"
        )
    return lines


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)  # fmt: skip
    return env.get_template("report.md.j2")


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
    if best is None and goal is not None and any(c.ran for c in outcome.history):
        return "No candidate ran within the quality bound, so none is delivered; see the history and the option above."
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
        f"No candidate met the goal; this one is the fastest within the quality bound of the {len(ran)} measured "
        "(a candidate over the bound is never delivered; the fastest one over it is named above as an option)."
    )


def plot_front(outcome: Outcome, path: Path) -> bool:
    """Every measured candidate's L against its U by generation, the Pareto front joined, the target and bound."""
    ran = [c for c in outcome.history if c.loss is not None and c.speedup is not None]
    if not ran:
        return False
    points = [Point(c.speedup, c.loss, f"generation {c.generation}") for c in sorted(ran, key=lambda c: c.generation)]  # type: ignore[arg-type]
    goal, best = outcome.problem.goal, outcome.best
    winner = Point(best.speedup, best.loss) if best and best.speedup is not None and best.loss is not None else None
    fig = speed_quality(
        points, target=goal.speedup if goal else None, bound=goal.delta if goal else None, winner=winner,
        front=True, title=f"candidates measured by {outcome.author}", size=(6.4, 4.4), dpi=110,
    )  # fmt: skip
    save(fig, path)
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
        "over_bound_option": (
            None if outcome.over_bound_option is None else outcome.history.index(outcome.over_bound_option)
        ),
        "repeats_skipped": outcome.repeats_skipped,
        "best_fitness_by_generation": outcome.best_by_generation,
        "baseline_s": outcome.baseline_s,
        "evaluations": outcome.evaluations,
        "evaluations_to_success": outcome.evaluations_to_success,
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
    option = outcome.over_bound_option
    if option is not None and option.code:
        paths["option"] = out / OPTION_FILE
        paths["option"].write_text(option.code)
    if plot_front(outcome, out / "front.png"):
        paths["plot"] = out / "front.png"
    paths["history"].write_text(json.dumps(history_json(outcome, usage), indent=2, default=str))
    problem, best = outcome.problem, outcome.best
    planner = outcome.author + ("" if outcome.author == AUTHOR else " (a language model)")
    text = _template().render(
        problem=problem, outcome=outcome, best=best, usage=usage, planner=planner, why=_why(outcome),
        profile=profile, hardware=describe_hardware(profile.device), plot="plot" in paths,
        result=describe_result(outcome),
        rows=[_row(i, c, best) for i, c in enumerate(outcome.history)],
    )  # fmt: skip
    paths["report"].write_text(text)
    return paths
