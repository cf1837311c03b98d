"""DiffAgent with the offline heuristic planner (no LLM) on stand-ins, its report, and `diffagent solve`'s errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from diffagent.agent import loop
from diffagent.agent.debugger import Development
from diffagent.agent.loop import CANDIDATES_LOG, AgentOptions
from diffagent.agent.plan import AUTHOR
from diffagent.agent.problem import from_task
from diffagent.cli import app
from diffagent.report import write_report
from diffagent.solve import LLMSettings, build_agent, run_agent
from diffbench.evaluation.measure import Measurement
from diffbench.knowledge.loader import load_knowledge
from diffbench.tasks.suite import get_task

KB = load_knowledge()
runner = CliRunner()


@pytest.mark.slow
def test_a_level_2_request_is_written_as_asked_and_runs(profile, tmp_path):
    task = get_task("L2-004")  # SD1.5 DDIM 50 + ToMe 0.5
    problem = from_task(task, profile.name, KB)
    outcome, usage = run_agent(problem, KB, profile, tmp_path, LLMSettings(), AgentOptions())
    assert outcome.met and outcome.author == AUTHOR and usage.calls == 0
    assert outcome.best.plan.config.methods[0].key == "tome" and outcome.best.plan.config.methods[0].params == {
        "ratio": 0.5
    }
    assert outcome.smoke_runs == 1 and "tomesd" in outcome.best.code


@pytest.mark.slow
def test_a_level_4_run_measures_candidates_and_reports_them(profile, tmp_path):
    # DiT-256 (the cheapest family to call), one generation of two, one timing round of one input: the live measuring
    # and the report on real pipelines (the generations' selection and the search inside are test_tuner's, on a
    # synthetic landscape; the demo runs the whole loop on SD1.5 at the judge's sizes)
    problem = from_task(get_task("L4-064"), profile.name, KB)
    options = AgentOptions(population=2, parents=1, generations=1, samples=2, timing_inputs=1, timing_rounds=1)
    outcome, usage = run_agent(problem, KB, profile, tmp_path / "run", LLMSettings(), options)
    measured = [c for c in outcome.history if c.speedup is not None]
    assert measured and all(c.loss is not None and c.latency_s is not None for c in measured)
    assert outcome.evaluations == len({c.code for c in measured})
    logged = (tmp_path / "run" / "work" / CANDIDATES_LOG).read_text().splitlines()
    assert len(logged) == len(outcome.history)
    paths = write_report(outcome, tmp_path / "out", usage, profile)
    report = paths["report"].read_text()
    assert AUTHOR in report and "## Every candidate" in report and paths["plot"].stat().st_size > 1000
    history = json.loads(paths["history"].read_text())
    assert len(history["candidates"]) == len(outcome.history) and history["llm"]["calls"] == 0
    if outcome.met:
        assert paths["solution"].read_text() == outcome.best.code
        assert 1 <= outcome.evaluations_to_success <= outcome.evaluations
        assert history["evaluations_to_success"] == outcome.evaluations_to_success


def test_solve_names_an_unknown_checkpoint_and_exits_2(tmp_path):
    result = runner.invoke(app, ["solve", "make my Midjourney clone 3x faster", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "names no checkpoint" in result.output


def test_no_knowledge_needs_a_language_model(profile, tmp_path):
    result = runner.invoke(app, ["solve", "SD1.5 2x faster", "--no-knowledge", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--no-knowledge needs --llm" in result.output


def test_an_unreachable_endpoint_is_one_line_and_exit_2(profile, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    args = ["solve", "SD1.5 2x faster", "--llm", "openai/m", "--llm-base-url", "http://127.0.0.1:9/v1",
            "--llm-retries", "0", "--llm-timeout", "2", "--out", str(tmp_path)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "cannot reach" in result.output and "Traceback" not in result.output


def test_dry_run_prints_what_was_understood_and_runs_nothing(tmp_path):
    request = "Our SDXL service uses EulerDiscreteScheduler with 40 steps at 1024 px; we need 2.5x."
    result = runner.invoke(app, ["solve", request, "--dry-run", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "baseline: stabilityai/stable-diffusion-xl-base-1.0 (text-to-image, 1024x1024), "
        "EulerDiscreteScheduler, 40 steps"
    )
    assert lines[1] == "goal: 2.50x speedup with quality loss <= 5%"
    assert "assumed: no quality bound stated: at most 5% quality loss" in lines
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written


def test_a_zero_quality_bound_is_lossless_moves_only_and_never_divides_by_zero():
    from diffagent.agent.heuristic import HeuristicPlanner
    from diffagent.agent.plan import Candidate, Goal
    from diffagent.agent.problem import from_prompt
    from diffagent.agent.selector import fitness, meets

    problem = from_prompt("SD1.5, DDIM 50 steps, 50x speedup with exactly 0% quality loss.", KB)
    assert problem.goal.delta == 0.0
    planner = HeuristicPlanner(KB, problem.pipeline, "tiny-cpu", delta=0.0)
    plans = planner.fresh(7)
    assert plans and all(KB.method(m.key).category == "kernel" for p in plans for m in p.config.methods)
    assert all(p.config.steps == 50 and p.config.sampler == "ddim" for p in plans)  # no step cut is lossless
    goal = Goal(delta=0.0, speedup=50.0)
    lossless = Candidate(plan=plans[0], generation=0, loss=0.0004, speedup=1.1)
    assert fitness(lossless, goal) == pytest.approx(1.1 - 0.4) and not meets(lossless, goal)
    refined = planner.adjust(plans[0], over_quality=False)
    assert refined.config.steps == 50


def test_offline_a_requested_plan_that_does_not_run_is_replaced_and_the_report_says_why(profile, tmp_path):
    """The offline planner's recovery, with a developer whose quick run fails whenever two methods are applied
    together (as DeepCache and T-GATE one after the other once did): the next plan, one method fewer, is used."""
    from diffagent.agent.debugger import Development
    from diffagent.agent.heuristic import HeuristicPlanner
    from diffagent.agent.loop import DiffAgent
    from diffagent.agent.problem import from_prompt

    problem = from_prompt("SD1.5 DDIM 50 steps: apply ToMe with ratio 0.5 and DeepCache", KB)
    assert [m.key for m in problem.request.methods] == ["tome", "deepcache"]
    planner = HeuristicPlanner(KB, problem.pipeline, profile.name, asked=problem.requested_config())

    class TwoMethodsBreak:
        smoke = None

        def develop(self, plan):
            code = planner.write(plan)
            if len(plan.config.methods) > 1:
                return Development(None, code, "RuntimeError: Sizes of tensors must match")
            return Development(code, code, None)

    outcome = DiffAgent(problem, planner, TwoMethodsBreak(), profile, tmp_path).solve()
    assert outcome.met and [m.key for m in outcome.best.plan.config.methods] == ["tome"]
    assert len(outcome.history) == 2 and "Sizes of tensors must match" in outcome.notes[0]
    assert "did not run" in outcome.notes[0] and "the module is the next plan that ran" in outcome.notes[0]


class FakeSession:
    """The search session, measuring nothing: every candidate runs at U = 1.1, within the bound (never the goal)."""

    def __init__(self, *args, **kwargs) -> None:
        self.record = type("Record", (), {"call_s": 1.0})()
        self.baseline_s = 1.0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def measure(self, source: str, name: str, asked=()) -> Measurement:
        return Measurement(loss=0.0, speedup=1.1, latency_s=0.9, baseline_s=1.0)


class WritesThePlan:
    smoke = None

    def develop(self, plan):
        code = f"# {plan.config.describe()}\n"
        return Development(code=code, last_code=code, error=None)


@pytest.mark.parametrize("best_of_n", [False, True])
def test_best_of_n_spends_the_same_budget_on_fresh_plans_only(best_of_n, profile, tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "search_session", FakeSession)
    problem = from_task(get_task("L4-001"), profile.name, KB)
    options = AgentOptions(population=3, parents=2, generations=3, best_of_n=best_of_n)
    agent = build_agent(problem, KB, profile, tmp_path, None, options)
    agent.developer = WritesThePlan()
    outcome = agent.solve()
    refined = [c for c in outcome.history if c.parent is not None]
    assert len(outcome.history) <= 9 and not outcome.met and outcome.evaluations_to_success is None
    assert (refined == []) is best_of_n
    if best_of_n:
        assert len({c.plan.config.key() for c in outcome.history}) == len(outcome.history)
