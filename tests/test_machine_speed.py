"""A level-5 latency is read at the calibration's machine speed within the drift tolerance, as measured beyond it,
and the same way by the judge, the agent and the task files (evaluation/machine_speed.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from diffagent.agent.plan import Candidate, Goal
from diffagent.agent.problem import from_task
from diffagent.agent.selector import meets
from diffbench.calibration.machine_misses import machine_reason
from diffbench.calibration.store import read_record, task_calibration_key
from diffbench.evaluation.judge import Judge, _Judging, _Rejected
from diffbench.evaluation.machine_speed import DRIFT_TOLERANCE, read_latency
from diffbench.evaluation.measure import Timings
from diffbench.knowledge.loader import load_knowledge
from diffbench.models.profiles import get_profile
from diffbench.tasks.schema import Difficulty
from diffbench.tasks.suite import get_task, suite


def test_x5_014s_judging_read_at_the_calibrations_speed():
    """X5-014 (Qwen-Image, level 5, medium) on 2026-11-29: 6.31 s against 6.04 s while its baseline ran 8.18 s per
    call, 1.08x its calibrated 7.573 s."""
    reading = read_latency(6.31, 8.18, 7.573)
    assert reading.at_calibration_speed
    assert reading.slowdown == pytest.approx(1.08, abs=0.005)
    assert reading.read_s == pytest.approx(6.31 * 7.573 / 8.18)
    assert reading.read_s <= 6.04 < reading.measured_s
    assert "5.84 s at the calibration's speed" in reading.describe() and "1.08x" in reading.describe()


def test_a_faster_machine_tightens_the_reading_as_much():
    reading = read_latency(1.0, 0.9, 1.0)
    assert reading.at_calibration_speed and reading.read_s == pytest.approx(1.0 / 0.9)


@pytest.mark.parametrize("baseline_s", [DRIFT_TOLERANCE * 1.01, 1 / (DRIFT_TOLERANCE * 1.01)])
def test_beyond_the_drift_tolerance_the_latency_is_read_as_measured(baseline_s):
    reading = read_latency(2.0, baseline_s, 1.0)
    assert not reading.at_calibration_speed and reading.read_s == 2.0
    assert "as measured" in reading.describe() and "another machine" in reading.describe()


@pytest.mark.parametrize(("baseline_s", "calibrated"), [(None, 1.0), (1.0, None), (0.0, 1.0)])
def test_without_both_baseline_times_the_latency_is_read_as_measured(baseline_s, calibrated):
    reading = read_latency(2.0, baseline_s, calibrated)
    assert reading.slowdown is None and reading.read_s == 2.0 and reading.describe() == "latency 2.00 s"


def test_the_reference_run_calls_a_miss_the_machines_only_where_the_reading_is_raw():
    task = get_task("X5-014")
    assert machine_reason(task, fast_half_precision=False, slowdown=1.08) is None
    assert machine_reason(task, fast_half_precision=False, slowdown=DRIFT_TOLERANCE * 1.01) is not None
    assert machine_reason(get_task("X4-014"), fast_half_precision=False, slowdown=2.0) is None  # U's ratio cancels it


def test_bf16_and_fp16_instructions_are_told_apart(monkeypatch):
    """An AMD EPYC with avx512_bf16 but no avx512_fp16 (2026-12-07) ran bf16 3.4x faster than fp32 and fp16 75x
    slower: L2-091's fp16 reference (PixArt) timed out there while the bf16 ones passed. Each precision is asked
    about by itself, and a task's miss is the machine's only for the precision it uses."""
    from diffbench.calibration.machine_misses import fast_for
    from diffbench.models import device

    epyc = "processor : 0\nflags : fpu sse avx2 avx512f avx512_vnni avx512_bf16 vaes\n"
    assert device.half_precisions_in(epyc) == {"bfloat16"}
    assert device.half_precisions_in("flags : avx512f avx512_fp16 amx_bf16\n") == {"bfloat16", "float16"}
    assert device.half_precisions_in("flags : avx2 fma\n") == frozenset()
    monkeypatch.setattr(device, "cpu_fast_half_precisions", lambda: device.half_precisions_in(epyc))
    fast = device.device_has_fast_half_precision
    assert fast("cpu", "bf16") and fast("cpu", "bfloat16") and not fast("cpu", "fp16") and not fast("cpu")
    assert device.fast_half_precision_methods("cpu") == {"bf16"}
    assert device.fast_half_precision_methods("cuda:0") == {"bf16", "fp16"}
    assert "with bf16 but without fp16 instructions" in device.describe_hardware("cpu")
    fp16, bf16 = get_task("L2-091"), get_task("L3-001")
    assert {m.key for m in fp16.methods} >= {"fp16"} and {m.key for m in bf16.methods} >= {"bf16"}
    assert not fast_for(fp16, "cpu") and fast_for(bf16, "cpu") and fast_for(get_task("L1-001"), "cpu")
    reason = machine_reason(fp16, fast_half_precision=fast_for(fp16, "cpu"), timed_out=True)
    assert reason is not None and "runs fp16 on a CPU without fp16 instructions (no avx512_fp16 or amx_fp16)" in reason


def test_a_half_precision_timeout_is_the_machines_at_any_level_but_only_without_half_precision_instructions():
    """L2-074's fp16 reference (DiT) timed out at the calls' deadline on an AVX2-only CPU (2026-12-07)."""
    half, fp32 = get_task("L2-074"), get_task("L1-001")
    assert "fp16" in {m.key for m in half.methods}
    assert "past their deadline" in machine_reason(half, fast_half_precision=False, timed_out=True)
    assert machine_reason(half, fast_half_precision=False) is None  # a level-2 miss that is not a timeout
    assert machine_reason(half, fast_half_precision=True, timed_out=True) is None
    assert machine_reason(fp32, fast_half_precision=False, timed_out=True) is None
    assert machine_reason(get_task("X5-014"), fast_half_precision=False, slowdown=3.0, timed_out=True) is None


def test_level_5_targets_carry_the_calibrated_baseline_time_and_level_4_targets_do_not():
    record = read_record("tiny-cpu")
    assert record is not None
    for task in suite("extended"):
        if task.level < 4:
            continue
        target = task.targets["tiny-cpu"]
        if task.level == 4:
            assert target.baseline_s is None
            assert "baseline_s" not in task.model_dump()["targets"]["tiny-cpu"]  # its file and digest as before
        else:
            assert target.baseline_s == round(record.baselines[task_calibration_key(task)].baseline_s, 3)
    cal = record.baselines[task_calibration_key(get_task("X5-014"))]
    assert (
        cal.targets(Difficulty.MEDIUM, record.platform, level=5).baseline_s
        == get_task("X5-014").targets["tiny-cpu"].baseline_s
    )


def test_the_agent_reads_a_level_5_task_s_latency_as_the_judge_does():
    task = get_task("X5-014")
    target = task.targets["tiny-cpu"]
    goal = from_task(task, "tiny-cpu", load_knowledge()).goal
    assert goal is not None and goal.calibrated_baseline_s == target.baseline_s
    assert target.baseline_s is not None
    slower = target.baseline_s * 1.08  # the machine 8% slower than at calibration
    drifted = Candidate(plan=None, generation=0, loss=0.01, speedup=1.4, latency_s=6.31, baseline_s=slower)
    assert meets(drifted, goal)
    assert not meets(drifted, Goal(delta=goal.delta, latency_s=goal.latency_s))  # a user's own goal: as measured
    beyond = Candidate(plan=None, generation=0, loss=0.01, speedup=1.4, latency_s=6.31, baseline_s=2 * slower)
    assert not meets(beyond, goal)


class _Quality:
    """What stage 3 reads of stage 2's scores."""

    metric = "psnr"
    loss = 0.019


