"""What the agent is asked to solve: the request's words, the baseline code, the pipeline and the goal.

A problem comes from a benchmark task (its prompt as the profile shows it, its baseline code and calibrated
target) or from an engineer's sentence (`diffagent solve`), with or without their own baseline module. The
baseline is the user's pipeline: every setting the words (or the module) state, and for the rest the checkpoint's
own defaults (its scheduler as loaded, the pipeline's default steps, guidance and strength), each listed as an
assumption so that the user sees what was understood before anything runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from diffagent.agent.plan import Goal, Pipeline
from diffagent.agent.request import EXAMPLE, Request, RequestError, parse_request
from diffagent.agent.request_exact import ExactRequest
from diffagent.agent.request_samplers import sampler_key
from diffbench.calibration.space import OWN_SCHEDULER, SearchPoint
from diffbench.evaluation.static import analyze
from diffbench.knowledge.compose import Applied, compose
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import CLIP_FRAMES, Conditioning, checkpoint, family_of
from diffbench.tasks.schema import Task


@dataclass
class Problem:
    prompt: str
    baseline_code: str
    pipeline: Pipeline
    goal: Goal | None  # None: levels 1-3, code that does what is asked; no speed target
    request: Request  # the words as read (by the rules, or by a language model with `--llm`)
    level: int
    assumptions: list[str] = field(default_factory=list)  # what the request left out, and what was filled in

    def requested_config(self) -> SearchPoint:
        """Levels 1-3: the sampler, steps and methods the words ask for (a switch or a step cut wins)."""
        asked = self.request.asked_sampler
        sampler, steps = (asked.key, asked.steps) if asked else (self.pipeline.sampler, self.pipeline.steps)
        return SearchPoint(sampler, steps, tuple(self.request.methods))

    def describe_goal(self) -> str:
        goal = self.goal
        if goal is None:
            measured = "; measure how much faster it is" if self.request.measure else ""
            return f"working code for the request (no speed target){measured}"
        aim = f"{goal.speedup:.2f}x speedup" if goal.speedup else f"latency <= {goal.latency_s:.3f} s"
        bound = "0% (only lossless moves: L within 0.1%)" if goal.delta == 0 else f"{goal.delta:.0%}"
        return f"{aim} with quality loss <= {bound}"

    def describe_baseline(self) -> str:
        base = self.pipeline
        call = []
        if base.conditioning is Conditioning.IMAGE:
            call.append(f"strength {base.strength if base.strength is not None else 0.75}")
        if base.guidance_scale is not None:
            call.append(f"guidance {base.guidance_scale:g}")
        extra = f", {', '.join(call)}" if call else ""
        return f"{base.model_id} ({base.conditioning}, {base.describe_size()}), {base.describe_sampler()}{extra}"

    def understanding(self) -> list[str]:
        """What was read, as the first lines of the output and of the report."""
        lines = [f"baseline: {self.describe_baseline()}", f"goal: {self.describe_goal()}"]
        if self.request.not_understood:  # never dropped without a word: the user sees it before anything runs
            lines.append("not understood: " + ", ".join(self.request.not_understood))
        if self.request.methods:
            lines.append("methods asked for: " + ", ".join(a.key for a in self.request.methods))
        lines += [f"read: {note}" for note in self.request.reading_notes]
        lines += [f"assumed: {a}" for a in self.assumptions]
        return lines


def _goal(request: Request) -> Goal | None:
    if not request.has_target:
        return None
    return Goal(delta=request.delta, speedup=request.speedup, latency_s=request.latency_s)


def from_task(task: Task, profile: str, kb: KnowledgeBase) -> Problem:
    prompt = task.prompt_for(profile)
    pipeline = Pipeline(task.model_id, task.conditioning, task.resolution, task.baseline_sampler, task.baseline_steps,
                        width=task.width, frames=task.frames)  # fmt: skip
    goal = None
    if task.level >= 4:
        target = task.targets.get(profile)
        if target is None:
            raise RequestError(f"{task.id} has no calibrated target for profile {profile}")
        assert task.delta is not None
        goal = Goal(
            task.delta,
            target.speedup if task.level == 4 else None,
            target.latency_s if task.level == 5 else None,
            calibrated_baseline_s=target.baseline_s if task.level == 5 else None,
        )
    request = parse_request(prompt, kb)
    return Problem(prompt, task.baseline_code, pipeline, goal, request, task.level)


def default_steps(model_id: str, conditioning: Conditioning) -> tuple[int, str]:
    """The step count a pipeline runs when none is stated, and where it comes from: the model card's example where
    the registry records one (FLUX.1, SD3.5, Qwen-Image), else the pipeline class's default. One rule for the
    words route and for a baseline module that passes no step count."""
    card = checkpoint(model_id).steps
    if card is not None:
        return card, f"the model card's for {model_id}"
    pipeline_class = family_of(model_id).pipelines[conditioning]
    return int(pipeline_defaults(pipeline_class)["num_inference_steps"] or 50), f"the {pipeline_class} default"


@cache
def pipeline_defaults(pipeline_class: str) -> dict[str, float | int | None]:
    """The call's defaults as the pipeline class declares them: what a user's code runs when it passes nothing."""
    import diffusers

    params = inspect.signature(getattr(diffusers, pipeline_class).__call__).parameters

    def default(name: str) -> float | int | None:
        value = params[name].default if name in params else None
        return None if value is inspect.Parameter.empty else value

    return {name: default(name) for name in ("num_inference_steps", "guidance_scale", "strength")}


Reader = Callable[[str, str | None], Request]  # (the words, the checkpoint a baseline module loads) -> Request


def _from_module(code: str, request_text: str, kb: KnowledgeBase, read: Reader) -> tuple[Request, Pipeline, list[str]]:
    """The pipeline a user's baseline module builds, read by the static parser (the exact route)."""
    found = analyze(code)
    if found.compile_error or found.attributes is None:
        raise RequestError(f"the baseline module does not compile: {found.compile_error}")
    attrs = found.attributes
    if attrs.model_id is None:
        raise RequestError("cannot read the baseline's checkpoint from its code; keep the hub id as a literal")
    request = read(request_text, attrs.model_id)
    fam = family_of(attrs.model_id)
    conditioning = Conditioning(
        next((c for c, cls in fam.pipelines.items() if cls == attrs.pipeline_class), request.conditioning)
    )
    assumptions = []
    own = checkpoint(attrs.model_id).scheduler
    spec = SchedulerSpec.of(attrs.scheduler_class) if attrs.scheduler_class not in (None, own) else SchedulerSpec()
    steps = attrs.num_inference_steps
    if steps is None:
        steps, source = default_steps(attrs.model_id, conditioning)
        assumptions.append(f"the module passes no step count: {steps}, {source}")
    height, width = attrs.resolution if attrs.resolution else (request.resolution, request.width or request.resolution)
    strength = found.strength if conditioning is Conditioning.IMAGE else None
    # The parser reads the class, not its options: the knowledge base's samplers by class (their defaults are
    # diffusers' own), any other class kept as the baseline's own scheduler.
    key = next((m.key for m in kb if m.scheduler and m.scheduler == spec.class_name), OWN_SCHEDULER)
    if key == OWN_SCHEDULER and spec.class_name:
        assumptions.append(
            f"candidates install {spec.class_name}.from_config(pipe.scheduler.config); scheduler options your "
            "module sets beyond its class are not carried over"
        )
    elif spec.class_name is None:
        assumptions.append(f"the module keeps the checkpoint's own scheduler ({own})")
    frames = None
    if conditioning.video:  # the module's num_frames, else what the words state, else the pipeline's default
        frames = found.frames or request.frames or CLIP_FRAMES
    pipeline = Pipeline(attrs.model_id, conditioning, height, key, steps, spec if key == OWN_SCHEDULER else None,
                        strength, width=width if width != height else None, frames=frames)  # fmt: skip
    return request, pipeline, assumptions


