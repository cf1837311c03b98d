"""The planner over a language model: plans as JSON, read robustly and checked against the knowledge base.

A plan names a sampler with its steps and the methods to add, in order, with parameters. The reply may wrap
the JSON in a fence or in prose; a plan that names an unknown or unsupported method, or parameters out of range,
is dropped with the reason kept, and the planner asks again once when nothing usable came back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from diffagent.agent.plan import Candidate, Plan
from diffagent.agent.problem import Problem
from diffagent.llm.base import LLM, Message
from diffagent.prompt import render
from diffbench.calibration.space import OWN_SCHEDULER, SearchPoint
from diffbench.errors import DiffbenchError
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase, KnowledgeError
from diffbench.models.families import family_of


class PlanError(DiffbenchError):
    """The model's planner replies held no usable plan (this task fails; the endpoint itself works)."""


_JSON = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)


def json_values(reply: str) -> list[Any]:
    """Every JSON value in the reply: fenced blocks first, then the outermost [...] or {...}."""
    texts = _JSON.findall(reply)
    for opener, closer in (("[", "]"), ("{", "}")):
        start, end = reply.find(opener), reply.rfind(closer)
        if 0 <= start < end:
            texts.append(reply[start : end + 1])
    values = []
    for text in texts:
        try:
            values.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return values


@dataclass
class LLMPlanner:
    llm: LLM
    kb: KnowledgeBase
    problem: Problem
    use_knowledge: bool = True
    rejected: list[str] = field(default_factory=list)  # why plans were dropped, for the report

    @property
    def author(self) -> str:
        return self.llm.name

    def _ask(self, prompt: str) -> str:
        return self.llm.complete([Message("user", prompt)], temperature=0.7).text

    def _methods_context(self) -> list[dict[str, Any]]:
        if not self.use_knowledge:
            return []
        fam = family_of(self.problem.pipeline.model_id).key
        cond = str(self.problem.pipeline.conditioning)
        out = []
        for m in self.kb:
            if m.why_unsupported(fam, cond) is None:
                params = ", ".join(f"{p.name} ({p.type}, default {p.default})" for p in m.parameters)
                out.append({"key": m.key, "summary": m.summary, "parameters": params, "insights": list(m.insights)})
        return out

    def to_plan(self, data: Any) -> Plan | None:
        """A plan from one JSON object, or None (the reason goes to `rejected`)."""
        try:
            methods = tuple(Applied(str(m["key"]), dict(m.get("params") or {})) for m in data.get("methods") or [])
            config = SearchPoint(str(data["sampler"]), int(data["steps"]), methods)
            fam = family_of(self.problem.pipeline.model_id).key
            for applied in config.applied():
                method = self.kb.method(applied.key)
                if why := method.why_unsupported(fam, str(self.problem.pipeline.conditioning)):
                    raise KnowledgeError(f"{applied.key}: {why}")
                method.resolve(applied.params)
            if config.sampler != OWN_SCHEDULER and self.kb.method(config.sampler).category != "sampler":
                raise KnowledgeError(f"{config.sampler} is not a sampler")
        except (KeyError, TypeError, ValueError, AttributeError, KnowledgeError) as err:
            self.rejected.append(f"{json.dumps(data)[:200]}: {type(err).__name__}: {err}")
            return None
        return Plan(config, str(data.get("rationale", "")), author=self.author)

    def _plans(self, prompt: str, count: int) -> list[Plan]:
        for _ in range(2):
            values = json_values(self._ask(prompt))
            items: list[Any] = []
            for value in values:
                items.extend(value if isinstance(value, list) else [value])
            plans = [p for p in (self.to_plan(item) for item in items if isinstance(item, dict)) if p]
            unique = list({p.config.key(): p for p in plans}.values())
            if unique:
                return unique[:count]
        raise PlanError(f"{self.author}: two planner replies held no usable plan ({'; '.join(self.rejected[-2:])})")

    def fresh(self, count: int) -> list[Plan]:
        prompt = render(
            "planner_initial", task_prompt=self.problem.prompt, baseline_code=self.problem.baseline_code,
            methods=self._methods_context(), count=count,
        )  # fmt: skip
        return self._plans(prompt, count)

    def requested(self) -> Plan:
        """Levels 1-3: one plan for what the task asks."""
        return self.fresh(1)[0]

    def alternatives(self) -> list[Plan]:
        """A language model is asked again instead (the loop's replans)."""
        return []

    def refine(self, parent: Candidate) -> Plan:
        insights: list[str] = []
        if self.use_knowledge:
            for applied in parent.plan.config.applied():
                insights.extend(self.kb.method(applied.key).insights)
        prompt = render(
            "planner_refine", task_prompt=self.problem.prompt, parent_plan=parent.plan.config.describe(),
            feedback=parent.feedback, insights=insights,
        )  # fmt: skip
        return self._plans(prompt, 1)[0]
