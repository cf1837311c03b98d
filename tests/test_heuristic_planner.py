"""The offline planner: plans from the knowledge base that compose, pass a level-4 task's key attributes, say
who made them, and move in the direction the feedback asks."""

from __future__ import annotations

import pytest

from diffagent.agent.heuristic import HeuristicPlanner
from diffagent.agent.plan import AUTHOR, Pipeline
from diffbench.evaluation.static import analyze
from diffbench.knowledge import load_knowledge
from diffbench.tasks.attributes import mismatches
from diffbench.tasks.suite import suite


def level4(family: str):
    return next(t for t in suite() if t.level == 4 and t.family == family)


def planner_for(task) -> HeuristicPlanner:
    pipe = Pipeline(task.model_id, task.conditioning, task.resolution, task.baseline_sampler, task.baseline_steps)
    return HeuristicPlanner(load_knowledge(), pipe)


@pytest.mark.parametrize("family", ["sd15", "sdxl", "dit", "pixart-sigma"])
def test_fresh_plans_are_distinct_accelerated_and_signed(family):
    task = level4(family)
    planner = planner_for(task)
    plans = planner.fresh(7)
    assert len(plans) >= 3 and len({p.config.key() for p in plans}) == len(plans)
    assert all(p.author == AUTHOR for p in plans)
    for plan in plans:
        code = planner.write(plan)
        assert AUTHOR in code
        result = analyze(code)
        assert result.compile_error is None
        assert mismatches(task.key_attributes, result.attributes, task.baseline_attributes) == [], plan.describe()
    assert not {p.config.key() for p in planner.fresh(7)} & {p.config.key() for p in plans}  # never twice


def test_refinement_follows_the_feedback():
    planner = planner_for(level4("sd15"))
    cached = next(p for p in planner.fresh(7) if p.config.methods and p.config.methods[0].key == "deepcache")
    push = planner.adjust(cached, over_quality=False)
    back = planner.adjust(cached, over_quality=True)
    interval = cached.config.methods[0].params["cache_interval"]
    assert push.config.steps < cached.config.steps or push.config.methods[0].params["cache_interval"] > interval
    assert back.config.steps >= cached.config.steps
    assert back.config.methods[0].params["cache_interval"] <= interval
    assert "push on" in push.rationale and "back off" in back.rationale
