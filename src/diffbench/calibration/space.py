"""The search space for one baseline pipeline: a sampler and its steps, plus up to two compatible methods.

What is left out, and why:
- torch.compile: compiling costs minutes per trial on a CPU, more than a whole trial budget;
- methods the knowledge base measured no faster than MIN_SPEEDUP on this profile and family at any recorded setting
  (`methods check --record [--sweep]`): on a CPU, fp16 and the kernel switches only cost time;
- a half precision (bf16, fp16) the device has no fast kernels for (`fast_half_precision_methods`; a CPU can have
  bf16's instructions without fp16's): there each such trial runs up to 75x slower than fp32 and measures the
  machine, whatever another machine's recorded figure says (`calibration/machine_misses.py`);
- methods the suite does not ask for (`not_in_suite` in their method.yaml, e.g. CFG truncation): the best
  configuration becomes a task's reference code, which must be code a task can state.
Parameters range over each method's sensible range for the family (its full range where none is given).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from diffbench.calibration.machine_misses import HALF_PRECISION_METHODS
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.families import Conditioning, family_of

EXCLUDED = {"torch_compile": "compiling costs minutes per trial"}
MIN_SPEEDUP = 1.02
MAX_EXTRA_METHODS = 2
MIN_STEPS = 4
NONE = "none"


OWN_SCHEDULER = "baseline-scheduler"


@dataclass(frozen=True)
class SearchPoint:
    """One point of the space: the sampler with its steps, and the other methods in order. The sampler is a
    knowledge-base sampler's key, or OWN_SCHEDULER: the baseline pipeline's own scheduler, whatever class it is."""

    sampler: str
    steps: int
    methods: tuple[Applied, ...] = ()

    def applied(self) -> list[Applied]:
        if self.sampler == OWN_SCHEDULER:
            return list(self.methods)
        return [Applied(self.sampler, {"num_inference_steps": self.steps}), *self.methods]

    def describe(self) -> str:
        parts = [f"{self.sampler} {self.steps} steps"]
        for m in self.methods:
            params = ", ".join(f"{k}={v}" for k, v in m.params.items())
            parts.append(f"{m.key}({params})" if params else m.key)
        return " + ".join(parts)

    def key(self) -> str:
        """A hashable identity (its parameters are dicts, so the dataclass itself is not hashable)."""
        return json.dumps(self.to_json(), sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "sampler": self.sampler,
            "steps": self.steps,
            "methods": [{"key": m.key, "params": m.params} for m in self.methods],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchPoint:
        methods = tuple(Applied(m["key"], dict(m["params"])) for m in data["methods"])
        return cls(data["sampler"], int(data["steps"]), methods)


class SearchSpace:
    def __init__(
        self,
        kb: KnowledgeBase,
        model_id: str,
        conditioning: Conditioning,
        base_steps: int,
        profile: str,
        *,
        fast_half_precision: Collection[str] = HALF_PRECISION_METHODS,
        own_scheduler: str | None = None,
    ) -> None:
        """`fast_half_precision`: the half-precision methods the device runs fast (the others are left out).
        `own_scheduler`: offer the baseline's own scheduler (OWN_SCHEDULER) as a sampler too, composing as this
        knowledge-base sampler does (the agent's users run any scheduler; a task's baseline is a KB sampler)."""
        self.kb = kb
        self.family = family_of(model_id).key
        self.base_steps = base_steps
        # A few-step baseline (FLUX.1-schnell's 4) may be cut to a single step; the others keep MIN_STEPS.
        self.min_steps = 1 if base_steps < 2 * MIN_STEPS else MIN_STEPS
        usable = [
            m.key for m in kb
            if m.why_unsupported(self.family, str(conditioning)) is None and m.key not in EXCLUDED
            and m.not_in_suite is None  # a task's reference must be code the suite can state (its method.yaml)
            and (m.key in fast_half_precision or m.key not in HALF_PRECISION_METHODS)
        ]  # fmt: skip
        self.samplers = sorted(k for k in usable if kb.method(k).category == "sampler")
        self.own_as = own_scheduler
        if own_scheduler is not None:
            self.samplers.append(OWN_SCHEDULER)
        # A method's best recorded variant on this family (FirstBlockCache and cache-dit skip nothing on the
        # stand-ins at their default thresholds).
        measured = kb.measured_speedups(profile, self.family, best_variant=True)
        self.methods = sorted(
            k for k in usable if k not in self.samplers and (k not in measured or measured[k] >= MIN_SPEEDUP)
        )
        self.compatible = kb.compatible_pairs()

    def steps_allowed(self, sampler: str, steps: int) -> bool:
        """Whether the sampler takes this step count (Optuna's `steps` range is one for every sampler)."""
        if sampler == OWN_SCHEDULER:
            return True
        param = next((p for p in self.kb.method(sampler).parameters if p.name == "num_inference_steps"), None)
        return param is None or (param.low or steps) <= steps <= (param.high or steps)

    def compatible_set(self, keys: list[str]) -> bool:
        keys = [(self.own_as or k) if k == OWN_SCHEDULER else k for k in keys]
        return all(frozenset(pair) in self.compatible for pair in itertools.combinations(keys, 2))

    def _value(self, trial: Any, key: str, name: str) -> Any:
        param = self.kb.method(key).parameter(name)
        label = f"{key}.{name}"
        if param.type == "choice":
            return trial.suggest_categorical(label, list(param.choices or ()))
        if param.type == "bool":
            return trial.suggest_categorical(label, [True, False])
        low, high = param.sensible.get(self.family, (param.low, param.high))
        if param.type == "int":
            return trial.suggest_int(label, int(low), int(high))
        return trial.suggest_float(label, float(low), float(high))

    def suggest(self, trial: Any) -> SearchPoint | None:
        """The trial's configuration, or None when its methods do not compose (the trial is pruned)."""
        sampler = trial.suggest_categorical("sampler", self.samplers)
        steps = trial.suggest_int("steps", self.min_steps, self.base_steps)
        keys = []
        for slot in range(MAX_EXTRA_METHODS):
            key = trial.suggest_categorical(f"method{slot}", [NONE, *self.methods])
            if key != NONE and key not in keys:
                keys.append(key)
        if not self.compatible_set([sampler, *keys]) or not self.steps_allowed(sampler, steps):
            return None
        methods = []
        for key in keys:
            method = self.kb.method(key)
            tunable = [p.name for p in method.parameters if p.name != "num_inference_steps"]
            params = {name: self._value(trial, key, name) for name in tunable}
            for name in list(params):  # a drawn range (timestep_low > timestep_high) is put in order
                high = name.removesuffix("_low") + "_high"
                if name.endswith("_low") and high in params and params[name] > params[high]:
                    params[name], params[high] = params[high], params[name]
            methods.append(Applied(key, method.resolve(params)))
        return SearchPoint(sampler, steps, tuple(methods))

    def point(self, config: SearchPoint) -> dict[str, Any] | None:
        """A configuration as trial values (for `enqueue_trial`), or None when it lies outside this space (a method
        the space leaves out, a sampler it does not offer, a step count out of range, methods that do not compose)."""
        named = [m.key for m in config.methods]  # a method inert beside another did nothing: drop it, as generate does
        kept = tuple(m for m in config.methods if self.kb.method(m.key).inert_beside(named) is None)
        config = SearchPoint(config.sampler, config.steps, kept)
        keys = [m.key for m in config.methods]
        if (config.sampler not in self.samplers or not self.min_steps <= config.steps <= self.base_steps
                or len(keys) > MAX_EXTRA_METHODS or any(k not in self.methods for k in keys)):  # fmt: skip
            return None
        out: dict[str, Any] = {"sampler": config.sampler, "steps": config.steps}
        for slot in range(MAX_EXTRA_METHODS):
            out[f"method{slot}"] = keys[slot] if slot < len(keys) else NONE
        for m in config.methods:
            out.update({f"{m.key}.{name}": value for name, value in m.params.items() if name != "num_inference_steps"})
        fits = self.compatible_set([config.sampler, *keys]) and self.steps_allowed(config.sampler, config.steps)
        return out if fits else None

    def defaults(self, key: str) -> dict[str, Any]:
        """A method's default parameters as trial values (`key.name`), held within the family's sensible range."""
        out: dict[str, Any] = {}
        for param in self.kb.method(key).parameters:
            if param.name == "num_inference_steps":
                continue
            value = param.default
            if param.type in ("int", "float"):
                low, high = param.sensible.get(self.family, (param.low, param.high))
                value = min(max(value, low), high)
            out[f"{key}.{param.name}"] = value
        return out

    def warm_starts(self, base_sampler: str) -> list[dict[str, Any]]:
        """Points the search tries first (Optuna `enqueue_trial`): the knowledge base's usual first moves."""
        starts: list[dict[str, Any]] = [
            {"sampler": base_sampler, "steps": max(self.min_steps, self.base_steps * 2 // 5), "method0": NONE,
             "method1": NONE},
        ]  # fmt: skip
        if "deepcache" in self.methods and self.compatible_set([base_sampler, "deepcache"]):
            # At its documented defaults: an enqueued trial that names a method but not its parameters gets them
            # drawn at random (the first tiny-cpu record tried branch 1 and 2, never the default 0, and so
            # under-estimated U* on every UNet family).
            for steps in (self.base_steps, max(MIN_STEPS, self.base_steps * 3 // 5)):
                starts.append({"sampler": base_sampler, "steps": steps, "method0": "deepcache", "method1": NONE,
                               **self.defaults("deepcache")})  # fmt: skip
        if "dpm_solver" in self.samplers:
            starts.append({"sampler": "dpm_solver", "steps": 20, "method0": NONE, "method1": NONE})
        return starts
