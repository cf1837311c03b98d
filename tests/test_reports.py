"""Both reports draw their speed-quality chart with one function (diffbench/report/plots.py), and the agent's
report.md is rendered from its template."""

from diffagent import report as agent_report
from diffagent.agent.loop import AgentOptions, Outcome
from diffagent.agent.plan import AUTHOR, Candidate, Plan, Usage
from diffagent.agent.problem import from_prompt
from diffbench.calibration.space import SearchPoint
from diffbench.knowledge.loader import load_knowledge
from diffbench.models.profiles import get_profile
from diffbench.report import html, plots
from diffbench.report.summary import TaskFigures

REQUEST = (
    "Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x speedup with at most 5% quality loss"
)


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = plots.speed_quality

    def counted(points, **kw):
        calls.append(len(points))
        return real(points, **kw)

    monkeypatch.setattr(agent_report, "speed_quality", counted)
    monkeypatch.setattr(html, "speed_quality", counted)
    return calls


def test_the_agent_report_comes_from_its_template_with_the_chart_of_the_shared_function(monkeypatch, tmp_path):
    calls = _counting(monkeypatch)
    problem = from_prompt(REQUEST, load_knowledge())
    history = [
        Candidate(Plan(SearchPoint("ddim", 30), "fewer steps"), 0, "code-a", 0.01, 1.6, 0.5, "ok", fitness=1.4),
        Candidate(Plan(SearchPoint("ddim", 20), "fewer"), 1, "code-b", 0.03, 2.6, 0.3, "meets", parent=0, fitness=2.0),
    ]
    outcome = Outcome(problem, AUTHOR, AgentOptions(), history[1], history, met=True)
    paths = agent_report.write_report(outcome, tmp_path, Usage(llm="none"), get_profile("tiny-cpu"))
    text = paths["report"].read_text()
    assert text.startswith("# DiffAgent report\n\n> " + REQUEST)
    assert "ddim 20 steps **(winner)**" in text and "| 1 | 1 | #0 |" in text
    assert "![speed-quality front](front.png)" in text and paths["plot"].stat().st_size > 1000
    assert "{{" not in text and "{%" not in text
    assert calls == [2]


def test_the_html_report_scatter_is_the_same_function(monkeypatch):
    calls = _counting(monkeypatch)
    figures = TaskFigures.model_construct(
        candidates=[{"speedup": 2.0, "loss": 0.01}, {"speedup": 3.0, "loss": 0.07}], speedup=2.0,
        quality_loss=0.01, target_speedup=2.5, delta=0.05,
    )  # fmt: skip
    svg = html.scatter(figures)
    assert svg is not None and svg.startswith("<svg") and calls == [2]
