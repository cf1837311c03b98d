"""`diffagent solve --llm openai/...` over the real SDK client and a scripted fake server: the debugger repairs a
syntax error and a wrong attribute, the repaired module passes the judge, and `--llm replay/llm.jsonl` replays the
recorded exchanges offline to the same result."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from diffagent.cli import app
from diffagent.solve import EXCHANGES_FILE
from diffagent.solvers import solve_direct
from diffbench.models.profiles import tiny_cpu
from diffbench.tasks.suite import get_task
from fake_llm_server import FakeLLMServer

runner = CliRunner()
TASK = "L1-001"  # SD1.5 text-to-image, DDIM 30 steps, 512 px


def fenced(code: str) -> str:
    return f"Here is the module.\n\n```python\n{code}```\n"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.mark.slow
def test_the_debugger_repairs_two_faults_and_the_replay_reproduces_the_run(profile, tmp_path):
    task = get_task(TASK)
    good = task.reference_code
    syntax_error = good.replace(
        "def generate(pipe, request: dict) -> list:", "def generate(pipe, request: dict) -> list", 1
    )
    wrong_attribute = good.replace("    return pipe\n", "    pipe.unet.enable_turbo_mode()\n    return pipe\n", 1)
    assert syntax_error != good and wrong_attribute != good
    plan = {"sampler": "ddim", "steps": 30, "methods": [], "rationale": "what the task asks"}
    reading = {"model_id": task.model_id, "scheduler": "DDIM", "steps": 30, "resolution": 512}
    script = [
        ("reply", json.dumps(reading)),  # the model reads the request
        ("reply", f"```json\n{json.dumps([plan])}\n```"),  # planner
        ("reply", fenced(syntax_error)),  # coder
        ("reply", "The colon after the signature is missing.\n" + fenced(wrong_attribute)),  # debugger, round 1
        ("reply", "UNet2DConditionModel has no enable_turbo_mode; drop it.\n" + fenced(good)),  # debugger, round 2
    ]
    first = tmp_path / "first"
    with FakeLLMServer(script) as server:
        args = ["solve", task.prompt, "--llm", "openai/fake-model", "--llm-base-url", server.url + "/v1",
                "--llm-retries", "0", "--out", str(first)]  # fmt: skip
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    history = json.loads((first / "history.json").read_text())
    best = history["candidates"][history["best"]]
    attempts = best["attempts"]
    assert [a["error"] is None for a in attempts] == [False, False, True]
    assert "SyntaxError" in attempts[0]["error"]
    assert "enable_turbo_mode" in attempts[1]["error"] and "AttributeError" in attempts[1]["error"]
    assert attempts[2]["reflection"].startswith("UNet2DConditionModel has no enable_turbo_mode")
    assert history["llm"]["calls"] == 5 and history["llm"]["tokens_in"] > 0 and history["llm"]["tokens_out"] > 0
    solution = (first / "solution.py").read_text()
    assert solution.strip() == good.strip()  # L1-001's reference, which the judge passes (test_judge)

    recording = first / EXCHANGES_FILE
    assert len(recording.read_text().splitlines()) == 5
    replay = tmp_path / "replay"
    result = runner.invoke(app, ["solve", task.prompt, "--llm", f"replay/{recording}", "--out", str(replay)])
    assert result.exit_code == 0, result.output
    assert (replay / "solution.py").read_text() == solution
    replayed = json.loads((replay / "history.json").read_text())
    assert [a["error"] for a in replayed["candidates"][replayed["best"]]["attempts"]] == [a["error"] for a in attempts]
    assert replayed["llm"]["calls"] == 5


def test_the_direct_solver_is_one_call_with_the_task_and_its_baseline(tmp_path):
    task = get_task("L4-002")
    with FakeLLMServer([("reply", fenced(task.reference_code))]) as server:
        seen = []
        solution = solve_direct(task, tiny_cpu(), tmp_path, llm="openai/fake-model", llm_base_url=server.url + "/v1",
                                on_exchange=seen.append)  # fmt: skip
        sent = server.requests[0]["messages"][-1]["content"]
    assert solution.code.strip() == task.reference_code.strip()
    assert solution.usage["calls"] == 1 and (tmp_path / EXCHANGES_FILE).is_file()
    assert len(seen) == 1 and seen[0]["reply"].startswith("Here is the module")
    assert task.prompt_for("tiny-cpu") in sent and task.baseline_code.strip() in sent
    assert "def load_pipeline(device: str)" in sent  # the contract travels with every prompt
