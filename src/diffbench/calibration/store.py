"""The calibration record of one profile (`tasks/data/calibration/<profile>.json`) and the targets it implies.

The task generator reads these records, so the suite's level-4/5 targets and reference code follow from
committed data and regenerating the suite stays byte for byte. Targets from one baseline's best speedup U*
(the largest found with L within sigma):
- medium: U* / (1 + tolerance), because a re-measurement of the same configuration may come out lower by up to
  the judge's stability bound, and the reference must pass its own task. The tolerance (TIMING_TOLERANCE, 10%)
  is the judge's stability bound (max/min of five judgings <= 1.08, docs/benchmarks.md) with room, widened to the
  configuration's own spread where that was measured: its judge-size measurements (re-checks and stability runs,
  the latter each on a fresh draw of timing inputs, as the judge draws secret ones). Speedup and latency have a
  tolerance each (a latency also moves with the machine; a speedup's ratio cancels that). Speedup targets are
  rounded down and latency targets up, so rounding never tightens;
- easy 0.8x and hard 1.2x of medium (the paper's Delta values). Latency targets likewise, from the best
  configuration's latency per call: easy allows 1/0.8 of it, hard 1/1.2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from diffbench.tasks.schema import Difficulty, Targets, Task

CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "tasks" / "data" / "calibration"
DIFFICULTY_FACTOR = {Difficulty.EASY: 0.8, Difficulty.MEDIUM: 1.0, Difficulty.HARD: 1.2}
TIMING_TOLERANCE = 0.10
RECHECK_STAGE = "re-check"
STABILITY_STAGE = "stability"
# Which profile's search supplies a task's reference code when several are calibrated.
REFERENCE_PROFILES = ("cuda", "tiny-cpu")


class TrialRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int
    config: dict[str, Any] | None = None
    describe: str = ""
    loss: float | None = None
    speedup: float | None = None
    latency_s: float | None = None
    psnr_db: float | None = None
    error: str | None = None
    # "screen" (cheap timing), "re-check" (the judge's timing size) or "stability" (the chosen configuration at the
    # judge's timing size on a fresh draw of timing inputs)
    stage: str | None = None


class BaselineCalibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str
    conditioning: str
    resolution: int
    baseline_sampler: str
    baseline_steps: int
    best: dict[str, Any] | None = Field(default=None, description="the best configuration within sigma")
    best_describe: str = ""
    speedup: float | None = None
    latency_s: float | None = None
    loss: float | None = None
    baseline_s: float | None = None
    seconds: float = 0.0
    command: str = Field(default="", description="the command that searched this baseline, when not the record's")
    platform: str = Field(default="", description="the machine that searched this baseline, when not the record's")
    trials: list[TrialRecord] = Field(default_factory=list)

    def targets(self, difficulty: Difficulty, platform: str, level: int = 4) -> Targets | None:
        """The task's targets at this difficulty; `platform` is the record's machine, named in level-5 prompts
        unless this baseline was searched on another. A level-5 task's also carry the baseline's calibrated time,
        the machine speed its latency is read at."""
        if self.best is None or self.speedup is None or self.latency_s is None:
            return None
        factor = DIFFICULTY_FACTOR[difficulty]
        speedup_tolerance, latency_tolerance = self.tolerances()
        medium_speedup = self.speedup / (1 + speedup_tolerance)
        medium_latency = self.latency_s * (1 + latency_tolerance)
        return Targets(
            speedup=math.floor(medium_speedup * factor * 100) / 100,
            latency_s=math.ceil(medium_latency / factor * 100) / 100,
            platform=self.platform or platform,
            best_speedup=round(self.speedup, 3),
            baseline_s=round(self.baseline_s, 3) if self.baseline_s and level == 5 else None,
        )

    def judge_size_measurements(self) -> list[TrialRecord]:
        """Every measurement of the chosen configuration at the judge's timing size (re-checks, stability runs)."""
        if self.best is None:
            return []
        chosen = json.dumps(self.best, sort_keys=True)
        return [
            t for t in self.trials
            if t.stage in (RECHECK_STAGE, STABILITY_STAGE) and t.config and t.speedup and t.latency_s
            and json.dumps(t.config, sort_keys=True) == chosen
        ]  # fmt: skip

    @property
    def has_stability_runs(self) -> bool:
        return any(t.stage == STABILITY_STAGE for t in self.trials)

    def describe_tolerances(self) -> str:
        """The speedup and latency tolerances as the CLI and docs/calibration.md show them, e.g. "10% / 17%"."""
        return "{:.0%} / {:.0%}".format(*self.tolerances()) if self.best else "-"

    def tolerances(self) -> tuple[float, float]:
        """(speedup, latency) tolerance of the medium target: TIMING_TOLERANCE, or the chosen configuration's own
        max/min - 1 over its judge-size measurements where it had stability runs and that is larger. As U* is the
        lower median of its re-checks and its latency that re-check's, the medium target then lies at or below every
        speedup measured for it (at or above every latency)."""
        measured = self.judge_size_measurements()
        if not any(t.stage == STABILITY_STAGE for t in measured):  # runs of the chosen configuration only
            return TIMING_TOLERANCE, TIMING_TOLERANCE
        speeds = [t.speedup for t in measured if t.speedup]
        latencies = [t.latency_s for t in measured if t.latency_s]
        return (
            max(TIMING_TOLERANCE, max(speeds) / min(speeds) - 1),
            max(TIMING_TOLERANCE, max(latencies) / min(latencies) - 1),
        )


class CalibrationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str
    platform: str
    date: str
    command: str
    trials: int
    samples: int
    sigma: float
    seed: int
    search: str = "one pass, 2 samples, baseline re-timed once per trial"  # how the targets were searched
    baselines: dict[str, BaselineCalibration] = Field(default_factory=dict)


def calibration_key(model_id: str, conditioning: str, sampler: str, steps: int) -> str:
    return f"{model_id}|{conditioning}|{sampler}|{steps}"


def task_calibration_key(task: Task) -> str:
    return calibration_key(task.model_id, str(task.conditioning), task.baseline_sampler, task.baseline_steps)


def record_path(profile: str, folder: Path = CALIBRATION_DIR) -> Path:
    return folder / f"{profile}.json"


def read_record(profile: str, folder: Path = CALIBRATION_DIR) -> CalibrationRecord | None:
    path = record_path(profile, folder)
    if not path.is_file():
        return None
    return CalibrationRecord.model_validate_json(path.read_text())


def write_record(record: CalibrationRecord, folder: Path = CALIBRATION_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = record_path(record.profile, folder)
    path.write_text(record.model_dump_json(indent=1) + "\n")
    return path


def all_records(folder: Path = CALIBRATION_DIR) -> dict[str, CalibrationRecord]:
    """Every committed calibration record, by profile name, in name order."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        record = CalibrationRecord.model_validate_json(path.read_text())
        out[record.profile] = record
    return out
