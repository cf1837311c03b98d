"""The request corpus (tests/fixtures/requests/corpus.txt): requests in the styles engineers write them (terse,
chatty, non-native, with units, with typos, in other languages), each with the reading it must get. Every number
and model-like name of each request is read or listed as not understood; the listing must be exactly the one
the corpus states (empty unless stated), so a silent drop fails as surely as a misreading. No model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from diffagent.agent.problem import from_prompt
from diffagent.agent.request import RequestError
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.knowledge.loader import load_knowledge

KB = load_knowledge()
CORPUS = Path(__file__).parent / "fixtures" / "requests" / "corpus.txt"
MODELS = {
    "sd15": "stable-diffusion-v1-5/stable-diffusion-v1-5", "sd21": "stabilityai/stable-diffusion-2-1",
    "sd21b": "stabilityai/stable-diffusion-2-1-base", "sdxl": "stabilityai/stable-diffusion-xl-base-1.0",
    "pa512": "PixArt-alpha/PixArt-XL-2-512x512", "pa1024": "PixArt-alpha/PixArt-XL-2-1024-MS",
    "ps1024": "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS", "dit256": "facebook/DiT-XL-2-256",
    "dit512": "facebook/DiT-XL-2-512", "flux-dev": "black-forest-labs/FLUX.1-dev",
    "flux-schnell": "black-forest-labs/FLUX.1-schnell", "sd35l": "stabilityai/stable-diffusion-3.5-large",
    "sd35m": "stabilityai/stable-diffusion-3.5-medium", "qwen": "Qwen/Qwen-Image",
    "wan13": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "wan14": "Wan-AI/Wan2.1-T2V-14B-Diffusers",
    "ti2v": "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "a14b": "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
    "i2v": "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
}  # fmt: skip
KINDS = {"t2i": "text-to-image", "i2i": "image-to-image", "canny": "controlnet-canny", "class": "class-to-image",
         "t2v": "text-to-video", "i2v": "image-to-video"}  # fmt: skip


def _corpus() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, fields = line.partition(" || ")
        want = dict(field.strip().split("=", 1) for field in fields.split(";") if field.strip())
        cases.append((text.replace("\\n", "\n"), want))
    return cases


CASES = _corpus()


def _number(value: str) -> float:
    return float(value.rstrip("x%s"))


@pytest.mark.parametrize(("text", "want"), CASES, ids=[f"c{i:03d}" for i in range(len(CASES))])
def test_each_request_gets_its_reading_and_lists_exactly_what_it_did_not_read(text, want):
    if "refused" in want:
        with pytest.raises(RequestError, match=want["refused"]) as err:
            from_prompt(text, KB)
        assert "\n" not in str(err.value)
        return
    problem = from_prompt(text, KB)
    request, base = problem.request, problem.pipeline
    assert base.model_id == MODELS[want["model"]]
    assert str(base.conditioning) == KINDS[want.get("kind", "t2i")]
    if "base" in want:
        sampler, steps = want["base"].split("/")
        assert base.steps == int(steps)
        if sampler == "own":
            assert (base.sampler, base.scheduler) in ((OWN_SCHEDULER, None), (OWN_SCHEDULER, base.scheduler))
            assert base.scheduler is None or base.scheduler.class_name is None
        elif sampler[0].isupper():
            assert base.sampler == OWN_SCHEDULER and base.scheduler and base.scheduler.class_name == sampler
        else:
            assert base.sampler == sampler
    if "size" in want:
        assert base.describe_size() == want["size"]
    if "frames" in want:
        assert base.frames == int(want["frames"])
    for name, got in (("strength", base.strength), ("guidance", base.guidance_scale)):
        if name in want:
            assert got == float(want[name])
    goal = problem.goal
    if want.get("goal", "none") == "none":
        assert goal is None
    else:
        assert goal is not None
        if want["goal"].endswith("x"):
            assert goal.speedup == pytest.approx(_number(want["goal"]), rel=1e-3) and goal.latency_s is None
        else:
            assert goal.latency_s == pytest.approx(_number(want["goal"])) and goal.speedup is None
        assert goal.delta == pytest.approx(_number(want.get("bound", "5%")) / 100)
    assert request.target_assumed is (want.get("assumed") == "yes")
    if "measure" in want:
        assert request.measure is (want["measure"] == "yes")
    if "methods" in want:
        assert [a.key for a in request.methods] == want["methods"].split(",")
    if "asked" in want:
        config = problem.requested_config()
        assert f"{config.sampler}/{config.steps}" == want["asked"]
    if "corrected" in want:
        assert tuple(want["corrected"].split(">")) in [tuple(c) for c in _corrections(request)]
    if "lang" in want:
        assert any(f"reads as {want['lang']}" in note for note in request.reading_notes)
    unread = [w.strip() for w in want["unread"].split("|")] if "unread" in want else []
    assert request.not_understood == unread
    lines = problem.understanding()
    assert any(line == "not understood: " + ", ".join(unread) for line in lines) is bool(unread)


def _corrections(request) -> list[list[str]]:
    out = []
    for note in request.reading_notes:
        if note.startswith("read '"):
            parts = note.split("'")
            out.append([parts[1], parts[3]])
    return out


def test_the_corpus_holds_at_least_150_requests_in_every_style():
    assert len(CASES) >= 150
    assert sum("lang" in want for _, want in CASES) >= 8
    assert sum("corrected" in want for _, want in CASES) >= 8
    assert sum("unread" in want for _, want in CASES) >= 10
    assert sum("refused" in want for _, want in CASES) >= 8


@pytest.mark.parametrize("suite_name", ["paper", "extended"])
def test_the_suite_prompts_are_read_with_nothing_left_over_but_the_machine_they_describe(suite_name):
    from diffagent.agent.problem import from_task
    from diffagent.agent.request_accounting import DEVICE_NOTE
    from diffbench.tasks.suite import load_suite, suite_dir

    left = {}
    for task in load_suite(suite_dir(suite_name)):
        unread = [w for w in from_task(task, "tiny-cpu", KB).request.not_understood if not w.endswith(DEVICE_NOTE)]
        if unread:
            left[task.id] = unread
    assert not left, list(left.items())[:5]
