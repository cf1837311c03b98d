"""Reference code passes all three stages on a stratified sample of tasks; baselines fail on key attributes.

The sample: for every level, one task per family (its plain conditioning where it has one), levels 4-5 on easy
and medium tasks in turn (a hard target is 1.2x the best found and may have no solution). DIFFBENCH_FULL_SIZE=1
runs the whole sample (30 tasks) and times levels 4-5 in the judge's three rounds, the size the targets' margin is
calibrated for. CI checks instead that the full run's record (scripts/judge_sample.py, docs/reference_sample_run.json)
holds a passing verdict for every sampled task on its current draw (docs/evaluation.md and docs/extended.md have the
full runs' figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FULL_SIZE, timed_half_precision_skip
from diffbench.calibration.machine_misses import fast_for, machine_reason, recorded_miss_reason, uses_half_precision
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.evaluation.result import ErrorMode, EvalResult
from diffbench.evaluation.sample import stratified_sample
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Difficulty, Task
from diffbench.tasks.suite import get_task, known_failing_file, suite

SAMPLE_RUN_RECORD = Path(__file__).resolve().parents[1] / "docs" / "reference_sample_run.json"

OPTIONS = JudgeOptions(samples=3, repetitions=3 if FULL_SIZE else 1, timing_inputs=3, inputs_seed=23)
SAMPLE = stratified_sample(per_level=None if FULL_SIZE else 1)
# CI judges none of the sample live (issue 32: a 20-minute loop): the judge's stages on a UNet reference (SD1.5, L1)
# and on a flow-matching one through the relative stage (SD3.5 with PAB, L4) are test_judge's; each reference's
# build and methods taking effect are test_task_references' (one per level and family). The whole sample is
# `make test-full`'s and the scripts' (scripts/judge_sample.py, scripts/judge_extended.py, whose record
# test_tasks_extended checks for being current).
# References the full run found failing (scripts/judge_extended.py writes them beside docs/extended.md's table, with
# what failed; docs/extended.md, "What fails, and why", says why): expected to fail here until fixed (strict: a fix
# makes the test say so).
KNOWN_FAILING: dict[str, str] = json.loads(known_failing_file("extended").read_text())
# The extended suite (FLUX.1, SD3.5, Qwen-Image): one task per level and family in CI as well (its full run:
# docs/extended.md).
# CI draws it from the tasks not known to fail (confirming a known failure costs minutes there), fp32 references
# first: on a CPU without bf16/fp16 instructions a half-precision reference at 50 steps takes 2-4 min here against
# 0.5-1.5 min in fp32 (CI covers half precision in test_knowledge_combinations and test_effect_rules, and the full
# run judges every reference: docs/extended.md). The full size draws from all of them in suite order and holds the
# known failures to failing. (Drawing the task judged fastest in the recorded run instead was tried on 2026-11-29
# and was no faster: that run caches each baseline's images across the tasks that share it, so its per-task
# seconds leave out the baseline, which a lone task pays.)


def fp32_first(tasks: list[Task]) -> tuple[Task, ...]:
    """The tasks with fp32 references first, in suite order within each kind (a stable sort)."""
    return tuple(sorted(tasks, key=uses_half_precision))


# At levels 4-5 CI draws easy targets: it times one round, whose spread is wider than the judge's bound at three
# rounds that a medium target's margin is set by (docs/extended.md: FLUX.1-dev's reference 1.80-2.22 s at one
# round, 1.78-1.94 s at three), and on a shared 2-core VM a stretch of slow minutes moves latencies by more
# (2026-11-29, fresh-clone CI of f2ab26c: baselines 1.1-1.3x their calibration times, and SD3.5 large's medium
# tasks missed by 1-5%). The full size judges medium targets at three rounds, as the full reference run does.
# At reduced size the extended sample is one task per level (the families in turn: FLUX.1, SD3.5, Qwen-Image, FLUX.1,
# SD3.5). Every extended reference's verdict is kept in
# docs/extended_reference_run.json with a digest of the task it judged, and test_tasks_extended fails when a
# task changes under its verdict, so the whole suite's run is the script's (scripts/judge_extended.py), checked
# for being current here; `make test-full` judges all 15 of the sample (2026-12-07: the 15 took 10-17 min of CI).
EXTENDED = stratified_sample(
    per_level=None if FULL_SIZE else 1,
    suite_name="extended",
    tasks=None
    if FULL_SIZE
    else fp32_first(
        [t for t in suite("extended") if t.id not in KNOWN_FAILING and t.difficulty in (None, Difficulty.EASY)]
    ),
)


def judged(task_ids: list[str]) -> list:
    def marks(i: str) -> list:
        if i in KNOWN_FAILING:
            return [pytest.mark.xfail(strict=True, reason=KNOWN_FAILING[i])]
        skip = timed_half_precision_skip(get_task(i))
        return [skip] if skip else []

    return [pytest.param(i, marks=marks(i)) for i in task_ids]


def test_the_sample_is_stratified():
    full = stratified_sample(per_level=None)
    for level in range(1, 6):
        tasks = [get_task(i) for i in full if get_task(i).level == level]
        assert len(tasks) >= 5
        assert len({t.family for t in tasks}) == 6
    assert {get_task(i).difficulty for i in full if get_task(i).level >= 4} == {"easy", "medium"}
    assert len(SAMPLE) >= 5
    per_level = 3 if FULL_SIZE else 1
    assert [get_task(i).level for i in EXTENDED] == [level for level in range(1, 6) for _ in range(per_level)]
    assert {get_task(i).family for i in EXTENDED} == {"flux", "sd35", "qwen-image"}


def test_the_sample_runs_record_holds_a_current_passing_verdict_for_every_sampled_task():
    """docs/reference_sample_run.json (scripts/judge_sample.py) keeps each verdict with a digest of the task it
    judged: a change that redraws a sampled task, or a sample that takes another task, fails here until the full run
    is repeated. A miss counts only where it measures the machine (calibration/machine_misses.py: bf16/fp16 on a
    CPU without their instructions, a level-5 latency on a slower machine)."""
    record = json.loads(SAMPLE_RUN_RECORD.read_text())
    full = stratified_sample()
    assert sorted(record) == sorted(full)
    assert [i for i in full if record[i]["digest"] != get_task(i).digest] == []
    assert [i for i in full if not record[i]["passed"] and record[i]["verdict"] != "machine"] == []
    machine = [i for i in full if record[i]["verdict"] == "machine"]
    assert [i for i in machine if recorded_miss_reason(get_task(i), record[i]) is None] == []
    assert [i for i in full if get_task(i).level >= 2 and record[i]["baseline"] != "fails stage 1"] == []
    rounds = JudgeOptions().repetitions  # levels 4-5 at the judge's own timing size
    assert [i for i in full if get_task(i).level >= 4 and record[i]["timing_rounds"] != rounds] == []


def skip_where_the_baseline_runs_slower_than_when_calibrated(task: Task, result: EvalResult, profile: Profile) -> None:
    """A level-5 target is a latency calibrated on one CPU, and the project's 2-core "AMD EPYC" machines differ
    (2026-11-28: one without AVX-512, slower than the targets' machine). The judge reads the latency at the
    calibration's speed within the drift tolerance; where this run's baseline is slower than that, the latency is
    read as measured and a miss measures the machine, not the reference: skip and say by how much."""
    fast = fast_for(task, profile.device)
    reason = machine_reason(task, fast_half_precision=fast, slowdown=result.baseline_slowdown)
    if reason:
        pytest.skip(f"{reason}: {result.first_problem}")


@pytest.mark.slow
@pytest.mark.skipif(not FULL_SIZE, reason="the whole reference sample runs at DIFFBENCH_FULL_SIZE=1 (make test-full)")
@pytest.mark.parametrize("task_id", judged(SAMPLE + EXTENDED))
def test_reference_passes_all_three_stages(profile, tmp_path, task_id):
    task = get_task(task_id)
    result = evaluate(task, task.reference_code, profile, tmp_path, OPTIONS)
    if result.error_modes == [ErrorMode.RELATIVE_SPEED] and task.level == 5:
        skip_where_the_baseline_runs_slower_than_when_calibrated(task, result, profile)
    assert result.passed, f"{result.error_modes}: {result.first_problem}"
    expected = ["static", "runtime", "absolute quality"] + (["relative"] if task.level >= 4 else [])
    assert [s.name for s in result.stages] == expected


@pytest.mark.parametrize("task_id", [i for n in ("paper", "extended") for i in stratified_sample(suite_name=n)
                                     if get_task(i).level >= 2])  # fmt: skip
def test_baseline_fails_on_key_attributes(profile, tmp_path, task_id):
    task = get_task(task_id)
    result = evaluate(task, task.baseline_code, profile, tmp_path, OPTIONS)
    assert result.error_modes == [ErrorMode.KEY_ATTRIBUTES], result.first_problem
    assert [s.name for s in result.stages] == ["static"]  # rejected before anything runs
