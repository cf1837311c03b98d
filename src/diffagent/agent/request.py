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

The words are made plain first (request_wording.py: typos, other languages, numbers as words); schedulers with
their step counts are read in request_samplers.py, methods in request_methods.py, the goal in request_goal.py;
every span read is kept, and what no reading used is listed as not understood (request_accounting.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from diffagent.agent.request_accounting import Span, covered, not_understood
from diffagent.agent.request_goal import goal, guidance, strength
from diffagent.agent.request_methods import methods as read_methods
from diffagent.agent.request_samplers import SamplerMention, as_native, sampler_key
from diffagent.agent.request_samplers import samplers as read_samplers
from diffagent.agent.request_wording import plain_words
from diffbench.errors import DiffbenchError
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.knowledge.schedulers import SchedulerSpec, scheduler_names
from diffbench.models.families import (
    Conditioning,
    checkpoint,
    family,
    family_of,
    task_families,
)
from diffbench.tasks.wording import phrasing

DEFAULT_DELTA = 0.05
DEFAULT_SPEEDUP = 2.0  # "make it faster" with no figure: said as assumed, on both routes
EXAMPLE = 'e.g. "SDXL with Euler, 40 steps at 1024 px: make it 2x faster with at most 5% quality loss"'
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
    "wan": ["wan", "wan 2.1", "wan2.1", "wan-2.1", "wan t2v", "wan 2.1 t2v"],
    "wan-i2v": ["wan i2v", "wan 2.2 i2v", "wan2.2 i2v", "wan image-to-video"],
}
# Short names of single checkpoints beside the phrasings' (tasks/phrasing/parts.yaml): the size in a Wan name picks
# the checkpoint ("Wan 2.1 14B" is not the family's default 1.3B).
_CHECKPOINT_NAMES = {
    "Wan-AI/Wan2.1-T2V-1.3B-Diffusers": ["wan 2.1 1.3b", "wan2.1 1.3b", "wan 1.3b", "wan 2.1 t2v 1.3b"],
    "Wan-AI/Wan2.1-T2V-14B-Diffusers": ["wan 2.1 14b", "wan2.1 14b", "wan 14b", "wan 2.1 t2v 14b"],
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers": ["wan 2.2 5b", "wan2.2 5b", "wan 2.2 ti2v", "ti2v-5b", "ti2v 5b", "wan 5b"],
    "Wan-AI/Wan2.2-T2V-A14B-Diffusers": ["wan 2.2 a14b", "wan2.2 a14b", "wan 2.2 t2v", "wan 2.2 t2v a14b", "wan a14b"],
    "Wan-AI/Wan2.2-I2V-A14B-Diffusers": ["wan 2.2 i2v a14b", "wan i2v a14b", "wan2.2 i2v a14b"],
}
# Models people ask for that the registry does not hold yet, few-step distilled variants among them: named in the
# refusal, so it says what is missing (read as their base model, they would be a different pipeline).
_NOT_YET = {
    "qwen-image-edit": "Qwen/Qwen-Image-Edit", "flux.2": "black-forest-labs/FLUX.2-dev",
    "hunyuan": "tencent/HunyuanImage-2.1",
    "sdxl turbo": "stabilityai/sdxl-turbo (a few-step distilled SDXL)",
    "sdxl-turbo": "stabilityai/sdxl-turbo (a few-step distilled SDXL)",
    "sd turbo": "stabilityai/sd-turbo (a few-step distilled SD 2.1)",
    "sd-turbo": "stabilityai/sd-turbo (a few-step distilled SD 2.1)",
    "sdxl lightning": "ByteDance/SDXL-Lightning (a few-step distilled SDXL)",
    "sdxl-lightning": "ByteDance/SDXL-Lightning (a few-step distilled SDXL)",
    "lightning": "ByteDance/SDXL-Lightning (a few-step distilled SDXL)",
    "hyper-sd": "ByteDance/Hyper-SD (few-step distilled LoRAs)",
    "lcm-lora": "latent-consistency/lcm-lora-sdxl (a few-step consistency LoRA)",
    "large turbo": "stabilityai/stable-diffusion-3.5-large-turbo (a few-step distilled SD3.5)",
    "sd3.5 turbo": "stabilityai/stable-diffusion-3.5-large-turbo (a few-step distilled SD3.5)",
}  # fmt: skip


class RequestError(DiffbenchError):
    """The request does not say enough to build its pipeline."""


@dataclass
class Request:
    model_id: str
    conditioning: Conditioning
    resolution: int  # the height; the width too unless `width` says otherwise
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
    target_assumed: bool = False  # "faster" with no figure: the default target
    width: int | None = None  # a stated width other than the height ("1216x832"); None: square
    not_understood: list[str] = field(default_factory=list)  # numbers and names no reading used
    reading_notes: list[str] = field(default_factory=list)  # typos answered, the language, overrides
    current_s: float | None = None  # a latency stated as today's: the baseline is measured instead
    frames: int | None = None  # a video's stated frame count; None: not stated (or an image model)

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
    names += [(a, mid) for mid, aliases in _CHECKPOINT_NAMES.items() for a in aliases]
    for key, aliases in _FAMILY_NAMES.items():
        names += [(a, family(key).default.id) for a in aliases]
    return sorted(set(names), key=lambda n: -len(n[0]))


