"""A DiffBench task: the user prompt, the reference and baseline code, and what the judge checks."""

from __future__ import annotations

import hashlib
import string
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from diffbench.models.families import Conditioning, checkpoint, family_of
from diffbench.tasks.attributes import Attributes

# Tasks per level of each suite: the paper's 604 (Table 1), and the extended suite on the families added since
# (FLUX.1, SD3.5, Qwen-Image), sized so that every family meets every method the knowledge base declares for it
# (level 2: each (pipeline, method) pair once, 51 of them), and the video suite (Wan 2.1/2.2: each pipeline at level 1,
# each method the knowledge base runs on Wan at level 2, two calibrated baselines at levels 4-5; sized for a CPU, where
# one Wan stand-in call takes 5-15 s).
SUITE_LEVELS = {
    "paper": {1: 41, 2: 116, 3: 261, 4: 93, 5: 93},
    "extended": {1: 15, 2: 51, 3: 105, 4: 15, 5: 15},
    "video": {1: 5, 2: 12, 3: 10, 4: 6, 5: 6},
}
LEVELS = SUITE_LEVELS["paper"]
# L1-001 is the paper's, X1-001 the extended suite's, V1-001 the video suite's
ID_PREFIX = {"paper": "L", "extended": "X", "video": "V"}
LEVEL_NAMES = {
    1: "pipeline only",
    2: "one method",
    3: "combined methods",
    4: "speedup target",
    5: "latency target",
}
# The per-profile values a level-4/5 prompt states, as `{name}` in the stored prompt.
PLACEHOLDERS = {4: {"speedup", "delta"}, 5: {"latency", "platform", "delta"}}


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class AppliedMethod(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    params: dict[str, Any] = Field(default_factory=dict)


class Targets(BaseModel):
    """A level-4/5 task's targets under one profile, set by `diffbench calibrate`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    speedup: float = Field(gt=0, description="level 4: the speedup over the baseline to reach")
    latency_s: float = Field(gt=0, description="level 5: the latency per generate() call not to exceed")
    platform: str
    best_speedup: float = Field(gt=0, description="the best speedup the calibration search found within delta")
    baseline_s: float | None = Field(
        default=None,
        gt=0,
        description="level 5: the baseline's median seconds per call where these targets were calibrated, the "
        "machine speed the latency is read at (evaluation/machine_speed.py)",
    )

    @model_serializer(mode="wrap")
    def _without_unset_baseline(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A level-4 task's targets are written without `baseline_s`, so its file (and its digest) stays as before
        level 5 carried it."""
        data = handler(self)
        if data.get("baseline_s") is None:
            data.pop("baseline_s", None)
        return data


class Task(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_serializer(mode="wrap")
    def _without_unset_video_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An image task is written without `width` and `frames`, so its file (and its digest) stays as before the
        video suite."""
        data = handler(self)
        for name in ("width", "frames"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    id: str = Field(pattern=r"^[LXV][1-5]-\d{3}$")
    level: int = Field(ge=1, le=5)
    family: str
    model_id: str
    conditioning: Conditioning
    resolution: int = Field(ge=256, le=1024, description="the output's height (and width, unless `width` is set)")
    width: int | None = Field(default=None, ge=256, le=1536, description="a video task's frame width")
    frames: int | None = Field(default=None, gt=0, description="a video task's frame count (the module's num_frames)")
    baseline_sampler: str
    baseline_steps: int = Field(gt=0)
    sampler: str = Field(description="the reference code's sampler (knowledge-base key)")
    steps: int = Field(gt=0, description="the reference code's step count")
    methods: tuple[AppliedMethod, ...] = Field(default=(), description="non-sampler methods in the reference code")
    prompt: str
    key_attributes: Attributes
    baseline_attributes: Attributes
    reference_code: str
    baseline_code: str
    reference_source: Literal["generator", "calibration"] = "generator"
    difficulty: Difficulty | None = None
    delta: float | None = Field(default=None, gt=0, lt=1, description="levels 4-5: the allowed relative quality loss")
    targets: dict[str, Targets] = Field(default_factory=dict, description="profile name -> calibrated targets")

    @model_validator(mode="after")
    def _consistent(self) -> Task:
        fam = family_of(self.model_id)  # raises UnknownModelError for an unknown id
        if fam.key != self.family:
            raise ValueError(f"family {self.family!r} does not match model_id {self.model_id!r} ({fam.key})")
        checkpoint(self.model_id)
        if self.conditioning not in fam.pipelines:
            raise ValueError(f"{fam.display} has no {self.conditioning} pipeline")
        if not self.id.startswith(f"{ID_PREFIX[fam.suite]}{self.level}-"):
            raise ValueError(f"id {self.id!r} does not match level {self.level} of the {fam.suite} suite")
        hard_level = self.level >= 4
        if hard_level != (self.difficulty is not None) or hard_level != (self.delta is not None):
            raise ValueError("difficulty and delta are set exactly for levels 4 and 5")
        used = {name for _, name, _, _ in string.Formatter().parse(self.prompt) if name}
        if used != PLACEHOLDERS.get(self.level, set()):
            expected = sorted(PLACEHOLDERS.get(self.level, set()))
            raise ValueError(f"prompt placeholders {sorted(used)} should be {expected}")
        if self.key_attributes.model_id not in (None, self.model_id):
            raise ValueError("key_attributes.model_id differs from model_id")
        if (self.width is not None, self.frames is not None) != (self.conditioning.video,) * 2:
            raise ValueError("width and frames are set exactly for a video task")
        return self

    @property
    def suite(self) -> str:
        return family_of(self.model_id).suite

    @property
    def required_methods(self) -> tuple[str, ...]:
        """What the task asks to apply: its methods, and its sampler when that is a change from the baseline."""
        keys = tuple(m.key for m in self.methods) if self.level in (2, 3) else ()
        changed = (self.sampler, self.steps) != (self.baseline_sampler, self.baseline_steps)
        return (self.sampler, *keys) if self.level in (2, 3) and changed else keys

    @property
    def digest(self) -> str:
        """What a verdict on this task judged: a redrawn task (another reference, baseline or target) gets another
        digest, so a recorded verdict on its old draw no longer counts (scripts/judge_extended.py)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of each output image or frame."""
        return (self.width or self.resolution, self.resolution)

    @property
    def display_resolution(self) -> str:
        return "{}x{}".format(*self.size)

    def prompt_for(self, profile: str) -> str:
        """The prompt as a user under `profile` reads it: level-4/5 targets filled in, or marked uncalibrated."""
        if self.level < 4:
            return self.prompt
        target = self.targets.get(profile)
        values = {"delta": f"{self.delta:.0%}"}
        if target is None:
            values |= {name: f"<{name}: not calibrated for {profile}>" for name in ("speedup", "latency", "platform")}
        else:
            values |= {
                "speedup": f"{target.speedup:.2f}",
                "latency": f"{target.latency_s:.2f} s",
                "platform": target.platform,
            }
        return self.prompt.format(**values)
