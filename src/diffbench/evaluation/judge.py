"""The judge: one candidate module on one task, through the paper's three stages, in confined children.

Stage 1 reads the code (compile, key attributes) and then confirms at run time what the code claims: the built
pipeline's class, the scheduler that ran, the steps it ran, the resolution the denoiser saw, the methods the
knowledge base's detectors find. Stage 2 scores absolute quality on inputs drawn at run time. Stage 3 (levels
4-5) measures L and U (or latency) against the task's baseline, timing the two interleaved in two separate
children, each call on a fresh input. Every rejection names its rule.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
from PIL import Image

from diffbench.evaluation.behaviour import behaviour_problem, behaviour_warnings
from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.machine_speed import read_latency
from diffbench.evaluation.measure import (
    BaselineRecord,
    InputPlan,
    ProtocolSizes,
    QualityScores,
    Timings,
    baseline_cache_dir,
    baseline_key,
    cached_baseline,
    draw_plan,
    interleave,
    make_baseline,
    quality_loss,
    score_quality,
    speedup,
)
from diffbench.evaluation.metrics import MetricUndefinedError, achievement
from diffbench.evaluation.quality import ABSOLUTE_THRESHOLD
from diffbench.evaluation.result import ErrorMode, EvalResult, Stage, Timing
from diffbench.evaluation.static import analyze
from diffbench.models.profiles import Profile
from diffbench.sandbox.confinement import Limits
from diffbench.tasks.attributes import mismatches
from diffbench.tasks.schema import Difficulty, Task

SOLUTION_FILE = "solution.py"


@dataclass
class JudgeOptions:
    samples: int = 10  # inputs for quality (the paper's 10)
    timing_inputs: int = 3  # fresh inputs per timing round (levels 4-5)
    repetitions: int = 3  # timing rounds; baseline and candidate alternate within each
    warmup_calls: int | None = None  # untimed calls per child before timing; None: 1 on a CPU, 2 on a GPU
    call_timeout_s: float | None = None  # None: from the baseline's call time (evaluation/limits.py)
    inputs_seed: int | None = None  # None: a secret draw, so no solution can predict its inputs
    prompts: list[str] | None = None
    limits: Limits = field(default_factory=Limits)
    keep_images: bool = True

    @property
    def protocol(self) -> ProtocolSizes:
        return ProtocolSizes(self.samples, self.timing_inputs, self.repetitions, self.warmup_calls)


class _Rejected(Exception):
    def __init__(self, mode: ErrorMode, stage: Stage) -> None:
        super().__init__(stage.problems[0] if stage.problems else mode)
        self.mode = mode
        self.stage = stage


def _image_array(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


class Judge:
    def __init__(self, task: Task, profile: Profile, out_dir: Path, options: JudgeOptions | None = None) -> None:
        self.task = task
        self.profile = profile
        self.out_dir = out_dir.resolve()
        self.options = options or JudgeOptions()
        self.cache_dir = baseline_cache_dir(profile)
        self.stages: list[Stage] = []

    # ---- entry ----------------------------------------------------------------------------------------------
    def evaluate(self, source: str) -> EvalResult:
        start = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        result = EvalResult(
            task_id=self.task.id,
            profile=self.profile.name,
            device=self.profile.device,
            weights=self.profile.source,
            passed=False,
        )
        self.solution_seconds = 0.0  # inside the solutions' load_pipeline and generate calls
        self.phases: dict[str, float] = {}
        self.sandbox: dict[str, Any] = {}
        self.time_limits: TimeLimits | None = None
        self.warnings: dict[str, str] = {}  # method key -> its first warning (behaviour.py)
        self.candidate: SolutionChild | None = None
        try:
            figures = self._evaluate(source)
            result.passed = True
            result = result.model_copy(update=figures)
        except _Rejected as rejected:
            result.error_modes = [rejected.mode]
            if rejected.mode == ErrorMode.RELATIVE_QUALITY and rejected.stage.figures.get("too_slow"):
                result.error_modes.append(ErrorMode.RELATIVE_SPEED)
            result = result.model_copy(update=rejected.stage.figures.get("_result", {}))
        result.stages = self.stages
        result.seconds = time.perf_counter() - start
        result.images_dir = str(self.out_dir)
        result.sandbox = self.sandbox
        result.warnings = list(self.warnings.values())
        result.warmup_s = self.candidate.warmup_s if self.candidate is not None else None
        result.time_limits = self.time_limits.describe() if self.time_limits else None
        result.phases = self.phases | {"inside the solutions' calls": round(self.solution_seconds, 3)}
        result.harness_overhead_s = max(0.0, result.seconds - self.solution_seconds)
        (self.out_dir / "result.json").write_text(result.model_dump_json(indent=2))
        return result

    def _stage(self, name: str) -> Stage:
        stage = Stage(name=name)
        self.stages.append(stage)
        return stage

    def _reject(self, stage: Stage, mode: ErrorMode, problem: str) -> _Rejected:
        stage.passed = False
        stage.problems.append(problem)
        return _Rejected(mode, stage)

    # ---- the stages -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Wall seconds per phase of the evaluation, so a result says where the harness's time goes."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - start, 3)

    def _evaluate(self, source: str) -> dict[str, Any]:
        with self._phase("static"):
            static = self._static(source)
        opts = self.options
        plan = draw_plan(self.task.conditioning, opts.protocol, opts.inputs_seed, self.profile.device, opts.prompts)
        (self.out_dir / SOLUTION_FILE).write_text(source)
        # The baseline runs first (cached per inputs): its images score quality, its times set the candidate's limits.
        with self._phase("baseline images (cached per inputs)"):
            baseline = self._baseline(plan.quality)
        self.time_limits = baseline.limits(opts.call_timeout_s)
        with self._child("candidate", self.time_limits) as candidate:
            self.candidate = candidate
            with self._phase("candidate: child start, imports, load_pipeline"):
                runtime = self._load(candidate, source)
            with self._phase("candidate: quality inputs"):
                self._run_inputs(candidate, plan.quality, runtime, static)
            with self._phase("quality scoring"):
                quality = self._absolute(plan.quality, baseline.images)
            if self.task.level < 4:
                return {"quality_metric": quality.metric}
            return self._relative(candidate, quality, plan)

    def _static(self, source: str) -> dict[str, Any]:
        stage = self._stage("static")
        result = analyze(source)
        if result.compile_error:
            raise self._reject(stage, ErrorMode.COMPILE, result.compile_error)
        found = result.attributes
        assert found is not None
        problems = mismatches(self.task.key_attributes, found, self.task.baseline_attributes)
        stage.figures["attributes"] = found.model_dump(mode="json", exclude_none=True)
        if problems:
            stage.problems.extend(problems)
            raise self._reject(stage, ErrorMode.KEY_ATTRIBUTES, problems[0]) from None
        stage.passed = True
        return {"attributes": found, "strength": result.strength}

    def _child(self, name: str, time_limits: TimeLimits | None = None) -> SolutionChild:
        work = self.out_dir / name
        shutil.rmtree(work, ignore_errors=True)
        return SolutionChild(
            work, self.profile, self.options.limits, (self.cache_dir,), self.profile.device, time_limits
        )

    def _load_in(self, run: SolutionChild, source: str, filename: str) -> dict[str, Any]:
        answer = run.load(source, filename)
        self.solution_seconds += answer["load_seconds"]
        self.sandbox = run.session.confinement.describe()
        return answer

    def _load(self, run: SolutionChild, source: str) -> dict[str, Any]:
        stage = self._stage("runtime")
        try:
            answer = self._load_in(run, source, SOLUTION_FILE)
        except SolutionError as err:
            raise self._reject(stage, ErrorMode.RUNTIME, str(err)) from None
        runtime = answer["runtime"]
        stage.figures["load_seconds"] = answer["load_seconds"]
        stage.figures["built"] = runtime
        want = self.task.key_attributes.pipeline_class
        if want and runtime["pipeline_class"] != want:
            raise self._reject(
                stage,
                ErrorMode.KEY_ATTRIBUTES,
                f"rule built-class: the built pipeline is {runtime['pipeline_class']}, the task asks for {want}",
            )
        return runtime

    def _call(self, run: SolutionChild, stage: Stage, inp: EvalInput, name: str) -> tuple[dict[str, Any], float]:
        try:
            answer, waited = run.generate(inp, name)
        except SolutionError as err:
            raise self._reject(stage, ErrorMode.RUNTIME, str(err)) from None
        self.solution_seconds += waited
        return answer, waited

    def _run_inputs(self, run: SolutionChild, inputs: list[EvalInput], runtime: dict, static: dict) -> None:
        stage = self.stages[-1]
        res = self.task.resolution
        outputs: list[np.ndarray] = []
        self.candidate_images: list[Path] = []
        methods_seen: dict[str, Any] = dict(runtime.get("methods", {}))
        for i, inp in enumerate(inputs):
            answer, _ = self._call(run, stage, inp, f"sample-{i}")
            if len(answer["images"]) != 1:
                raise self._reject(
                    stage,
                    ErrorMode.RUNTIME,
                    f"rule count: generate() returned {len(answer['images'])} images for one request",
                )
            if answer["sizes"][0] != [res, res]:
                w, h = answer["sizes"][0]
                raise self._reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule resolution: the output is {w}x{h}, the task asks for {res}x{res}",
                )
            self._check_observed(stage, answer, runtime, static)
            array = _image_array(Path(answer["images"][0]))
            for j, earlier in enumerate(outputs):
                if np.array_equal(array, earlier):
                    rule = {(0, 1): "seed", (0, 2): "prompt" if inp.prompt is not None else "class label"}.get((j, i))
                    why = f"does not change with the {rule}" if rule else f"repeats the output of input {j}"
                    raise self._reject(stage, ErrorMode.RUNTIME, f"rule fresh-output: the output for input {i} {why}")
            outputs.append(array)
            self.candidate_images.append(Path(answer["images"][0]))
            methods_seen.update(answer["observed"].get("methods", {}))
        for key in self.task.key_attributes.methods or {}:
            if key not in methods_seen:
                raise self._reject(
                    stage, ErrorMode.KEY_ATTRIBUTES, f"rule methods-at-run-time: {key} is not on the built pipeline"
                )
        stage.figures["methods_at_run_time"] = sorted(methods_seen)
        stage.passed = True

    def _check_behaviour(self, stage: Stage, answer: dict) -> None:
        """Rules every candidate call keeps, quality and timed calls alike (evaluation/behaviour.py)."""
        effects = answer["observed"].get("effects", {})
        stage.figures.setdefault("effects", {k: e["evidence"] for k, e in effects.items()})
        asked = set(self.task.key_attributes.methods or {})
        self.warnings = behaviour_warnings(answer, asked) | self.warnings
        if (problem := behaviour_problem(answer, asked)) is not None:
            raise self._reject(stage, ErrorMode.RUNTIME, problem)

    def _check_observed(self, stage: Stage, answer: dict, runtime: dict, static: dict) -> None:
        observed = answer["observed"]
        self._check_behaviour(stage, answer)
        attrs = static["attributes"]
        want_scheduler = self.task.key_attributes.scheduler_class or attrs.scheduler_class
        if want_scheduler and observed["scheduler_class"] != want_scheduler:
            raise self._reject(
                stage,
                ErrorMode.KEY_ATTRIBUTES,
                f"rule scheduler-at-run-time: {observed['scheduler_class']} ran, the code says {want_scheduler}",
            )
        claimed = attrs.num_inference_steps
        if claimed:
            expected = math.floor(claimed * static["strength"]) if static.get("strength") else claimed
            if observed["steps"] < expected:
                ran = observed["steps"] if not observed["scheduler_replaced"] else "an unobserved number of"
                raise self._reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule steps-at-run-time: the code claims {claimed} steps, the pipeline ran {ran} scheduler "
                    f"steps (at least {expected} expected)",
                )
        factor = runtime.get("vae_scale_factor")
        res = self.task.resolution
        for h, w in observed["latent_sizes"]:
            if factor and (h * factor, w * factor) != (res, res):
                raise self._reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule resolution-at-run-time: the denoiser ran at {w * factor}x{h * factor}, "
                    f"the task asks for {res}x{res}",
                )

    # ---- baseline -------------------------------------------------------------------------------------------
    def _baseline(self, inputs: list[EvalInput]) -> BaselineRecord:
        """The baseline's image for every input and its times: cached per (baseline code, profile, device, inputs)."""
        device = self.profile.device
        folder = self.cache_dir / baseline_key(self.task.baseline_code, self.profile, device, inputs)
        record = cached_baseline(folder, len(inputs))
        if record is None:
            with self._child("baseline") as run:
                try:
                    record = make_baseline(run, folder, self.task.baseline_code, inputs)
                except SolutionError as err:
                    raise RuntimeError(f"the task's baseline does not run: {err}") from None
                self.solution_seconds += record.inside_s
        return record

    def _load_baseline(self, run: SolutionChild) -> None:
        try:
            self._load_in(run, self.task.baseline_code, "baseline.py")
        except SolutionError as err:
            raise RuntimeError(f"the task's baseline does not run: {err}") from None

    # ---- stage 2 --------------------------------------------------------------------------------------------
    def _image_pairs(self, baseline: list[Path] | None) -> list[dict[str, str | None]]:
        """Each input's candidate image and, where made, the baseline's (copied here), relative to out_dir."""
        pairs: list[dict[str, str | None]] = []
        for i, cand in enumerate(self.candidate_images):
            base = None
            if baseline is not None and self.options.keep_images:
                target = self.out_dir / "baseline-images" / f"sample-{i}.png"
                target.parent.mkdir(exist_ok=True)
                shutil.copy(baseline[i], target)
                base = str(target.relative_to(self.out_dir))
            pairs.append({"baseline": base, "candidate": str(cand.resolve().relative_to(self.out_dir))})
        return pairs

    def _absolute(self, inputs: list[EvalInput], baseline: list[Path]) -> QualityScores:
        stage = self._stage("absolute quality")
        stage.figures["images"] = self._image_pairs(baseline)
        device = self.profile.device
        quality = score_quality(self.profile, self.task.model_id, device, inputs, baseline, self.candidate_images)
        if quality.psnr_db is not None:
            stage.figures["psnr_db"] = [round(p, 2) if math.isfinite(p) else None for p in quality.psnr_db]
        mean = fmean(quality.scores)
        threshold = ABSOLUTE_THRESHOLD[self.profile.quality_metric]
        stage.figures |= {"metric": quality.metric, "mean_score": mean, "threshold": threshold,
                          "scores": quality.scores}  # fmt: skip
        if mean < threshold:
            problem = f"mean {quality.metric} {mean:.3f} is below the threshold {threshold}"
            raise self._reject(stage, ErrorMode.ABSOLUTE_QUALITY, problem)
        stage.passed = True
        return quality

    # ---- stage 3 --------------------------------------------------------------------------------------------
    def _relative(self, candidate: SolutionChild, quality: QualityScores, plan: InputPlan) -> dict[str, Any]:
        stage = self._stage("relative")
        try:
            loss = quality.loss
        except MetricUndefinedError as err:  # not the candidate's fault: say so for the whole command
            raise MetricUndefinedError(f"{self.task.id} on {self.profile.describe()}: {err}") from None
        with self._phase("timing: baseline child, warm-ups, timed calls"):
            timings = self._timing(candidate, stage, plan)
        u, latency = timings.speedup, timings.latency_s
        target = self.task.targets.get(self.profile.name)
        reading = read_latency(latency, timings.baseline_s, target.baseline_s if target else None)
        figures: dict[str, Any] = {
            "quality_metric": quality.metric,
            "quality_loss": loss,
            "speedup": u,
            "latency_s": latency,
            "latency_read_s": reading.read_s if self.task.level == 5 else None,
            "baseline_slowdown": reading.slowdown,
            "baseline_timing": Timing(samples=[s for t in timings.base for s in t]).summary(),
            "candidate_timing": Timing(samples=[s for t in timings.cand for s in t]).summary(),
        }
        stage.figures |= {"timed_seconds": timings.waited,
                          **{k: v for k, v in figures.items() if k != "quality_metric"}}  # fmt: skip
        stage.figures["_result"] = figures
        if target is None:
            raise self._reject(
                stage,
                ErrorMode.RELATIVE_SPEED,
                f"no {self.profile.name} targets for {self.task.id}: "
                f"run `diffbench calibrate --profile {self.profile.name}`",
            )
        delta = self.task.delta or 0.05
        if self.task.difficulty == Difficulty.HARD:
            figures["achievement"] = achievement(u, target.speedup)
        too_slow = u < target.speedup if self.task.level == 4 else reading.read_s > target.latency_s
        stage.figures["too_slow"] = too_slow
        if loss > delta:
            raise self._reject(
                stage, ErrorMode.RELATIVE_QUALITY, f"quality loss L = {loss:.1%} exceeds delta = {delta:.0%}"
            )
        if too_slow:
            want = f"U >= {target.speedup:.2f}" if self.task.level == 4 else f"latency <= {target.latency_s:.2f} s"
            got = f"U = {u:.2f}" if self.task.level == 4 else reading.describe()
            raise self._reject(stage, ErrorMode.RELATIVE_SPEED, f"{got}, the task asks {want}")
        stage.passed = True
        return figures

    def _timing(self, candidate: SolutionChild, stage: Stage, plan: InputPlan) -> Timings:
        """The protocol's interleaved timing (evaluation/measure.py) against a live baseline child."""

        def cand_call(inp: EvalInput, name: str) -> tuple[dict, float]:
            answer, waited = self._call(candidate, stage, inp, name)
            if name.startswith("timed"):
                self._check_behaviour(stage, answer)
            return answer, waited

        with self._child("baseline-timing") as baseline:
            self._load_baseline(baseline)
            return interleave(lambda inp, name: self._call(baseline, stage, inp, name), cand_call, plan)


# The paper's L and U, as every measurement of this project computes them (evaluation/measure.py).
__all__ = ["Judge", "JudgeOptions", "evaluate", "quality_loss", "speedup"]


def evaluate(
    task: Task, source: str, profile: Profile, out_dir: Path, options: JudgeOptions | None = None
) -> EvalResult:
    """Judge `source` on `task` under `profile`; images, logs and result.json go to `out_dir`."""
    return Judge(task, profile, out_dir, options).evaluate(source)
