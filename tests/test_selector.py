"""The genetic selector on a synthetic task: an aggressiveness knob a gives U = 1 + a and L = a^2 / 200, so the
target (U >= 3 within delta 5%) needs 2 <= a <= 3.16. Feedback-driven refinement (more aggressive while quality
holds) must raise the best fitness over generations, and the loop must stop as soon as a candidate meets it."""

from __future__ import annotations

import random

from diffagent.agent.plan import Candidate, Goal
from diffagent.agent.selector import Evolution, fitness, meets, sample_parents

GOAL = Goal(delta=0.05, speedup=3.0)


def evaluate(a: float, generation: int) -> Candidate:
    if a < 0:  # a plan whose code would not run
        return Candidate(plan=a, generation=generation, feedback="crashed")
    loss, speed = a * a / 200, 1 + a
    verdict = "quality over the bound" if loss > GOAL.delta else "too slow" if speed < GOAL.speedup else "meets"
    return Candidate(plan=a, generation=generation, loss=loss, speedup=speed, feedback=verdict)


def propose(parents: list[Candidate], fresh: int, generation: int) -> list[tuple[float, Candidate | None]]:
    refined = [(p.plan + (0.5 if p.feedback == "too slow" else -0.3), p) for p in parents]
    rng = random.Random(generation)
    return refined + [(rng.uniform(-0.2, 0.5), None) for _ in range(fresh)]


def test_best_fitness_rises_and_the_loop_stops_when_the_target_is_met():
    evolution = Evolution(GOAL, propose, evaluate, population=7, parents=4, generations=8, seed=1)
    winner = evolution.run()
    assert winner is not None and meets(winner, GOAL)
    assert evolution.stopped_early and winner.generation < 7
    best = [b for b in evolution.best_by_generation if b is not None]
    assert best == sorted(best) and best[-1] > best[0]
    assert not any(meets(c, GOAL) for c in evolution.history[:7])  # the first population misses the target
    assert winner.parent is not None  # reached by refinement, not by a lucky fresh plan
    assert evolution.history[-1] is winner  # nothing evaluated after the first success


def test_a_candidate_that_did_not_run_has_no_fitness_and_is_never_a_parent():
    broken, good = evaluate(-1.0, 0), evaluate(1.0, 0)
    for c in (broken, good):
        c.fitness = fitness(c, GOAL)
    assert broken.fitness is None and good.fitness is not None
    assert sample_parents([broken, good], 2, random.Random(0)) == [good]


def test_parents_are_drawn_by_fitness():
    pool = [Candidate(plan=i, generation=0, loss=0.0, speedup=1.0 + i) for i in range(5)]
    for c in pool:
        c.fitness = fitness(c, GOAL)
    firsts = [sample_parents(pool, 1, random.Random(seed))[0].plan for seed in range(300)]
    assert firsts.count(4) > firsts.count(1) > 0 and firsts.count(0) < 10


def test_a_latency_goal():
    goal = Goal(delta=0.05, latency_s=1.0)
    fast = Candidate(plan=0, generation=0, loss=0.01, speedup=2.0, latency_s=0.8)
    slow = Candidate(plan=0, generation=0, loss=0.01, speedup=2.0, latency_s=1.2)
    assert meets(fast, goal) and not meets(slow, goal)


def test_a_margin_asks_the_agents_measurement_to_clear_the_goal_by_it():
    close = Candidate(plan=None, generation=0, loss=0.01, speedup=2.05, latency_s=0.99)
    assert meets(close, Goal(delta=0.05, speedup=2.0))
    assert not meets(close, Goal(delta=0.05, speedup=2.0, margin=0.03))
    assert meets(close, Goal(delta=0.05, speedup=1.99, margin=0.03))
    assert meets(close, Goal(delta=0.05, latency_s=1.0))
    assert not meets(close, Goal(delta=0.05, latency_s=1.0, margin=0.03))


def test_every_candidate_within_the_bound_ranks_above_every_one_over_it_and_only_one_within_is_delivered():
    """The issue's run: solution.py was a candidate at L 5.03% against the 5% bound, while the history held a 2.85x
    candidate at L 1.42%. Now the deliverable is the fastest within the bound; the one over it is only named."""
    goal = Goal(delta=0.05, speedup=3.0)
    measured = {"over": (0.0503, 3.4), "within": (0.0142, 2.85), "slow": (0.001, 1.5)}

    def run(name: str, generation: int) -> Candidate:
        loss, speed = measured[name]
        return Candidate(plan=name, generation=generation, loss=loss, speedup=speed)

    evolution = Evolution(goal, lambda parents, fresh, g: [(n, None) for n in measured], run, 3, 0, 1)
    best = evolution.run()
    by_name = {c.plan: c for c in evolution.history}
    assert by_name["over"].fitness < by_name["slow"].fitness < by_name["within"].fitness
    assert best is by_name["within"] and not meets(best, goal)
    assert evolution.fastest_over_bound() is by_name["over"]
    only_over = Evolution(goal, lambda parents, fresh, g: [("over", None)], run, 1, 0, 1)
    assert only_over.run() is None and only_over.fastest_over_bound().plan == "over"  # nothing to deliver


def test_a_configuration_already_measured_is_never_measured_again_and_its_slot_goes_to_a_fresh_plan():
    goal = Goal(delta=0.05, speedup=100.0)  # never met: every generation runs
    fresh_points = iter([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    evaluated: list[float] = []

    def propose(parents: list[Candidate], fresh: int, generation: int) -> list[tuple[float, Candidate | None]]:
        refined = [(p.plan, p) for p in parents]  # a planner that proposes its parents again
        return refined + [(next(fresh_points), None) for _ in range(fresh)]

    def run(a: float, generation: int) -> Candidate:
        evaluated.append(a)
        return Candidate(plan=a, generation=generation, loss=0.0, speedup=1 + a)

    evolution = Evolution(goal, propose, run, population=3, parents=2, generations=3, seed=0)
    evolution.run()
    assert len(evaluated) == len(set(evaluated)) == 9  # every slot measured a new point
    assert evolution.repeats_skipped == 4  # the two parents proposed again in generations 1 and 2
