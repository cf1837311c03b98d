"""The genetic selector: a population of plans, each turned into code and measured; the fittest bred on.

As in the paper: generation 0 is P fresh plans; every later generation refines M parents, sampled by normalised
fitness, with their feedback, plus P - M fresh plans; T_sel generations at most, and the loop stops as soon as a
candidate meets the task. Fitness is a weighted sum of speedup and quality loss (weights configurable), and every
candidate within the quality bound ranks above every candidate over it; a candidate that did not run has no
fitness and is never a parent. What the run delivers is the fastest candidate within the bound, never one over it;
the fastest one over it is only named, as an option. A plan whose configuration was already measured (the same
sampler, steps and methods with their parameters) is never developed or measured again: its slot goes to a fresh
plan. Every candidate is kept with its plan, code, figures and feedback, so a run can be reported and audited.

The selector is independent of how plans are made and measured: `propose` (the planner: fresh plans, or a
refinement of each parent) and `evaluate` (coder, debugger and judge) are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from diffagent.agent.plan import Candidate, Goal, Plan, Weights
from diffbench.evaluation.machine_speed import LatencyReading, read_latency
from diffbench.runner.agent_settings import DEFAULT_GENERATIONS, DEFAULT_PARENTS, DEFAULT_POPULATION

EQUAL_WEIGHTS = Weights()
# Subtracted from the fitness of a candidate over the quality bound: within it, fitness is at least -weights.quality
# (U >= 0, L <= bound); over it, at most weights.speed x U - OVER_BOUND, so only a speedup near 1000x could cross.
OVER_BOUND = 1000.0
REFILLS = 3  # times a generation asks the planner for fresh plans in place of repeats


def within_bound(candidate: Candidate, goal: Goal) -> bool:
    return candidate.ran and candidate.loss is not None and candidate.loss <= goal.bound


def fitness(candidate: Candidate, goal: Goal, weights: Weights = EQUAL_WEIGHTS) -> float | None:
    """weights.speed x U - weights.quality x L / delta, less OVER_BOUND over the quality bound; None for a candidate
    that did not run."""
    if not candidate.ran:
        return None
    assert candidate.loss is not None and candidate.speedup is not None
    raw = weights.speed * candidate.speedup - weights.quality * candidate.loss / goal.bound
    return raw if within_bound(candidate, goal) else raw - OVER_BOUND


def configuration(plan: Any) -> Hashable:
    """A plan's canonical configuration: sampler, steps, and methods with their parameters (SearchPoint.key())."""
    config = getattr(plan, "config", None)
    return config.key() if config is not None else plan


def meets(candidate: Candidate, goal: Goal) -> bool:
    """Within the quality bound, and at least the speedup (or at most the latency) the goal asks, by its margin."""
    if not candidate.ran or candidate.loss is None or candidate.loss > goal.bound:
        return False
    if goal.speedup is not None and (candidate.speedup or 0.0) < goal.speedup * (1 + goal.margin):
        return False
    if goal.latency_s is None:
        return True
    reading = latency_reading(candidate, goal)
    return reading is not None and reading.read_s <= goal.latency_s / (1 + goal.margin)


def latency_reading(candidate: Candidate, goal: Goal) -> LatencyReading | None:
    """The candidate's latency as the judge reads it against this goal, where measured."""
    if candidate.latency_s is None:
        return None
    return read_latency(candidate.latency_s, candidate.baseline_s, goal.calibrated_baseline_s)


def sample_parents(pool: list[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """`count` distinct parents, each drawn with probability proportional to its min-shifted fitness."""
    ranked = [c for c in pool if c.fitness is not None]
    chosen: list[Candidate] = []
    while ranked and len(chosen) < count:
        low = min(c.fitness for c in ranked)  # type: ignore[type-var]
        weights = [(c.fitness - low) + 1e-3 for c in ranked]  # type: ignore[operator]
        pick = rng.choices(range(len(ranked)), weights=weights)[0]
        chosen.append(ranked.pop(pick))
    return chosen


@dataclass
class Evolution:
    goal: Goal
    # propose(parents, fresh, generation) -> one refined plan per parent (with it) and `fresh` new plans (None)
    propose: Callable[[list[Candidate], int, int], list[tuple[Plan, Candidate | None]]]
    evaluate: Callable[[Plan, int], Candidate]
    population: int = DEFAULT_POPULATION
    parents: int = DEFAULT_PARENTS
    generations: int = DEFAULT_GENERATIONS
    weights: Weights = field(default_factory=Weights)
    seed: int = 0
    on_candidate: Callable[[Candidate], None] | None = None
    key: Callable[[Any], Hashable] = configuration  # what makes two plans the same point
    history: list[Candidate] = field(default_factory=list)
    best_by_generation: list[float | None] = field(default_factory=list)
    stopped_early: bool = False
    repeats_skipped: int = 0  # plans the planner proposed again, never developed or measured

    def _new_points(self, plans: list[tuple[Any, Candidate | None]], generation: int) -> list[tuple[Any, Any]]:
        """The plans whose configuration no candidate had; each repeat's slot refilled by fresh plans, where the
        planner has any left (REFILLS asks at most)."""
        seen = {self.key(c.plan) for c in self.history}
        wanted, kept = len(plans), []
        for attempt in range(REFILLS + 1):
            for plan, parent in plans:
                point = self.key(plan)
                if point in seen:
                    self.repeats_skipped += 1
                    continue
                seen.add(point)
                kept.append((plan, parent))
            missing = wanted - len(kept)
            if missing <= 0 or attempt == REFILLS:
                break
            plans = self.propose([], missing, generation)
        return kept[:wanted]

    def run(self) -> Candidate | None:
        """Evolve until a candidate meets the goal or the generations run out; what the run delivers (best())."""
        rng = random.Random(self.seed)
        for generation in range(self.generations):
            chosen = sample_parents(self.history, self.parents, rng) if generation else []
            plans = self._new_points(self.propose(chosen, self.population - len(chosen), generation), generation)
            for plan, parent in plans:
                candidate = self.evaluate(plan, generation)
                candidate.parent = None if parent is None else self.history.index(parent)
                candidate.fitness = fitness(candidate, self.goal, self.weights)
                self.history.append(candidate)
                if self.on_candidate:
                    self.on_candidate(candidate)
                if meets(candidate, self.goal):
                    self.stopped_early = generation + 1 < self.generations
                    self.best_by_generation.append(candidate.fitness)
                    return candidate
            self.best_by_generation.append(self.best_fitness())
        return self.best()

    def best_fitness(self) -> float | None:
        scores = [c.fitness for c in self.history if c.fitness is not None]
        return max(scores) if scores else None

    def best(self) -> Candidate | None:
        """The deliverable: the fastest candidate within the quality bound (the fitter of equals); None when no
        candidate is within it."""
        inside = [c for c in self.history if within_bound(c, self.goal)]
        return max(inside, key=lambda c: (c.speedup, c.fitness)) if inside else None  # type: ignore[arg-type,return-value]

    def fastest_over_bound(self) -> Candidate | None:
        """The fastest candidate over the quality bound, where it is faster than the deliverable: an option the user
        may take knowingly, never delivered."""
        best = self.best()
        over = [c for c in self.history if c.ran and not within_bound(c, self.goal)]
        fastest = max(over, key=lambda c: c.speedup) if over else None  # type: ignore[arg-type,return-value]
        if fastest is None or (best is not None and (fastest.speedup or 0) <= (best.speedup or 0)):
            return None
        return fastest
