"""Reading what a user asks for from the words of the request, with no language model.

`diffagent solve` takes a sentence ("Our SDXL service uses Euler with 40 steps at 1024 px; we need 2.5x"), and the
offline planner reads benchmark prompts the same way. The vocabulary is the field's: hub ids and the usual names
of the checkpoints, schedulers and acceleration methods. What it reads:
- the checkpoint (a hub id, else the longest known name; a family nickname with "base" or a stated resolution
  picks that checkpoint), the conditioning kind and the resolution;
- every scheduler mentioned (any diffusers scheduler by the names people use: Euler, Euler a, DPM++ 2M Karras,
  Heun, ...) with its step count, in order: the first is the baseline's, the last the one asked for; a scheduler
  named without steps, and a step count with no scheduler near it, are kept for the baseline;
- the call's strength and guidance scale where stated;
- the methods asked for, with the parameters the sentence states (defaults for the rest);
- the goal (read in request_goal.py): a speedup ("2.5x", "three times as fast", "halve the time", "down to 70%
  of today's time", "cut latency by 40%"), a latency ("under 0.8 s", "800 ms"), the quality bound ("at most 5%
  quality loss", "0%", "no noticeable quality drop"; 5% when none is stated), and whether the user wants the
  speedup measured even with no target ("report how much faster it got").
A request that names no known checkpoint is an error that lists what is known, with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from diffagent.agent.request_goal import MEASURE, goal, guidance, strength
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.errors import DiffbenchError
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.knowledge.schedulers import SchedulerSpec, find_schedulers
from diffbench.models.families import FAMILIES, Conditioning, checkpoint, family, family_of
from diffbench.tasks.generate import TAYLORSEER_PHRASES, phrasing

DEFAULT_DELTA = 0.05
EXAMPLE = 'e.g. "SDXL with Euler, 40 steps at 1024 px: make it 2x faster with at most 5% quality loss"'
_STEPS = re.compile(
    r"(?<!every )(?<!step )(\d+)\s*(?:[a-z][\w+.-]*\s+){0,2}?(?:steps?|its)\b|steps\s*[:=]\s*(\d+)"
    r"|\((\d+) of them\)",
    re.I,
)  # "30 steps", "25 DPM-Solver++ steps", "40 inference steps", "steps=30", "(20 of them)"
_KINDS = [
    (Conditioning.CANNY, re.compile(r"controlnet|canny", re.I)),
    (Conditioning.IMAGE, re.compile(r"img2img|image-to-image|image to image|input (?:photo|image)|i2i", re.I)),
    (Conditioning.CLASS, re.compile(r"class-conditional|class-to-image|imagenet|class label|label-to-image", re.I)),
]
_FAMILY_NAMES = {
    "sd15": [
        "sd1.5",
        "sd 1.5",
        "sd-1.5",
        "stable diffusion 1.5",
        "stable diffusion v1.5",
        "sd v1.5",
        "sd15",
        "sd v1-5",
        "stable diffusion v1-5",
        "runwayml/stable-diffusion-v1-5",
        "sd1",
    ],
    "sd21": ["sd2.1", "sd 2.1", "stable diffusion 2.1", "sd21", "sd 2", "sd2", "sd-2.1"],
    "sdxl": ["sdxl", "stable diffusion xl", "sd xl", "sd-xl"],
    "dit": ["dit"],
    "pixart-alpha": ["pixart-alpha", "pixart-α", "pixart alpha", "pixart α", "pixart"],
    "pixart-sigma": ["pixart-sigma", "pixart-σ", "pixart sigma", "pixart σ"],
    "flux": ["flux", "flux.1", "flux1", "flux 1"],
    "sd35": ["sd3.5", "sd 3.5", "sd-3.5", "sd35", "stable diffusion 3.5"],
    "qwen-image": ["qwen-image", "qwen image", "qwenimage", "qwen"],
}
# Models people ask for that the registry does not hold yet: named in the refusal, so it says what is missing.
_NOT_YET = {"qwen-image-edit": "Qwen/Qwen-Image-Edit", "flux.2": "black-forest-labs/FLUX.2-dev",
            "wan": "Wan-AI/Wan2.1-T2V-14B", "hunyuan": "tencent/HunyuanImage-2.1"}  # fmt: skip
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twelve": 12, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip


class RequestError(DiffbenchError):
    """The request does not say enough to build its pipeline."""


@dataclass
class Request:
    model_id: str
    conditioning: Conditioning
    resolution: int
    samplers: list[SamplerMention] = field(default_factory=list)  # every sampler mentioned with its steps, in order
    methods: list[Applied] = field(default_factory=list)
    speedup: float | None = None
    latency_s: float | None = None
    delta: float = DEFAULT_DELTA
    delta_stated: bool = False
    measure: bool = False  # "report how much faster it got": measure the speedup even with no target
    strength: float | None = None
    guidance_scale: float | None = None
    named_scheduler: SchedulerSpec | None = None  # a scheduler named with no step count near it
    bare_steps: int | None = None  # a step count with no scheduler near it
    resolution_stated: bool = False
    goal_words: str = ""  # the words the speed goal was read from
    target_assumed: bool = False  # "faster" with no figure, read by a language model: the default target

    @property
    def asked_sampler(self) -> SamplerMention | None:
        """The sampler the request asks for: a switch or a step cut; failing a cue, the fewest steps named (an
        acceleration request names the faster setting); the only one named."""
        if not self.samplers:
            return None
        return next((s for s in self.samplers if s.switch), min(self.samplers, key=lambda s: s.steps))

    @property
    def baseline_sampler(self) -> SamplerMention | None:
        """The pipeline as it is: the first mention that is not the one asked for (the only one, if one)."""
        asked = self.asked_sampler
        return next((s for s in self.samplers if s is not asked and not s.switch), asked)

    @property
    def has_target(self) -> bool:
        return self.speedup is not None or self.latency_s is not None


def _spelled(low: str) -> str:
    """Numbers written as words, as digits ("forty steps" -> "40 steps")."""
    words = "|".join(sorted(_WORDS, key=len, reverse=True))
    return re.sub(rf"\b({words})\b", lambda m: str(_WORDS[m.group(1)]), low)


@cache
def _model_names() -> list[tuple[str, str]]:
    """(lower-case name, model id), longest name first, so "SD 2.1 base" wins over "SD 2.1"."""
    names = [(mid.lower(), mid) for mid in _checkpoints()]
    for mid, aliases in phrasing()["models"].items():
        names += [(a.lower(), mid) for a in aliases]
    for key, aliases in _FAMILY_NAMES.items():
        names += [(a, family(key).default.id) for a in aliases]
    return sorted(set(names), key=lambda n: -len(n[0]))


@cache
def _nicknames() -> frozenset[str]:
    return frozenset(a for aliases in _FAMILY_NAMES.values() for a in aliases)


def _checkpoints() -> list[str]:
    return [c.id for fam in FAMILIES.values() for c in fam.checkpoints]


_RESOLUTION = re.compile(
    r"(\d{3,4})\s*(?:x|×|by)\s*\1|(\d{3,4})\s*(?:px|pixels?|p)\b|\b(?:at|@)\s*(\d{3,4})\b(?!\s*(?:ms|steps?|its))"
)


def _stated_resolution(low: str) -> int | None:
    match = _RESOLUTION.search(low)
    return int(match.group(1) or match.group(2) or match.group(3)) if match else None


def _find_model(text: str, default: str | None) -> str:
    low = text.lower()
    for name, mid in _NOT_YET.items():  # before the known names: "FLUX.2" is not FLUX.1
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w.-])", low):
            raise RequestError(
                f"{mid} is not in this tool's model registry yet (no stand-in, no tasks, no measured methods); "
                f"known: {', '.join(_checkpoints())}"
            )
    for name, mid in _model_names():
        if m := re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
            return _checkpoint_as_stated(low, m.end(), mid) if name in _nicknames() else mid
    if default is not None:
        return default
    known = ", ".join(_checkpoints())
    raise RequestError(f"the request names no checkpoint this tool knows ({EXAMPLE}); name one of: {known}")


def _checkpoint_as_stated(low: str, after: int, model_id: str) -> str:
    """A family's nickname names its default checkpoint unless the words pick another: "base" right after it
    (SD 2.1 base), or a stated resolution that another checkpoint of the family has (PixArt-Alpha at 1024)."""
    fam = family_of(model_id)
    if re.match(r"[\s-]*base\b", low[after:]):
        base = next((c.id for c in fam.checkpoints if c.id.endswith("-base")), None)
        if base:
            return base
    right_after = re.match(r"[\s-]*(?:at\s+)?(\d{3,4})\b", low[after:])
    stated = int(right_after.group(1)) if right_after else _stated_resolution(low)
    return next((c.id for c in fam.checkpoints if c.resolution == stated), model_id)


def _resolution(text: str, model_id: str) -> tuple[int, bool]:
    stated = _stated_resolution(text.lower())
    return (stated, True) if stated else (checkpoint(model_id).resolution, False)


# The knowledge base's samplers, as the scheduler each one installs: a user's baseline on one of these is that
# method; any other scheduler is the baseline's own (OWN_SCHEDULER), kept as it is.
_KB_SAMPLERS = {
    SchedulerSpec.of("DDIMScheduler"): "ddim",
    SchedulerSpec.of("DPMSolverMultistepScheduler", algorithm_type="dpmsolver++"): "dpm_solver",
    SchedulerSpec.of("UniPCMultistepScheduler"): "unipc",
    SchedulerSpec.of("FlowMatchEulerDiscreteScheduler"): "flow_euler",
}
_EULER, _FLOW_EULER = SchedulerSpec.of("EulerDiscreteScheduler"), SchedulerSpec.of("FlowMatchEulerDiscreteScheduler")


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


def _samplers(low: str) -> tuple[list[SamplerMention], SchedulerSpec | None, int | None]:
    """Each scheduler mention with the step count nearest to it, and whether it is asked for as a switch or cut;
    then the first scheduler named with no step count near it, and a step count with no scheduler near it."""
    spans: list[tuple[int, int, SchedulerSpec]] = []
    for start, end, spec in find_schedulers(low):
        if spans and spans[-1][2] == spec and _SAME_MENTION.match(low[spans[-1][1] : start]):
            spans[-1] = (spans[-1][0], end, spec)
        else:
            spans.append((start, end, spec))
    steps = [(m.start(), int(m.group(1) or m.group(2) or m.group(3))) for m in _STEPS.finditer(low)]
    out: list[SamplerMention] = []
    unstepped: SchedulerSpec | None = None
    used: set[int] = set()
    for start, end, spec in spans:
        near = [(min(abs(p - end), abs(p - start)), n, p) for p, n in steps if abs(p - end) < 60 or abs(p - start) < 60]
        if near:
            switch = bool(_SWITCH_BEFORE.search(low[max(0, start - 50) : start]) or _SWITCH_AFTER.search(low[end:]))
            _, count, where = min(near)
            used.add(where)
            out.append(SamplerMention(sampler_key(spec), count, switch, spec))
        elif unstepped is None:
            unstepped = spec
    bare = next((n for p, n in steps if p not in used), None) if not out else None
    return out, unstepped, bare


@cache
def _method_patterns() -> dict[str, list[re.Pattern[str]]]:
    """The task phrasings of each method as patterns, with a named group per stated parameter."""
    out: dict[str, list[re.Pattern[str]]] = {}
    for key, forms in phrasing()["methods"].items():
        pats = []
        for form in forms:
            regex, seen = "", set()
            for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", form):
                regex += re.escape(literal)
                if name == "taylorseer_phrase":  # a switch stated as words, not a value
                    options = "|".join(re.escape(v) for v in TAYLORSEER_PHRASES.values())
                    regex += rf"(?P<taylorseer_phrase>{options})?"
                elif name and name not in seen:
                    regex += rf"(?P<{name}>\d+(?:\.\d+)?|[\w-]+)"
                    seen.add(name)
                elif name:
                    regex += r"(?:\d+(?:\.\d+)?|[\w-]+)"
            pats.append(re.compile(regex, re.I))
        out[key] = pats
    return out


def _number(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _method_params(key: str, groups: dict[str, str]) -> dict[str, Any]:
    params = {}
    for name, value in groups.items():
        if name == "taylorseer_phrase":
            if value is not None:
                params["taylorseer"] = value == TAYLORSEER_PHRASES[True]
        elif name.endswith("_percent"):
            base = name.removesuffix("_percent")
            if base == "rest":
                params["fraction"] = round(1 - _number(value) / 100, 4)
            else:
                params[base] = round(_number(value) / 100, 4)
        else:
            params[name] = _number(value)
    return params


def _methods(text: str, kb: KnowledgeBase) -> list[Applied]:
    found: list[tuple[int, Applied]] = []
    phrased: list[tuple[int, int]] = []  # spans of full task phrasings: a bare name inside one is not a mention
    low = text.lower()
    unphrased = []
    for key, patterns in _method_patterns().items():
        for pattern in patterns:
            if m := pattern.search(text):
                found.append((m.start(), Applied(key, _method_params(key, m.groupdict()))))
                phrased.append(m.span())
                break
        else:
            unphrased.append(key)
    for key in unphrased:
        method = kb.method(key)
        names = sorted({method.name.lower(), key.replace("_", " "), key})
        starts = [
            m.start()
            for name in names
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low)
            if not any(a <= m.start() < b for a, b in phrased)
        ]
        if starts:
            found.append((min(starts), Applied(key, {})))
    keys = {a.key for _, a in found}
    if "tgate_deepcache" in keys:  # tgate's combined loader is one method, not T-GATE plus DeepCache
        found = [(p, a) for p, a in found if a.key not in ("tgate", "deepcache")]
    elif {"tgate", "deepcache"} <= keys:
        # Asked for together: T-GATE's own loader for the pair is what works (the two applied one after the other
        # patch the same forward and break); their stated parameters carry over.
        names = {param.name for param in kb.method("tgate_deepcache").parameters}
        pair = [(p, a) for p, a in found if a.key in ("tgate", "deepcache")]
        params = {k: v for _, a in pair for k, v in a.params.items() if k in names}
        found = [(p, a) for p, a in found if a.key not in ("tgate", "deepcache")]
        found.append((min(p for p, _ in pair), Applied("tgate_deepcache", params)))
    return [a for _, a in sorted(found, key=lambda f: f[0])]


def parse_request(text: str, kb: KnowledgeBase, model_id: str | None = None) -> Request:
    """What `text` asks for; `model_id` is the checkpoint when the words name none (a given baseline's)."""
    model_id = _find_model(text, model_id)
    fam = family_of(model_id)
    low = _spelled(text.lower())
    conditioning = next((c for c, pat in _KINDS if pat.search(text) and c in fam.pipelines), fam.plain_conditioning)
    speedup, latency_s, delta, words = goal(low)
    samplers, unstepped, bare_steps = _samplers(low)
    if checkpoint(model_id).scheduler == _FLOW_EULER.class_name:
        # On a flow-matching model (FLUX.1, SD3.5, Qwen-Image) "Euler" is its own flow-matching Euler sampler.
        samplers = [SamplerMention("flow_euler", s.steps, s.switch, _FLOW_EULER) if s.spec == _EULER else s
                    for s in samplers]  # fmt: skip
        unstepped = _FLOW_EULER if unstepped == _EULER else unstepped
    resolution, stated = _resolution(text, model_id)
    # A percentage that set the speed goal ("cut latency by 40%") is not also the quality bound.
    return Request(
        model_id=model_id,
        conditioning=conditioning,
        resolution=resolution,
        samplers=samplers,
        methods=_methods(text, kb),
        speedup=speedup,
        latency_s=latency_s,
        delta=DEFAULT_DELTA if delta is None else delta,
        delta_stated=delta is not None,
        measure=bool(MEASURE.search(low)),
        strength=strength(low) if conditioning is Conditioning.IMAGE else None,
        guidance_scale=guidance(low),
        named_scheduler=unstepped,
        bare_steps=bare_steps,
        resolution_stated=stated,
        goal_words=words,
    )
