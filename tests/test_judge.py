"""The judge end to end on stand-ins: references pass, baselines and cheats fail, each naming its rule.

Runs with 3 quality inputs and one timing round (the paper's 10 inputs: `diffbench eval --samples 10`)."""

import pytest

from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.evaluation.result import ErrorMode
from diffbench.tasks.suite import get_task

QUICK = JudgeOptions(samples=3, repetitions=1, timing_inputs=2, inputs_seed=11)
SD15_TASK = "L1-001"  # SD1.5 text-to-image, DDIM 30 steps, 512 px

FEWER_STEPS = """
    real_set_timesteps = pipe.scheduler.set_timesteps
    pipe.scheduler.set_timesteps = lambda n, *a, **k: real_set_timesteps(max(1, n // 3), *a, **k)
    return pipe
"""
LOWER_RESOLUTION = """
    real_prepare = pipe.prepare_latents
    pipe.prepare_latents = lambda b, c, h, w, *a, **k: real_prepare(b, c, h // 2, w // 2, *a, **k)
    return pipe
"""
STALE_OUTPUT = """
    images = result.images
    CACHE.setdefault("first", images)
    return CACHE["first"]

CACHE = {}
"""
WORK_AFTER_RETURN = """
    import threading

    def keep_computing():
        while True:
            sum(range(10_000))

    threading.Thread(target=keep_computing, name="tqdm_monitor", daemon=True).start()
    return result.images
"""


def cheat(load_tail: str = "", generate_tail: str = "") -> str:
    source = get_task(SD15_TASK).reference_code
    if load_tail:
        source = source.replace("    return pipe\n", load_tail, 1)
    if generate_tail:
        source = source.replace("    return result.images\n", generate_tail, 1)
    if "prepare_latents" in load_tail:  # upscale what the smaller latents decode to, so the size check passes
        source = source.replace(
            "    return result.images\n", "    return [im.resize((WIDTH, HEIGHT)) for im in result.images]\n"
        )
    return source


@pytest.mark.slow
def test_reference_passes(profile, tmp_path):
    task = get_task(SD15_TASK)
    result = evaluate(task, task.reference_code, profile, tmp_path, QUICK)
    assert result.passed, result.first_problem
    assert "not CLIP" in result.quality_metric
    assert [s.name for s in result.stages] == ["static", "runtime", "absolute quality"]


@pytest.mark.slow
def test_baseline_fails_a_level_2_task_on_key_attributes(profile, tmp_path):
    task = get_task("L2-004")  # SD1.5 DDIM 50 + ToMe 0.5
    result = evaluate(task, task.baseline_code, profile, tmp_path, QUICK)
    assert result.error_modes == [ErrorMode.KEY_ATTRIBUTES]
    assert "methods: tome expected, not found" in result.first_problem


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "rule"),
    [
        (cheat(load_tail=FEWER_STEPS), "rule steps-at-run-time"),
        (cheat(load_tail=LOWER_RESOLUTION), "rule resolution-at-run-time"),
        (cheat(generate_tail=STALE_OUTPUT), "does not change with the seed"),
        (cheat(generate_tail=WORK_AFTER_RETURN), "rule no-side-work"),
    ],
    ids=["fewer steps than claimed", "lower resolution upscaled", "cached image for a new input", "work after return"],
)
def test_cheats_are_rejected_by_rule(profile, tmp_path, source, rule):
    result = evaluate(get_task(SD15_TASK), source, profile, tmp_path, QUICK)
    assert not result.passed
    assert rule in result.first_problem, result.first_problem


@pytest.mark.slow
def test_a_level_4_reference_is_timed_against_its_baseline(profile, tmp_path):
    # SD3.5 medium with PAB at 12 steps, as if never calibrated: its reference is fp32, so the speedup holds on any
    # CPU (a bf16 reference runs ~20x slower than its baseline on a CPU without bf16 instructions), and it is
    # among the cheapest level-4 tasks to judge (43 s in the extended reference run; DiT-512's L4-068 took 88 s)
    task = get_task("X4-010").model_copy(update={"targets": {}})
    result = evaluate(task, task.reference_code, profile, tmp_path, QUICK)
    relative = result.stage("relative")
    assert relative is not None and relative.figures["speedup"] > 1.0
    assert 0.0 <= relative.figures["quality_loss"] < 0.05
    assert result.baseline_timing["n"] == result.candidate_timing["n"] == 2
    assert "diffbench calibrate" in result.first_problem  # uncalibrated: no verdict is invented