def _from_words(request: Request, kb: KnowledgeBase) -> tuple[Pipeline, str, list[str]]:
    """The pipeline the words describe, every unstated setting from the checkpoint's own defaults."""
    fam = family_of(request.model_id)
    defaults = pipeline_defaults(fam.pipelines[request.conditioning])
    own = checkpoint(request.model_id).scheduler
    assumptions: list[str] = []
    base = request.baseline_sampler
    if base is not None:
        key, steps, spec = base.key, base.steps, base.spec
        if spec.class_name is None:  # a step count with no scheduler, stated exactly (--steps)
            assumptions.append(f"no scheduler named: the checkpoint's own {own}")
    else:
        spec = request.named_scheduler or SchedulerSpec()
        key = sampler_key(spec) if spec.class_name else OWN_SCHEDULER
        if spec.class_name is None:
            assumptions.append(f"no scheduler named: the checkpoint's own {own}")
        steps = request.bare_steps
        if steps is None:
            steps, source = default_steps(request.model_id, request.conditioning)
            assumptions.append(f"no step count stated: {steps}, {source}")
    if not request.resolution_stated and request.conditioning is not Conditioning.CLASS:
        side = f"{request.width or request.resolution}x{request.resolution}"
        assumptions.append(f"no resolution stated: {side}, the checkpoint's")
    frames = request.frames
    if request.conditioning.video and frames is None:
        frames = CLIP_FRAMES
        card = checkpoint(request.model_id).frames
        assumptions.append(f"no frame count stated: {frames}, a clip a CPU can afford (the model card makes {card}; "
                           f"say e.g. '{card} frames')")  # fmt: skip
    if request.current_s is not None:
        assumptions.append(
            f"today's latency stated as {request.current_s:g} s: the baseline is measured on the device this runs on"
        )
    strength = request.strength
    if request.conditioning is Conditioning.IMAGE and strength is None:
        strength = float(defaults["strength"] or 0.75)
        assumptions.append(f"no strength stated: {strength:g}, the pipeline's default")
    if not request.delta_stated and request.has_target:
        assumptions.append(f"no quality bound stated: at most {request.delta:.0%} quality loss")
    pipeline = Pipeline(request.model_id, request.conditioning, request.resolution, key, steps,
                        spec if key == OWN_SCHEDULER else None, strength, request.guidance_scale,
                        request.width, frames)  # fmt: skip
    code = compose(
        kb, pipeline.model_id, pipeline.conditioning, pipeline.resolution, steps,
        [] if key == OWN_SCHEDULER else [Applied(key, {"num_inference_steps": steps})],
        title="baseline, composed from the request", scheduler=pipeline.scheduler, strength=strength,
        guidance_scale=request.guidance_scale, width=request.width, frames=frames,
    )  # fmt: skip
    return pipeline, code, assumptions


