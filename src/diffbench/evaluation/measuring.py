"""The measuring object: one task's baseline on one profile, and the candidates measured against it.

A `MeasuringSession` owns what every measurement by the protocol (evaluation/measure.py) does:

- the baseline: its images and times, cached per (baseline code, profile, device, inputs), made in a child on a
  miss, and the baseline child that candidates are timed against;
- the candidates' children: confined, the baseline's cache hidden from them, time limits from the baseline's times;
- the one behaviour predicate (evaluation/behaviour.py), held on every quality and timed call;
- quality scoring and interleaved timing.

Its clients: the judge (one session per judging, `live=False`: the timing baseline starts afresh in its own child
for every judging, so no judging inherits another's warm baseline), and the searches, calibration and the agent
(`search_session`: one session per search, the baseline loaded once in one live child and every candidate timed
against it). The profile is the only description of the machine it takes: its device is the profile's.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from diffbench.evaluation.behaviour import behaviour_problem, behaviour_warnings
from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.measure import (
    WARMUP,
    BaselineRecord,
    InputPlan,
    Measurement,
    ProtocolSizes,
    QualityScores,
    TimedCall,
    Timings,
    baseline_cache_dir,
    baseline_key,
    cached_baseline,
    draw_plan,
    interleave,
    score_quality,
)
from diffbench.models.families import Conditioning
from diffbench.models.profiles import Profile
from diffbench.sandbox.confinement import Limits

BASELINE_FILE = "baseline.py"
SOLUTION_FILE = "solution.py"


@dataclass(frozen=True)
class TaskBaseline:
    """What a measurement needs of a task: the checkpoint (for CLIP's texts and fidelity's scale), the baseline's
    code and the conditioning its inputs are drawn for."""

    model_id: str
    code: str
    conditioning: Conditioning


class MeasuringSession:
    """One task's baseline on one profile; candidates measured against it by the protocol (module docstring)."""

    def __init__(
        self, folder: Path, profile: Profile, baseline: TaskBaseline, limits: Limits | None = None,
        live: bool = True, plan: InputPlan | None = None,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.profile = profile
        self.baseline = baseline
        self.limits = limits or Limits()
        self.live = live
        self.plan = plan  # a search's inputs (search_session); the judge draws its own for every judging
        self.cache_dir = baseline_cache_dir(profile)
        self.record: BaselineRecord | None = None  # the baseline's images and times for the last inputs asked
        self.baseline_times: list[float] = []  # every timed baseline call of the session
        self.inside_s = 0.0  # seconds inside load_pipeline and generate calls, the baseline's and candidates'
        self.sandbox: dict[str, Any] = {}  # the last candidate child's confinement, as it describes itself
        self._live: SolutionChild | None = None
        self._timing: SolutionChild | None = None  # a judging's timing baseline child, started early (prepare_timing)
        self._baseline_load_s = 0.0  # the baseline's load_pipeline seconds where it loaded in this session
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> MeasuringSession:
        if self.plan is not None:  # a search: the baseline is loaded now and its images are there from the start
            self.baseline_images(self.plan.quality)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # ---- children ---------------------------------------------------------------------------------------------
    def _child(self, name: str, time_limits: TimeLimits | None = None, hidden: bool = False) -> SolutionChild:
        work = self.folder / name
        shutil.rmtree(work, ignore_errors=True)
        hide = (self.cache_dir,) if hidden else ()  # no candidate reads the baseline's images
        return SolutionChild(work, self.profile, self.limits, hide, time_limits)

    def load(self, child: SolutionChild, source: str, filename: str = SOLUTION_FILE) -> dict[str, Any]:
        """Load a candidate module in its `child` (started): the worker's answer; SolutionError when it does not
        load. The session keeps the child's confinement as it describes itself once started."""
        self.sandbox = child.session.confinement.describe()
        answer = child.load(source, filename)
        self.inside_s += answer["load_seconds"]
        return answer

    def _load_baseline(self, child: SolutionChild) -> float:
        """Load the baseline in `child`: its load_pipeline seconds; RuntimeError when it does not load."""
        try:
            answer = child.load(self.baseline.code, BASELINE_FILE)
        except SolutionError as err:
            raise self._baseline_does_not_run(err) from None
        self.inside_s += answer["load_seconds"]
        return answer["load_seconds"]

    def _generate(self, child: SolutionChild, inp: EvalInput, name: str) -> tuple[dict[str, Any], float]:
        answer, waited = child.generate(inp, name)
        self.inside_s += waited
        return answer, waited

    def candidate(self, name: str = "candidate", time_limits: TimeLimits | None = None) -> SolutionChild:
        """A confined child for a candidate (a context manager), limited by the baseline's times by default."""
        limits = time_limits or (self.record.limits() if self.record is not None else None)
        return self._child(name, limits, hidden=True)

    def checked(
        self, child: SolutionChild, asked: Collection[str] = (), warnings: dict[str, str] | None = None
    ) -> TimedCall:
        """A candidate's generate() that fails as the judge fails it: a broken behaviour rule on a quality or timed
        call is a SolutionError; warm-up calls are not checked (a first call may compile kernels in side threads).
        Effect rules hold in full for the methods `asked`; another method that did nothing goes into `warnings`
        (its first warning per method). Every call's output must be of the task's kind (an image or a video)."""

        def call(inp: EvalInput, name: str) -> tuple[dict, float]:
            answer, waited = self._generate(child, inp, name)
            if (problem := self._output_kind_problem(answer)) is not None:
                raise SolutionError(problem)
            if not name.startswith(WARMUP):
                if (problem := behaviour_problem(answer, asked)) is not None:
                    raise SolutionError(problem)
                if warnings is not None:
                    found = behaviour_warnings(answer, asked).items()
                    warnings.update({k: w for k, w in found if k not in warnings})
            return answer, waited

        return call

    def _output_kind_problem(self, answer: dict[str, Any]) -> str | None:
        """A video where the task's outputs are images, or the reverse: the candidate's failure, found before
        anything compares its output with the baseline's."""
        video = self.baseline.conditioning.video
        for frames in answer.get("frames", []):
            if video and frames is None:
                return "rule output-kind: generate() returned an image; the task asks for videos (lists of frames)"
            if not video and frames is not None:
                return f"rule output-kind: generate() returned a video ({frames} frames); the task asks for images"
        return None

    # ---- the baseline -----------------------------------------------------------------------------------------
    def _baseline_does_not_run(self, err: SolutionError) -> RuntimeError:
        return RuntimeError(f"the task's baseline does not run: {err}")

    def _live_baseline(self) -> SolutionChild:
        """The live baseline child, started and loaded on first use."""
        if self._live is None:
            child = self._stack.enter_context(self._child("baseline"))
            self._baseline_load_s = self._load_baseline(child)
            self._live = child
        return self._live

    def _make_images(self, child: SolutionChild, folder: Path, inputs: list[EvalInput]) -> BaselineRecord:
        """The baseline's image for every input (its first call untimed) and its times, cached in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        paths, times = [], []
        for i, inp in enumerate(inputs):
            reply, _ = self._generate(child, inp, f"sample-{i}")
            shutil.copy(reply["images"][0], folder / f"sample-{i}-0.png")
            paths.append(folder / f"sample-{i}-0.png")
            times.append(reply["seconds"])
        calls = times[1:] or times  # the first call allocates (and on a GPU compiles kernels)
        record = BaselineRecord(paths, self._baseline_load_s, median(calls))
        record.save(folder)
        return record

    def baseline_images(self, inputs: list[EvalInput]) -> BaselineRecord:
        """The baseline's image for every input and its load and call seconds: from the cache, made on a miss (in
        the live child, or in a child of its own when the session keeps none)."""
        folder = self.cache_dir / baseline_key(self.baseline.code, self.profile, self.profile.device, inputs)
        record = cached_baseline(folder, len(inputs))
        if record is None:
            try:
                if self.live:
                    record = self._make_images(self._live_baseline(), folder, inputs)
                else:
                    with self._child("baseline") as child:
                        self._baseline_load_s = self._load_baseline(child)
                        record = self._make_images(child, folder, inputs)
            except SolutionError as err:
                raise self._baseline_does_not_run(err) from None
        elif self.live:
            self._live_baseline()
        self.record = record
        return record

    @property
    def baseline_s(self) -> float:
        """The baseline's median timed call so far (its cached call time before any candidate was timed)."""
        assert self.record is not None
        return median(self.baseline_times) if self.baseline_times else self.record.call_s

    def prepare_timing(self) -> None:
        """Start the timing baseline's child now, before the candidate's: the two children's process starts and
        imports then run at once (one core each) instead of one after the other (a judging's harness overhead
        fell from 5.3 s to 3.6 s on a 2-core EPYC, docs/benchmarks.md). The child only imports until `time()`
        loads the baseline in it, as it did when it started there, so the timing protocol is unchanged. A live
        session's baseline child is started already."""
        if not self.live and self._timing is None:
            child = self._child("baseline-timing")
            child.__enter__()
            self._timing = child
            self._stack.callback(self._drop_unused_timing)

    def _drop_unused_timing(self) -> None:
        """A timing child no timing took (the candidate failed first) is killed, not waited for."""
        if self._timing is not None:
            self._timing.session.close(ask_to_quit=False)
            self._timing = None

    # ---- quality and speed ------------------------------------------------------------------------------------
    def score(self, inputs: list[EvalInput], candidate_images: list[Path]) -> QualityScores:
        """The candidate's images against the baseline's for the same inputs (baseline_images first)."""
        assert self.record is not None
        return score_quality(
            self.profile, self.baseline.model_id, self.profile.device, inputs, self.record.images, candidate_images
        )

    def time(self, candidate: TimedCall, plan: InputPlan) -> Timings:
        """The protocol's interleaved timing of `candidate` against the baseline: the live child, or one started
        and loaded for this timing."""

        def timed(child: SolutionChild) -> TimedCall:
            def call(inp: EvalInput, name: str) -> tuple[dict, float]:
                answer, waited = self._generate(child, inp, name)
                self.baseline_times.append(answer["seconds"])
                return answer, waited

            return call

        if self.live:
            return interleave(timed(self._live_baseline()), candidate, plan)
        self.prepare_timing()
        child, self._timing = self._timing, None  # each timing its own freshly started baseline child
        assert child is not None
        try:
            self._load_baseline(child)
            return interleave(timed(child), candidate, plan)
        finally:
            child.__exit__(None, None, None)

    # ---- a search's measurement -------------------------------------------------------------------------------
    def fresh_timing(self, seed: int, protocol: ProtocolSizes) -> InputPlan:
        """This search's quality inputs (the baseline's images are made for them) with warm-ups and timing rounds
        drawn afresh from `seed` at `protocol`'s timing size, as the judge draws secret ones for every judging."""
        assert self.plan is not None
        fresh = draw_plan(self.baseline.conditioning, protocol, seed, self.profile.device)
        return InputPlan(self.plan.quality, fresh.warmups, fresh.rounds)

    def measure(
        self, source: str, name: str, plan: InputPlan | None = None, asked: Collection[str] = ()
    ) -> Measurement:
        """L and U of one candidate module on the search's quality inputs, timed on `plan`'s rounds (else the
        search's); raises SolutionError when it does not run or breaks a rule. `asked`: the methods the task or
        the user asked for, whose effect rules hold in full."""
        assert self.plan is not None and self.record is not None, "a search session (search_session), entered"
        plan = plan or self.plan
        with self.candidate(name) as child:
            self.load(child, source)
            warnings: dict[str, str] = {}
            call = self.checked(child, asked, warnings)
            images = [Path(call(inp, f"sample-{i}")[0]["images"][0]) for i, inp in enumerate(self.plan.quality)]
            quality = self.score(self.plan.quality, images)
            timings = self.time(call, plan)
        shutil.rmtree(self.folder / name, ignore_errors=True)
        return Measurement(
            loss=quality.loss, speedup=timings.speedup, latency_s=timings.latency_s, baseline_s=timings.baseline_s,
            mean_psnr_db=quality.mean_psnr_db, warnings=list(warnings.values()), warmup_s=child.warmup_s,
        )  # fmt: skip


def search_session(
    folder: Path, profile: Profile, baseline: TaskBaseline, protocol: ProtocolSizes, seed: int,
    limits: Limits | None = None,
) -> MeasuringSession:  # fmt: skip
    """A search's session (calibration, the agent): its inputs drawn from `seed`, the baseline in one live child.
    The folder is emptied first: a search's children work there."""
    shutil.rmtree(folder, ignore_errors=True)
    plan = draw_plan(baseline.conditioning, protocol, seed, profile.device)
    return MeasuringSession(folder, profile, baseline, limits, live=True, plan=plan)


__all__ = ["BASELINE_FILE", "SOLUTION_FILE", "MeasuringSession", "TaskBaseline", "search_session"]
