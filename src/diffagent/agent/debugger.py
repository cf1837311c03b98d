"""The debugger: a quick run of each module in the sandbox, and Reflexion-style repair of what fails.

`SmokeTest` checks a module without trusting it: it must compile, define the contract, keep the baseline's
checkpoint and resolution, and then, in a confined child, load and answer one request with one image of the
right size. `Developer` is the paper's inner loop: the coder writes the plan; on a failure the debugger reflects
on the error and rewrites, up to T_debug times; then the coder starts again from the same plan, up to T_code
times; then the plan goes back to the planner as a failure.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from diffagent.agent.extract import extract_module
from diffagent.agent.plan import Plan
from diffagent.agent.problem import Problem
from diffagent.llm.base import LLM, Message
from diffagent.prompt import render
from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import draw_inputs
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.measure import SMOKE_SEED
from diffbench.evaluation.static import analyze
from diffbench.knowledge.loader import KnowledgeError
from diffbench.models.profiles import Profile
from diffbench.runner.agent_settings import DEFAULT_CODE_RESTARTS, DEFAULT_DEBUG_ROUNDS


class Coder(Protocol):
    def write(self, plan: Plan) -> str: ...


@dataclass
class SmokeTest:
    problem: Problem
    profile: Profile
    folder: Path
    timeout_s: float = 300.0
    runs: int = 0

    def static_error(self, code: str) -> str | None:
        found = analyze(code)
        if found.compile_error:
            return found.compile_error
        attrs = found.attributes
        base = self.problem.pipeline
        if attrs is None:
            return "the module does not define load_pipeline(device) and generate(pipe, request)"
        if attrs.model_id not in (None, base.model_id):
            return f"the module loads {attrs.model_id}; the task's checkpoint is {base.model_id}"
        if attrs.resolution and attrs.resolution != base.size:
            height, width = attrs.resolution
            return f"the module renders {width}x{height}; the task's size is {base.describe_size()}"
        if base.frames is not None and found.frames not in (None, base.frames):
            return f"the module makes {found.frames} frames per video; the task asks for {base.frames}"
        return None

    def __call__(self, code: str) -> str | None:
        """None when the module passed; otherwise what went wrong, with the child's traceback when it raised."""
        if error := self.static_error(code):
            return error
        self.runs += 1
        work = self.folder / f"smoke-{self.runs}"
        inp = draw_inputs(self.problem.pipeline.conditioning, 3, SMOKE_SEED)[0]
        try:
            limits = TimeLimits.flat(call_s=self.timeout_s)
            with SolutionChild(work, self.profile, time_limits=limits) as child:
                child.load(code)
                answer, _ = child.generate(inp, "smoke")
        except SolutionError as err:
            # Paths of this run's folder vary between runs; without them a replayed run sends the same prompts.
            return f"{err}\n{err.traceback or ''}".strip().replace(str(work.resolve()), ".").replace(str(work), ".")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        height, width = self.problem.pipeline.size
        if len(answer["images"]) != 1:
            return f"generate() returned {len(answer['images'])} images for one request; return a list of one"
        if answer["sizes"][0] != [width, height]:
            got_w, got_h = answer["sizes"][0]
            return f"generate() returned a {got_w}x{got_h} image; the task's size is {width}x{height}"
        frames = answer.get("frames", [None])[0]
        if frames != self.problem.pipeline.frames:
            what = "an image" if frames is None else f"a video of {frames} frames"
            want = "an image" if self.problem.pipeline.frames is None else f"{self.problem.pipeline.frames} frames"
            return f"generate() returned {what}; the task asks for {want}"
        return None


@dataclass
class Debugger:
    llm: LLM

    def repair(self, code: str, error: str, reflections: list[str]) -> tuple[str, str]:
        """(the rewritten module, the reflection that came with it)."""
        prompt = render("debugger", code=code, error=error[-3000:], reflections=reflections)
        reply = self.llm.complete([Message("user", prompt)], temperature=0.2).text
        module = extract_module(reply)
        reflection = (reply.split("```", 1)[0].strip() or "(no reflection)")[:600]
        return (module or reply), reflection


@dataclass
class Attempt:
    restart: int
    round: int
    error: str | None
    reflection: str = ""


@dataclass
class Development:
    code: str | None  # the module that passed the smoke test; None when every attempt failed
    last_code: str
    error: str | None
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Developer:
    coder: Coder
    smoke: SmokeTest | None  # None: no quick run (the measurement that follows is the test)
    debugger: Debugger | None = None  # None: no repair (the --no-debugger ablation, or the offline coder)
    code_restarts: int = DEFAULT_CODE_RESTARTS
    debug_rounds: int = DEFAULT_DEBUG_ROUNDS

    def develop(self, plan: Plan) -> Development:
        attempts: list[Attempt] = []
        code, error = "", None
        restarts = self.code_restarts if self.debugger else 1
        for restart in range(restarts):
            try:
                code = self.coder.write(plan)
            except KnowledgeError as err:  # the offline coder refuses a plan the knowledge base cannot compose
                error = f"cannot compose the plan: {err}"
                attempts.append(Attempt(restart, 0, error))
                break
            reflections: list[str] = []
            for round_ in range(self.debug_rounds + 1):
                error = self.smoke(code) if self.smoke else None
                attempts.append(Attempt(restart, round_, error, reflections[-1] if reflections else ""))
                if error is None:
                    return Development(code, code, None, attempts)
                if self.debugger is None or round_ == self.debug_rounds:
                    break
                code, reflection = self.debugger.repair(code, error, reflections)
                reflections.append(reflection)
        return Development(None, code, error, attempts)