def _stage_3(task_id: str, baseline_s: float, latency_s: float, tmp_path) -> tuple[dict, str | None]:
    """The judge's relative stage on X5-014 with its timing replaced by fixed seconds per call: (figures, problem)."""
    judge = Judge(get_task(task_id), get_profile("tiny-cpu"), tmp_path)
    timings = Timings([[baseline_s] * 3 for _ in range(3)], [[latency_s] * 3 for _ in range(3)])
    judging = _Judging(SimpleNamespace(time=lambda call, plan: timings))  # type: ignore[arg-type]
    try:
        return judge._relative(judging, None, _Quality(), None), None  # type: ignore[arg-type]
    except _Rejected as rejected:
        return rejected.figures, rejected.stage.problems[0]


def test_the_judge_passes_x5_014s_latency_read_at_the_calibrations_speed(tmp_path):
    calibrated = get_task("X5-014").targets["tiny-cpu"].baseline_s
    assert calibrated is not None
    figures, problem = _stage_3("X5-014", calibrated * 1.08, 6.31, tmp_path)
    assert problem is None
    assert figures["latency_s"] == 6.31 and figures["latency_read_s"] == pytest.approx(6.31 / 1.08)
    assert figures["baseline_slowdown"] == pytest.approx(1.08)
    figures, problem = _stage_3("X5-014", calibrated * 1.02, 6.31, tmp_path)  # the machine as fast
    assert problem == (
        "latency 6.31 s here, 6.19 s at the calibration's speed (the baseline ran 1.02x its calibrated time), "
        "the task asks latency <= 6.04 s"
    )
    figures, problem = _stage_3("X5-014", calibrated * 1.5, 6.31, tmp_path)  # another machine
    assert figures["latency_read_s"] == 6.31 and problem is not None and "as measured" in problem


def test_the_judges_verdict_names_a_cpu_without_half_precision_where_a_half_precision_call_missed_its_deadline(
    monkeypatch, tmp_path
):
    from diffbench.evaluation import judge as judge_module
    from diffbench.evaluation.child import SolutionError
    from diffbench.models.profiles import get_profile

    judge = judge_module.Judge(get_task("L2-074"), get_profile("tiny-cpu"), tmp_path)
    timeout = SolutionError("generate: timeout: no answer before the deadline (limit 39 s)", timed_out=True)
    raised = SolutionError("generate raised ValueError: timeout must be positive")  # names a timeout, is none
    for fast, dtype, err, named in [(False, "float16", timeout, True), (True, "float16", timeout, False),
                                    (False, "float32", timeout, False), (False, "float16", raised, False),
                                    (False, "float16", SolutionError("generate: ValueError"), False)]:  # fmt: skip
        monkeypatch.setattr(judge_module, "device_has_fast_half_precision", lambda device, dtype, fast=fast: fast)
        note = judge._slow_half_precision({"dtype": dtype}, err)
        assert ("on a CPU without fp16 instructions" in note) is named, (fast, dtype, err)
