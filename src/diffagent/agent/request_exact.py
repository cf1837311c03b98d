"""The exact route: the request's settings stated as fields, from `diffagent solve` flags (`--model --scheduler
--steps --size --strength --guidance --goal --bound`) or a TOML file (`--request FILE.toml`, the same names, plus
`request = "..."` for the words). Each field overrides what the words say, and the reading notes each override,
so an engineer who does not trust a sentence states the pipeline exactly."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diffagent.agent.request import Request, RequestError, Size, find_model, size_checked
from diffagent.agent.request_samplers import SamplerMention, as_native, sampler_key, scheduler_named
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import Conditioning, checkpoint

Note = Callable[[str, object, object], None]  # (flag, value, what the words said)


class ExactRequest(BaseModel):
    """The fields of the exact route; None: the words say it (or the checkpoint's default)."""

    model_config = ConfigDict(extra="forbid")

    request: str = ""  # the words, from a TOML file (the command's argument otherwise)
    model: str | None = None  # a hub id or a name ("SDXL", "FLUX.1-dev")
    scheduler: str | None = None  # a diffusers class or a usual name ("Euler a", "DPM++ 2M Karras")
    steps: int | None = Field(default=None, gt=0)
    size: str | None = None  # "WxH" or one side
    strength: float | None = Field(default=None, gt=0, le=1)
    guidance: float | None = Field(default=None, ge=0)
    goal: str | None = None  # "2x", "1.5s", "800ms", or "60%" of today's latency
    bound: str | None = None  # "5%" or "0.05"

    @classmethod
    def from_toml(cls, path: Path) -> ExactRequest:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise RequestError(f"cannot read the request file {path}: {err}") from None
        try:
            return cls.model_validate({k: str(v) if k in ("goal", "bound", "size") else v for k, v in data.items()})
        except ValidationError as err:
            fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise RequestError(f"the request file {path} does not check: {fields}") from None

    def over(self, base: ExactRequest | None) -> ExactRequest:
        """These fields over `base`'s (flags over a request file's)."""
        if base is None:
            return self
        stated = self.model_dump(exclude_defaults=True)
        return base.model_copy(update=stated)

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_defaults=True, exclude={"request"})

    def model_id(self) -> str | None:
        return find_model(self.model.lower(), None)[0] if self.model else None

    def apply(self, request: Request) -> Request:
        """`request` with every stated field in place of the words' reading, each override noted."""
        notes: list[str] = []

        def note(flag: str, value: object, words: object) -> None:
            said = f"; the words said {words}" if words not in (None, value) else ""
            notes.append(f"--{flag} {value} (the exact route){said}")

        out = replace(request, samplers=list(request.samplers), reading_notes=list(request.reading_notes))
        if self.model:
            out.model_id = self.model_id() or out.model_id
            note("model", out.model_id, request.model_id)
        if self.scheduler is not None or self.steps is not None:
            self._sampler(out, request, note)
        if self.size is not None:
            self._size(out, request, note)
        if self.strength is not None:
            if out.conditioning is not Conditioning.IMAGE:
                raise RequestError(f"--strength applies to image-to-image; this request is {out.conditioning}")
            out.strength = self.strength
            note("strength", self.strength, request.strength)
        if self.guidance is not None:
            out.guidance_scale = self.guidance
            note("guidance", self.guidance, request.guidance_scale)
        if self.goal is not None:
            out.speedup, out.latency_s = goal_of(self.goal)
            out.target_assumed, out.goal_words = False, self.goal
            note("goal", self.goal, request.goal_words or None)
        if self.bound is not None:
            out.delta, out.delta_stated = bound_of(self.bound), True
            note("bound", self.bound, f"{request.delta:.0%}" if request.delta_stated else None)
        out.reading_notes += notes
        return out

    def _sampler(self, out: Request, words: Request, note: Note) -> None:
        base = words.baseline_sampler
        spec = _scheduler(self.scheduler) if self.scheduler else (base.spec if base else words.named_scheduler)
        spec = as_native(spec or SchedulerSpec(), checkpoint(out.model_id).scheduler)
        steps = self.steps or (base.steps if base else words.bare_steps)
        asked = words.asked_sampler
        kept = [s for s in words.samplers if s.switch or (s is asked and s is not base)]
        if steps is None:
            out.samplers, out.named_scheduler = kept, spec
        else:
            out.samplers = [SamplerMention(sampler_key(spec), steps, False, spec), *kept]
        if self.scheduler:
            note("scheduler", spec.describe(), base.spec.describe() if base else None)
        if self.steps:
            note("steps", self.steps, base.steps if base else words.bare_steps)

    def _size(self, out: Request, words: Request, note: Note) -> None:
        assert self.size is not None
        m = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*(?:px)?\s*", self.size.lower())
        if m is None:
            raise RequestError(f"--size {self.size!r}: write WxH (1216x832) or one side (1024)")
        if out.conditioning is Conditioning.CLASS:
            raise RequestError(f"--size does not apply to {out.model_id}: it renders its checkpoint's size")
        width = int(m.group(1))
        height = int(m.group(2) or width)
        out.resolution, out.width = size_checked(Size(height, width, (0, 0)), out.model_id, out.conditioning)
        out.resolution_stated = True
        said = f"{words.width or words.resolution}x{words.resolution}" if words.resolution_stated else None
        note("size", f"{width}x{height}", said)


def _scheduler(name: str) -> SchedulerSpec:
    spec = scheduler_named(name)
    if spec is None:
        raise RequestError(f"--scheduler {name!r} is not a diffusers scheduler this tool can name (e.g. 'Euler a')")
    return spec


def goal_of(text: str) -> tuple[float | None, float | None]:
    """(speedup, latency in s) from "2x", "1.5s", "800ms" or "60%" (of today's latency)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(x|×|s|sec|ms|%)\s*", text.lower())
    if m is None or float(m.group(1)) <= 0:
        raise RequestError(
            f"--goal {text!r}: write a speedup (2x), a latency (1.5s, 800ms) or a share of today's (60%)"
        )
    value, unit = float(m.group(1)), m.group(2)
    if unit in ("x", "×"):
        return value, None
    if unit == "%":
        if value >= 100:
            raise RequestError(f"--goal {text!r}: a share of today's latency is under 100%")
        return round(100 / value, 4), None
    return None, value / (1000 if unit == "ms" else 1)


def bound_of(text: str) -> float:
    """The quality bound from "5%" or "0.05"."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    value = float(m.group(1)) / (100 if m.group(2) else 1) if m else -1.0
    if not 0 <= value < 1:
        raise RequestError(f"--bound {text!r}: write a percentage (5%) or a fraction below 1 (0.05)")
    return value


def exact_request(flags: dict[str, object], path: Path | None = None) -> ExactRequest:
    """The flags stated (None: not stated) over the request file's fields; one line naming what does not check."""
    stated = {k: v for k, v in flags.items() if v is not None}
    try:
        exact = ExactRequest.model_validate(stated)
    except ValidationError as err:
        fields = "; ".join(f"--{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise RequestError(f"the flags do not check: {fields}") from None
    return exact.over(ExactRequest.from_toml(path) if path else None)
