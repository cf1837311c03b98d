"""The search inside the agent (agent/tuner.py) on synthetic pipelines: the heuristic planner chooses method sets
and direction, TPE chooses numbers; the measurements are a formula of the configuration, no model runs.

The landscape (SD1.5, DDIM 50 steps, bound 5%): caching pays (U x 1.5 per DeepCache interval step over 1) at a
quadratic quality cost, fewer steps pay at a convex cost, DPM-Solver++ is slower and worse here than its
reputation, each other method costs 1% quality for nothing. The planner's moves (its defaults, 60% of the steps,
DPM-Solver++ at 20) miss the fastest point within the bound; a search over the numbers finds more. The same
budget (P=7 x T_sel=4) for the agent with and without the tuner, and for calibration's search alone."""

from __future__ import annotations

import statistics

import optuna
import pytest

from diffagent.agent.heuristic import HeuristicPlanner
from diffagent.agent.plan import Candidate, Goal, Pipeline, Plan
from diffagent.agent.selector import Evolution
from diffagent.agent.tuner import TPE, Tuner, agent_space, objective
from diffbench.knowledge.loader import load_knowledge
from diffbench.models import device
from diffbench.models.families import Conditioning
from diffbench.models.profiles import get_profile

KB = load_knowledge()
PIPELINE = Pipeline("stable-diffusion-v1-5/stable-diffusion-v1-5", Conditioning.TEXT, 512, "ddim", 50)
GOAL = Goal(delta=0.05, speedup=50.0)  # out of reach: every run spends its whole budget
BUDGET, SEEDS = 28, range(6)
CACHES = ("deepcache", "tgate_deepcache")


@pytest.fixture(autouse=True)
def a_cpu_without_half_precision_instructions(monkeypatch):
    """The landscape is a formula: whether this machine's CPU runs bf16 or fp16 fast must not change the search
    space it is searched in (bf16 and fp16 are in it on a CPU with their instructions, models/device.py)."""
    monkeypatch.setattr(device, "cpu_fast_half_precisions", lambda: frozenset())


def measure(plan: Plan, generation: int) -> Candidate:
    config = plan.config
    interval = next((m.params.get("cache_interval", 1) for m in config.methods if m.key in CACHES), 1)
    others = [m for m in config.methods if m.key not in CACHES]
    dpm = config.sampler == "dpm_solver"
    speedup = 50 / config.steps * (1 + 0.5 * (interval - 1)) * (0.7 if dpm else 1.0)
    loss = ((50 - config.steps) / 400) ** 1.3 + 0.006 * (interval - 1) ** 2 + 0.03 * dpm + 0.01 * len(others)
    return Candidate(plan=plan, generation=generation, loss=loss, speedup=speedup)


def agent(tuned: bool, seed: int) -> tuple[Evolution, object]:
    planner: object = HeuristicPlanner(KB, PIPELINE, "tiny-cpu", delta=GOAL.delta)
    if tuned:
        planner = Tuner(planner, agent_space(KB, PIPELINE, get_profile("tiny-cpu")), GOAL, seed)

    def propose(parents, fresh, generation):
        return [(planner.refine(p), p) for p in parents] + [(plan, None) for plan in planner.fresh(fresh)]

    def evaluate(plan, generation):
        candidate = measure(plan, generation)
        if isinstance(planner, Tuner):
            planner.tell(plan, candidate)
        return candidate

    evolution = Evolution(GOAL, propose, evaluate, population=7, parents=4, generations=4, seed=seed)
    evolution.run()
    return evolution, planner


def calibration_search(seed: int) -> float:
    """Calibration's search alone (its warm starts, then TPE), the agent's budget: the best U within the bound."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = agent_space(KB, PIPELINE, get_profile("tiny-cpu"))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    for start in space.warm_starts("ddim"):
        study.enqueue_trial(start, skip_if_exists=True)
    measured = 0
    while measured < BUDGET:
        trial = study.ask()
        config = space.suggest(trial)
        if config is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        measured += 1
        study.tell(trial, objective(measure(Plan(config, ""), 0), GOAL))
    return max(0.0, study.best_value)


def test_refinements_keep_the_planners_method_set_and_half_take_tpe_numbers_in_its_direction():
    evolution, tuner = agent(tuned=True, seed=0)
    assert isinstance(tuner, Tuner) and tuner.tuned > 0 and tuner.kept > 0
    by_tpe = [c for c in evolution.history if "numbers by TPE" in c.plan.rationale]
    assert by_tpe and all(c.parent is not None for c in by_tpe)
    for c in by_tpe:  # the direction the planner chose: fewer steps to push on, more to back off
        parent = evolution.history[c.parent]
        assert ("push on" in c.plan.rationale) == (c.plan.config.steps <= parent.plan.config.steps)


def test_no_configuration_is_measured_twice_and_the_budget_is_spent():
    evolution, tuner = agent(tuned=True, seed=0)
    keys = [c.plan.config.key() for c in evolution.history]
    assert len(keys) == len(set(keys)) == BUDGET  # the planner alone runs out of moves before the budget does
    assert any(c.plan.author == TPE for c in evolution.history)
    first = tuner.study.trials[0]  # the planner's first fresh plan is the study's first trial: the seeds first
    assert first.params["sampler"] == evolution.history[0].plan.config.sampler
    plain, _ = agent(tuned=False, seed=0)
    assert len(plain.history) < BUDGET


def test_within_the_same_budget_the_agent_finds_more_than_its_planner_alone_and_than_calibrations_search():
    tuned = [agent(tuned=True, seed=s)[0].best().speedup for s in SEEDS]
    plain = [agent(tuned=False, seed=s)[0].best().speedup for s in SEEDS]
    search = [calibration_search(s) for s in SEEDS]
    assert statistics.mean(tuned) > statistics.mean(plain) * 1.1, (tuned, plain)
    assert statistics.mean(tuned) > statistics.mean(search), (tuned, search)