def from_prompt(
    text: str,
    kb: KnowledgeBase,
    baseline_code: str | None = None,
    read: Reader | None = None,
    exact: ExactRequest | None = None,
) -> Problem:
    """A problem from an engineer's sentence, with their baseline module or one composed from the sentence; the
    words read by `read` (a language model's reading, llm_reader.py), by the rules when none is given; `exact`'s
    fields (flags, a request file) over the words' reading."""

    def rules(words: str, model_id: str | None) -> Request:
        return parse_request(words, kb, model_id)

    reader = read or rules
    if exact is not None and not exact.empty:
        hint, words_reader = exact.model_id(), reader

        def reader(words: str, model_id: str | None) -> Request:
            chosen = words_reader if words.strip() else rules  # no words: nothing for a language model to read
            return exact.apply(chosen(words, model_id or hint))

    if baseline_code is not None:
        request, pipeline, assumptions = _from_module(baseline_code, text, kb, reader)
    else:
        request = reader(text, None)
        pipeline, baseline_code, assumptions = _from_words(request, kb)
    if request.target_assumed:
        assumptions.append(f"no target stated, only 'faster': a {request.speedup:g}x speedup (state one to change it)")
    goal = _goal(request)
    switch = any(s.switch for s in request.samplers) or len(request.samplers) > 1
    if goal is None and not request.methods and not switch and not request.measure:
        # The paper's level 1: the pipeline as described, nothing faster claimed.
        assumptions.append(f"no goal and no method stated: the module is the pipeline as described ({EXAMPLE})")
    level = (
        5
        if request.latency_s
        else 4
        if request.speedup
        else (3 if len(request.methods) > 1 else 2 if request.methods else 1)
    )
    return Problem(text, baseline_code, pipeline, goal, request, level, assumptions)
