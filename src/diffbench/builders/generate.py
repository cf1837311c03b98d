"""The deterministic generator of the task suites, from the knowledge base and the hand-written phrasings: the
paper's 604 tasks (the six families of the paper), the extended suite (the families added since: FLUX.1,
SD3.5, Qwen-Image; ids X1-001 ..., its baselines the model cards' flow-matching Euler steps) and the video suite
(Wan 2.1/2.2; ids V1-001 ..., its baselines the model cards' UniPC steps, 5-frame clips), counts in
schema.SUITE_LEVELS.

`diffbench tasks generate [--suite extended|video]` writes `tasks/data/[extended/|video/]level{1..5}.jsonl`;
running it again reproduces them byte for byte (one seeded RNG, everything iterated in a fixed order). What it draws on:
- pipelines: every (checkpoint, conditioning) pair of the family registry, at the checkpoint's native resolution;
- samplers: the knowledge base's sampler methods; a baseline samples with one of them (DDIM 50 steps,
  DPM-Solver++ or UniPC 30 steps);
- level 2: one method the knowledge base supports for the pipeline (a sampler change counts);
- level 3: two or three methods, every pair of them declared compatible (`composes_with`), one sampler at most;
- levels 4-5: 31 baselines shared by both levels, each at three difficulties; targets and the reference code
  come from the committed calibration records (`diffbench calibrate`, tasks/data/calibration/); a baseline not
  yet calibrated keeps the knowledge base's usual first move as its reference and has no targets.
Parameters a prompt states are drawn from the knowledge base's sensible range for the family.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from diffbench.calibration.space import SearchPoint
from diffbench.calibration.store import REFERENCE_PROFILES, CalibrationRecord, all_records, calibration_key
from diffbench.knowledge.compose import Applied, compose
from diffbench.knowledge.loader import KnowledgeBase, load_knowledge
from diffbench.models.families import FAMILIES, Conditioning, Family, checkpoint, families_of
from diffbench.tasks.attributes import Attributes
from diffbench.tasks.schema import ID_PREFIX, SUITE_LEVELS, AppliedMethod, Difficulty, Task
from diffbench.tasks.wording import TAYLORSEER_PHRASES, phrasing

SEED = 604
DELTA = 0.05
BASE_STEPS = {"ddim": 50, "dpm_solver": 30, "unipc": 30}  # the paper suite's baselines
# Distinct level-4/5 baselines per suite; x3 difficulties = 93 (paper), 15 (extended) and 6 (video) tasks per level.
HARD_BASELINES = {"paper": 31, "extended": 5, "video": 2}
# The video suite's level-4/5 baselines: Wan 2.1's small model, and Wan 2.2 A14B, whose two experts a method must
# both reach (the MagCache step-count problem users report).
HARD_MODELS = {"video": ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan-AI/Wan2.2-T2V-A14B-Diffusers")}
# Choices a task may state: the SDPA backends that run on CPUs and GPUs alike (efficient and cudnn are
# CUDA-only), and compile modes that do not take minutes to autotune on a CPU.
TASK_CHOICES = {
    ("sdpa_backend", "backend"): ["flash", "math"],
    ("torch_compile", "mode"): ["default", "reduce-overhead"],
}
# How often a method is drawn relative to the others: the paper's four methods and the samplers lead.
WEIGHTS = {"deepcache": 3.0, "tome": 3.0, "tgate": 3.0, "fp16": 3.0, "ddim": 2.0, "dpm_solver": 2.0, "unipc": 2.0,
           "tgate_deepcache": 1.5, "torch_compile": 0.5}  # fmt: skip


@dataclass(frozen=True)
class BaselinePipeline:
    family: str
    model_id: str
    conditioning: Conditioning
    resolution: int  # the output's height (and width, unless `width` is set)
    width: int | None = None  # a video's frame width
    frames: int | None = None  # a video's frame count

    @property
    def fam(self) -> Family:
        return FAMILIES[self.family]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return (self.width or self.resolution, self.resolution)


@dataclass(frozen=True)
class TaskDraft:
    """A task before phrasing: the baseline and the method keys applied to it."""

    level: int
    pipe: BaselinePipeline
    base: str
    methods: tuple[str, ...] = ()
    difficulty: Difficulty | None = None


def pipes(suite: str = "paper") -> list[BaselinePipeline]:
    return [
        _video_pipe(fam.key, ckpt.id, cond) if cond.video else BaselinePipeline(fam.key, ckpt.id, cond, ckpt.resolution)
        for fam in families_of(suite)
        for ckpt in fam.checkpoints
        for cond in fam.pipelines
    ]


def _video_pipe(family: str, model_id: str, conditioning: Conditioning) -> BaselinePipeline:
    """A video task's clip is the stand-in's: a real frame size (480P, 832x480, where the model card offers it; Wan 2.2
    TI2V-5B's only size, 1280x704) and a frame count a CPU can afford (families.CLIP_FRAMES; the cards make 81 or
    121)."""
    from diffbench.models.standins.recipes import recipe  # the stand-ins' builders: only where a video suite is made

    shape = recipe(model_id).video_shape
    assert shape is not None, f"{model_id} makes no video"
    width, height, frames = shape
    return BaselinePipeline(family, model_id, conditioning, height, width, frames)


def base_steps(model_id: str, sampler: str) -> int:
    """A baseline's step count: the model card's for the extended suite's checkpoints (FLUX.1-dev 50, schnell 4,
    SD3.5 large 28, medium 40), the paper's per sampler (DDIM 50, DPM-Solver++ and UniPC 30) otherwise."""
    return checkpoint(model_id).steps or BASE_STEPS[sampler]