@cache
def _nicknames() -> frozenset[str]:
    return frozenset(a for aliases in _FAMILY_NAMES.values() for a in aliases)


def _checkpoints() -> list[str]:
    return [c.id for fam in task_families() for c in fam.checkpoints]


_RESOLUTION = re.compile(
    r"(\d{3,4})\s*(?:x|×|by)\s*(\d{3,4})|(\d{3,4})\s*(?:px|pixels?|p|model|checkpoint)\b"
    r"|(?:\bat|@)\s*(\d{3,4})\b(?!\s*(?:ms|steps?|its|s\b|%|x|×|by\s*\d))"
)


@dataclass(frozen=True)
class Size:
    height: int
    width: int
    span: Span


def _stated_size(low: str) -> Size | None:
    """The image size the words state: "1216x832" (width x height), "768 px", "at 1024"."""
    match = _RESOLUTION.search(low)
    if match is None:
        return None
    if match.group(1):
        return Size(int(match.group(2)), int(match.group(1)), match.span())
    side = int(match.group(3) or match.group(4))
    return Size(side, side, match.span())


def _agrees(m: re.Match[str], height: int, width: int | None) -> bool:
    """A size mention that says the size read again ("at 512 by 512", "512 px ... 512×512 pixels")."""
    if m.group(1):
        return (int(m.group(2)), int(m.group(1))) == (height, width or height)
    return width is None and int(m.group(3) or m.group(4)) == height


def _not_yet(low: str) -> None:
    for name, mid in _NOT_YET.items():  # before the known names: "FLUX.2" is not FLUX.1
        m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w.-])(?![\s-]fast)", low)  # "lightning fast" is speed
        if m:
            raise RequestError(
                f"{mid} is not in this tool's model registry yet (no stand-in, no tasks, no measured methods); "
                f"known: {', '.join(_checkpoints())}"
            )


def find_model(low: str, default: str | None) -> tuple[str, Span | None]:
    """The checkpoint the words name, and the span of the name (with the words that picked the checkpoint)."""
    _not_yet(low)
    first = next(iter(_mentions(low)), None)  # the longest known name found first
    if first is not None:
        name, mid, (start, end) = first
        if name not in _nicknames():
            return mid, (start, end)
        mid, end = _checkpoint_as_stated(low, end, mid)
        return mid, (start, end)
    if default is not None:
        return default, None
    known = ", ".join(_checkpoints())
    raise RequestError(f"the request names no checkpoint this tool knows ({EXAMPLE}); name one of: {known}")


def names_of(low: str, model_id: str) -> list[Span]:
    """Every mention of a name of the family read ("`black-forest-labs/FLUX.1-dev` (FLUX.1 dev)"), its ControlNet's
    hub id, and a version number right after a name that the checkpoint's id holds ("SDXL base 1.0")."""
    fam = family_of(model_id)
    found = [span for _, mid, span in _mentions(low) if family_of(mid).key == fam.key]
    if fam.controlnet_id:
        found += [m.span() for m in re.finditer(rf"(?<![\w-]){re.escape(fam.controlnet_id.lower())}(?![\w-])", low)]
    spans = []
    for start, end in found:
        version = re.match(r"(?:[\s-]+(?:base|dev|large|medium))?[\s-]+v?(\d+(?:\.\d+)?)\b", low[end:])
        held = version is not None and version.group(1) in model_id.lower()
        spans.append((start, end + (version.end() if version and held else 0)))
    return spans


def _other_models(low: str, family_key: str) -> list[Span]:
    """Mentions of known checkpoints of other families than the one read ("SD1.5 ..., SDXL later")."""
    spans: list[Span] = []
    for _, mid, (start, end) in _mentions(low):
        if family_of(mid).key != family_key and not covered(start, spans):
            spans.append((start, end))
    return spans


@lru_cache(maxsize=16)
def _mentions(low: str) -> tuple[tuple[str, str, Span], ...]:
    """Every mention of a known checkpoint name in the words as (name, model id, span), longest names first: one
    scan that the model's reading, its other mentions and other families' mentions all share."""
    return tuple(
        (name, mid, m.span())
        for name, mid in _model_names()
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low)
    )


def _checkpoint_as_stated(low: str, after: int, model_id: str) -> tuple[str, int]:
    """A family's nickname names its default checkpoint unless the words pick another: "base" right after it
    (SD 2.1 base), or a stated resolution that another checkpoint of the family has (PixArt-Alpha at 1024).
    Returns the checkpoint and where the words that named it end."""
    fam = family_of(model_id)
    if base_word := re.match(r"[\s-]*base\b", low[after:]):
        base = next((c.id for c in fam.checkpoints if c.id.endswith("-base")), None)
        if base:
            return base, after + base_word.end()
    right_after = re.match(r"[\s(-]*(?:at\s+|the\s+)?(\d{3,4})\b\)?", low[after:])
    size = _stated_size(low)
    stated = int(right_after.group(1)) if right_after else (size.height if size else None)
    picked = next((c.id for c in fam.checkpoints if c.resolution == stated), model_id)
    named = right_after and any(c.resolution == int(right_after.group(1)) for c in fam.checkpoints)
    return picked, after + (right_after.end() if right_after and named else 0)


