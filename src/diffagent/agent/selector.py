"""The genetic selector: a population of plans, each turned into code and measured; the fittest bred on.

As in the paper: generation 0 is P fresh plans; every later generation refines M parents, sampled by normalised
fitness, with their feedback, plus P - M fresh plans; T_sel generations at most, and the loop stops as soon as a
candidate meets the task. Fitness is a weighted sum of speedup and quality loss (weights configurable); a
candidate that did not run has no fitness and is never a parent. Every candidate is kept with its plan, code,
figures and feedback, so a run can be reported and audited.

The selector is independent of how plans are made and measured: `propose` (the planner: fresh plans, or a
refinement of each parent) and `evaluate` (coder, debugger and judge) are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from diffagent.agent.plan import Candidate, Goal, Plan, Weights
from diffbench.evaluation.machine_speed import LatencyReading, read_latency

DEFAULT_POPULATION = 7  # P
DEFAULT_PARENTS = 4  # M
DEFAULT_GENERATIONS = 4  # T_sel


EQUAL_WEIGHTS = Weights()


def fitness(candidate: Candidate, goal: Goal, weights: Weights = EQUAL_WEIGHTS) -> float | None:
    """weights.speed x U - weights.quality x L / delta; None for a candidate that did not run."""
    if not candidate.ran:
        return None
    assert candidate.loss is not None and candidate.speedup is not None
    return weights.speed * candidate.speedup - weights.quality * candidate.loss / goal.bound


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
    history: list[Candidate] = field(default_factory=list)
    best_by_generation: list[float | None] = field(default_factory=list)
    stopped_early: bool = False

    def run(self) -> Candidate | None:
        """Evolve until a candidate meets the goal or the generations run out; the fittest candidate."""
        rng = random.Random(self.seed)
        for generation in range(self.generations):
            chosen = sample_parents(self.history, self.parents, rng) if generation else []
            plans = self.propose(chosen, self.population - len(chosen), generation)
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
        ran = [c for c in self.history if c.fitness is not None]
        return max(ran, key=lambda c: c.fitness) if ran else None  # type: ignore[arg-type,return-value]
