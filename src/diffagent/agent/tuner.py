"""The search inside the agent: the planner chooses the method sets and the direction, Optuna's TPE the numbers.

A matched-budget parameter search beats agents that guess numbers (InferenceBench, 2026: 11.53x against 8.08x),
so the agent holds one: calibration's search (`calibration/space.py`: the same space, objective and sampler),
asked one point at a time inside the genetic selector's budget. Every candidate the agent measures in the space
is a trial of one TPE study, so TPE learns from the planner's plans as well as its own.
- A fresh plan is the planner's, its numbers the study's seeds (the knowledge base's defaults and published
  settings, or a language model's); where the planner has no fresh plan left, TPE's own point over the whole
  space takes the slot (signed "Optuna TPE search"), so the budget is spent, not left unused.
- A refined plan keeps the method set the planner chose for it and the planner's direction (fewer steps when it
  pushes on, more when it backs off). Every other refinement takes the planner's own numbers; the rest take TPE's
  numbers in that direction (steps, intervals, thresholds, ratios, gate steps), conditioned on every measurement.
  The two halves are the two things each does well: the planner's local move toward the bound, TPE's wider draw.
- The objective is calibration's: U within the quality bound, -L over it, so TPE learns which way is worse.
- A point already measured or asked is never proposed again (its trial is closed as failed, which TPE leaves
  out); a method set outside the space (a method the space leaves out) keeps the planner's numbers.
`--no-tuner` turns it off (the planner's own numbers throughout, and no TPE points), so its effect is measurable.
On two synthetic landscapes (tests/test_tuner.py) the alternation was never far behind the better of the planner
alone and TPE alone; taking TPE's numbers for every refinement lost to the planner alone on one of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from diffagent.agent.plan import Candidate, Goal, Pipeline, Plan
from diffbench.calibration.search import CRASHED, trial_value
from diffbench.calibration.space import SearchPoint, SearchSpace
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.device import fast_half_precision_methods
from diffbench.models.families import checkpoint
from diffbench.models.profiles import Profile

ASKS = 5  # times TPE is asked for a point not measured yet before the planner's own numbers stand
STARTUP = 4  # TPE models from its fourth trial on (the planner's seeds are the first; 10, its default, would be random)
TPE = "Optuna TPE search"  # the author of the points TPE chose on its own


def objective(candidate: Candidate, goal: Goal) -> float:
    """Calibration's objective: the speedup within the quality bound, minus the loss over it."""
    if not candidate.ran:
        return CRASHED
    assert candidate.loss is not None and candidate.speedup is not None
    return trial_value(candidate.speedup, candidate.loss, goal.bound)


def agent_space(kb: KnowledgeBase, pipeline: Pipeline, profile: Profile) -> SearchSpace:
    """Calibration's space for the user's pipeline on `profile`'s device, with its own scheduler as a sampler."""
    own = checkpoint(pipeline.model_id).scheduler
    native = next((m.key for m in kb if m.scheduler == own and m.category == "sampler"), "ddim")
    fast_half = fast_half_precision_methods(profile.device)
    return SearchSpace(kb, pipeline.model_id, pipeline.conditioning, pipeline.steps, profile.name,
                       fast_half_precision=fast_half, own_scheduler=native)  # fmt: skip


