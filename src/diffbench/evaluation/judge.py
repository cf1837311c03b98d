"""The judge: one candidate module on one task, through the paper's three stages, in confined children.

Stage 1 reads the code (compile, key attributes) and then confirms at run time what the code claims: the built
pipeline's class, the scheduler that ran, the steps it ran, the resolution the denoiser saw, the methods the
knowledge base's detectors find. Stage 2 scores absolute quality on inputs drawn at run time. Stage 3 (levels
4-5) measures L and U (or latency) against the task's baseline, timing the two interleaved in two separate
children, each call on a fresh input. Every rejection names its rule.

The judge holds the verdicts only: the baseline, the children, the behaviour rules, quality scoring and timing
are the measuring object's (evaluation/measuring.py `MeasuringSession`, one per judging).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
from PIL import Image

from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.machine_speed import read_latency
from diffbench.evaluation.measure import InputPlan, ProtocolSizes, QualityScores, draw_plan, quality_loss, speedup
from diffbench.evaluation.measuring import SOLUTION_FILE, MeasuringSession, TaskBaseline
from diffbench.evaluation.metrics import MetricUndefinedError, achievement
from diffbench.evaluation.quality import ABSOLUTE_THRESHOLD
from diffbench.evaluation.result import ErrorMode, EvalResult, Stage, Timing
from diffbench.evaluation.static import analyze
from diffbench.models.device import HALF_PRECISION_CPU_SLOWDOWN, HALF_PRECISION_NAMES, device_has_fast_half_precision
from diffbench.models.profiles import Profile
from diffbench.sandbox.confinement import Limits
from diffbench.tasks.attributes import mismatches
from diffbench.tasks.schema import Difficulty, Task


@dataclass(frozen=True)
class JudgeOptions(ProtocolSizes):
    """The judge's settings: its protocol sizes (ProtocolSizes: 10 quality inputs, the paper's; 3 timing rounds of 3
    fresh inputs, baseline and candidate alternating in each; warm-up calls), and what only the judge has."""

    call_timeout_s: float | None = None  # None: from the baseline's call time (evaluation/limits.py)
    inputs_seed: int | None = None  # None: a secret draw, so no solution can predict its inputs
    prompts: list[str] | None = None
    limits: Limits = field(default_factory=Limits)
    keep_images: bool = True


class _Rejected(Exception):
    """A stage's verdict against the candidate: its error modes, the stage, and the figures measured before it."""

    def __init__(self, modes: list[ErrorMode], stage: Stage, figures: dict[str, Any] | None = None) -> None:
        super().__init__(stage.problems[0] if stage.problems else modes[0])
        self.modes = modes
        self.stage = stage
        self.figures = figures or {}  # the result's fields measured before the verdict (the relative stage's)


@dataclass
class _Judging:
    """One judging's state, built in `Judge.evaluate`: the measuring session, the stages so far and what the
    result reports beside the verdict."""

    session: MeasuringSession
    stages: list[Stage] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per phase of the evaluation
    warnings: dict[str, str] = field(default_factory=dict)  # method key -> its first warning (behaviour.py)
    time_limits: TimeLimits | None = None
    candidate: SolutionChild | None = None
    candidate_images: list[Path] = field(default_factory=list)

    def stage(self, name: str) -> Stage:
        stage = Stage(name=name)
        self.stages.append(stage)
        return stage

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Wall seconds per phase of the evaluation, so a result says where the harness's time goes."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - start, 3)


def _reject(stage: Stage, mode: ErrorMode, problem: str) -> _Rejected:
    stage.passed = False
    stage.problems.append(problem)
    return _Rejected([mode], stage)


