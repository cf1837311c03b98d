"""A language model reads the request into the problem, as the paper's planner does (`diffagent solve --llm`).

The rule-based reader (request.py) stays the offline path; with a model, the model reads the words: the
checkpoint, the conditioning, the baseline's scheduler and steps, the methods asked for and the goal. What it
answers is checked against the registry and the knowledge base before anything runs; an answer that does not
check is sent back once with the reasons, then the command stops with one line. "Make it faster" with no figure
becomes the default target, listed as an assumption, so that the user sees it before the search starts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from diffagent.agent.planner import json_values
from diffagent.agent.request import DEFAULT_DELTA, DEFAULT_SPEEDUP, Request, RequestError, names_of
from diffagent.agent.request_accounting import not_among
from diffagent.agent.request_samplers import SamplerMention, sampler_key, scheduler_named
from diffagent.agent.request_wording import plain_words
from diffagent.llm.base import LLM, Message
from diffagent.prompt import render
from diffbench.errors import DiffbenchError
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import Conditioning, UnknownModelError, checkpoint, family_of, task_families


class Reading(BaseModel):
    """The JSON object the model answers with (prompt/templates/reader.j2)."""

    model_config = ConfigDict(extra="ignore")

    model_id: str | None = None
    conditioning: str | None = None
    resolution: int | None = None
    scheduler: str | None = None
    steps: int | None = None
    switch_to: str | None = None
    switch_steps: int | None = None
    methods: list[str] = []
    speedup: float | None = None
    latency_s: float | None = None
    quality_loss: float | None = None
    faster: bool = False
    measure: bool = False
    strength: float | None = None
    guidance_scale: float | None = None
    question: str | None = None


def _scheduler(name: str) -> SchedulerSpec:
    spec = scheduler_named(name)
    if spec is None:
        raise ValueError(f"scheduler {name!r} is not one this tool can name in diffusers")
    return spec


def to_request(reading: Reading, kb: KnowledgeBase, text: str, model_hint: str | None = None) -> Request:
    """The request as read, checked: a ValueError names every field that does not check."""
    problems: list[str] = []
    model_id = reading.model_id or model_hint
    if model_id is None:
        raise RequestError(f"the request names no model this tool knows: {reading.question or text!r}")
    try:
        checkpoint(model_id)
        fam = family_of(model_id)
    except UnknownModelError as err:
        raise ValueError(str(err)) from None
    conditioning = fam.plain_conditioning
    if reading.conditioning:
        try:
            conditioning = Conditioning(reading.conditioning)
        except ValueError:
            problems.append(f"conditioning {reading.conditioning!r} is not one of {[str(c) for c in Conditioning]}")
        if conditioning not in fam.pipelines:
            problems.append(f"{model_id} has no {conditioning} pipeline here; it has {[str(c) for c in fam.pipelines]}")
    samplers: list[SamplerMention] = []
    named, bare = None, None
    try:
        switch = bool(reading.switch_to or reading.switch_steps)
        if reading.scheduler or (switch and reading.steps):  # a switch needs the baseline's own mention beside it
            spec = _scheduler(reading.scheduler) if reading.scheduler else SchedulerSpec()
            if reading.steps:
                samplers.append(SamplerMention(sampler_key(spec), reading.steps, False, spec))
            else:
                named = spec
        elif reading.steps:
            bare = reading.steps
        if switch:
            spec = _scheduler(reading.switch_to) if reading.switch_to else (named or SchedulerSpec())
            steps = reading.switch_steps or reading.steps or bare
            if steps is None:
                raise ValueError(f"a switch to {reading.switch_to} with no step count")
            samplers.append(SamplerMention(sampler_key(spec), steps, True, spec))
    except ValueError as err:
        problems.append(str(err))
    known = {m.key for m in kb}
    methods: list[Applied] = []
    for key in reading.methods:
        if key not in known:
            problems.append(f"method {key!r} is not in the knowledge base")
        elif why := kb.method(key).why_unsupported(fam.key, str(conditioning)):
            problems.append(f"method {key!r} does not apply to {model_id}: {why}")
        else:
            methods.append(Applied(key, {}))  # its defaults, as the rules read a method named without parameters
    for name, value in (("speedup", reading.speedup), ("latency_s", reading.latency_s)):
        if value is not None and value <= 0:
            problems.append(f"{name} {value} is not a positive number")
    if reading.quality_loss is not None and not 0 <= reading.quality_loss < 1:
        problems.append(f"quality_loss {reading.quality_loss} is not a fraction between 0 and 1")
    if problems:
        raise ValueError("; ".join(problems))
    speedup = reading.speedup
    if reading.faster and speedup is None and reading.latency_s is None:
        speedup = DEFAULT_SPEEDUP
    resolution = reading.resolution or checkpoint(model_id).resolution
    return Request(
        not_understood=_unread(text, model_id, reading),
        model_id=model_id, conditioning=conditioning, resolution=resolution, samplers=samplers,
        methods=methods, speedup=speedup, latency_s=reading.latency_s,
        delta=DEFAULT_DELTA if reading.quality_loss is None else reading.quality_loss,
        delta_stated=reading.quality_loss is not None, measure=reading.measure,
        strength=reading.strength if conditioning is Conditioning.IMAGE else None,
        guidance_scale=reading.guidance_scale, named_scheduler=named, bare_steps=bare,
        resolution_stated=reading.resolution is not None,
        target_assumed=speedup != reading.speedup,
    )  # fmt: skip


def _unread(text: str, model_id: str, reading: Reading) -> list[str]:
    """The request's numbers and model-like names that the model's reading holds nowhere: said, not dropped."""
    low = plain_words(text).low
    stated = [reading.resolution, reading.steps, reading.switch_steps, reading.strength, reading.guidance_scale,
              reading.speedup]  # fmt: skip
    values = {float(v) for v in stated if v is not None}
    if reading.speedup:
        values |= {100 / reading.speedup, 100 - 100 / reading.speedup, (reading.speedup - 1) * 100}
    if reading.latency_s is not None:
        values |= {reading.latency_s, reading.latency_s * 1000}
    if reading.quality_loss is not None:
        values |= {reading.quality_loss, reading.quality_loss * 100}
    return not_among(low, names_of(low, model_id), {round(v, 6) for v in values})


def _context(kb: KnowledgeBase) -> dict[str, Any]:
    checkpoints = [
        {"id": c.id, "family": fam.display, "resolution": c.resolution,
         "conditionings": ", ".join(str(k) for k in fam.pipelines)}
        for fam in task_families() for c in fam.checkpoints
    ]  # fmt: skip
    methods = [{"key": m.key, "name": m.name} for m in kb if m.category != "sampler"]
    return {"checkpoints": checkpoints, "methods": methods}


def read_with_llm(text: str, llm: LLM, kb: KnowledgeBase, model_hint: str | None = None) -> Request:
    """The request as the model reads it, checked; asked again once with the reasons when it does not check."""
    problems: list[str] = []
    for _ in range(2):
        prompt = render("reader", request=text, model_hint=model_hint, problems=problems, **_context(kb))
        reply = llm.complete([Message("user", prompt)], temperature=0.0, max_tokens=1024).text
        objects = [v for v in json_values(reply) if isinstance(v, dict)]
        if not objects:
            problems = ["the answer held no JSON object"]
            continue
        try:
            return to_request(Reading.model_validate(objects[0]), kb, text, model_hint)
        except ValidationError as err:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        except ValueError as err:
            problems = [str(err)]
    raise DiffbenchError(f"{llm.name} read the request twice and neither reading checked: {'; '.join(problems)}")