def _known_words(kb: KnowledgeBase) -> list[str]:
    """The field's names a typo is answered with: checkpoints' nicknames, schedulers, methods."""
    names = [n for n, _ in _model_names()] + [n for n, _, _ in scheduler_names()]
    return names + [m.key for m in kb if "_" not in m.key]  # "deepcache", "tgate"; not "first block cache"


def size_checked(found: Size | None, model_id: str, conditioning: Conditioning) -> tuple[int, int | None]:
    """(height, width or None for a square) as stated, checked: a size is the checkpoint's native one or a
    multiple of 64 on both sides (16 for a video model: Wan's VAE and patches); the checkpoint's own where none is
    stated."""
    ck = checkpoint(model_id)
    native_w, native_h = ck.width or ck.resolution, ck.resolution
    if found is None or conditioning is Conditioning.CLASS:
        return native_h, ck.width
    step = 16 if conditioning.video else 64
    if (found.width, found.height) != (native_w, native_h):
        bad = [side for side in (found.width, found.height) if side % step]
        if bad:
            near = " x ".join(str(max(step, round(side / step) * step)) for side in (found.width, found.height))
            raise RequestError(
                f"the size {found.width}x{found.height} is not a multiple of {step} on both sides (the nearest is "
                f"{near}); {model_id} renders {native_w}x{native_h} natively"
            )
    return found.height, (found.width if found.width != found.height else None)


_FRAMES = re.compile(r"\b(\d{1,4})[\s-]*frames?\b")


def _stated_frames(low: str, conditioning: Conditioning) -> tuple[int | None, Span | None]:
    """A video's frame count ("81 frames", "a 17-frame clip"), checked against Wan's VAE (4k+1 frames)."""
    match = _FRAMES.search(low) if conditioning.video else None
    if match is None:
        return None, None
    frames = int(match.group(1))
    if frames < 1 or (frames - 1) % 4:
        near = max(1, round((frames - 1) / 4) * 4 + 1)
        raise RequestError(f"{frames} frames: Wan's VAE takes 4k+1 frames (1, 5, 9, ..., 81); the nearest is {near}")
    return frames, match.span()


def parse_request(text: str, kb: KnowledgeBase, model_id: str | None = None) -> Request:
    """What `text` asks for; `model_id` is the checkpoint when the words name none (a given baseline's). Every
    number and model-like name of the words is read into the request or listed in `not_understood`."""
    wording = plain_words(text, _known_words(kb))
    low = wording.low
    read: list[Span] = []
    model_id, model_span = find_model(low, model_id)
    if model_span:
        read.append(model_span)
    fam = family_of(model_id)
    read += names_of(low, model_id)
    others = _other_models(low, fam.key)
    conditioning = fam.plain_conditioning
    for kind, pattern in _KINDS:
        if (m := pattern.search(low)) and kind in fam.pipelines:
            conditioning = kind
            read.append(m.span())
            break
    aim = goal(low)
    read += aim.spans
    samplers, unstepped, bare_steps = read_samplers(low, read)
    own = checkpoint(model_id).scheduler
    samplers = [SamplerMention(sampler_key(as_native(s.spec, own)), s.steps, s.switch, as_native(s.spec, own))
                for s in samplers]  # fmt: skip
    unstepped = as_native(unstepped, own) if unstepped else None
    stated_size = _stated_size(low)
    height, width = size_checked(stated_size, model_id, conditioning)
    if stated_size is not None:  # every mention of the size read (DiT's, where it is the checkpoint's)
        read += [m.span() for m in _RESOLUTION.finditer(low) if _agrees(m, height, width)]
    frames, frames_span = _stated_frames(low, conditioning)
    if frames_span:
        read.append(frames_span)
    strength_value, strength_span = strength(low) if conditioning is Conditioning.IMAGE else (None, None)
    guidance_value, guidance_span = guidance(low)
    read += [span for span in (strength_span, guidance_span) if span]
    methods = read_methods(low, kb, read)
    speedup = aim.speedup
    if aim.faster and speedup is None and aim.latency_s is None:
        speedup = DEFAULT_SPEEDUP
    return Request(
        model_id=model_id,
        conditioning=conditioning,
        resolution=height,
        width=width,
        samplers=samplers,
        methods=methods,
        speedup=speedup,
        latency_s=aim.latency_s,
        delta=DEFAULT_DELTA if aim.delta is None else aim.delta,
        delta_stated=aim.delta is not None,
        measure=aim.measure,
        strength=strength_value,
        guidance_scale=guidance_value,
        named_scheduler=unstepped,
        bare_steps=bare_steps,
        resolution_stated=stated_size is not None and conditioning is not Conditioning.CLASS,
        goal_words=aim.words,
        target_assumed=speedup != aim.speedup,
        not_understood=not_understood(low, read, others),
        reading_notes=wording.notes(),
        current_s=aim.current_s,
        frames=frames,
    )