def _image_array(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


class Judge:
    def __init__(self, task: Task, profile: Profile, out_dir: Path, options: JudgeOptions | None = None) -> None:
        self.task = task
        self.profile = profile
        self.out_dir = out_dir.resolve()
        self.options = options or JudgeOptions()

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
        baseline = TaskBaseline(self.task.model_id, self.task.baseline_code, self.task.conditioning)
        with MeasuringSession(self.out_dir, self.profile, baseline, self.options.limits, live=False) as session:
            judging = _Judging(session)
            try:
                figures = self._evaluate(judging, source)
                result.passed = True
                result = result.model_copy(update=figures)
            except _Rejected as rejected:
                result.error_modes = rejected.modes
                result = result.model_copy(update=rejected.figures)
        result.stages = judging.stages
        result.seconds = time.perf_counter() - start
        result.images_dir = str(self.out_dir)
        result.sandbox = session.sandbox
        result.warnings = list(judging.warnings.values())
        result.warmup_s = judging.candidate.warmup_s if judging.candidate is not None else None
        result.time_limits = judging.time_limits.describe() if judging.time_limits else None
        result.phases = judging.phases | {"inside the solutions' calls": round(session.inside_s, 3)}
        result.harness_overhead_s = max(0.0, result.seconds - session.inside_s)
        (self.out_dir / "result.json").write_text(result.model_dump_json(indent=2))
        return result

    # ---- the stages -----------------------------------------------------------------------------------------
    def _evaluate(self, judging: _Judging, source: str) -> dict[str, Any]:
        with judging.phase("static"):
            static = self._static(judging, source)
        opts, session = self.options, judging.session
        plan = draw_plan(self.task.conditioning, opts, opts.inputs_seed, self.profile.device, opts.prompts)
        (self.out_dir / SOLUTION_FILE).write_text(source)
        # The baseline runs first (cached per inputs): its images score quality, its times set the candidate's limits.
        with judging.phase("baseline images (cached per inputs)"):
            baseline = session.baseline_images(plan.quality)
        judging.time_limits = baseline.limits(opts.call_timeout_s)
        if self.task.level >= 4:
            session.prepare_timing()  # its child imports while the candidate's does
        with session.candidate("candidate", judging.time_limits) as candidate:
            judging.candidate = candidate
            with judging.phase("candidate: child start, imports, load_pipeline"):
                runtime = self._load(judging, candidate, source)
            asked = set(self.task.key_attributes.methods or {})
            call = session.checked(candidate, asked, judging.warnings)
            with judging.phase("candidate: quality inputs"):
                self._run_inputs(judging, call, plan.quality, runtime, static)
            with judging.phase("quality scoring"):
                quality = self._absolute(judging, plan.quality)
            if self.task.level < 4:
                return {"quality_metric": quality.metric}
            return self._relative(judging, call, quality, plan)

    def _static(self, judging: _Judging, source: str) -> dict[str, Any]:
        stage = judging.stage("static")
        result = analyze(source)
        if result.compile_error:
            raise _reject(stage, ErrorMode.COMPILE, result.compile_error)
        found = result.attributes
        assert found is not None
        problems = mismatches(self.task.key_attributes, found, self.task.baseline_attributes)
        stage.figures["attributes"] = found.model_dump(mode="json", exclude_none=True)
        if problems:
            stage.problems.extend(problems)
            raise _reject(stage, ErrorMode.KEY_ATTRIBUTES, problems[0]) from None
        stage.passed = True
        return {"attributes": found, "strength": result.strength}

    def _load(self, judging: _Judging, run: SolutionChild, source: str) -> dict[str, Any]:
        stage = judging.stage("runtime")
        try:
            answer = judging.session.load(run, source, SOLUTION_FILE)
        except SolutionError as err:
            raise _reject(stage, ErrorMode.RUNTIME, str(err)) from None
        runtime = answer["runtime"]
        stage.figures["load_seconds"] = answer["load_seconds"]
        stage.figures["built"] = runtime
        want = self.task.key_attributes.pipeline_class
        if want and runtime["pipeline_class"] != want:
            raise _reject(
                stage,
                ErrorMode.KEY_ATTRIBUTES,
                f"rule built-class: the built pipeline is {runtime['pipeline_class']}, the task asks for {want}",
            )
        return runtime

    def _slow_half_precision(self, runtime: dict, err: SolutionError) -> str:
        """A deadline a half-precision denoiser missed on a CPU without that dtype's instructions measures the CPU as
        much as the code (calibration/machine_misses.py): the verdict says so."""
        short = next((k for k, name in HALF_PRECISION_NAMES.items() if name == runtime.get("dtype")), None)
        if not err.timed_out or short is None or device_has_fast_half_precision(self.profile.device, short):
            return ""
        dtype = HALF_PRECISION_NAMES[short]
        return (f"; the denoiser runs {dtype} on a CPU without {short} instructions, where those kernels "
                f"run up to {HALF_PRECISION_CPU_SLOWDOWN}x slower than fp32 (docs/evaluation.md)")  # fmt: skip

    def _run_inputs(self, judging: _Judging, call: Any, inputs: list[EvalInput], runtime: dict, static: dict) -> None:
        stage = judging.stages[-1]
        outputs: list[np.ndarray] = []
        methods_seen: dict[str, Any] = dict(runtime.get("methods", {}))
        for i, inp in enumerate(inputs):
            try:
                answer, _ = call(inp, f"sample-{i}")
            except SolutionError as err:  # it raised, hit a limit or broke a behaviour rule
                raise _reject(stage, ErrorMode.RUNTIME, str(err) + self._slow_half_precision(runtime, err)) from None
            effects = answer["observed"].get("effects", {})
            stage.figures.setdefault("effects", {k: e["evidence"] for k, e in effects.items()})
            if len(answer["images"]) != 1:
                raise _reject(
                    stage,
                    ErrorMode.RUNTIME,
                    f"rule count: generate() returned {len(answer['images'])} images for one request",
                )
            if answer["sizes"][0] != list(self.task.size):
                w, h = answer["sizes"][0]
                raise _reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule resolution: the output is {w}x{h}, the task asks for {self.task.display_resolution}",
                )
            frames = answer.get("frames", [None])[0]
            if frames != self.task.frames:  # an output of the wrong kind never gets here (rule output-kind)
                raise _reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule frame-count: the video has {frames} frames, the task asks for {self.task.frames}",
                )
            self._check_observed(stage, answer, runtime, static)
            array = _image_array(Path(answer["images"][0]))
            for j, earlier in enumerate(outputs):
                if np.array_equal(array, earlier):
                    rule = {(0, 1): "seed", (0, 2): "prompt" if inp.prompt is not None else "class label"}.get((j, i))
                    why = f"does not change with the {rule}" if rule else f"repeats the output of input {j}"
                    raise _reject(stage, ErrorMode.RUNTIME, f"rule fresh-output: the output for input {i} {why}")
            outputs.append(array)
            judging.candidate_images.append(Path(answer["images"][0]))
            methods_seen.update(answer["observed"].get("methods", {}))
        for key in self.task.key_attributes.methods or {}:
            if key not in methods_seen:
                raise _reject(
                    stage, ErrorMode.KEY_ATTRIBUTES, f"rule methods-at-run-time: {key} is not on the built pipeline"
                )
        stage.figures["methods_at_run_time"] = sorted(methods_seen)
        stage.passed = True

    def _check_observed(self, stage: Stage, answer: dict, runtime: dict, static: dict) -> None:
        """What the call ran, against what the code claims: the scheduler, the steps, the denoiser's resolution."""
        observed = answer["observed"]
        attrs = static["attributes"]
        want_scheduler = self.task.key_attributes.scheduler_class or attrs.scheduler_class
        if want_scheduler and observed["scheduler_class"] != want_scheduler:
            raise _reject(
                stage,
                ErrorMode.KEY_ATTRIBUTES,
                f"rule scheduler-at-run-time: {observed['scheduler_class']} ran, the code says {want_scheduler}",
            )
        claimed = attrs.num_inference_steps
        if claimed:
            expected = math.floor(claimed * static["strength"]) if static.get("strength") else claimed
            if observed["steps"] < expected:
                ran = observed["steps"] if not observed["scheduler_replaced"] else "an unobserved number of"
                raise _reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule steps-at-run-time: the code claims {claimed} steps, the pipeline ran {ran} scheduler "
                    f"steps (at least {expected} expected)",
                )
        factor = runtime.get("vae_scale_factor")
        width, height = self.task.size
        for h, w in observed["latent_sizes"]:
            if factor and (h * factor, w * factor) != (height, width):
                raise _reject(
                    stage,
                    ErrorMode.KEY_ATTRIBUTES,
                    f"rule resolution-at-run-time: the denoiser ran at {w * factor}x{h * factor}, "
                    f"the task asks for {self.task.display_resolution}",
                )

    # ---- stage 2 --------------------------------------------------------------------------------------------
    def _image_pairs(self, judging: _Judging, baseline: list[Path]) -> list[dict[str, str | None]]:
        """Each input's candidate image and the baseline's (copied here where kept), relative to out_dir."""
        pairs: list[dict[str, str | None]] = []
        for i, cand in enumerate(judging.candidate_images):
            base = None
            if self.options.keep_images:
                target = self.out_dir / "baseline-images" / f"sample-{i}.png"
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(baseline[i].read_bytes())
                base = str(target.relative_to(self.out_dir))
            pairs.append({"baseline": base, "candidate": str(cand.resolve().relative_to(self.out_dir))})
        return pairs

    def _absolute(self, judging: _Judging, inputs: list[EvalInput]) -> QualityScores:
        stage = judging.stage("absolute quality")
        session = judging.session
        assert session.record is not None
        stage.figures["images"] = self._image_pairs(judging, session.record.images)
        quality = session.score(inputs, judging.candidate_images)
        if quality.psnr_db is not None:
            stage.figures["psnr_db"] = [round(p, 2) if math.isfinite(p) else None for p in quality.psnr_db]
        mean = fmean(quality.scores)
        threshold = ABSOLUTE_THRESHOLD[self.profile.quality_metric]
        stage.figures |= {"metric": quality.metric, "mean_score": mean, "threshold": threshold,
                          "scores": quality.scores}  # fmt: skip
        if mean < threshold:
            problem = f"mean {quality.metric} {mean:.3f} is below the threshold {threshold}"
            raise _reject(stage, ErrorMode.ABSOLUTE_QUALITY, problem)
        stage.passed = True
        return quality

    # ---- stage 3 --------------------------------------------------------------------------------------------
    def _relative(self, judging: _Judging, call: Any, quality: QualityScores, plan: InputPlan) -> dict[str, Any]:
        stage = judging.stage("relative")
        try:
            loss = quality.loss
        except MetricUndefinedError as err:  # not the candidate's fault: say so for the whole command
            raise MetricUndefinedError(f"{self.task.id} on {self.profile.describe()}: {err}") from None
        with judging.phase("timing: baseline child, warm-ups, timed calls"):
            try:
                timings = judging.session.time(call, plan)
            except SolutionError as err:
                raise _reject(stage, ErrorMode.RUNTIME, str(err)) from None
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

        def rejected(modes: list[ErrorMode], problem: str) -> _Rejected:
            stage.passed = False
            stage.problems.append(problem)
            return _Rejected(modes, stage, figures)

        if target is None:
            raise rejected(
                [ErrorMode.RELATIVE_SPEED],
                f"no {self.profile.name} targets for {self.task.id}: "
                f"run `diffbench calibrate --profile {self.profile.name}`",
            )
        delta = self.task.delta or 0.05
        if self.task.difficulty == Difficulty.HARD:
            figures["achievement"] = achievement(u, target.speedup)
        too_slow = u < target.speedup if self.task.level == 4 else reading.read_s > target.latency_s
        stage.figures["too_slow"] = too_slow
        if loss > delta:
            modes = [ErrorMode.RELATIVE_QUALITY] + ([ErrorMode.RELATIVE_SPEED] if too_slow else [])
            raise rejected(modes, f"quality loss L = {loss:.1%} exceeds delta = {delta:.0%}")
        if too_slow:
            want = f"U >= {target.speedup:.2f}" if self.task.level == 4 else f"latency <= {target.latency_s:.2f} s"
            got = f"U = {u:.2f}" if self.task.level == 4 else reading.describe()
            raise rejected([ErrorMode.RELATIVE_SPEED], f"{got}, the task asks {want}")
        stage.passed = True
        return figures


# The paper's L and U, as every measurement of this project computes them (evaluation/measure.py).
__all__ = ["Judge", "JudgeOptions", "evaluate", "quality_loss", "speedup"]


def evaluate(
    task: Task, source: str, profile: Profile, out_dir: Path, options: JudgeOptions | None = None
) -> EvalResult:
    """Judge `source` on `task` under `profile`; images, logs and result.json go to `out_dir`."""
    return Judge(task, profile, out_dir, options).evaluate(source)
