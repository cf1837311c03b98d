"""When a level-4/5 miss measures the machine rather than the solution.

Level-4/5 targets are calibrated on one machine (`calibration/store.py`). Two differences between that machine and
the one a judge runs on decide a relative-stage result by themselves, whatever the code does:
- a bf16/fp16 solution timed on a CPU without bf16/fp16 instructions: there torch's half-precision kernels run up
  to 75x slower than fp32 (an AVX2-only AMD EPYC, 2026-11-28), and the tiny-cpu targets were calibrated on a CPU
  that has them;
- a level-5 target is a latency in seconds, and the baseline itself ran over DRIFT_TOLERANCE times slower than
  when the target was calibrated: beyond it the judge reads the latency as measured, not at the calibration's
  speed (evaluation/machine_speed.py).
The reference run (scripts/judge_extended.py) labels such a miss `machine`, and the reference tests skip it; both
ask this module.
"""

from __future__ import annotations

from diffbench.evaluation.machine_speed import DRIFT_TOLERANCE
from diffbench.tasks.schema import Task

HALF_PRECISION_METHODS = frozenset({"bf16", "fp16"})


def uses_half_precision(task: Task) -> bool:
    return bool(HALF_PRECISION_METHODS & {m.key for m in task.methods})


def machine_reason(task: Task, *, fast_half_precision: bool, slowdown: float | None = None) -> str | None:
    """Why a relative-stage miss of this task on this machine would measure the machine, or None where it would
    measure the solution. `fast_half_precision`: the judged device has bf16/fp16 instructions
    (`device_has_fast_half_precision`); `slowdown`: the judge run's `baseline_slowdown`, where known."""
    if task.level >= 4 and uses_half_precision(task) and not fast_half_precision:
        return (
            f"{task.id}: its reference times bf16/fp16 on a CPU without bf16/fp16 instructions (no avx512_bf16, "
            "amx_bf16 or avx512_fp16); its target was calibrated on a CPU that has them"
        )
    if task.level == 5 and slowdown is not None and slowdown > DRIFT_TOLERANCE:
        return (
            f"{task.id}: the baseline ran {slowdown:.1f}x slower here than where its latency target was calibrated "
            f"(over {DRIFT_TOLERANCE}x)"
        )
    return None
