"""The role prompts render from their templates, carry the contract, and refuse a missing value."""

from __future__ import annotations

import jinja2
import pytest

from diffagent.prompt import ROLES, render

VALUES = {
    "direct": {"task_prompt": "Make SD1.5 2x faster.", "baseline_code": "def load_pipeline(device): ..."},
    "planner_initial": {
        "task_prompt": "Make SD1.5 2x faster.", "baseline_code": "...", "count": 7,
        "methods": [{"key": "deepcache", "summary": "caches high-level features", "parameters": "cache_interval 2-10",
                     "insights": ["interval 3 is the usual start"]}],
    },
    "planner_refine": {"task_prompt": "t", "parent_plan": "ddim 30", "feedback": "L = 7%", "insights": ["back off"]},
    "coder": {"task_prompt": "t", "baseline_code": "x = 1", "plan": "ddim 30 + deepcache 3",
              "reference_code": "import torch"},
    "debugger": {"code": "x = (", "error": "SyntaxError", "reflections": ["an earlier fix"]},
    "reader": {"request": "Our Flux dev service is too slow, make it faster", "model_hint": None,
               "checkpoints": [{"id": "stabilityai/stable-diffusion-xl-base-1.0", "family": "SDXL",
                                "resolution": 1024, "conditionings": "text-to-image"}],
               "methods": [{"key": "deepcache", "name": "DeepCache"}], "problems": []},
}  # fmt: skip
READS_ONLY = {"reader"}  # reads the request; writes no code, so it is not shown the contract


@pytest.mark.parametrize("role", ROLES)
def test_every_role_renders_with_the_contract(role):
    text = render(role, **VALUES[role])
    contract = "def load_pipeline(device: str)" in text and "def generate(pipe, request: dict)" in text
    assert contract == (role not in READS_ONLY)
    for value in VALUES[role].values():
        if isinstance(value, str):
            assert value in text


@pytest.mark.parametrize("role", ROLES)
def test_a_missing_value_is_an_error_not_an_empty_prompt(role):
    values = dict(VALUES[role])
    values.pop(next(iter(values)))
    with pytest.raises(jinja2.UndefinedError):
        render(role, **values)


def test_unknown_role():
    with pytest.raises(ValueError, match="unknown prompt role"):
        render("critic")
