"""When a miss measures the machine rather than the solution.

Level-4/5 targets are calibrated on one machine (`calibration/store.py`). Two differences between that machine and
the one a judge runs on decide a relative-stage result by themselves, whatever the code does:
- a bf16 (fp16) solution timed on a CPU without bf16 (fp16) instructions: there torch's kernels of that dtype run
  up to 75x slower than fp32 (an AVX2-only AMD EPYC, 2026-11-28; fp16 on an EPYC with avx512_bf16 alone,
  2026-12-07), and the tiny-cpu targets were calibrated on a CPU that has them;
- a level-5 target is a latency in seconds, and the baseline itself ran over DRIFT_TOLERANCE times slower than
  when the target was calibrated: beyond it the judge reads the latency as measured, not at the calibration's
  speed (evaluation/machine_speed.py).
The first also decides a call's deadline at any level: the judge gives every call after the first 20x the
baseline's call (evaluation/limits.py), and a half-precision call on such a CPU can take longer than that (the paper
sample's bf16/fp16 references at levels 2-5 timed out so, 12 of its 14, on an AVX2-only EPYC on 2026-12-07:
scripts/judge_sample.py). The reference runs (scripts/judge_extended.py, scripts/judge_sample.py) label such a miss
`machine`, and the reference tests skip it; both ask this module. On an EPYC with avx512_bf16 but not
avx512_fp16 (2026-12-07) the sample's bf16 references passed and its fp16 PixArt one (L2-091) timed out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diffbench.evaluation.machine_speed import DRIFT_TOLERANCE
from diffbench.models.device import (
    HALF_PRECISION_CPU_FLAGS,
    HALF_PRECISION_CPU_SLOWDOWN,
    HALF_PRECISION_NAMES,
    device_has_fast_half_precision,
)
from diffbench.tasks.schema import Task

HALF_PRECISION_METHODS = frozenset(HALF_PRECISION_NAMES)  # the methods' keys: "bf16", "fp16"


def uses_half_precision(task: Task) -> bool:
    return bool(HALF_PRECISION_METHODS & {m.key for m in task.methods})


def half_precisions(task: Task) -> list[str]:
    """The half-precision methods' keys ("bf16", "fp16") the task's reference uses."""
    return sorted(HALF_PRECISION_METHODS & {m.key for m in task.methods})


def fast_for(task: Task, device: str) -> bool:
    """Whether the device runs the half precision the task uses fast (True where it uses none)."""
    return all(device_has_fast_half_precision(device, key) for key in half_precisions(task))


def machine_reason(
    task: Task, *, fast_half_precision: bool, slowdown: float | None = None, timed_out: bool = False
) -> str | None:
    """Why a miss of this task on this machine would measure the machine, or None where it would measure the
    solution: a relative-stage miss (levels 4-5), or, with `timed_out`, a call that ran past its deadline (any
    level). `fast_half_precision`: the judged device has the instructions of the half precision the task uses
    (`fast_for`); `slowdown`: the judge run's `baseline_slowdown`, where known."""
    if uses_half_precision(task) and not fast_half_precision and (task.level >= 4 or timed_out):
        what = "its calls ran past their deadline" if timed_out else "its target was calibrated on a CPU that has them"
        halves = half_precisions(task)
        flags = [f for key in halves for f in HALF_PRECISION_CPU_FLAGS[HALF_PRECISION_NAMES[key]]]
        dtype = "/".join(halves)
        return (
            f"{task.id}: its reference runs {dtype} on a CPU without {dtype} instructions (no {' or '.join(flags)}), "
            f"where those kernels run up to {HALF_PRECISION_CPU_SLOWDOWN}x slower than fp32; {what}"
        )
    if task.level == 5 and not timed_out and slowdown is not None and slowdown > DRIFT_TOLERANCE:
        return (
            f"{task.id}: the baseline ran {slowdown:.1f}x slower here than where its latency target was calibrated "
            f"(over {DRIFT_TOLERANCE}x)"
        )
    return None


def recorded_miss_reason(task: Task, row: Mapping[str, Any]) -> str | None:
    """The same for a reference run's recorded verdict (the rows of scripts/judge_extended.py and judge_sample.py:
    passed, error_modes, problem, fast_half_precision (`fast_for` the task on the judging machine),
    baseline_slowdown): a relative-stage miss, or a call past its deadline, that `machine_reason` names; None for a
    pass or any other miss."""
    if row["passed"]:
        return None
    timed_out = row["error_modes"] == "runtime" and "timeout" in (row["problem"] or "")
    if row["error_modes"] != "relative_speed" and not timed_out:
        return None
    fast, slowdown = row["fast_half_precision"], row["baseline_slowdown"]
    return machine_reason(task, fast_half_precision=fast, slowdown=slowdown, timed_out=timed_out)
