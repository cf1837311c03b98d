"""A level-5 latency read at the speed of the machine its target was calibrated on.

A level-5 target is a latency in seconds, calibrated on one machine (`calibration/store.py`), which records the
baseline's median seconds per call with it (`Targets.baseline_s`). The same machine does not keep one speed: on
this project's shared 2-core VM the same Qwen-Image reference, judged six times in one hour, ran 4.97-6.31 s
(max/min 1.27), its baseline with it (2026-11-29, docs/extended.md), while a latency target's margin is the
configuration's spread over minutes (10-18%). Every judging times the baseline interleaved with the candidate, so
it knows how fast the machine runs now: the candidate's latency is read at the calibration's speed, latency
divided by the baseline's slowdown (its median now over its median at calibration). Over those six judgings the
reading spread 1.10 where the raw latency spread 1.27.

A slowdown beyond DRIFT_TOLERANCE either way is another machine, not drift: there the latency is read as measured
(as the paper states level 5: the raw latency on the platform), and the reference run labels such a miss
`machine` (`calibration/machine_misses.py`). So does every reading where the target has no calibrated baseline
time (a task file without one, a user's own latency goal).
"""

from __future__ import annotations

from dataclasses import dataclass

# A baseline this much slower (or faster) than when its task was calibrated: another machine, not drift (the
# judge's stability bound on one machine over minutes is 1.08, docs/benchmarks.md; targets keep 10%).
DRIFT_TOLERANCE = 1.25


@dataclass(frozen=True)
class LatencyReading:
    """One level-5 latency: as measured, the baseline's slowdown where known, and the figure the target is read
    against."""

    measured_s: float
    slowdown: float | None = None  # the baseline's median here / its median at calibration

    @property
    def at_calibration_speed(self) -> bool:
        return self.slowdown is not None and 1 / DRIFT_TOLERANCE <= self.slowdown <= DRIFT_TOLERANCE

    @property
    def read_s(self) -> float:
        """The latency compared with the target."""
        return self.measured_s / self.slowdown if self.at_calibration_speed and self.slowdown else self.measured_s

    def describe(self) -> str:
        """E.g. "latency 6.31 s here, 5.84 s at the calibration's speed (the baseline ran 1.08x its calibrated
        time)"."""
        text = f"latency {self.measured_s:.2f} s"
        if self.slowdown is None:
            return text
        if self.at_calibration_speed:
            return (
                f"{text} here, {self.read_s:.2f} s at the calibration's speed "
                f"(the baseline ran {self.slowdown:.2f}x its calibrated time)"
            )
        return f"{text} as measured (the baseline ran {self.slowdown:.2f}x its calibrated time: another machine)"


def read_latency(measured_s: float, baseline_s: float | None, calibrated_baseline_s: float | None) -> LatencyReading:
    """`measured_s` and `baseline_s`: the candidate's and the baseline's median seconds per call in one interleaved
    timing; `calibrated_baseline_s`: the baseline's median when the target was calibrated, where recorded."""
    if not baseline_s or not calibrated_baseline_s:
        return LatencyReading(measured_s)
    return LatencyReading(measured_s, baseline_s / calibrated_baseline_s)