class Generator:
    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        seed: int = SEED,
        calibration: dict[str, CalibrationRecord] | None = None,
        suite: str = "paper",
    ) -> None:
        self.kb = kb or load_knowledge()
        self.calibration = all_records() if calibration is None else calibration
        self.suite = suite
        self.levels = SUITE_LEVELS[suite]
        # The paper's suite keeps its seed; the extended one draws from its own stream.
        self.rng = random.Random(seed if suite == "paper" else f"{seed}-{suite}")
        keys = {f.key for f in families_of(suite)}
        self.samplers = sorted(m.key for m in self.kb if m.category == "sampler" and keys & set(m.families))
        # The samplers a baseline runs: the video suite's, its model cards' UniPC (flow shift kept) only.
        self.bases = ["unipc"] if suite == "video" else self.samplers
        self.compatible = self.kb.compatible_pairs()

    # ---- which tasks ----------------------------------------------------------------------------------------
    def applicable(self, pipe: BaselinePipeline) -> list[str]:
        return [
            m.key
            for m in self.kb
            if m.why_unsupported(pipe.family, str(pipe.conditioning)) is None and m.not_in_suite is None
        ]

    def combos(self, pipe: BaselinePipeline) -> list[tuple[str, ...]]:
        keys = self.applicable(pipe)
        out = []
        for size in (2, 3):
            for combo in itertools.combinations(keys, size):
                pairs_ok = all(frozenset(p) in self.compatible for p in itertools.combinations(combo, 2))
                if pairs_ok and sum(k in self.samplers for k in combo) <= 1:
                    out.append(combo)
        return out

    def weight(self, spec: TaskDraft, per_pipe: Counter) -> float:
        w = sum(WEIGHTS.get(k, 1.0) for k in spec.methods) / max(1, len(spec.methods))
        return w / per_pipe[spec.pipe] ** 0.5  # pipelines with few options are not drowned by those with many

    def select(self, candidates: list[TaskDraft], n: int, covers: list[Any]) -> list[TaskDraft]:
        """`n` specs: first one for each value of each cover function not yet covered, then weighted draws."""
        pool = list(candidates)
        self.rng.shuffle(pool)
        chosen: list[TaskDraft] = []
        for cover in covers:
            seen: set[Any] = set()
            for spec in chosen:
                seen.update(cover(spec))
            for spec in pool:
                if len(chosen) < n and spec not in chosen and set(cover(spec)) - seen:
                    chosen.append(spec)
                    seen.update(cover(spec))
        per_pipe = Counter(s.pipe for s in pool)
        rest = [s for s in pool if s not in chosen]
        keyed = sorted(rest, key=lambda s: self.rng.random() ** (1.0 / self.weight(s, per_pipe)), reverse=True)
        return chosen + keyed[: n - len(chosen)]

    def specs(self) -> list[TaskDraft]:
        all_pipes = pipes(self.suite)
        rounds = [
            TaskDraft(0, p, self.bases[(i + r) % len(self.bases)]) for r in range(3) for i, p in enumerate(all_pipes)
        ]
        level1 = [TaskDraft(1, s.pipe, s.base) for s in rounds[: self.levels[1]]]
        singles = [TaskDraft(2, p, b, (m,)) for p in all_pipes for b in self.bases for m in self.applicable(p)]
        combos = [TaskDraft(3, p, b, c) for p in all_pipes for b in self.bases for c in self.combos(p)]
        by_method = [lambda s: s.methods, lambda s: [s.pipe], lambda s: [s.base], lambda s: [s.pipe.conditioning]]
        level2 = self.select(singles, self.levels[2], by_method)
        level3 = self.select(combos, self.levels[3], [*by_method, lambda s: [len(s.methods)]])
        distinct = list(dict.fromkeys(rounds))  # with one sampler (extended) the rounds repeat each pipeline
        if self.suite in HARD_MODELS:
            distinct = [s for s in distinct if s.pipe.model_id in HARD_MODELS[self.suite]]
        hard = distinct[: HARD_BASELINES[self.suite]]
        level45 = [TaskDraft(level, s.pipe, s.base, (), d) for level in (4, 5) for s in hard for d in Difficulty]
        return level1 + level2 + level3 + level45

    # ---- one task -------------------------------------------------------------------------------------------
    def value(self, key: str, name: str, family: str) -> Any:
        param = self.kb.method(key).parameter(name)
        if (key, name) in TASK_CHOICES:
            return self.rng.choice(TASK_CHOICES[(key, name)])
        if param.type == "choice":
            return self.rng.choice(list(param.choices or ()))
        if param.type == "bool":
            return self.rng.random() < 0.5
        low, high = param.sensible.get(family, (param.low, param.high))
        if param.type == "int":
            return self.rng.randint(int(low), int(high))
        grid = 0.05 if high - low >= 0.2 else 0.01
        return round(low + grid * self.rng.randint(0, round((high - low) / grid)), 2)

    def sampler_steps(self, key: str, pipe: BaselinePipeline, base: str) -> int:
        card = checkpoint(pipe.model_id).steps
        if card is not None:  # extended: a cut of 30-95% of the model card's steps (schnell: 1-3 of its 4)
            return self.rng.randint(max(1, round(card * 0.3)), max(1, min(card - 1, round(card * 0.95))))
        low, high = self.kb.method(key).parameter("num_inference_steps").sensible[pipe.family]
        return self.rng.randint(int(low), int(min(high, BASE_STEPS[base] - 5)))

    def level1_steps(self, pipe: BaselinePipeline, base: str) -> int:
        card = checkpoint(pipe.model_id).steps
        if card is not None:  # the model card's steps, or a half or three quarters of them
            return self.rng.choice(sorted({max(1, round(card * f)) for f in (0.5, 0.75, 1.0)}))
        return self.rng.choice([20, 25, 30, 50] if base == "ddim" else [15, 20, 25, 30])

    def build(self, spec: TaskDraft, number: int) -> Task:
        pipe, fam = spec.pipe, spec.pipe.fam
        sampler, steps = spec.base, base_steps(pipe.model_id, spec.base)
        methods: list[AppliedMethod] = []
        stated: dict[str, dict[str, Any]] = {}
        switches = [k for k in spec.methods if k in self.samplers]
        if spec.level == 1:
            steps = self.level1_steps(pipe, spec.base)
        for key in spec.methods:
            if key in self.samplers:
                sampler, steps = key, self.sampler_steps(key, pipe, spec.base)
                continue
            method = self.kb.method(key)
            params = {name: self.value(key, name, pipe.family) for name in method.task_parameters}
            methods.append(AppliedMethod(key=key, params=method.resolve(params, pipe.family)))
            stated[key] = params
        targets = {}
        reference_source = "generator"
        if spec.level >= 4:
            key = calibration_key(
                pipe.model_id, str(pipe.conditioning), spec.base, base_steps(pipe.model_id, spec.base)
            )
            found = {name: rec.baselines[key] for name, rec in self.calibration.items() if key in rec.baselines}
            assert spec.difficulty is not None
            for name, cal in found.items():
                target = cal.targets(spec.difficulty, self.calibration[name].platform, spec.level)
                if target is not None:
                    targets[name] = target
            chosen = next((found[n] for n in REFERENCE_PROFILES if n in found and found[n].best), None)
            if chosen is not None and chosen.best is not None:
                config = SearchPoint.from_json(chosen.best)
                sampler, steps = config.sampler, config.steps
                keys = [m.key for m in config.methods]
                # A method that was inert beside another (QKV fusion under T-GATE) changed nothing in what was
                # measured: the reference keeps only the methods that did the work, so it passes the effect rules.
                methods = [
                    AppliedMethod(key=m.key, params=m.params)
                    for m in config.methods
                    if self.kb.method(m.key).inert_beside(keys) is None
                ]
                reference_source = "calibration"
            elif fam.backbone == "unet":  # until calibration: the knowledge base's usual first move
                methods = [AppliedMethod(key="deepcache", params=self.kb.method("deepcache").resolve({}, pipe.family))]
            elif spec.base == "flow_euler":
                steps = max(1, steps // 2)
            else:
                sampler, steps = "dpm_solver", 20
        reference = self.code(pipe, sampler, steps, methods, f"reference for L{spec.level}")
        baseline_steps = steps if spec.level == 1 else base_steps(pipe.model_id, spec.base)
        baseline = self.code(pipe, spec.base, baseline_steps, [], "baseline")
        common = {
            "pipeline_class": fam.pipelines[pipe.conditioning],
            "model_id": pipe.model_id,
            "controlnet_id": fam.controlnet_id if pipe.conditioning == Conditioning.CANNY else None,
            "resolution": (pipe.resolution, pipe.size[0]),
            "preprocessors": ("canny",) if pipe.conditioning == Conditioning.CANNY else None,
        }
        scheduler = self.kb.method(sampler).scheduler
        if spec.level >= 4:
            key_attributes = Attributes(**common, accelerated=True)
        else:
            key_attributes = Attributes(
                **common, scheduler_class=scheduler, num_inference_steps=steps, methods=stated or None
            )
        baseline_attributes = Attributes(
            **common,
            scheduler_class=self.kb.method(spec.base).scheduler,
            num_inference_steps=baseline_steps,
            dtype="float32",
            methods={},
        )
        prompt = self.prompt(spec, sampler, steps, switches, stated)
        return Task(
            id=f"{ID_PREFIX[self.suite]}{spec.level}-{number:03d}",
            level=spec.level,
            family=pipe.family,
            model_id=pipe.model_id,
            conditioning=pipe.conditioning,
            resolution=pipe.resolution,
            width=pipe.width,
            frames=pipe.frames,
            baseline_sampler=spec.base,
            baseline_steps=baseline_steps,
            sampler=sampler,
            steps=steps,
            methods=tuple(methods),
            prompt=prompt,
            key_attributes=key_attributes,
            baseline_attributes=baseline_attributes,
            reference_code=reference,
            baseline_code=baseline,
            reference_source=reference_source,
            difficulty=spec.difficulty,
            delta=DELTA if spec.level >= 4 else None,
            targets=targets,
        )

    def code(self, pipe: BaselinePipeline, sampler: str, steps: int, methods: list[AppliedMethod], title: str) -> str:
        applied = [Applied(sampler, {"num_inference_steps": steps})] + [Applied(m.key, m.params) for m in methods]
        name = f"{pipe.fam.display} {pipe.conditioning} ({pipe.model_id}), {title}"
        return compose(self.kb, pipe.model_id, pipe.conditioning, pipe.resolution, steps, applied, title=name,
                       width=pipe.width, frames=pipe.frames)  # fmt: skip

    # ---- the prompt -----------------------------------------------------------------------------------------
    def prompt(self, spec: TaskDraft, sampler: str, steps: int, switches: list[str], stated: dict[str, dict]) -> str:
        parts, pick = phrasing(), self.rng.choice
        pipe = spec.pipe
        slots = {
            "model": pick(parts["model_forms"]).format(name=pick(parts["models"][pipe.model_id]), id=pipe.model_id),
            "kind": pick(parts["kinds"][str(pipe.conditioning)]).format(controlnet=pipe.fam.controlnet_id),
            "res": self.size_phrase(pipe),
            "sampler": self.sampler_phrase(sampler, steps),
            "baseline": self.sampler_phrase(spec.base, base_steps(pipe.model_id, spec.base)),
        }
        phrases = []
        for key in spec.methods:
            if key in switches:
                forms = parts["step_cuts"] if key == spec.base else parts["sampler_switches"]
                phrases.append(pick(forms).format(sampler=pick(parts["samplers"][key]), steps=steps))
            else:
                params = stated[key]
                extra = {}
                if "ratio" in params:
                    extra["ratio_percent"] = round(params["ratio"] * 100)
                if "taylorseer" in params:
                    extra["taylorseer_phrase"] = TAYLORSEER_PHRASES[params["taylorseer"]]
                if "fraction" in params:
                    extra["fraction_percent"] = round(params["fraction"] * 100)
                    extra["rest_percent"] = 100 - extra["fraction_percent"]
                phrases.append(pick(parts["methods"][key]).format(**params, **extra))
        if phrases:
            slots["method"] = phrases[0]
            if len(phrases) == 2:
                slots["methods"] = phrases[0] + pick(parts["joins"]) + phrases[1]
            else:
                slots["methods"] = ", ".join(phrases[:-1]) + " and " + phrases[-1]
        requests = parts["requests"][spec.level]
        if pipe.frames is not None:  # a video task: the phrasings that do not speak of images
            requests = [r for r in requests if "image" not in r]
        return pick(requests).format(**slots)

    def size_phrase(self, pipe: BaselinePipeline) -> str:
        parts = phrasing()
        if pipe.frames is None:
            return self.rng.choice(parts["resolutions"]).format(r=pipe.resolution)
        width, height = pipe.size
        return self.rng.choice(parts["video_sizes"]).format(w=width, h=height, f=pipe.frames)

    def sampler_phrase(self, key: str, steps: int) -> str:
        parts = phrasing()
        return self.rng.choice(parts["sampler_forms"]).format(
            sampler=self.rng.choice(parts["samplers"][key]), steps=steps
        )


def _order(spec: TaskDraft, all_pipes: list[BaselinePipeline]) -> tuple:
    return (spec.level, all_pipes.index(spec.pipe), spec.base, spec.methods, list(Difficulty).index(spec.difficulty)
            if spec.difficulty else -1)  # fmt: skip


def generate(
    kb: KnowledgeBase | None = None, calibration: dict[str, CalibrationRecord] | None = None, suite: str = "paper"
) -> list[Task]:
    """A whole suite, in id order (calibration: profile -> record; the committed records by default)."""
    gen = Generator(kb, calibration=calibration, suite=suite)
    all_pipes = pipes(suite)
    specs = sorted(gen.specs(), key=lambda spec: _order(spec, all_pipes))
    tasks, numbers = [], Counter()
    for spec in specs:
        numbers[spec.level] += 1
        tasks.append(gen.build(spec, numbers[spec.level]))
    return tasks
