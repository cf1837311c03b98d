"""The offline planner and coder: the knowledge base's insights and templates in place of a language model.

It is the offline default of `diffagent`, not a fake LLM: every plan it makes is signed AUTHOR, and everything
that reports a plan says so. Its moves, in the order the knowledge base ranks them for the pipeline (measured
speedup on the profile where the knowledge base has one, published speedup otherwise):
- each applicable method at its default parameters, on the baseline's sampler and steps;
- the baseline's sampler at 60% of its steps, alone and with the best caching method;
- DPM-Solver++ at 20 steps.
Refinement reads the parent's feedback: over the quality bound, back off (more steps, a shorter cache interval,
drop the last method); within it but too slow, push on (fewer steps, a longer cache interval, add the next
compatible method).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from diffagent.agent.plan import AUTHOR, LOSSLESS, Candidate, Pipeline, Plan
from diffbench.calibration.machine_misses import HALF_PRECISION_METHODS
from diffbench.calibration.space import OWN_SCHEDULER, SearchPoint
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.device import fast_half_precision_methods
from diffbench.models.families import checkpoint, family_of

LEFT_OUT = {"torch_compile": "compiles for minutes on a CPU"}
# bf16 and fp16 are left out where the device has no fast half-precision kernels, by calibration's rule (a CPU
# without avx512_bf16/amx_bf16/avx512_fp16: bf16 ran SD1.5 img2img at 0.08x there, 284 s for one candidate).
MIN_STEPS = 8


@dataclass
class HeuristicPlanner:
    kb: KnowledgeBase
    pipeline: Pipeline
    profile: str = "tiny-cpu"
    delta: float = 0.05  # the quality bound refinement steers by
    asked: SearchPoint | None = None  # levels 1-3: what the request's words ask for (agent.request reads them)
    author: str = AUTHOR
    proposed: set[str] = field(default_factory=set)  # SearchPoint.key() of every plan made
    device: str = "cpu"  # methods declared for other devices only (float8: cuda) are never proposed

    def __post_init__(self) -> None:
        fam = family_of(self.pipeline.model_id)
        self.family = fam.key
        # The knowledge base's sampler installing the checkpoint's own scheduler (flow_euler on the flow families):
        # the baseline's own scheduler composes as that sampler does; DDIM's rules stand in where none does.
        own = checkpoint(self.pipeline.model_id).scheduler
        self.native = next(
            (m.key for m in self.kb if m.scheduler == own and m.why_unsupported(fam.key) is None), "ddim"
        )
        self.samplers = {m.key for m in self.kb if m.category == "sampler" and m.why_unsupported(fam.key) is None}
        self.compatible = self.kb.compatible_pairs()
        measured = self.kb.measured_speedups(self.profile, fam.key)
        fast_half = fast_half_precision_methods(self.device)
        usable = [
            m
            for m in self.kb
            if m.why_unsupported(fam.key, str(self.pipeline.conditioning)) is None
            and self.device.split(":")[0] in m.devices
            and m.key not in LEFT_OUT
            and (m.key in fast_half or m.key not in HALF_PRECISION_METHODS)
            and m.category != "sampler"
        ]

        def expected(method) -> float:
            if method.key in measured:
                return measured[method.key]
            return max((f.speedup for f in method.published if f.speedup is not None), default=1.0)

        ranked = sorted(usable, key=lambda m: (-expected(m), m.key))
        if self.delta == 0:  # "0% quality loss": only moves that compute the same thing (kernels), no step cuts
            ranked = [m for m in ranked if m.category == "kernel"]
        self.methods = [m.key for m in ranked if expected(m) >= 1.02 or self.delta == 0]
        self.expected = {m.key: expected(m) for m in ranked}

    # ---- plans --------------------------------------------------------------------------------------------
    def _composes(self, keys: list[str]) -> bool:
        """Pairwise compatible; the baseline's own scheduler composes as a plain sampler does (with everything
        but another scheduler swap)."""
        keys = [self.native if k == OWN_SCHEDULER else k for k in keys]
        return all(frozenset(p) in self.compatible for p in itertools.combinations(keys, 2))

    def _method(self, key: str) -> Applied:
        return Applied(key, self.kb.method(key).resolve({}))

    def moves(self) -> list[Plan]:
        base = self.pipeline
        fewer = max(min(MIN_STEPS, base.steps - 1), base.steps * 3 // 5, 1)
        out: list[Plan] = []
        if self.delta == 0:
            return [
                Plan(
                    SearchPoint(base.sampler, base.steps, (self._method(k),)),
                    f"{k}: the same computation, faster kernels",
                )
                for k in self.methods
                if self._composes([base.sampler, k])
            ]
        for key in self.methods:
            if self._composes([base.sampler, key]):
                out.append(
                    Plan(
                        SearchPoint(base.sampler, base.steps, (self._method(key),)),
                        f"{self.kb.method(key).name}: the knowledge base expects {self.expected[key]:.2f}x here",
                    )
                )
        out.append(Plan(SearchPoint(base.sampler, fewer), f"the baseline's sampler at {fewer} steps: 60% of its work"))
        caching = next((k for k in self.methods if self.kb.method(k).category == "feature-caching"), None)
        if caching and self._composes([base.sampler, caching]):
            out.append(
                Plan(
                    SearchPoint(base.sampler, fewer, (self._method(caching),)),
                    f"fewer steps and {self.kb.method(caching).name}: the two gains multiply",
                )
            )
        if "dpm_solver" in self.samplers and (base.sampler != "dpm_solver" or base.steps > 20):
            out.append(Plan(SearchPoint("dpm_solver", 20), "DPM-Solver++ converges in about 20 steps"))
        return sorted(out, key=lambda p: -self._estimate(p.config))

    def _estimate(self, config: SearchPoint) -> float:
        gain = self.pipeline.steps / config.steps
        for m in config.methods:
            gain *= self.expected.get(m.key, 1.0)
        return gain

    def fresh(self, count: int) -> list[Plan]:
        """The next `count` moves not proposed yet, most promising first."""
        plans = [p for p in self.moves() if p.config.key() not in self.proposed][:count]
        self.proposed.update(p.config.key() for p in plans)
        return plans

    def requested(self) -> Plan:
        """Levels 1-3: the plan the request asks for, as read from its words."""
        if self.asked is None:
            raise ValueError("the heuristic planner was given no request to read")
        return Plan(self.asked, "what the request asks for, read from its words")

    def alternatives(self) -> list[Plan]:
        """Levels 1-3, when the requested plan does not run: the same request one method fewer at a time (the
        last first), then the baseline's own pipeline with each requested method alone."""
        if self.asked is None:
            return []
        methods = list(self.asked.methods)
        out = [
            Plan(replace(self.asked, methods=tuple(methods[:i] + methods[i + 1 :])),
                 f"the request without {methods[i].key}, which did not run with the rest")
            for i in reversed(range(len(methods)))
        ]  # fmt: skip
        if len(methods) > 1:
            out += [Plan(replace(self.asked, methods=(m,)), f"{m.key} alone") for m in methods]
        return [p for p in out if p.config.methods or not methods]

    def refine(self, parent: Candidate) -> Plan:
        """The planner interface: a measured parent, refined by whether it kept within the quality bound."""
        return self.adjust(parent.plan, over_quality=parent.loss is None or parent.loss > max(self.delta, LOSSLESS))

    def adjust(self, parent: Plan, over_quality: bool) -> Plan:
        """Back off when the parent broke the quality bound, push on when it was within it but too slow."""
        config = parent.config
        steps = config.steps
        methods = list(config.methods)
        if self.delta == 0:  # lossless only: never fewer steps or longer intervals; add the next kernel method
            extra = next((k for k in self.methods if k not in {m.key for m in methods}
                          and self._composes([config.sampler, *(m.key for m in methods), k])), None)  # fmt: skip
            child = replace(config, methods=(*methods, self._method(extra))) if extra else config
            self.proposed.add(child.key())
            return Plan(child, f"lossless only: {'add ' + extra if extra else 'nothing left to add'}")
        if over_quality:
            steps = min(self.pipeline.steps, round(steps * 1.25))
            methods = [self._interval(m, -1) for m in methods]
            why = "back off: the parent lost too much quality"
            if steps == config.steps and methods == list(config.methods) and methods:
                methods = methods[:-1]
        else:
            floor = min(MIN_STEPS, max(1, self.pipeline.steps // 2))  # a few-step baseline (schnell's 4) may halve
            steps = min(steps, max(floor, round(steps * 0.75)))
            methods = [self._interval(m, +1) for m in methods]
            why = "push on: the parent kept quality but was too slow"
            extra = next((k for k in self.methods if k not in {m.key for m in methods}
                          and self._composes([config.sampler, *(m.key for m in methods), k])), None)  # fmt: skip
            if extra and steps == config.steps:
                methods.append(self._method(extra))
        child = replace(config, steps=steps, methods=tuple(methods))
        self.proposed.add(child.key())
        return Plan(child, f"{why} ({config.describe()} -> {child.describe()})")

    def _interval(self, applied: Applied, delta: int) -> Applied:
        """A caching method's interval one step longer or shorter, within its sensible range."""
        method = self.kb.method(applied.key)
        for name in ("cache_interval", "spatial_skip"):
            if name in applied.params:
                param = method.parameter(name)
                low, high = param.sensible.get(self.family, (param.low, param.high))
                value = int(min(max(applied.params[name] + delta, max(2, low)), high))
                return Applied(applied.key, {**applied.params, name: value})
        return applied

    # ---- code ---------------------------------------------------------------------------------------------
    def write(self, plan: Plan) -> str:
        """The solution module for `plan`, composed from the knowledge base's templates."""
        return self.pipeline.write(self.kb, plan.config, f"{plan.config.describe()}; written by the {AUTHOR}")
