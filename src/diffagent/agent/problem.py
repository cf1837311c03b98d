"""What the agent is asked to solve: the request's words, the baseline code, the pipeline and the goal.

A problem comes from a benchmark task (its prompt as the profile shows it, its baseline code and calibrated
target) or from an engineer's sentence (`diffagent solve`), with or without their own baseline module. Without
one, the baseline is composed from the knowledge base for the pipeline the sentence names (DDIM at 50 steps when
it names no sampler, the suite's usual baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from diffagent.agent.heuristic import Pipeline
from diffagent.agent.request import Request, RequestError, parse_request
from diffagent.agent.selector import Goal
from diffbench.calibration.space import Config
from diffbench.evaluation.static import analyze
from diffbench.knowledge.compose import Applied, compose
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.families import Conditioning, family_of
from diffbench.tasks.schema import Task

DEFAULT_BASELINE = ("ddim", 50)


@dataclass
class Problem:
    prompt: str
    baseline_code: str
    pipeline: Pipeline
    goal: Goal | None  # None: levels 1-3, code that does what is asked; no speed target
    request: Request  # the words, read without a language model (the offline planner's input)
    level: int

    def requested_config(self) -> Config:
        """Levels 1-3: the sampler, steps and methods the words ask for (a switch or a step cut wins)."""
        asked = self.request.asked_sampler
        sampler, steps = (asked.key, asked.steps) if asked else (self.pipeline.sampler, self.pipeline.steps)
        return Config(sampler, steps, tuple(self.request.methods))

    def describe_goal(self) -> str:
        goal = self.goal
        if goal is None:
            return "working code for the request (no speed target)"
        aim = f"{goal.speedup:.2f}x speedup" if goal.speedup else f"latency <= {goal.latency_s:.3f} s"
        return f"{aim} with quality loss <= {goal.delta:.0%}"


def _goal(request: Request) -> Goal | None:
    if not request.has_target:
        return None
    return Goal(delta=request.delta, speedup=request.speedup, latency_s=request.latency_s)


def from_task(task: Task, profile: str, kb: KnowledgeBase) -> Problem:
    prompt = task.prompt_for(profile)
    pipeline = Pipeline(task.model_id, task.conditioning, task.resolution, task.baseline_sampler, task.baseline_steps)
    goal = None
    if task.level >= 4:
        target = task.targets.get(profile)
        if target is None:
            raise RequestError(f"{task.id} has no calibrated target for profile {profile}")
        assert task.delta is not None
        goal = Goal(
            task.delta, target.speedup if task.level == 4 else None, target.latency_s if task.level == 5 else None
        )
    request = parse_request(prompt, kb)
    return Problem(prompt, task.baseline_code, pipeline, goal, request, task.level)


def _sampler_of(scheduler_class: str | None, kb: KnowledgeBase) -> str | None:
    return next((m.key for m in kb if m.scheduler and m.scheduler == scheduler_class), None)


def from_prompt(text: str, kb: KnowledgeBase, baseline_code: str | None = None) -> Problem:
    """A problem from an engineer's sentence, with their baseline module or one composed from the sentence."""
    if baseline_code is not None:
        found = analyze(baseline_code)
        if found.compile_error or found.attributes is None:
            raise RequestError(f"the baseline module does not compile: {found.compile_error}")
        attrs = found.attributes
        request = parse_request(text, kb, attrs.model_id)
        sampler = _sampler_of(attrs.scheduler_class, kb)
        if attrs.model_id is None or sampler is None or attrs.num_inference_steps is None:
            raise RequestError(
                "cannot read the baseline's checkpoint, scheduler and steps from its code; keep them as literals "
                f"(found model {attrs.model_id}, scheduler {attrs.scheduler_class}, steps {attrs.num_inference_steps})"
            )
        conditioning = next(
            (c for c, cls in family_of(attrs.model_id).pipelines.items() if cls == attrs.pipeline_class),
            request.conditioning,
        )
        resolution = attrs.resolution[0] if attrs.resolution else request.resolution
        pipeline = Pipeline(attrs.model_id, Conditioning(conditioning), resolution, sampler, attrs.num_inference_steps)
    else:
        request = parse_request(text, kb)
        base = request.baseline_sampler
        sampler, steps = (base.key, base.steps) if base else DEFAULT_BASELINE
        pipeline = Pipeline(request.model_id, request.conditioning, request.resolution, sampler, steps)
        baseline_code = compose(
            kb, pipeline.model_id, pipeline.conditioning, pipeline.resolution, steps,
            [Applied(sampler, {"num_inference_steps": steps})], title="baseline, composed from the request",
        )  # fmt: skip
    goal = _goal(request)
    level = (
        5
        if request.latency_s
        else 4
        if request.speedup
        else (3 if len(request.methods) > 1 else 2 if request.methods else 1)
    )
    return Problem(text, baseline_code, pipeline, goal, request, level)
