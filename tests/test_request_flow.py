"""The agent reads requests for the flow-matching families (issue 17) and plans with their methods, offline."""

from __future__ import annotations

import pytest

from diffagent.agent.heuristic import HeuristicPlanner
from diffagent.agent.plan import Pipeline
from diffagent.agent.problem import from_prompt
from diffagent.agent.request import RequestError, parse_request
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.evaluation.static import analyze
from diffbench.knowledge.loader import load_knowledge

KB = load_knowledge()


def test_the_issues_request_is_flux_dev_at_its_model_cards_settings():
    problem = from_prompt("Accelerate FLUX.1-dev by 2x with at most 5% quality loss", KB)
    base = problem.pipeline
    assert (base.model_id, base.sampler, base.steps, base.resolution) == (
        "black-forest-labs/FLUX.1-dev",
        OWN_SCHEDULER,
        50,
        1024,
    )
    assert (problem.goal.speedup, problem.goal.delta, problem.level) == (2.0, 0.05, 4)
    assert "no step count stated: 50, the model card's for black-forest-labs/FLUX.1-dev" in problem.assumptions
    assert "no scheduler named: the checkpoint's own FlowMatchEulerDiscreteScheduler" in problem.assumptions
    assert "guidance_scale=3.5" in problem.baseline_code and "FluxPipeline" in problem.baseline_code


def test_a_qwen_image_request_is_its_model_cards_true_cfg_pipeline():
    problem = from_prompt("Make Qwen-Image 2x faster, at most 5% quality loss", KB)
    assert (problem.pipeline.model_id, problem.pipeline.steps) == ("Qwen/Qwen-Image", 50)
    code = problem.baseline_code
    assert "QwenImagePipeline" in code and "true_cfg_scale=4.0" in code and "guidance_scale" not in code
    assert 'request.get("negative_prompt") or " "' in code  # true CFG runs only with a negative prompt


@pytest.mark.parametrize(
    ("words", "model_id"),
    [
        ("make Flux dev 3x faster", "black-forest-labs/FLUX.1-dev"),
        ("FLUX.1 schnell, halve the time", "black-forest-labs/FLUX.1-schnell"),
        ("SD3.5 large needs to be 2x faster", "stabilityai/stable-diffusion-3.5-large"),
        ("Speed up Stable Diffusion 3.5 Medium by 1.5x", "stabilityai/stable-diffusion-3.5-medium"),
        ("our flux pipeline: 2x", "black-forest-labs/FLUX.1-dev"),
        ("Accelerate Qwen-Image by 2x", "Qwen/Qwen-Image"),
        ("our Qwen Image text-to-image, 1.5x please", "Qwen/Qwen-Image"),
    ],
)
def test_the_names_people_use(words, model_id):
    assert parse_request(words, KB).model_id == model_id


def test_euler_on_a_flow_matching_model_is_its_flow_matching_euler():
    request = parse_request("SD3.5 large with Euler at 28 steps: 2x please", KB)
    assert [(s.key, s.steps) for s in request.samplers] == [("flow_euler", 28)]


@pytest.mark.parametrize(
    ("words", "named"),
    [
        ("Accelerate Qwen-Image-Edit by 2x", "Qwen/Qwen-Image-Edit"),
        ("FLUX.2 dev, 2x faster", "black-forest-labs/FLUX.2-dev"),
    ],
)
def test_a_model_the_registry_lacks_is_refused_by_name(words, named):
    with pytest.raises(RequestError, match=rf"{named} is not in this tool's model registry yet"):
        parse_request(words, KB)


@pytest.mark.parametrize(
    "model_id",
    [
        "black-forest-labs/FLUX.1-dev",
        "stabilityai/stable-diffusion-3.5-large",
        "black-forest-labs/FLUX.1-schnell",
        "Qwen/Qwen-Image",
    ],
)
def test_the_offline_planner_plans_with_the_flow_families_methods(model_id):
    from diffbench.models.families import Conditioning, checkpoint

    card = checkpoint(model_id)
    planner = HeuristicPlanner(KB, Pipeline(model_id, Conditioning.TEXT, 1024, OWN_SCHEDULER, card.steps))
    plans = planner.fresh(7)
    keys = {m.key for p in plans for m in p.config.methods} | {p.config.sampler for p in plans}
    assert plans and "dpm_solver" not in keys and "ddim" not in keys
    assert "torchao_float8" not in keys  # declared for cuda only; this planner runs on the cpu
    on_gpu = HeuristicPlanner(KB, Pipeline(model_id, Conditioning.TEXT, 1024, OWN_SCHEDULER, card.steps), device="cuda")
    assert "torchao_float8" in on_gpu.methods
    assert all(p.config.steps <= card.steps for p in plans)
    assert {m.key for p in plans for m in p.config.methods} - {"bf16"}  # a cache or kernel method, not only dtype
    for plan in plans:
        assert analyze(planner.write(plan)).compile_error is None
