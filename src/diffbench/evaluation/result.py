"""What the judge returns for one candidate on one task."""

from __future__ import annotations

from enum import StrEnum
from statistics import median
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorMode(StrEnum):
    """The paper's Figure 4 error modes, plus runtime failures (crash, timeout, limit, a broken rule)."""

    COMPILE = "compile"
    KEY_ATTRIBUTES = "key_attributes"
    RUNTIME = "runtime"
    ABSOLUTE_QUALITY = "absolute_quality"
    RELATIVE_QUALITY = "relative_quality"
    RELATIVE_SPEED = "relative_speed"


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    passed: bool | None = Field(default=None, description="None: the stage did not run")
    problems: list[str] = Field(default_factory=list, description="one line per failed check, naming the rule")
    figures: dict[str, Any] = Field(default_factory=dict)


class Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: list[float]

    @property
    def median(self) -> float:
        return median(self.samples)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.samples), max(self.samples)

    def summary(self) -> dict[str, float]:
        low, high = self.spread
        return {"median_s": self.median, "min_s": low, "max_s": high, "n": len(self.samples)}


class EvalResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str
    profile: str
    device: str
    weights: str = Field(default="stand-ins", description="stand-ins (random weights) or hub-cache (real weights)")
    passed: bool
    error_modes: list[ErrorMode] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    quality_metric: str | None = Field(default=None, description="what scored quality: never 'CLIP' on tiny-cpu")
    quality_loss: float | None = Field(default=None, description="L, equation 1")
    speedup: float | None = Field(default=None, description="U, equation 2")
    latency_s: float | None = Field(default=None, description="level 5: median seconds per generate() call")
    latency_read_s: float | None = Field(
        default=None,
        description="level 5: the latency compared with the target, at the calibration's machine speed "
        "where the baseline's slowdown is within the drift tolerance (evaluation/machine_speed.py), else latency_s",
    )
    baseline_slowdown: float | None = Field(
        default=None,
        description="the baseline's median seconds per call here over its median where the targets were calibrated",
    )
    achievement: float | None = Field(default=None, description="S_a for hard tasks")
    baseline_timing: dict[str, float] | None = None
    candidate_timing: dict[str, float] | None = None
    images_dir: str | None = None
    time_limits: dict[str, Any] | None = Field(
        default=None, description="the candidate's load and call limits, from the baseline's measured times"
    )
    sandbox: dict[str, Any] = Field(default_factory=dict)
    warmup_s: float | None = Field(
        default=None,
        description="the candidate's first call in wall seconds: its untimed warm-up, where a compiled module "
        "compiles (its own deadline: evaluation/limits.py)",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="what the judge noticed that costs nothing: a method the task did not ask for that had no effect",
    )
    seconds: float = 0.0
    phases: dict[str, float] = Field(
        default_factory=dict, description="wall seconds per phase of the evaluation, and inside the solutions' calls"
    )
    harness_overhead_s: float | None = Field(
        default=None,
        description="wall time outside the solutions' load_pipeline and generate calls (process starts, imports, "
        "scoring, image files), on this result's profile and device",
    )

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def first_problem(self) -> str | None:
        for stage in self.stages:
            if stage.problems:
                return f"{stage.name}: {stage.problems[0]}"
        return None
