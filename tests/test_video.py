"""Video outputs (issue 34): the contract's frame lists, their files, and how a video's quality is scored."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffbench.evaluation import worker
from diffbench.evaluation.child import SolutionError
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.evaluation.measure import ProtocolSizes
from diffbench.evaluation.measuring import MeasuringSession, TaskBaseline, search_session
from diffbench.evaluation.quality import (
    ClipScorer,
    FidelityScale,
    fidelity,
    output_psnr,
    pair_fidelity,
    video_fidelity,
)
from diffbench.images import read_output, save_output, synthetic_photo
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import compose
from diffbench.knowledge.loader import KnowledgeError
from diffbench.models.families import Conditioning
from diffbench.models.profiles import get_profile
from diffbench.tasks.suite import get_task

WAN = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


def _frames(count: int, size: int = 32, seed: int = 0) -> list[Image.Image]:
    """A moving scene: a photo shifted a few pixels per frame."""
    photo = np.asarray(synthetic_photo(size * 2, seed=seed))
    return [Image.fromarray(np.ascontiguousarray(photo[4 * i : 4 * i + size, :size])) for i in range(count)]


def _shifted(frames: list[Image.Image], offsets: list[int]) -> list[Image.Image]:
    """Each frame brightened by its own offset."""
    return [
        Image.fromarray(np.clip(np.asarray(f).astype(int) + d, 0, 255).astype(np.uint8))
        for f, d in zip(frames, offsets, strict=True)
    ]


def test_a_video_file_keeps_every_frame_even_identical_ones(tmp_path):
    frames = _frames(3)
    video = [frames[0], frames[0], frames[1], frames[2]]  # an animated PNG would merge the first two
    save_output(video, tmp_path / "v.png")
    back = read_output(tmp_path / "v.png")
    assert isinstance(back, list) and len(back) == 4
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(video, back, strict=True))
    save_output(frames[1], tmp_path / "i.png")
    assert isinstance(read_output(tmp_path / "i.png"), Image.Image)
    with pytest.raises(ValueError, match="differ in size"):
        save_output([frames[0], synthetic_photo(16)], tmp_path / "bad.png")


def test_a_videos_fidelity_is_its_frames_or_where_lower_its_motions():
    frames = _frames(5)
    same = video_fidelity(frames, frames)
    assert math.isinf(same.psnr_db) and same.frame_db == [math.inf] * 5
    steady = video_fidelity(frames, _shifted(frames, [6, 6, 6, 6, 6]))  # every frame off, the motion kept
    flicker = video_fidelity(frames, _shifted(frames, [6, -6, 6, -6, 6]))  # as far off per frame, but flickering
    assert steady.frames_db == pytest.approx(flicker.frames_db, abs=0.5)
    assert steady.psnr_db == pytest.approx(steady.frames_db) and steady.temporal_db > steady.frames_db + 20
    # Errors that alternate in sign double in the frame-to-frame changes: 6 dB there, 3 dB net of the offset.
    assert flicker.psnr_db == pytest.approx(flicker.temporal_db) == pytest.approx(steady.psnr_db - 3.01, abs=0.1)
    frozen = video_fidelity(frames, [frames[0]] * 5)  # the first frame right, then no motion at all
    assert frozen.frame_db[0] == math.inf and max(frozen.frame_db[1:]) < 25 and frozen.psnr_db < 25
    # Independent per-frame errors read alike in both terms, by the offset's construction.
    rng = np.random.default_rng(3)
    noisy = [Image.fromarray(np.clip(np.asarray(f) + rng.normal(0, 4, (32, 32, 3)), 0, 255).astype(np.uint8))
             for f in frames]  # fmt: skip
    independent = video_fidelity(frames, noisy)
    assert independent.temporal_db == pytest.approx(independent.frames_db, abs=0.5)


def test_videos_that_do_not_match_are_refused_and_scores_use_the_checkpoints_scale():
    frames = _frames(4)
    with pytest.raises(ValueError, match="frame count"):
        video_fidelity(frames, frames[:3])
    with pytest.raises(ValueError, match="an image and the other a video"):
        output_psnr(frames[0], frames)
    scale = FidelityScale.from_anchors(moderate_db=40.0, over_db=22.0)
    psnr_db, score = fidelity(frames, _shifted(frames, [6, -6, 6, -6]), scale)
    assert score == pytest.approx(scale.score(psnr_db)) and 0 < score < 1
    pair = pair_fidelity(frames, frames)
    assert math.isinf(pair.psnr_db) and pair.ssim == pytest.approx(1.0)


def test_a_videos_clip_score_is_the_mean_over_its_frames():
    scorer = ClipScorer.__new__(ClipScorer)  # no CLIP model: the per-frame cosine is stubbed
    frames = _frames(3)
    cosines = {id(f): c for f, c in zip(frames, [0.2, 0.3, 0.4], strict=True)}
    scorer.cosine = lambda image, text: cosines[id(image)]  # type: ignore[method-assign]
    assert scorer.score(frames, "a street") == pytest.approx(30.0)
    assert scorer.score(frames[0], "a street") == pytest.approx(20.0)


def test_the_worker_takes_images_or_frame_lists_and_names_what_it_got_otherwise():
    frames = _frames(2)
    worker._check_outputs([frames[0]])
    worker._check_outputs([frames])
    for bad, said in [
        ([np.zeros((2, 8, 8, 3))], "a list of ndarray (a video pipeline returns PIL frames with output_type='pil')"),
        (np.zeros((1, 2, 8, 8, 3)), "got ndarray"),
        ([[]], "a list of list"),
        ("an image", "got str"),
    ]:
        with pytest.raises(TypeError, match=re.escape(said)):
            worker._check_outputs(bad)


def test_a_video_module_is_composed_with_its_frames_and_returns_them():
    kb = load_knowledge()
    source = compose(kb, WAN, Conditioning.TEXT_TO_VIDEO, 480, 50, width=832, frames=5)
    assert "NUM_FRAMES = 5" in source and "num_frames=NUM_FRAMES" in source and 'output_type="pil"' in source
    assert "return result.frames" in source and "HEIGHT = 480\nWIDTH = 832" in source
    i2v = compose(kb, "Wan-AI/Wan2.2-I2V-A14B-Diffusers", Conditioning.IMAGE_TO_VIDEO, 480, 40, width=832, frames=5)
    assert 'image=request["image"].convert("RGB").resize((WIDTH, HEIGHT))' in i2v
    with pytest.raises(KnowledgeError, match="needs its frame count"):
        compose(kb, WAN, Conditioning.TEXT_TO_VIDEO, 480, 50, width=832)


@pytest.mark.slow
def test_a_wan_module_is_measured_frame_by_frame_against_its_baseline(profile, tmp_path):
    """The whole path at a small frame size: confined children run WanPipeline, return frame lists, the harness
    keeps them as filmstrips, and the measuring session scores them against the baseline's videos."""
    kb = load_knowledge()

    def module(steps: int) -> str:
        return compose(kb, WAN, Conditioning.TEXT_TO_VIDEO, 128, steps, width=256, frames=5)

    baseline = TaskBaseline(WAN, module(8), Conditioning.TEXT_TO_VIDEO)
    sizes = ProtocolSizes(samples=3, timing_inputs=1, repetitions=1, warmup_calls=1)
    with search_session(tmp_path / "search", profile, baseline, sizes, seed=3) as session:
        videos = [read_output(p) for p in session.record.images]
        assert all(isinstance(v, list) and len(v) == 5 and v[0].size == (256, 128) for v in videos)
        same = session.measure(module(8), "same")
        fewer = session.measure(module(2), "fewer")
    assert same.loss == 0 and same.mean_psnr_db is None  # identical videos: every PSNR infinite
    assert fewer.loss > 0.05 and fewer.mean_psnr_db is not None and fewer.speedup > 0


