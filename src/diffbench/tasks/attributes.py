"""Key attributes: what a task requires of a solution's code, and what the static parser finds in one.

One type serves both sides. In a task, a field left `None` is not judged; in a parse result, `None` means the
parser could not determine it. Matching is exact on every attribute the task sets and tolerant of extras, as
the paper's static parameter assessment is: extra methods or preprocessors in the candidate do not fail it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Attributes(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline_class: str | None = None
    model_id: str | None = None
    controlnet_id: str | None = None
    scheduler_class: str | None = None
    num_inference_steps: int | None = None
    resolution: tuple[int, int] | None = Field(default=None, description="(height, width) in pixels")
    dtype: str | None = Field(default=None, description="torch dtype name of the loaded pipeline: float32, float16")
    methods: dict[str, dict[str, Any]] | None = Field(
        default=None, description="knowledge-base method key -> the parameters stated (task) or found (parser)"
    )
    preprocessors: tuple[str, ...] | None = None
    accelerated: bool | None = Field(
        default=None,
        description="task side only: the code must accelerate its baseline (a method, a lower precision, "
        "another sampler or fewer steps) without a particular method being required",
    )

    def judged(self) -> dict[str, Any]:
        """The attributes this (task) side sets, by name."""
        return {name: value for name, value in self if value is not None}


_SIMPLE = ("pipeline_class", "model_id", "controlnet_id", "scheduler_class", "num_inference_steps", "resolution")


def _same(expected: Any, found: Any) -> bool:
    if isinstance(expected, bool) != isinstance(found, bool):
        return False
    if isinstance(expected, float) or isinstance(found, float):
        try:
            return abs(float(expected) - float(found)) <= 1e-9 * max(1.0, abs(float(expected)))
        except (TypeError, ValueError):
            return False
    return expected == found


def accelerates(found: Attributes, baseline: Attributes) -> bool:
    """Whether `found` differs from `baseline` in a way that can make it faster."""
    steps_down = (found.num_inference_steps or 0) < (baseline.num_inference_steps or 0)
    return bool(
        found.methods
        or (found.dtype not in (None, baseline.dtype))
        or (found.scheduler_class not in (None, baseline.scheduler_class))
        or (found.num_inference_steps is not None and steps_down)
    )


def mismatches(expected: Attributes, found: Attributes, baseline: Attributes | None = None) -> list[str]:
    """Every way `found` fails `expected`, one line each; empty when it matches."""
    problems: list[str] = []

    def show(value: Any) -> str:
        if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            return f"{value[0]}x{value[1]}"
        return "not found" if value is None else repr(value)

    for name in _SIMPLE:
        want, got = getattr(expected, name), getattr(found, name)
        if want is not None and not _same(want, got):
            problems.append(f"{name}: expected {show(want)}, found {show(got)}")
    if expected.dtype is not None and expected.dtype != (found.dtype or "float32"):
        problems.append(f"dtype: expected {expected.dtype}, found {found.dtype or 'float32'}")
    for key, params in (expected.methods or {}).items():
        present = (found.methods or {}).get(key)
        if present is None:
            problems.append(f"methods: {key} expected, not found")
            continue
        for param, want in params.items():
            if param not in present:
                problems.append(f"methods: {key}.{param} expected {want!r}, not determined from the code")
            elif not _same(want, present[param]):
                problems.append(f"methods: {key}.{param} expected {want!r}, found {present[param]!r}")
    for name in expected.preprocessors or ():
        if name not in (found.preprocessors or ()):
            problems.append(f"preprocessors: {name} expected, not found")
    if expected.accelerated:
        if baseline is None:
            raise ValueError("an `accelerated` requirement needs the baseline's attributes")
        if not accelerates(found, baseline):
            problems.append("accelerated: no acceleration found (same sampler, steps, precision and no method)")
    return problems
