"""Free-form requests as users write them (chatty, terse, typos, hub ids, nicknames, numbers as words), each with
the problem it must be read as. Not the suite's phrasings; no model is loaded. A request that cannot be read says
what is missing in one line, never a traceback."""

from __future__ import annotations

import pytest

from diffagent.agent.problem import from_prompt
from diffagent.agent.request import RequestError
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.knowledge.loader import load_knowledge

KB = load_knowledge()
SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SD21 = "stabilityai/stable-diffusion-2-1"
SD21B = "stabilityai/stable-diffusion-2-1-base"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
PA512, PA1024 = "PixArt-alpha/PixArt-XL-2-512x512", "PixArt-alpha/PixArt-XL-2-1024-MS"
PS1024 = "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS"
DIT256, DIT512 = "facebook/DiT-XL-2-256", "facebook/DiT-XL-2-512"
OWN = OWN_SCHEDULER

# request -> what it must be read as: model, resolution, (sampler key, scheduler class or None, steps), goal
# (speedup, latency_s, delta), and extras (conditioning, strength, guidance, measure, methods).
CASES: list[tuple[str, dict]] = [
    (
        "Our SDXL service uses EulerDiscreteScheduler with 40 steps at 1024 px; we need 2.5x.",
        dict(model=SDXL, res=1024, sampler=(OWN, "EulerDiscreteScheduler", 40), goal=(2.5, None, 0.05)),
    ),
    (
        "PixArt-Alpha at 1024 with 25 DPM-Solver++ steps; about 1.4x please.",
        dict(model=PA1024, res=1024, sampler=("dpm_solver", None, 25), goal=(1.4, None, 0.05)),
    ),
    (
        "SD 2.1 base, 50 DDIM steps: make latency 30% lower.",
        dict(model=SD21B, res=512, sampler=("ddim", None, 50), goal=(1 / 0.7, None, 0.05)),
    ),
    (
        "img2img on SD1.5 with strength 0.5, DDIM 40 steps: 2x.",
        dict(model=SD15, sampler=("ddim", None, 40), goal=(2.0, None, 0.05), kind="image-to-image", strength=0.5),
    ),
    (
        "SDXL, DDIM 30 steps: put DeepCache and T-GATE on it and report how much faster it got.",
        dict(model=SDXL, sampler=("ddim", None, 30), goal=None, measure=True, methods=["tgate_deepcache"]),
    ),
    (
        "SD1.5, DDIM 50 steps, 50x speedup with exactly 0% quality loss.",
        dict(model=SD15, sampler=("ddim", None, 50), goal=(50.0, None, 0.0)),
    ),
    (
        "hey! we run stable diffusion 1.5 w/ euler a, 30 steps, 512x512. can u make it twice as fast? "
        "no noticeable quality drop pls",
        dict(model=SD15, res=512, sampler=(OWN, "EulerAncestralDiscreteScheduler", 30), goal=(2.0, None, 0.05)),
    ),
    (
        "sdxl dpm++ 2m karras 25 steps -> 3x",
        dict(model=SDXL, sampler=(OWN, "DPMSolverMultistepScheduler", 25), goal=(3.0, None, 0.05), karras=True),
    ),
    (
        "Need stabilityai/stable-diffusion-xl-base-1.0 under 0.8 s per image, currently Euler 30 steps, 3% quality max",
        dict(model=SDXL, sampler=(OWN, "EulerDiscreteScheduler", 30), goal=(None, 0.8, 0.03)),
    ),
    (
        "Make SD 1.5 three times as fast. We use the default PNDM scheduler with fifty steps.",
        dict(model=SD15, sampler=(OWN, "PNDMScheduler", 50), goal=(3.0, None, 0.05)),
    ),
    (
        "Halve the time of our SDXL pipeline (Euler, 40 steps).",
        dict(model=SDXL, sampler=(OWN, "EulerDiscreteScheduler", 40), goal=(2.0, None, 0.05)),
    ),
    (
        "SDXL img2img, strength=0.3, 30 steps of UniPC: cut latency by 40% with at most 2% quality loss",
        dict(model=SDXL, sampler=("unipc", None, 30), goal=(1 / 0.6, None, 0.02), kind="image-to-image", strength=0.3),
    ),
    (
        "Bring SD2.1 down to 70% of today's time. DDIM, 50 steps, 768 px.",
        dict(model=SD21, res=768, sampler=("ddim", None, 50), goal=(100 / 70, None, 0.05)),
    ),
    (
        "Our SD 1.5 service takes 2.1 s today with DDIM 50; get it under 900 ms",
        dict(model=SD15, sampler=("ddim", None, 50), goal=(None, 0.9, 0.05)),
    ),
    (
        "runwayml/stable-diffusion-v1-5 with heun at 25 steps, guidance 7: 1.8x faster",
        dict(model=SD15, sampler=(OWN, "HeunDiscreteScheduler", 25), goal=(1.8, None, 0.05), guidance=7.0),
    ),
    (
        "sd15 lms 40 steps 2x speedup 4% quality",
        dict(model=SD15, sampler=(OWN, "LMSDiscreteScheduler", 40), goal=(2.0, None, 0.04)),
    ),
    (
        "PixArt-Sigma 1024, DPM-Solver 20 steps, make it 1.5 times faster",
        dict(model=PS1024, res=1024, sampler=("dpm_solver", None, 20), goal=(1.5, None, 0.05)),
    ),
    (
        "DiT-XL-2-256 class-conditional, DDIM 50: 2.5x please, quality loss under 5%",
        dict(model=DIT256, res=256, sampler=("ddim", None, 50), goal=(2.5, None, 0.05), kind="class-to-image"),
    ),
    (
        "the 512 px DiT, 250 DDPM steps, we need it 4x faster",
        dict(model=DIT512, res=512, sampler=(OWN, "DDPMScheduler", 250), goal=(4.0, None, 0.05)),
    ),
    (
        "SD1.5 text2img, 20 steps, speed it up by a factor of 2",
        dict(model=SD15, sampler=(OWN, None, 20), goal=(2.0, None, 0.05)),
    ),
    ("Accelerate SDXL by 2x", dict(model=SDXL, sampler=(OWN, None, 50), goal=(2.0, None, 0.05))),
    (
        "SD 1.5 with DEIS, 25 steps: 1.6x",
        dict(model=SD15, sampler=(OWN, "DEISMultistepScheduler", 25), goal=(1.6, None, 0.05)),
    ),
    (
        "Stable Diffusion XL, euler discrete @ 1024, 35 inference steps. Target: 2x, max 5% degradation.",
        dict(model=SDXL, res=1024, sampler=(OWN, "EulerDiscreteScheduler", 35), goal=(2.0, None, 0.05)),
    ),
    (
        "SDXL ControlNet canny, UniPC 30 steps -> make it 1.5x",
        dict(model=SDXL, sampler=("unipc", None, 30), goal=(1.5, None, 0.05), kind="controlnet-canny"),
    ),
    (
        "sd 1.5 controlnet (canny edges), ddim 50, 2x faster, 5% quality",
        dict(model=SD15, sampler=("ddim", None, 50), goal=(2.0, None, 0.05), kind="controlnet-canny"),
    ),
    (
        "Pixart alpha 512 with DPM-Solver++ 20 steps, add DeepCache? no wait, apply PAB and tell me how much "
        "faster it is",
        dict(model=PA512, sampler=("dpm_solver", None, 20), goal=None, measure=True),
    ),
    (
        "SD1.5 DDIM 50 steps: apply ToMe with ratio 0.5",
        dict(model=SD15, sampler=("ddim", None, 50), goal=None, methods=["tome"]),
    ),
    (
        "SD 1.5 DDIM 50 steps, switch to UniPC with 20 steps",
        dict(model=SD15, sampler=("ddim", None, 50), goal=None, asked=("unipc", 20)),
    ),
    (
        "SDXL 30 steps of DDIM; I want the images identical, just faster: 1.2x",
        dict(model=SDXL, sampler=("ddim", None, 30), goal=(1.2, None, 0.0)),
    ),
    (
        "SD2.1 768 v-pred, euler a 30 steps, 2x, lossless please",
        dict(model=SD21, res=768, sampler=(OWN, "EulerAncestralDiscreteScheduler", 30), goal=(2.0, None, 0.0)),
    ),
    (
        "Flux-free request: SDXL + DPM++ 2M at 28 steps, 2.2x, 3% max quality loss",
        dict(model=SDXL, sampler=("dpm_solver", None, 28), goal=(2.2, None, 0.03)),
    ),
    (
        "sdxl, eulr 30 steps (sorry, Euler), want 2x",
        dict(model=SDXL, sampler=(OWN, "EulerDiscreteScheduler", 30), goal=(2.0, None, 0.05)),
    ),
    (
        "SD 1.5 @ 512, DDIM with twenty-five steps, three x faster",
        dict(model=SD15, res=512, sampler=("ddim", None, 25), goal=(3.0, None, 0.05)),
    ),
    (
        "stable diffusion v1-5 img2img (strength of 0.6), euler 30 steps, 2x",
        dict(
            model=SD15,
            sampler=(OWN, "EulerDiscreteScheduler", 30),
            goal=(2.0, None, 0.05),
            strength=0.6,
            kind="image-to-image",
        ),
    ),
    (
        "SD1.5, 40 steps, cfg 5.5: shave 25% off the runtime",
        dict(model=SD15, sampler=(OWN, None, 40), goal=(1 / 0.75, None, 0.05), guidance=5.5),
    ),
    (
        "We serve PixArt-α 1024 at 20 steps; get latency 50% lower",
        dict(model=PA1024, res=1024, sampler=(OWN, None, 20), goal=(2.0, None, 0.05)),
    ),
    (
        "SDXL, flow-match euler? no: plain DDIM 40 steps. 2x at most 1% quality loss",
        dict(model=SDXL, sampler=("ddim", None, 40), goal=(2.0, None, 0.01)),
    ),
    ("DiT 256, 100 DDIM steps, 5x faster", dict(model=DIT256, sampler=("ddim", None, 100), goal=(5.0, None, 0.05))),
    (
        "Make sd-xl 40% faster (Euler a, 30 steps)",
        dict(model=SDXL, sampler=(OWN, "EulerAncestralDiscreteScheduler", 30), goal=(1.4, None, 0.05)),
    ),
    (
        "SD 2.1 base at 512, PNDM 50 steps, 2x, quality within 5 %",
        dict(model=SD21B, res=512, sampler=(OWN, "PNDMScheduler", 50), goal=(2.0, None, 0.05)),
    ),
    (
        "sdxl img2img with the default scheduler, 2x",
        dict(model=SDXL, sampler=(OWN, None, 50), goal=(2.0, None, 0.05), kind="image-to-image", strength=0.3),
    ),
    (
        "SD1.5 UniPC 25 steps, apply DeepCache and report the speedup",
        dict(model=SD15, sampler=("unipc", None, 25), goal=None, measure=True, methods=["deepcache"]),
    ),
]