def test_an_output_of_the_wrong_kind_costs_the_candidate_not_the_run():
    """A video for an image task (or an image for a video one) is the candidate's failure, before anything scores
    it, so neither the judge nor a search compares an image with a video."""

    class Child:
        def __init__(self, frames):
            self.answer = {"images": ["x.png"], "frames": frames, "seconds": 0.1, "side_work": [], "observed": {}}

        def generate(self, inp, name):
            return self.answer, 0.1

    inp = EvalInput(seed=1, prompt="a lighthouse")
    for conditioning, frames, said in [
        (Conditioning.TEXT, [5], "generate() returned a video (5 frames); the task asks for images"),
        (Conditioning.TEXT_TO_VIDEO, [None], "generate() returned an image; the task asks for videos"),
    ]:
        baseline = TaskBaseline(WAN, "", conditioning)
        session = MeasuringSession(Path("unused"), get_profile("tiny-cpu"), baseline)
        with pytest.raises(SolutionError, match=re.escape(f"rule output-kind: {said}")):
            session.checked(Child(frames))(inp, "sample-0")  # type: ignore[arg-type]
    right = MeasuringSession(Path("unused"), get_profile("tiny-cpu"), TaskBaseline(WAN, "", Conditioning.TEXT_TO_VIDEO))
    assert right.checked(Child([5]))(inp, "sample-0")[0]["frames"] == [5]  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_cache_on_one_expert_of_wan_2_2_a14b_is_seen_missing_on_the_others_calls(profile, tmp_path):
    """Both experts' calls are traced, and a method's probe runs on the expert that was called: FirstBlockCache
    composed for A14B goes on both experts and takes effect; taken off the low-noise expert, the effect rule
    counts that expert's calls as undecided (what MagCache users hit on Wan 2.2's two transformers)."""
    from diffbench.evaluation.observers import Observers
    from diffbench.evaluation.trace import TRACER
    from diffbench.knowledge.compose import Applied
    from diffbench.solution_module import write_and_import

    a14b = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
    cache = [Applied("first_block_cache", {"threshold": 0.3})]
    both = compose(load_knowledge(), a14b, Conditioning.TEXT_TO_VIDEO, 128, 6, cache, width=256, frames=5)
    assert "apply_first_block_cache(pipe.transformer," in both and "apply_first_block_cache(pipe.transformer_2," in both
    one = "\n".join(line for line in both.splitlines() if "pipe.transformer_2," not in line)

    def report(source: str, name: str) -> dict:
        TRACER.install()
        module = write_and_import(source, tmp_path / f"{name}.py")
        pipe = module.load_pipeline("cpu")
        observers = Observers(pipe)
        observers.reset()
        module.generate(pipe, {"seed": 1, "prompt": "a red boat", "negative_prompt": ""})
        return observers.report()

    on_both, on_one = report(both, "both"), report(one, "one")
    calls = on_both["trace"]["calls_per_denoiser"]
    assert set(calls) == {"transformer", "transformer_2"} and sum(calls.values()) == 12  # 6 steps, with CFG
    assert on_both["effects"]["first_block_cache"]["took_effect"], on_both["effects"]
    effect = on_one["effects"]["first_block_cache"]
    assert not effect["took_effect"] and f"{calls['transformer_2']} of 12 denoiser calls" in effect["evidence"], effect


