"""Reading a request's words without a language model: the engineer's sentence and every suite prompt."""

from __future__ import annotations

import pytest

from diffagent.agent.problem import from_prompt, from_task
from diffagent.agent.request import RequestError, parse_request
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.knowledge.loader import load_knowledge
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import Conditioning
from diffbench.tasks.suite import load_suite, suite_dir

KB = load_knowledge()


def test_the_engineers_sentence():
    problem = from_prompt(
        "Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x speedup with at most 5% quality "
        "loss", KB,
    )  # fmt: skip
    assert problem.pipeline.model_id == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert (problem.pipeline.sampler, problem.pipeline.steps, problem.pipeline.resolution) == ("ddim", 50, 512)
    assert (problem.goal.speedup, problem.goal.latency_s, problem.goal.delta) == (2.5, None, 0.05)
    assert problem.level == 4
    assert "DDIMScheduler" in problem.baseline_code and "NUM_INFERENCE_STEPS = 50" in problem.baseline_code


def test_latency_conditioning_and_an_unstated_sampler():
    request = parse_request("Make SDXL img2img at 1024x1024 finish in 800 ms, losing no more than 3% quality", KB)
    assert request.model_id == "stabilityai/stable-diffusion-xl-base-1.0"
    assert request.conditioning == Conditioning.IMAGE and request.resolution == 1024
    assert (request.latency_s, request.delta, request.speedup) == (0.8, 0.03, None)
    problem = from_prompt("Make SDXL img2img at 1024x1024 finish in 800 ms", KB)
    # Nothing about the scheduler: the checkpoint's own, at the pipeline's default steps and strength, each said.
    assert (problem.pipeline.sampler, problem.pipeline.steps) == (OWN_SCHEDULER, 50)
    assert problem.pipeline.scheduler == SchedulerSpec() and problem.pipeline.strength == 0.3
    assert "no scheduler named: the checkpoint's own EulerDiscreteScheduler" in problem.assumptions
    assert "pipe.scheduler" not in problem.baseline_code and "strength=0.3" in problem.baseline_code


def test_an_unknown_checkpoint_is_one_clear_error():
    with pytest.raises(RequestError, match=r"names no checkpoint.*stable-diffusion-v1-5"):
        parse_request("Make my Midjourney clone 3x faster", KB)


def test_a_baseline_module_is_read_for_its_pipeline():
    code = from_prompt("SD 1.5 with UniPC, 25 steps, 512 px: 2x faster", KB).baseline_code
    problem = from_prompt("reach 2x with at most 5% quality loss", KB, baseline_code=code)
    assert (problem.pipeline.sampler, problem.pipeline.steps) == ("unipc", 25)


@pytest.mark.parametrize("suite_name", ["paper", "extended", "video"])
def test_every_suite_prompt_is_read_as_its_task_states(suite_name):
    """The offline planner reads the suites' own vocabulary; this pins that it reads all their prompts right."""
    wrong = []
    for task in load_suite(suite_dir(suite_name)):
        problem = from_task(task, "tiny-cpu", KB)
        request = problem.request
        got = (request.model_id, request.conditioning, request.resolution, request.width, request.frames)
        want = (task.model_id, task.conditioning, task.resolution, task.width, task.frames)
        if task.level <= 3:
            config = problem.requested_config()

            def resolved(methods, family=task.family):
                return {m.key: KB.method(m.key).resolve(m.params, family) for m in methods}

            got += (config.sampler, config.steps, resolved(config.methods))
            want += (task.sampler, task.steps, resolved(task.methods))
        else:
            base = request.baseline_sampler
            got += (base.key, base.steps, request.speedup, request.latency_s and round(request.latency_s, 2))
            target = task.targets["tiny-cpu"]
            want += (task.baseline_sampler, task.baseline_steps, target.speedup if task.level == 4 else None,
                     target.latency_s if task.level == 5 else None)  # fmt: skip
        if got != want:
            wrong.append(f"{task.id}: {got} != {want}")
    assert not wrong, wrong[:5]


SDXL_MODULE = """
import torch
from diffusers import StableDiffusionXLPipeline


def load_pipeline(device):
    model = "stabilityai/stable-diffusion-xl-base-1.0"
    pipe = StableDiffusionXLPipeline.from_pretrained(model, torch_dtype=torch.float32)
    return pipe.to(device)


def generate(pipe, request):
    generator = torch.Generator("cpu").manual_seed(request["seed"])
    return pipe(prompt=request["prompt"], num_inference_steps=30, generator=generator).images
"""


def test_a_baseline_module_with_the_checkpoints_own_scheduler_is_the_exact_route():
    """The most common real pipeline: SDXL with its default (Euler) scheduler; it used to be refused."""
    problem = from_prompt("make it 2x faster", KB, baseline_code=SDXL_MODULE)
    base = problem.pipeline
    assert (base.model_id, base.sampler, base.steps) == ("stabilityai/stable-diffusion-xl-base-1.0", OWN_SCHEDULER, 30)
    assert problem.baseline_code == SDXL_MODULE and problem.goal.speedup == 2.0
    assert "the module keeps the checkpoint's own scheduler (EulerDiscreteScheduler)" in problem.assumptions
    euler = SDXL_MODULE.replace(
        "    return pipe.to(device)",
        "    from diffusers import EulerAncestralDiscreteScheduler\n"
        "    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)\n"
        "    return pipe.to(device)",
    )
    problem = from_prompt("2x", KB, baseline_code=euler)
    assert problem.pipeline.scheduler == SchedulerSpec.of("EulerAncestralDiscreteScheduler")
    assert "EulerAncestralDiscreteScheduler.from_config" in problem.pipeline.write(
        KB, problem.requested_config(), "a candidate"
    )


def test_a_wan_baseline_given_without_words_naming_it_is_read_as_that_video_pipeline():
    """A given baseline module's checkpoint (`--baseline`) reaches the reader as `model_id`: a Wan one is read as
    its text-to-video pipeline at its model card's size; the words' frame count is read, else none is stated."""
    request = parse_request("make it 2x faster", KB, model_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert (request.conditioning, request.resolution, request.width, request.frames) == (
        Conditioning.TEXT_TO_VIDEO, 480, 832, None,
    )  # fmt: skip
    request = parse_request("Wan 2.2 A14B at 40 steps, 17 frames, 2x please", KB)
    assert (request.model_id, request.frames, request.not_understood) == ("Wan-AI/Wan2.2-T2V-A14B-Diffusers", 17, [])
    with pytest.raises(RequestError, match="Wan's VAE takes 4k\\+1 frames"):
        parse_request("Wan 2.1 1.3B, 16 frames, 2x", KB)
