"""The coder over a language model: a plan and the knowledge base's reference code in, a solution module out."""

from __future__ import annotations

from dataclasses import dataclass

from diffagent.agent.extract import extract_module
from diffagent.agent.plan import Plan
from diffagent.agent.problem import Problem
from diffagent.llm.base import LLM, Message
from diffagent.prompt import render
from diffbench.knowledge.compose import compose
from diffbench.knowledge.loader import KnowledgeBase, KnowledgeError


@dataclass
class LLMCoder:
    llm: LLM
    kb: KnowledgeBase
    problem: Problem
    use_knowledge: bool = True

    def reference(self, plan: Plan) -> str:
        """The knowledge base's composition of the plan ('' without the knowledge base, or when it refuses)."""
        if not self.use_knowledge:
            return ""
        base = self.problem.pipeline
        try:
            return compose(
                self.kb,
                base.model_id,
                base.conditioning,
                base.resolution,
                plan.config.steps,
                plan.config.applied(),
                width=base.width,
                frames=base.frames,
            )
        except KnowledgeError:
            return ""

    def write(self, plan: Plan) -> str:
        """The module the model wrote for `plan`; its whole reply when no module can be found in it (the
        debugger's static check then says so)."""
        prompt = render(
            "coder", task_prompt=self.problem.prompt, baseline_code=self.problem.baseline_code,
            plan=f"{plan.config.describe()}\n{plan.rationale}".strip(), reference_code=self.reference(plan),
        )  # fmt: skip
        reply = self.llm.complete([Message("user", prompt)], temperature=0.2).text
        return extract_module(reply) or reply