def _small_video_task(task_id: str = "V1-001"):
    """A video task of the suite at 256x128 (its frame count and everything else as stored), cheap to judge."""
    task = get_task(task_id)

    def small(code: str) -> str:
        return code.replace(f"HEIGHT = {task.resolution}\n", "HEIGHT = 128\n").replace(
            f"WIDTH = {task.width}\n", "WIDTH = 256\n"
        )

    return task.model_copy(
        update={
            "resolution": 128,
            "width": 256,
            "reference_code": small(task.reference_code),
            "baseline_code": small(task.baseline_code),
            "key_attributes": task.key_attributes.model_copy(update={"resolution": (128, 256)}),
            "baseline_attributes": task.baseline_attributes.model_copy(update={"resolution": (128, 256)}),
        }
    )


UPSCALED = "    return [[f.resize((WIDTH, HEIGHT)) for f in v] for v in result.frames]\n"
HALF_LATENTS = """    real_prepare = pipe.prepare_latents
    pipe.prepare_latents = lambda b, c, h, w, *a, **k: real_prepare(b, c, h // 2, w // 2, *a, **k)
    return pipe
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({}, None),
        ({"NUM_FRAMES = 5\n": "NUM_FRAMES = 9\n"}, "rule frame-count: the video has 9 frames, the task asks for 5"),
        (
            {
                "    return pipe\n": HALF_LATENTS,
                "    return result.frames\n": UPSCALED,
            },
            "rule resolution-at-run-time: the denoiser ran at 128x64, the task asks for 256x128",
        ),
        (
            {"    return result.frames\n": "    return [[f.resize((320, 128)) for f in v] for v in result.frames]\n"},
            "rule resolution: the output is 320x128, the task asks for 256x128",
        ),
    ],
    ids=["reference", "more frames", "half-size latents upscaled", "frames resized"],
)
def test_the_judge_passes_a_video_reference_and_names_what_breaks_a_videos_size(profile, tmp_path, change, rule):
    """A video task end to end through the judge (V1-001 at 256x128): its reference passes; a clip with another
    frame count, a denoiser run on smaller 5-D latents whose frames are upscaled, and another frame size fail by
    rule."""
    task = _small_video_task()
    source = task.reference_code
    for old, new in change.items():
        assert old in source
        source = source.replace(old, new)
    result = evaluate(task, source, profile, tmp_path, JudgeOptions(samples=3, repetitions=1, inputs_seed=5))
    if rule is None:
        assert result.passed, result.first_problem
    else:
        assert not result.passed and rule in (result.first_problem or ""), result.first_problem
