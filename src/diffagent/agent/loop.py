"""DiffAgent's loop: planner -> coder -> debugger -> measurement -> genetic selection, until the goal is met.

Levels 1-3 (no speed target): one plan for what the request asks, developed until it runs (back to the planner
for a new plan when T_code restarts are spent). Levels 4-5: the genetic selector over plans, each candidate's
L and U (or latency) measured by the judge's protocol (evaluation/measuring.py `search_session`: the baseline in one
confined child for the whole run, each candidate in a fresh confined child, the two timed call by call, order
alternating, after warm-ups; its own fixed inputs, where the judge draws secret ones).
Ablations: no knowledge base in the prompts, no genetic selection (one plan, one candidate),
no debugger (one write, no repair).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from diffagent.agent.debugger import Developer
from diffagent.agent.plan import AUTHOR, Candidate, Goal, Plan, Weights
from diffagent.agent.problem import Problem
from diffagent.agent.selector import (
    Evolution,
    fitness,
    latency_reading,
    meets,
)
from diffagent.agent.tuner import Tuner
from diffbench.errors import DiffbenchError
from diffbench.evaluation.child import SolutionError
from diffbench.evaluation.measure import AGENT_SEED, Measurement, ProtocolSizes
from diffbench.evaluation.measuring import MeasuringSession, TaskBaseline, search_session
from diffbench.models.profiles import Profile
from diffbench.runner.agent_settings import (
    DEFAULT_CODE_RESTARTS,
    DEFAULT_DEBUG_ROUNDS,
    DEFAULT_GENERATIONS,
    DEFAULT_PARENTS,
    DEFAULT_POPULATION,
    DEFAULT_SAMPLES,
    LATENCY_MARGIN,
    SUCCESS_MARGIN,
)

CANDIDATES_LOG = "candidates.jsonl"
REPLANS = 2  # levels 1-3: new plans asked for after a plan's T_code restarts all failed


class Planner(Protocol):
    author: str

    def fresh(self, count: int) -> list[Plan]: ...
    def refine(self, parent: Candidate) -> Plan: ...
    def requested(self) -> Plan: ...
    def alternatives(self) -> list[Plan]: ...


@dataclass
class AgentOptions:
    population: int = DEFAULT_POPULATION  # P
    parents: int = DEFAULT_PARENTS  # M
    generations: int = DEFAULT_GENERATIONS  # T_sel
    code_restarts: int = DEFAULT_CODE_RESTARTS  # T_code
    debug_rounds: int = DEFAULT_DEBUG_ROUNDS  # T_debug
    use_knowledge: bool = True
    use_ga: bool = True
    best_of_n: bool = False  # the ablation against selection: P x T_sel fresh plans, no parents refined
    margin: float = SUCCESS_MARGIN  # the agent's measurement must clear a speedup goal by this much to call it met
    latency_margin: float = LATENCY_MARGIN  # and a latency goal by this much
    use_debugger: bool = True
    tune: bool = True  # TPE chooses the numbers of refined plans (agent/tuner.py); False: the planner's own
    samples: int = DEFAULT_SAMPLES  # validation inputs per candidate measurement (quality)
    timing_inputs: int = 3  # as the judge
    timing_rounds: int = 2  # the judge: 3
    weights: Weights = field(default_factory=Weights)
    seed: int = 0

    @classmethod
    def of(cls, given: dict[str, Any]) -> AgentOptions:
        """The options with what a user gave (runner/agent_settings.py given(), a run folder's recorded options)."""
        known = {f.name for f in fields(cls)} - {"weights"}
        unknown = set(given) - known
        if unknown:
            raise DiffbenchError(f"unknown agent options {sorted(unknown)}; known: {sorted(known)}")
        return cls(**given)

    @property
    def protocol(self) -> ProtocolSizes:
        return ProtocolSizes(samples=self.samples, timing_inputs=self.timing_inputs, repetitions=self.timing_rounds)

    def describe(self) -> str:
        off = [name for name, on in (("knowledge", self.use_knowledge), ("ga", self.use_ga),
                                     ("debugger", self.use_debugger), ("tuner", self.tune)) if not on]  # fmt: skip
        shape = f"P={self.population} M={self.parents} T_sel={self.generations}" if self.use_ga else "no GA"
        if self.use_ga and self.best_of_n:
            shape = f"best-of-N, N = P x T_sel = {self.population * self.generations} (no selection)"
        return f"{shape}, T_code={self.code_restarts}, T_debug={self.debug_rounds}" + (
            f"; ablated: {', '.join(off)}" if off else ""
        )


@dataclass
class Outcome:
    problem: Problem
    author: str
    options: AgentOptions
    best: Candidate | None
    history: list[Candidate]
    met: bool
    stopped_early: bool = False
    best_by_generation: list[float | None] = field(default_factory=list)
    evaluations: int = 0  # candidate measurements (levels 4-5)
    smoke_runs: int = 0
    baseline_s: float | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the run had to change from the request, and why
    over_bound_option: Candidate | None = None  # the fastest candidate over the quality bound: named, not delivered
    repeats_skipped: int = 0  # plans proposed again for a configuration already measured: never measured twice

    @property
    def evaluations_to_success(self) -> int | None:
        """Distinct modules measured up to and including the winner; None when the goal was not met."""
        if not self.met:
            return None
        seen: set[str] = set()
        for candidate in self.history:
            if candidate.code and candidate.ran:
                seen.add(candidate.code)
            if candidate is self.best:
                break
        return len(seen)


def candidate_record(c: Candidate) -> dict[str, Any]:
    """One candidate as JSON: what candidates.jsonl, history.json and the run database keep of it."""
    return {
        "generation": c.generation, "parent": c.parent, "plan": c.plan.config.to_json(),
        "describe": c.plan.config.describe(), "rationale": c.plan.rationale, "author": c.plan.author,
        "loss": c.loss, "speedup": c.speedup, "latency_s": c.latency_s, "baseline_s": c.baseline_s,
        "fitness": c.fitness,
        "feedback": c.feedback, "error": c.error, "attempts": c.attempts, "seconds": round(c.seconds, 2),
        "code": c.code,
    }  # fmt: skip


def feedback(candidate: Candidate, goal: Goal) -> str:
    """What a planner reads about a measured candidate: its figures against the goal, and what to do."""
    assert candidate.loss is not None and candidate.speedup is not None
    parts = [f"L = {candidate.loss:.2%} (bound {goal.delta:.0%})", f"U = {candidate.speedup:.2f}x"]
    margin = f", {goal.margin:.0%} margin" if goal.margin else ""
    if goal.speedup is not None:
        parts[-1] += f" (target {goal.speedup:.2f}x{margin})"
    reading = latency_reading(candidate, goal)
    if reading is not None:
        text = f"latency {reading.measured_s:.3f} s"
        if reading.at_calibration_speed:
            text += f", {reading.read_s:.3f} s at the target's calibration speed"
        parts.append(text + (f" (target {goal.latency_s:.3f} s{margin})" if goal.latency_s else ""))
    if meets(candidate, goal):
        verdict = "meets the goal"
    elif candidate.loss > goal.bound:
        verdict = "over the quality bound: back off (more steps, less caching)"
    else:
        verdict = "within the quality bound but not fast enough: push further"
    return "; ".join(parts) + f". {verdict}."


class DiffAgent:
    def __init__(
        self,
        problem: Problem,
        planner: Planner,
        developer: Developer,
        profile: Profile,
        folder: Path,
        options: AgentOptions | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.problem = problem
        self.planner = planner
        self.developer = developer
        self.profile = profile
        self.folder = folder
        self.options = options or AgentOptions()
        self.on_event = on_event or (lambda _: None)
        self._measured: dict[str, Measurement] = {}

    def solve(self) -> Outcome:
        start = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        outcome = self._code_only() if self.problem.goal is None else self._evolve()
        if self.problem.goal is None and self.problem.request.measure and outcome.best is not None:
            self._measure_only(outcome)
        outcome.seconds = time.perf_counter() - start
        if self.developer.smoke is not None:
            outcome.smoke_runs = self.developer.smoke.runs
        return outcome

    # ---- levels 1-3 -----------------------------------------------------------------------------------------
    def _code_only(self) -> Outcome:
        history: list[Candidate] = []
        notes: list[str] = []
        requested = self.planner.requested()
        # A language model is asked for new plans; the offline planner has one reading of the request, and falls
        # back to its alternatives (the requested methods one fewer at a time), within T_code plans in all.
        offline = self.planner.author == AUTHOR
        queue = [requested, *self.planner.alternatives()][: self.options.code_restarts] if offline else [requested]
        for attempt in range(len(queue) if offline else REPLANS + 1):
            plan = queue[attempt] if offline else (requested if attempt == 0 else self.planner.fresh(1)[0])
            self.on_event(f"plan: {plan.config.describe()} [{plan.author}]")
            candidate = self._develop(plan, 0)
            history.append(candidate)
            self._report(candidate)
            if candidate.error is None:
                candidate.feedback = "runs: loads and answers a request with one output at the task's size"
                if plan is not requested:
                    notes.append(
                        f"the plan the request asks for ({requested.config.describe()}) did not run: "
                        f"{history[0].feedback}; the module is the next plan that ran, {plan.config.describe()}"
                    )
                outcome = Outcome(self.problem, self.planner.author, self.options, candidate, history, met=True)
                outcome.notes = notes
                return outcome
        notes.append(f"no plan ran; the requested one failed with: {history[0].feedback}")
        outcome = Outcome(self.problem, self.planner.author, self.options, None, history, met=False)
        outcome.notes = notes
        return outcome

    def _measure_only(self, outcome: Outcome) -> None:
        """'Report how much faster it got': the module that runs, measured against the baseline as at level 4."""
        best = outcome.best
        assert best is not None
        goal = Goal(delta=self.problem.request.delta)
        self.on_event("measuring the module against the baseline, as asked")
        with self._session() as session:
            self._measure(session, best, goal)
            best.fitness = fitness(best, goal)
            outcome.baseline_s = session.baseline_s
        outcome.evaluations = len(self._measured)
        if best.speedup is not None:
            outcome.notes.append(f"measured as asked: U = {best.speedup:.2f}x, L = {best.loss:.2%}")

    def _develop(self, plan: Plan, generation: int) -> Candidate:
        started = time.perf_counter()
        dev = self.developer.develop(plan)
        candidate = Candidate(plan=plan, generation=generation, code=dev.code or dev.last_code)
        candidate.attempts = [vars(a) for a in dev.attempts]
        if dev.code is None:
            candidate.error = dev.error or "did not run"
            candidate.feedback = f"did not run: {candidate.error.splitlines()[0][:300]}"
        candidate.seconds = time.perf_counter() - started
        return candidate

    # ---- levels 4-5 -----------------------------------------------------------------------------------------
    def _evolve(self) -> Outcome:
        opts = self.options
        goal = self.problem.goal
        assert goal is not None
        goal = replace(goal, margin=opts.margin if goal.latency_s is None else opts.latency_margin)
        base = self.problem.pipeline
        self.on_event(f"baseline: {base.sampler} {base.steps} steps on {base.model_id}; measuring it")
        with self._session() as session:
            assert session.record is not None
            self.on_event(f"baseline: {session.record.call_s:.3f} s per call")

            def propose(parents: list[Candidate], fresh: int, generation: int) -> list[tuple[Plan, Candidate | None]]:
                if not opts.use_ga:
                    return [(self.planner.fresh(1)[0], None)]
                refined = [(self.planner.refine(p), p) for p in parents]
                return refined + [(plan, None) for plan in self.planner.fresh(fresh)]

            def evaluate(plan: Plan, generation: int) -> Candidate:
                self.on_event(f"gen {generation}: {plan.config.describe()} [{plan.author}]")
                candidate = self._develop(plan, generation)
                if candidate.error is None:
                    self._measure(session, candidate, goal)
                if isinstance(self.planner, Tuner):
                    self.planner.tell(plan, candidate)
                return candidate

            evolution = Evolution(
                goal, propose, evaluate,
                population=opts.population if opts.use_ga else 1,
                parents=min(opts.parents, opts.population - 1) if opts.use_ga and not opts.best_of_n else 0,
                generations=opts.generations if opts.use_ga else 1,
                weights=opts.weights, seed=opts.seed, on_candidate=self._report,
            )  # fmt: skip
            best = evolution.run()
            baseline_s = session.baseline_s
        met = best is not None and meets(best, goal)
        outcome = Outcome(
            self.problem, self.planner.author, opts, best, evolution.history, met, evolution.stopped_early,
            evolution.best_by_generation, evaluations=len(self._measured), baseline_s=baseline_s,
            over_bound_option=evolution.fastest_over_bound(), repeats_skipped=evolution.repeats_skipped,
        )  # fmt: skip
        if isinstance(self.planner, Tuner):
            outcome.notes.append(
                f"the search inside: TPE chose the numbers of {self.planner.tuned} refined plans and "
                f"{self.planner.searched} points of its own; {self.planner.kept} refinements kept the planner's"
            )
        return outcome

    def _session(self) -> MeasuringSession:
        base = self.problem.pipeline
        baseline = TaskBaseline(base.model_id, self.problem.baseline_code, base.conditioning)
        return search_session(self.folder / "bench", self.profile, baseline, self.options.protocol, AGENT_SEED)

    def _measure(self, session: MeasuringSession, candidate: Candidate, goal: Goal) -> None:
        assert candidate.code is not None
        key = hashlib.sha256(candidate.code.encode()).hexdigest()[:16]
        started = time.perf_counter()
        try:
            asked = {a.key for a in self.problem.request.methods}  # their effect rules hold in full (behaviour.py)
            m = self._measured.get(key) or session.measure(
                candidate.code, f"candidate-{len(self._measured)}", asked=asked
            )
        except SolutionError as err:
            candidate.error = str(err)
            candidate.feedback = f"did not run when measured: {str(err)[:300]}"
            return
        finally:
            candidate.seconds += time.perf_counter() - started
        self._measured[key] = m
        candidate.loss, candidate.speedup, candidate.latency_s = m.loss, m.speedup, m.latency_s
        candidate.baseline_s = m.baseline_s
        candidate.feedback = feedback(candidate, goal)
        if m.warnings:  # an extra method that did nothing: harmless, but the planner should know
            candidate.feedback += "; " + "; ".join(m.warnings)

    def _report(self, candidate: Candidate) -> None:
        """Progress, and one JSON line per candidate as it is measured (a run that dies keeps what it measured)."""
        with (self.folder / CANDIDATES_LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps(candidate_record(candidate), default=str) + "\n")
        if candidate.error is not None:
            self.on_event(f"  -> failed: {candidate.feedback}")
        else:
            self.on_event(f"  -> {candidate.feedback}")
