"""The cuda and tiny-cuda code paths, run on this CPU: the CLIP scorer on the CLIP stand-in, the heuristic planner
and the agent's report with no measured record for the profile, a missing CUDA device as one line, and the
cuda profile's judge over stand-ins with --device cpu reaching a CLIP figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import THREADS
from diffagent.agent.heuristic import HeuristicPlanner
from diffagent.agent.loop import AgentOptions, Outcome
from diffagent.agent.plan import AUTHOR, Pipeline, Usage
from diffagent.agent.problem import from_prompt
from diffagent.report import write_report
from diffbench.evaluation.metrics import MetricUndefinedError, quality_loss
from diffbench.knowledge.loader import load_knowledge
from diffbench.models.families import QUALITY_MODEL_ID, Conditioning
from diffbench.models.profiles import get_profile
from diffbench.tasks.suite import get_task

KB = load_knowledge()
REQUEST = (
    "Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x speedup with at most 5% quality loss"
)


def reference_file(tmp_path: Path, task_id: str) -> Path:
    path = tmp_path / f"{task_id}.py"
    path.write_text(get_task(task_id).reference_code)
    return path


def test_clip_score_matches_a_cosine_computed_independently(profile):
    import numpy as np
    import torch
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    from diffbench.evaluation.quality import ClipScorer

    scorer = ClipScorer(QUALITY_MODEL_ID, "cpu")
    model = CLIPModel.from_pretrained(QUALITY_MODEL_ID).eval()
    processor = CLIPProcessor.from_pretrained(QUALITY_MODEL_ID)
    rng = np.random.default_rng(0)
    for text in ("a photo of a red car", "a photo of class tabby cat", "an astronaut riding a horse"):
        image = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
        inputs = processor(text=[text], images=[image], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model(**inputs)  # the full forward pass normalises both embeddings itself
        expected = float((out.image_embeds * out.text_embeds).sum())
        assert scorer.cosine(image, text) == pytest.approx(expected, abs=1e-5)
        assert scorer.score(image, text) == pytest.approx(100 * max(expected, 0.0), abs=1e-3)


def test_l_over_a_baseline_that_scores_zero_is_a_clear_error_not_a_crash():
    with pytest.raises(MetricUndefinedError, match=r"random-weight CLIP .* judge stand-ins by fidelity"):
        quality_loss([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["cuda", "tiny-cuda"])
def test_the_heuristic_planner_plans_where_nothing_was_measured(name):
    assert KB.measured(name) == {}  # this profile has no recorded figures: published ones only, some without U
    pipeline = Pipeline("stable-diffusion-v1-5/stable-diffusion-v1-5", Conditioning.TEXT, 512, "ddim", 50)
    planner = HeuristicPlanner(KB, pipeline, name)
    plans = planner.fresh(4)
    assert plans and all(p.author == AUTHOR for p in plans)
    assert "deepcache" in planner.methods  # ranked by its published figure
    assert "def load_pipeline" in planner.write(plans[0])


@pytest.mark.parametrize("name", ["cuda", "tiny-cuda"])
def test_the_report_names_profile_device_and_weights(name, tmp_path):
    prof = get_profile(name, "cpu")
    problem = from_prompt(REQUEST, KB)
    outcome = Outcome(problem, AUTHOR, AgentOptions(), None, [], met=False)
    report = write_report(outcome, tmp_path, Usage(llm="none"), prof)["report"].read_text()
    weights = "stand-ins (tiny random weights)" if name == "tiny-cuda" else "real weights (your hub cache)"
    assert f"**Profile:** `{name}`: {weights}, device `cpu`" in report
    assert "real weights" not in report or name == "cuda"


@pytest.mark.parametrize(
    "argv",
    [
        ["diffbench", "eval", "L1-001", "{ref}", "--profile", "tiny-cuda"],
        ["diffagent", "solve", REQUEST, "--profile", "tiny-cuda", "--out", "{tmp}/out"],
        ["diffbench", "calibrate", "--profile", "cuda", "--only", "L4-002"],
        ["diffbench", "models", "check", "--profile", "tiny-cuda", "--id", "openai/clip-vit-base-patch16"],
    ],
)
def test_a_profile_that_needs_cuda_on_a_machine_without_it_is_one_line(argv, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    ref = reference_file(tmp_path, "L1-001")
    cmd = [Path(sys.executable).parent / argv[0], *(a.format(ref=ref, tmp=tmp_path) for a in argv[1:])]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    assert "runs on cuda, but this machine has no usable CUDA device" in lines[0]


@pytest.mark.slow
def test_the_cuda_profiles_judge_runs_on_the_cpu_over_stand_ins_and_reaches_a_clip_figure(profile, tmp_path):
    """The acceptance command: HF_HUB_CACHE=<stand-ins> diffbench eval L1-001 <ref> --profile cuda --device cpu."""
    ref = reference_file(tmp_path, "L1-001")
    env = {**profile.env(), **THREADS, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    cmd = [Path(sys.executable).parent / "diffbench", "eval", "L1-001", str(ref), "--profile", "cuda", "--device",
           "cpu", "--samples", "3", "--json", "--out", str(tmp_path / "eval")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert "Traceback" not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["profile"], result["device"], result["weights"]) == ("cuda", "cpu", "hub-cache")
    quality = next(s for s in result["stages"] if s["name"] == "absolute quality")
    assert quality["figures"]["metric"] == f"CLIP score ({QUALITY_MODEL_ID})"
    assert len(quality["figures"]["scores"]) == 3 and all(isinstance(s, float) for s in quality["figures"]["scores"])
    # A random-weight CLIP scores far below the real threshold: stage 2 fails, by rule, not by a crash.
    assert not result["passed"] and result["error_modes"] == ["absolute_quality"] and done.returncode == 1
    assert result["harness_overhead_s"] is not None
