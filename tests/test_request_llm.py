"""With `--llm`, the language model reads the request (llm_reader.py), checked against the registry and the
knowledge base, over the real SDK client and the fake server; the rules stay the offline reader."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from diffagent.agent.llm_reader import Reading, read_with_llm, to_request
from diffagent.agent.problem import from_prompt
from diffagent.cli import app
from diffagent.llm.registry import get_llm
from diffbench.errors import DiffbenchError
from diffbench.knowledge import load_knowledge
from fake_llm_server import FakeLLMServer

runner = CliRunner()
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _reader(server: FakeLLMServer):
    llm = get_llm("openai/fake-model", base_url=server.url + "/v1", retries=0, timeout_s=5.0)
    kb = load_knowledge()
    return lambda words, model_id: read_with_llm(words, llm, kb, model_id)


def test_make_it_faster_reaches_the_model_and_gets_the_default_target_as_an_assumption():
    reading = {"model_id": SDXL, "scheduler": "Euler", "steps": 40, "faster": True}
    with FakeLLMServer([("reply", f"Reading it:\n```json\n{json.dumps(reading)}\n```")]) as server:
        problem = from_prompt("Our SDXL service with Euler at 40 steps is too slow, make it faster", load_knowledge(),
                              read=_reader(server))  # fmt: skip
        sent = server.requests[0]["messages"][-1]["content"]
    assert "make it faster" in sent and SDXL in sent and "deepcache" in sent  # the words, registry, methods
    assert problem.pipeline.model_id == SDXL and problem.pipeline.steps == 40
    assert problem.pipeline.scheduler is not None and problem.pipeline.scheduler.class_name == "EulerDiscreteScheduler"
    assert problem.goal is not None and problem.goal.speedup == 2.0 and problem.goal.delta == 0.05
    assert any("only 'faster'" in a for a in problem.assumptions)
    assert any("no quality bound stated" in a for a in problem.assumptions)


def test_a_reading_that_does_not_check_is_sent_back_once_with_the_reasons():
    wrong = {"model_id": "black-forest-labs/FLUX.9", "speedup": 2}
    right = {"model_id": SDXL, "scheduler": "DPM++ 2M Karras", "steps": 30, "speedup": 2.5, "quality_loss": 0.02,
             "methods": ["deepcache"]}  # fmt: skip
    with FakeLLMServer([("reply", json.dumps(wrong)), ("reply", json.dumps(right))]) as server:
        problem = from_prompt("the SDXL one, 2.5x, 2% loss at most, with DeepCache", load_knowledge(),
                              read=_reader(server))  # fmt: skip
        second = server.requests[1]["messages"][-1]["content"]
    assert "did not check" in second and "FLUX.9" in second
    assert problem.goal is not None and problem.goal.speedup == 2.5 and problem.goal.delta == 0.02
    assert [m.key for m in problem.request.methods] == ["deepcache"] and problem.level == 4
    spec = problem.pipeline.scheduler
    assert spec is not None and spec.class_name == "DPMSolverMultistepScheduler" and problem.pipeline.steps == 30


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        ({"model_id": SDXL, "methods": ["warp_drive"]}, "warp_drive"),
        ({"model_id": SDXL, "conditioning": "class-to-image"}, "class-to-image"),
        ({"model_id": SDXL, "scheduler": "Quantum sampler", "steps": 20}, "Quantum sampler"),
        ({"model_id": SDXL, "quality_loss": 5}, "quality_loss"),
        ({"model_id": "facebook/DiT-XL-2-256", "methods": ["tome"]}, "tome"),
    ],
)
def test_every_field_is_checked(reading, words):
    with pytest.raises(ValueError, match=words):
        to_request(Reading.model_validate(reading), load_knowledge(), "text")


def test_two_readings_that_do_not_check_are_one_line_and_exit_2(tmp_path):
    with FakeLLMServer([("reply", "I think it is Flux."), ("reply", json.dumps({"model_id": "flux"}))]) as server:
        args = ["solve", "make it faster", "--llm", "openai/fake-model", "--llm-base-url", server.url + "/v1",
                "--llm-retries", "0", "--dry-run", "--out", str(tmp_path)]  # fmt: skip
        result = runner.invoke(app, args)
    assert result.exit_code == 2 and "neither reading checked" in result.output and "'flux'" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(DiffbenchError, match="names no model"):
        to_request(Reading(question="which model do you run?"), load_knowledge(), "make it faster")


def test_the_cli_dry_run_shows_what_the_model_read(tmp_path):
    reading = {"model_id": SDXL, "scheduler": "Euler a", "steps": 25, "latency_s": 1.5}
    with FakeLLMServer([("reply", json.dumps(reading))]) as server:
        words = "our sdxl endpoint (euler ancestral, 25 its) must answer in 1.5 s"
        args = ["solve", words, "--llm", "openai/fake-model", "--llm-base-url", server.url + "/v1", "--dry-run",
                "--out", str(tmp_path)]  # fmt: skip
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "request read by openai/fake-model" in result.output
    assert "EulerAncestralDiscreteScheduler" in result.output and "25 steps" in result.output
    assert "latency <= 1.500 s" in result.output
    assert (tmp_path / "llm.jsonl").is_file()  # the exchange is recorded like every other


def test_a_step_cut_keeps_the_baseline_at_its_own_steps():
    sd15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    reading = Reading(model_id=sd15, steps=50, switch_steps=20, quality_loss=0.05, measure=True)
    request = to_request(reading, load_knowledge(), "SD1.5, cut its 50 steps to 20 and tell me how much faster")
    assert request.baseline_sampler is not None and request.baseline_sampler.steps == 50
    assert request.asked_sampler is not None and request.asked_sampler.steps == 20 and request.asked_sampler.switch
    reading = Reading(model_id=sd15, scheduler="DDIM", steps=50, switch_to="UniPC", switch_steps=15, speedup=2)
    request = to_request(reading, load_knowledge(), "SD1.5 DDIM 50, switch to UniPC 15, 2x")
    assert (request.baseline_sampler.key, request.asked_sampler.key) == ("ddim", "unipc")
