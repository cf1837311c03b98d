"""Counts over the suite: the paper's Figure 2 (pipelines and methods) as tables."""

from __future__ import annotations

from collections import Counter
from typing import Any

from diffbench.models.families import FAMILIES
from diffbench.tasks.schema import Task

# The count tables people read (CLI and docs/tasks.md), in order: stats key -> title.
TITLES = {
    "by_level": "level",
    "by_family": "family",
    "by_model": "checkpoint",
    "by_conditioning": "conditioning",
    "by_resolution": "resolution",
    "by_baseline_sampler": "baseline sampler",
    "by_sampler": "reference sampler",
    "by_method": "required method (levels 2-3)",
    "by_method_count": "methods per task (levels 2-3)",
    "by_difficulty": "difficulty (levels 4-5)",
}


def _ordered(counter: Counter, order: list[Any] | None = None) -> dict[str, int]:
    by_count = sorted(counter, key=lambda k: (-counter[k], str(k)))
    keys = [k for k in order if k in counter] + [k for k in by_count if k not in order] if order else by_count
    return {str(k): counter[k] for k in keys}


def stats(tasks: list[Task]) -> dict[str, Any]:
    return {
        "total": len(tasks),
        "by_level": _ordered(Counter(t.level for t in tasks), [1, 2, 3, 4, 5]),
        "by_family": _ordered(Counter(t.family for t in tasks), list(FAMILIES)),
        "by_model": _ordered(Counter(t.model_id for t in tasks)),
        "by_conditioning": _ordered(Counter(str(t.conditioning) for t in tasks)),
        "by_resolution": _ordered(  # a square's side; a video's frame size WxH
            Counter(t.resolution if t.width is None else t.display_resolution for t in tasks), [256, 512, 768, 1024]
        ),
        "by_baseline_sampler": _ordered(Counter(t.baseline_sampler for t in tasks)),
        "by_sampler": _ordered(Counter(t.sampler for t in tasks)),
        "by_method": _ordered(Counter(k for t in tasks for k in t.required_methods)),
        "by_method_count": _ordered(Counter(len(t.required_methods) for t in tasks if t.level in (2, 3)), [1, 2, 3]),
        "by_difficulty": _ordered(Counter(str(t.difficulty) for t in tasks if t.difficulty)),
        "calibrated": {
            profile: sum(profile in t.targets for t in tasks if t.level >= 4)
            for profile in sorted({p for t in tasks for p in t.targets}) or ["tiny-cpu"]
        },
    }