@dataclass
class Tuner:
    """A planner with TPE choosing the numbers of its refinements (see the module's doc)."""

    planner: Any  # HeuristicPlanner or LLMPlanner: fresh(count), refine(parent), author
    space: SearchSpace
    goal: Goal
    seed: int = 0
    tuned: int = 0  # refinements whose numbers TPE chose
    kept: int = 0  # refinements that kept the planner's numbers (every other one, or TPE had no new point)
    searched: int = 0  # fresh points TPE chose where the planner had none left
    _refined: int = 0
    _trials: dict[str, Any] = field(default_factory=dict)  # SearchPoint.key() -> the trial it was asked as
    _values: dict[str, float] = field(default_factory=dict)  # SearchPoint.key() -> its objective, once measured

    def __post_init__(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        with warnings.catch_warnings():  # multivariate and group are marked experimental; their use is deliberate
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            tpe = optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=STARTUP, multivariate=True, group=True)
        self.study = optuna.create_study(direction="maximize", sampler=tpe)

    def __getattr__(self, name: str) -> Any:  # requested(), alternatives(), author, write(): the planner's own
        if name.startswith("_") or name == "planner":
            raise AttributeError(name)
        return getattr(self.planner, name)

    def fresh(self, count: int) -> list[Plan]:
        """The planner's fresh plans (their numbers are the study's seeds); where it has none left, TPE's points
        over the whole space, calibration's search itself."""
        plans = self.planner.fresh(count)
        for plan in plans:
            self._seed(plan.config)
        for _ in range((count - len(plans)) * ASKS):
            if len(plans) == count:
                break
            config = self._draw({})
            if config is not None:
                self.searched += 1
                plans.append(Plan(config, f"TPE over the search space, {len(self._values)} measurements", TPE))
        return plans

    def refine(self, parent: Candidate) -> Plan:
        """The planner's refinement of `parent`: its method set and its direction (fewer steps when it pushes on,
        more when it backs off), with TPE's numbers in that direction; the planner's own where TPE has no new point
        there or the method set lies outside the space."""
        plan = self.planner.refine(parent)
        fixed = self._method_set(plan.config)
        before = parent.plan.config.steps
        push = plan.config.steps <= before
        new = plan.config.key() not in self._values and plan.config.key() not in self._trials
        self._refined += 1
        if self._refined % 2 == 1 and new:  # every other refinement: the planner's own numbers
            self.kept += 1
            self._seed(plan.config)
            return plan
        for _ in range(ASKS if fixed is not None else 0):
            assert fixed is not None
            config = self._draw(fixed, lambda c: c.steps <= before if push else c.steps >= before)
            if config is not None:
                self.tuned += 1
                return Plan(config, f"{plan.rationale}; numbers by TPE over {len(self._values)} measurements",
                            plan.author)  # fmt: skip
        self.kept += 1
        self._seed(plan.config)
        return plan

    def tell(self, plan: Plan, candidate: Candidate) -> None:
        """A measured candidate's objective, to the trial it was asked as (none: outside the space)."""
        key = plan.config.key()
        value = objective(candidate, self.goal)
        self._values[key] = value
        trial = self._trials.pop(key, None)
        if trial is not None:
            self.study.tell(trial, value)

    def _method_set(self, config: SearchPoint) -> dict[str, Any] | None:
        """The trial values that fix a configuration's sampler and methods (None when outside the space)."""
        point = self.space.point(config)
        if point is None:
            return None
        return {k: v for k, v in point.items() if k == "sampler" or k.startswith("method")}

    def _seed(self, config: SearchPoint) -> None:
        """A planner's configuration as a trial of the study, told once it is measured (outside the space: none)."""
        point = self.space.point(config)
        if point is None or config.key() in self._trials or config.key() in self._values:
            return
        self.study.enqueue_trial(point)
        trial = self.study.ask()
        if self.space.suggest(trial) is None:
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            return
        self._trials[config.key()] = trial

    def _draw(self, fixed: dict[str, Any], wanted: Any = None) -> SearchPoint | None:
        """TPE's point with `fixed` values held, when it composes, is not measured or asked yet, and is `wanted`;
        else None (the trial is closed as failed, which TPE leaves out of its model)."""
        if fixed:
            self.study.enqueue_trial(fixed)
        trial = self.study.ask()
        config = self.space.suggest(trial)
        key = config.key() if config is not None else None
        if config is None or key in self._values or key in self._trials or (wanted and not wanted(config)):
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            return None
        self._trials[key] = trial
        return config