@pytest.mark.parametrize(("text", "want"), CASES, ids=[f"r{i:02d}" for i in range(len(CASES))])
def test_a_free_form_request_is_read_as_its_user_means_it(text, want):
    problem = from_prompt(text, KB)
    base = problem.pipeline
    assert base.model_id == want["model"]
    if "res" in want:
        assert base.resolution == want["res"]
    key, cls, steps = want["sampler"]
    assert (base.sampler, base.steps) == (key, steps)
    if key == OWN:
        assert (base.scheduler.class_name if base.scheduler else None) == cls
    if want.get("karras"):
        assert dict(base.scheduler.config).get("use_karras_sigmas") is True
    if want["goal"] is None:
        assert problem.goal is None
    else:
        speedup, latency, delta = want["goal"]
        goal = problem.goal
        assert goal is not None
        assert (goal.speedup, goal.latency_s, goal.delta) == (
            pytest.approx(speedup, rel=1e-3) if speedup else None,
            latency,
            delta,
        )
    assert str(base.conditioning) == want.get("kind", str(base.conditioning))
    if "strength" in want:
        assert base.strength == want["strength"] and f"strength={want['strength']}" in problem.baseline_code
    if "guidance" in want:
        assert base.guidance_scale == want["guidance"] and f"guidance_scale={want['guidance']}" in problem.baseline_code
    if "measure" in want:
        assert problem.request.measure is want["measure"]
    if "methods" in want:
        assert [a.key for a in problem.request.methods] == want["methods"]
    if "asked" in want:
        config = problem.requested_config()
        assert (config.sampler, config.steps) == want["asked"]
    # What was understood comes first, and the baseline module runs the scheduler it names.
    lines = problem.understanding()
    assert lines[0].startswith("baseline: ") and lines[1].startswith("goal: ")
    if cls:
        assert f"{cls}.from_config" in problem.baseline_code


def test_there_are_at_least_forty():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("make it faster", "names no checkpoint"),
        ("Speed up my Midjourney clone 3x", "names no checkpoint"),
        ("", "names no checkpoint"),
    ],
)
def test_a_request_that_cannot_be_read_says_what_is_missing_with_an_example(text, missing):
    with pytest.raises(RequestError, match=missing) as err:
        from_prompt(text, KB)
    assert "e.g." in str(err.value) and "\n" not in str(err.value)


def test_a_request_with_no_goal_and_no_method_is_the_pipeline_as_described_and_says_so():
    problem = from_prompt("SD1.5 with DDIM 50 steps", KB)
    assert problem.goal is None and problem.level == 1 and not problem.request.methods
    assert any(line.startswith("assumed: no goal and no method stated") for line in problem.understanding())
