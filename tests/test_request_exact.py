"""The exact route (`diffagent solve --model --scheduler --steps --size --strength --guidance --goal --bound`,
`--request FILE.toml`): each field over the words, each override said; what does not check is one line. The
language-model route's accounting: a number its reading holds nowhere is listed. No model is loaded."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from diffagent.agent.llm_reader import Reading, to_request
from diffagent.agent.problem import from_prompt
from diffagent.agent.request import RequestError
from diffagent.agent.request_exact import ExactRequest, exact_request
from diffagent.cli import app
from diffbench.calibration.space import OWN_SCHEDULER
from diffbench.knowledge.loader import load_knowledge

KB = load_knowledge()
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
runner = CliRunner()


def test_every_field_is_read_exactly_and_stands_over_the_words():
    exact = ExactRequest(model="sdxl", scheduler="Euler a", steps=30, size="1216x832", strength=0.4, guidance=5,
                         goal="60%", bound="2%")  # fmt: skip
    problem = from_prompt("SD1.5 img2img, DDIM 50 steps at 512, 3x, 5% quality", KB, exact=exact)
    base, goal = problem.pipeline, problem.goal
    assert (base.model_id, base.describe_size(), base.steps, base.strength, base.guidance_scale) == (
        SDXL, "1216x832", 30, 0.4, 5.0,
    )  # fmt: skip
    assert base.scheduler.class_name == "EulerAncestralDiscreteScheduler"
    assert goal.speedup == pytest.approx(100 / 60, rel=1e-3) and goal.delta == 0.02
    reads = [line for line in problem.understanding() if line.startswith("read: --")]
    assert "read: --steps 30 (the exact route); the words said 50" in reads
    assert "read: --goal 60% (the exact route); the words said 3x" in reads
    assert len(reads) == 8
    assert "HEIGHT = 832\nWIDTH = 1216" in problem.baseline_code and "strength=0.4" in problem.baseline_code


def test_flags_alone_need_no_words_and_a_latency_goal_reads_in_seconds():
    problem = from_prompt("", KB, exact=ExactRequest(model="FLUX.1-dev", steps=28, goal="800ms"))
    assert problem.pipeline.model_id == "black-forest-labs/FLUX.1-dev" and problem.pipeline.steps == 28
    assert problem.goal.latency_s == pytest.approx(0.8) and problem.goal.speedup is None
    assert problem.pipeline.sampler == OWN_SCHEDULER and problem.pipeline.scheduler.class_name is None  # its own
    own = "assumed: no scheduler named: the checkpoint's own FlowMatchEulerDiscreteScheduler"
    assert own in problem.understanding()


def test_a_request_file_gives_the_same_fields_and_flags_stand_over_it(tmp_path):
    path = tmp_path / "request.toml"
    path.write_text('request = "SDXL, Euler 40 steps"\nsteps = 30\ngoal = "2x"\nbound = 0.03\n', encoding="utf-8")
    exact = exact_request({"steps": 20, "goal": None}, path)
    problem = from_prompt(exact.request, KB, exact=exact)
    assert problem.pipeline.steps == 20 and problem.goal.speedup == 2.0 and problem.goal.delta == 0.03


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"goal": "fast"}, "--goal 'fast'"),
        ({"goal": "120%"}, "under 100%"),
        ({"bound": "5"}, "--bound '5'"),
        ({"size": "1000x700"}, "not a multiple of 64"),
        ({"size": "big"}, "write WxH"),
        ({"strength": 0.5}, "--strength applies to image-to-image"),
        ({"scheduler": "warp drive"}, "--scheduler 'warp drive'"),
        ({"model": "Midjourney"}, "names no checkpoint"),
    ],
)
def test_a_field_that_does_not_check_is_one_line_naming_it(fields, says):
    with pytest.raises(RequestError, match=says) as err:
        from_prompt("SDXL, Euler 30 steps", KB, exact=ExactRequest(**fields))
    assert "\n" not in str(err.value)


def test_a_class_conditional_model_takes_no_size():
    with pytest.raises(RequestError, match="--size does not apply"):
        from_prompt("DiT 256, DDIM 50 steps, 2x", KB, exact=ExactRequest(size="512"))


def test_a_request_file_with_an_unknown_field_or_bad_toml_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "sdxl"\nspeed = "2x"\n', encoding="utf-8")
    with pytest.raises(RequestError, match="speed: Extra inputs"):
        exact_request({}, bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("model = \n", encoding="utf-8")
    with pytest.raises(RequestError, match="cannot read the request file"):
        exact_request({}, broken)


def test_the_command_takes_the_flags_and_says_each_override(tmp_path):
    args = ["solve", "SDXL Euler 40 steps, 2x", "--steps", "30", "--size", "1216x832", "--bound", "3%", "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"baseline: {SDXL} (text-to-image, 1216x832), EulerDiscreteScheduler, 30 steps"
    assert lines[1] == "goal: 2.00x speedup with quality loss <= 3%"
    assert "read: --steps 30 (the exact route); the words said 40" in lines
    bad = runner.invoke(app, ["solve", "SDXL", "--goal", "soon", "--dry-run"])
    assert bad.exit_code != 0 and "--goal 'soon'" in bad.output and "Traceback" not in bad.output


def test_the_command_lists_what_it_did_not_understand_before_anything_runs():
    result = runner.invoke(app, ["solve", "SDXL Euler 30 steps, 2x, batch size 4, seed 42", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == "not understood: 4, 42"


def test_a_language_model_reading_lists_the_numbers_it_holds_nowhere():
    reading = Reading(model_id=SDXL, scheduler="Euler", steps=30, speedup=2.0)
    request = to_request(reading, KB, "SDXL Euler 30 steps, 2x, batch size 4, 3% quality")
    assert request.not_understood == ["4", "3%"]
    reading = Reading(model_id=SDXL, scheduler="Euler", steps=30, speedup=2.0, quality_loss=0.03)
    assert to_request(reading, KB, "SDXL Euler 30 steps, 2x, 3% quality").not_understood == []
