"""Reading the schedulers a request names, each with its step count: "Euler 30 steps", "30 DDIM steps", "DDIM 50",
"a switch to UniPC with 20 steps" (asked for as the acceleration), a count with no scheduler near it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from diffagent.agent.request_accounting import Span
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.knowledge.schedulers import SchedulerSpec, find_schedulers

_STEPS = re.compile(
    r"(?<!every )(?<!step )(?<![\d.])(\d+)\s*(?:[a-z][\w+.-]*\s+){0,2}?(?:steps?|its)\b|steps\s*[:=]\s*(\d+)"
    r"|\((\d+) of them\)",
    re.I,
)  # "30 steps", "25 DPM-Solver++ steps", "40 inference steps", "steps=30", "(20 of them)"
# The knowledge base's samplers, as the scheduler each one installs: a user's baseline on one of these is that
# method; any other scheduler is the baseline's own (OWN_SCHEDULER), kept as it is.
_KB_SAMPLERS = {
    SchedulerSpec.of("DDIMScheduler"): "ddim",
    SchedulerSpec.of("DPMSolverMultistepScheduler", algorithm_type="dpmsolver++"): "dpm_solver",
    SchedulerSpec.of("UniPCMultistepScheduler"): "unipc",
    SchedulerSpec.of("FlowMatchEulerDiscreteScheduler"): "flow_euler",
}
EULER, FLOW_EULER = SchedulerSpec.of("EulerDiscreteScheduler"), SchedulerSpec.of("FlowMatchEulerDiscreteScheduler")


def sampler_key(spec: SchedulerSpec) -> str:
    """The knowledge base's sampler for a scheduler, or OWN_SCHEDULER."""
    return _KB_SAMPLERS.get(spec, OWN_SCHEDULER)


@dataclass(frozen=True)
class SamplerMention:
    key: str  # a knowledge-base sampler, or OWN_SCHEDULER (then `spec` says which scheduler)
    steps: int
    switch: bool  # asked for as the acceleration ("a switch to UniPC", "DDIM reduced to 20 steps")
    spec: SchedulerSpec = field(default_factory=SchedulerSpec)


_SWITCH_BEFORE = re.compile(r"switch to|faster sampler|fewer steps through|a cut of|only \d+ steps of the same")
_SWITCH_AFTER = re.compile(r"^[^.;]{0,25}(?:reduced to|in place of the current)")
# "DPM-Solver++ (DPMSolverMultistepScheduler)", "the flow-matching Euler sampler (FlowMatchEulerDiscreteScheduler)"
_SAME_MENTION = re.compile(r"^\s*(?:scheduler|sampler)?\s*\(?\s*$")


_COUNT_AFTER_NAME = re.compile(r"\s*[:=]?\s*(\d{1,3})\b(?![.,]\d|\s*(?:x|×|%|px|s\b|ms|sec|times|by))")


def _gap(low: str, count: Span, name: Span) -> int:
    """How far a step count is from a scheduler's name: the characters between them, plus 60 across a sentence."""
    a, b = (count[1], name[0]) if count[0] < name[0] else (name[1], count[0])
    return max(0, b - a) + (60 if re.search(r"[.;]\s", low[a:b]) else 0)


def samplers(low: str, read: list[Span]) -> tuple[list[SamplerMention], SchedulerSpec | None, int | None]:
    """Each scheduler mention with the step count nearest to it, and whether it is asked for as a switch or cut;
    then the first scheduler named with no step count near it, and a step count with no scheduler near it. The
    spans of what was used are added to `read`."""
    spans: list[tuple[int, int, SchedulerSpec]] = []
    for start, end, spec in find_schedulers(low):
        if spans and spans[-1][2] == spec and _SAME_MENTION.match(low[spans[-1][1] : start]):
            spans[-1] = (spans[-1][0], end, spec)
        else:
            spans.append((start, end, spec))
    counts = list(_STEPS.finditer(low))
    for _start, end, _ in spans:  # "DDIM 50": a count written right after the scheduler's name
        if m := _COUNT_AFTER_NAME.match(low, end):
            counts.append(m)
    steps = [(m.start(), int(next(g for g in m.groups() if g))) for m in counts]
    step_spans = {m.start(): m.span() for m in counts}
    out: list[SamplerMention] = []
    unstepped: SchedulerSpec | None = None
    # Each count goes to one name, the closest pairs first: the gap between the words (from a count's end to the
    # name, or from the name's end to a count), a count in another sentence further than its characters say.
    pairs = sorted((_gap(low, step_spans[p], span[:2]), i, p) for i, span in enumerate(spans) for p, _ in steps)
    count_of: dict[int, int] = {}
    for gap, i, p in pairs:
        if gap < 60 and i not in count_of and p not in count_of.values():
            count_of[i] = p
    used = set(count_of.values())
    for i, (start, end, spec) in enumerate(spans):
        if i in count_of:
            switch = bool(_SWITCH_BEFORE.search(low[max(0, start - 50) : start]) or _SWITCH_AFTER.search(low[end:]))
            out.append(SamplerMention(sampler_key(spec), dict(steps)[count_of[i]], switch, spec))
            read += [(start, end), step_spans[count_of[i]]]
        elif unstepped is None:
            unstepped = spec
            read.append((start, end))
    bare = next((p for p, _ in steps if p not in used), None) if not out else None
    if bare is not None:
        read.append(step_spans[bare])
    return out, unstepped, (dict(steps)[bare] if bare is not None else None)


def scheduler_named(name: str) -> SchedulerSpec | None:
    """The scheduler a name (a class or a usual name: "Euler a", "DPM++ 2M Karras") stands for; None if none."""
    found = find_schedulers(name)
    return found[0][2] if found else None


def as_native(spec: SchedulerSpec, model_scheduler: str) -> SchedulerSpec:
    """On a flow-matching model (FLUX.1, SD3.5, Qwen-Image) "Euler" is its own flow-matching Euler sampler."""
    return FLOW_EULER if spec == EULER and model_scheduler == FLOW_EULER.class_name else spec
