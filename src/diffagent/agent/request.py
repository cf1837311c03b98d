"""Reading what a user asks for from the words of the request, with no language model.

`diffagent solve` takes a sentence ("Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x
speedup with at most 5% quality loss"), and the offline planner reads benchmark prompts the same way. The
vocabulary is the field's: hub ids and the usual names of the checkpoints, samplers and acceleration methods (the
names the task phrasings use, plus each knowledge-base method's name and key). What it reads:
- the checkpoint (a hub id, else the longest known name), the conditioning kind and the resolution;
- every sampler mentioned with its step count, in order: the first is the baseline's, the last the one asked for;
- the methods asked for, with the parameters the sentence states (defaults for the rest);
- the goal: a speedup ("2.5x", "3 times as fast"), a latency ("under 0.8 s", "800 ms") and the quality bound
  ("at most 5% quality loss"; 5% when none is stated).
A request that names no known checkpoint is an error that lists what is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from diffbench.errors import DiffbenchError
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.families import FAMILIES, Conditioning, checkpoint, family, family_of
from diffbench.tasks.generate import phrasing

DEFAULT_DELTA = 0.05
_NUMBER = r"(\d+(?:\.\d+)?)"
_STEPS = re.compile(
    r"(?<!every )(?<!step )(\d+)\s*(?:inference |denoising |sampling )?steps?\b|steps\s*[:=]\s*(\d+)|\((\d+) of them\)",
    re.I,
)
_KINDS = [
    (Conditioning.CANNY, re.compile(r"controlnet|canny", re.I)),
    (Conditioning.IMAGE, re.compile(r"img2img|image-to-image|image to image|input (?:photo|image)", re.I)),
    (Conditioning.CLASS, re.compile(r"class-conditional|class-to-image|imagenet|class label|label-to-image", re.I)),
]
_FAMILY_NAMES = {
    "sd15": ["sd1.5", "sd 1.5", "sd-1.5", "stable diffusion 1.5", "stable diffusion v1.5", "sd v1.5", "sd15"],
    "sd21": ["sd2.1", "sd 2.1", "stable diffusion 2.1", "sd21"],
    "sdxl": ["sdxl", "stable diffusion xl"],
    "dit": ["dit"],
    "pixart-alpha": ["pixart-alpha", "pixart-α", "pixart alpha"],
    "pixart-sigma": ["pixart-sigma", "pixart-σ", "pixart sigma"],
}


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


@cache
def _model_names() -> list[tuple[str, str]]:
    """(lower-case name, model id), longest name first, so "SD 2.1 base" wins over "SD 2.1"."""
    names = [(mid.lower(), mid) for mid in _checkpoints()]
    for mid, aliases in phrasing()["models"].items():
        names += [(a.lower(), mid) for a in aliases]
    for key, aliases in _FAMILY_NAMES.items():
        names += [(a, family(key).default.id) for a in aliases]
    return sorted(set(names), key=lambda n: -len(n[0]))


def _checkpoints() -> list[str]:
    return [c.id for fam in FAMILIES.values() for c in fam.checkpoints]


def _find_model(text: str, default: str | None) -> str:
    low = text.lower()
    for name, mid in _model_names():
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
            return mid
    if default is not None:
        return default
    known = ", ".join(_checkpoints())
    raise RequestError(f"the request names no checkpoint this tool knows; name one of: {known}")


def _resolution(text: str, model_id: str) -> int:
    match = re.search(r"(\d{3,4})\s*(?:x|×|by)\s*\1|(\d{3,4})\s*(?:px|pixels)", text)
    if match:
        return int(match.group(1) or match.group(2))
    return checkpoint(model_id).resolution


@cache
def _sampler_aliases() -> list[tuple[str, str]]:
    aliases = {
        "ddim": ["ddim", "ddimscheduler"],
        "dpm_solver": ["dpm-solver++", "dpm-solver", "dpmsolver", "dpm solver", "dpmsolvermultistepscheduler", "dpm++"],
        "unipc": ["unipc", "unipcmultistepscheduler", "uni-pc"],
    }
    return sorted(((a, key) for key, names in aliases.items() for a in names), key=lambda a: -len(a[0]))


@dataclass(frozen=True)
class SamplerMention:
    key: str
    steps: int
    switch: bool  # asked for as the acceleration ("a switch to UniPC", "DDIM reduced to 20 steps")


_SWITCH_BEFORE = re.compile(r"switch to|faster sampler|fewer steps through|a cut of|only \d+ steps of the same")
_SWITCH_AFTER = re.compile(r"^[^.;]{0,25}(?:reduced to|in place of the current)")
_SAME_MENTION = re.compile(r"^\s*(?:scheduler\s*)?\(?\s*$")  # "DPM-Solver++ (DPMSolverMultistepScheduler)"


def _samplers(text: str) -> list[SamplerMention]:
    """Each sampler mention with the step count nearest to it, and whether it is asked for as a switch or cut."""
    low = text.lower()
    found: list[tuple[int, int, str]] = []
    for alias, key in _sampler_aliases():
        for m in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w])", low):
            if not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), key))
    spans: list[tuple[int, int, str]] = []
    for start, end, key in sorted(found):
        if spans and spans[-1][2] == key and _SAME_MENTION.match(low[spans[-1][1] : start]):
            spans[-1] = (spans[-1][0], end, key)
        else:
            spans.append((start, end, key))
    steps = [(m.start(), int(m.group(1) or m.group(2) or m.group(3))) for m in _STEPS.finditer(low)]
    out = []
    for start, end, key in spans:
        near = [(min(abs(p - end), abs(p - start)), n) for p, n in steps if abs(p - end) < 60 or abs(p - start) < 60]
        if near:
            switch = bool(_SWITCH_BEFORE.search(low[max(0, start - 50) : start]) or _SWITCH_AFTER.search(low[end:]))
            out.append(SamplerMention(key, min(near)[1], switch))
    return out


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
                if name and name not in seen:
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
        if name.endswith("_percent"):
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
    low = text.lower()
    for key, patterns in _method_patterns().items():
        for pattern in patterns:
            if m := pattern.search(text):
                found.append((m.start(), Applied(key, _method_params(key, m.groupdict()))))
                break
        else:
            method = kb.method(key)
            for name in {method.name.lower(), key.replace("_", " "), key}:
                if m := re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
                    found.append((m.start(), Applied(key, {})))
                    break
    keys = {a.key for _, a in found}
    if "tgate_deepcache" in keys:  # tgate's combined loader is one method, not T-GATE plus DeepCache
        found = [(p, a) for p, a in found if a.key not in ("tgate", "deepcache")]
    return [a for _, a in sorted(found, key=lambda f: f[0])]


def _goal(text: str) -> tuple[float | None, float | None, float]:
    low = text.lower()
    speed = re.search(rf"{_NUMBER}\s*(?:x|×|times)(?![\w\d]|\s*\d)|factor of {_NUMBER}", low)
    latency = re.search(rf"{_NUMBER}\s*(ms|s|sec|seconds?)\b", low)
    delta = re.search(rf"{_NUMBER}\s*%[^.;]*?quality|quality[^.;]*?{_NUMBER}\s*%", low)
    latency_s = None
    if latency:
        latency_s = float(latency.group(1)) / (1000 if latency.group(2) == "ms" else 1)
    bound = DEFAULT_DELTA
    if delta:
        bound = float(delta.group(1) or delta.group(2)) / 100
    return (float(speed.group(1) or speed.group(2)) if speed else None), latency_s, bound


def parse_request(text: str, kb: KnowledgeBase, model_id: str | None = None) -> Request:
    """What `text` asks for; `model_id` is the checkpoint when the words name none (a given baseline's)."""
    model_id = _find_model(text, model_id)
    fam = family_of(model_id)
    conditioning = next((c for c, pat in _KINDS if pat.search(text) and c in fam.pipelines), fam.plain_conditioning)
    speedup, latency_s, delta = _goal(text)
    return Request(
        model_id=model_id,
        conditioning=conditioning,
        resolution=_resolution(text, model_id),
        samplers=_samplers(text),
        methods=_methods(text, kb),
        speedup=speedup,
        latency_s=latency_s,
        delta=delta,
    )
