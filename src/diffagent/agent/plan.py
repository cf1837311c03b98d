"""The agent's shared types: the user's pipeline, a plan for it, the goal, a candidate (a plan made code and
measured), the selection weights, and the language model's bill. Planner, coder, debugger, selector, loop and
report all speak these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diffbench.calibration.space import OWN_SCHEDULER, SearchPoint
from diffbench.knowledge.compose import compose
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import Conditioning, checkpoint

AUTHOR = "heuristic planner (no LLM)"  # the offline default's signature on every plan it makes
LOSSLESS = 0.001


@dataclass(frozen=True)
class Pipeline:
    """What the user's baseline is: the checkpoint, its conditioning and resolution, its sampler and steps, and
    the call's strength and guidance. `sampler` is a knowledge-base sampler's key, or OWN_SCHEDULER with
    `scheduler` saying which diffusers scheduler that is (None in it: the checkpoint's own, as loaded)."""

    model_id: str
    conditioning: Conditioning
    resolution: int
    sampler: str
    steps: int
    scheduler: SchedulerSpec | None = None
    strength: float | None = None
    guidance_scale: float | None = None
    width: int | None = None  # a width other than `resolution` (the height); None: square
    frames: int | None = None  # a video's frame count; None: an image pipeline

    @property
    def size(self) -> tuple[int, int]:
        """(height, width), as the static parser states a module's."""
        return (self.resolution, self.width or self.resolution)

    def describe_size(self) -> str:
        height, width = self.size
        return f"{width}x{height}" + (f", {self.frames} frames" if self.frames is not None else "")

    def describe_sampler(self) -> str:
        if self.sampler != OWN_SCHEDULER:
            return f"{self.sampler} {self.steps} steps"
        spec = self.scheduler or SchedulerSpec()
        return f"{spec.describe(checkpoint(self.model_id).scheduler)}, {self.steps} steps"

    def write(self, kb: KnowledgeBase, config: SearchPoint, title: str) -> str:
        """The module that runs `config` on this pipeline: its scheduler kept where the config keeps it."""
        return compose(
            kb, self.model_id, self.conditioning, self.resolution, config.steps, config.applied(), title=title,
            scheduler=self.scheduler if config.sampler == OWN_SCHEDULER else None, strength=self.strength,
            guidance_scale=self.guidance_scale, width=self.width, frames=self.frames,
        )  # fmt: skip


@dataclass(frozen=True)
class Plan:
    config: SearchPoint
    rationale: str
    author: str = AUTHOR

    def describe(self) -> str:
        return f"{self.config.describe()} [{self.author}]"


@dataclass(frozen=True)
class Goal:
    """What the task asks: the quality bound and a speedup (level 4) or a latency (level 5)."""

    delta: float
    speedup: float | None = None
    latency_s: float | None = None
    # A benchmark task's calibrated baseline seconds per call: a latency is then read at the calibration's machine
    # speed, as the judge reads it (diffbench/evaluation/machine_speed.py). None for a user's own latency goal.
    calibrated_baseline_s: float | None = None
    # How far the agent's own measurement must clear the speed goal before it calls it met: its few fixed inputs
    # estimate the judge's verdict, and the judge's own repeat measurements of one module vary by a few percent.
    margin: float = 0.0

    @property
    def bound(self) -> float:
        """The quality bound as measured: a stated 0% means L within LOSSLESS (code that computes the same thing
        another way does not reproduce images bit for bit)."""
        return max(self.delta, LOSSLESS)


@dataclass(frozen=True)
class Weights:
    speed: float = 1.0
    quality: float = 1.0


@dataclass
class Candidate:
    plan: Plan
    generation: int
    code: str | None = None
    loss: float | None = None
    speedup: float | None = None
    latency_s: float | None = None
    baseline_s: float | None = None  # the baseline's median seconds per call in the same measurement
    feedback: str = ""
    parent: int | None = None  # the parent's index in the history; None for a fresh plan
    fitness: float | None = None
    error: str | None = None  # why it did not run
    attempts: list[Any] = field(default_factory=list)  # the coder's and debugger's attempts
    seconds: float = 0.0  # spent developing and measuring it

    @property
    def ran(self) -> bool:
        return self.loss is not None and self.speedup is not None


@dataclass
class Usage:
    """The language model's bill for the run; zero calls for the offline planner."""

    llm: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
