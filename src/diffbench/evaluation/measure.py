"""The one measurement protocol: how the judge, calibration, the agent and the methods check measure L and U.

- **Inputs.** Quality inputs, untimed warm-ups and timing rounds are drawn from one seed by `draw_plan` (the judge
  draws a secret seed; calibration and the agent use their fixed seeds, below).
- **Time limits.** A candidate's limits scale with its baseline's measured load and call times (`TimeLimits`):
  a multiple of each, with a floor; its first call, the warm-up where compilation happens, gets the compile budget.
- **Baseline images.** Made once per (baseline code, profile, device, inputs) and cached with the baseline's load
  and call times (`baseline_record`).
- **Quality.** Fidelity to the baseline on stand-ins, CLIP score on real weights (`score_quality`); L is the
  paper's equation 1 over the same inputs.
- **Speed.** Baseline and candidate, each live in its own child, after untimed warm-up calls, alternate call by
  call on fresh inputs, the order swapping every input (`interleave`). U is the paper's equation 2, a ratio of
  means, taken over each timing input's median across rounds (`timed_speedup`): the median keeps one call that
  the machine interrupted from moving the mean (docs/evaluation.md). Latency is the median candidate call.

`LiveBaseline` is this protocol for a search (calibration, the agent): the baseline stays in one live child for
the whole search and every candidate is measured against it as the judge measures one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean, median

from PIL import Image

from diffbench.evaluation.behaviour import behaviour_problem, behaviour_warnings
from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import EvalInput, draw_inputs
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.metrics import quality_loss, speedup
from diffbench.evaluation.quality import clip_scorer, fidelity, fidelity_scale
from diffbench.models.device import is_cuda
from diffbench.models.families import QUALITY_MODEL_ID, Conditioning
from diffbench.models.profiles import Profile, diffbench_home
from diffbench.sandbox.confinement import Limits

# The seeds of the fixed draws: calibration's validation inputs and the agent's own (the judge's are secret).
CALIBRATION_SEED = 5
AGENT_SEED = 7321
SMOKE_SEED = 20241  # the agent's quick run of a module before it is measured
WARMUP_SEED_OFFSET = 1
WARMUP = "warmup-"  # interleave's warm-up calls: the judge does not hold them to the behaviour rules (a first
# call may compile kernels in side threads), so no measurement does
TIMING_SEED_OFFSET = 100


@dataclass(frozen=True)
class ProtocolSizes:
    """The sizes of one measurement: quality inputs, timing inputs per round, rounds, warm-up calls per child."""

    samples: int = 10  # quality inputs (the paper's 10)
    timing_inputs: int = 3
    repetitions: int = 3
    warmup_calls: int | None = None  # None: 1 on a CPU, 2 on a GPU (first calls allocate and autotune)

    def warmups(self, device: str) -> int:
        return self.warmup_calls if self.warmup_calls is not None else (2 if is_cuda(device) else 1)


@dataclass(frozen=True)
class InputPlan:
    quality: list[EvalInput]
    warmups: list[EvalInput]
    rounds: list[list[EvalInput]]


def _offset(seed: int | None, by: int) -> int | None:
    return None if seed is None else seed + by


def draw_plan(
    conditioning: Conditioning, protocol: ProtocolSizes, seed: int | None, device: str, prompts: list[str] | None = None
) -> InputPlan:
    """Every input one measurement uses, drawn from `seed` (None: a secret draw)."""
    quality = draw_inputs(conditioning, max(3, protocol.samples), seed, prompts)[: protocol.samples]
    n_warm = protocol.warmups(device)
    warm = draw_inputs(conditioning, max(3, n_warm), _offset(seed, WARMUP_SEED_OFFSET), prompts)[:n_warm]
    n = protocol.timing_inputs
    rounds = [
        draw_inputs(conditioning, max(3, n), _offset(seed, TIMING_SEED_OFFSET + rep), prompts)[:n]
        for rep in range(protocol.repetitions)
    ]
    return InputPlan(quality, warm, rounds)


@dataclass(frozen=True)
class BaselineRecord:
    """The baseline's image for every quality input, and its measured load and median call seconds."""

    images: list[Path]
    load_s: float
    call_s: float
    inside_s: float = 0.0  # seconds inside the baseline's load and calls when made now (0 when cached)

    def limits(self, call_override_s: float | None = None) -> TimeLimits:
        return TimeLimits.from_baseline(self.load_s, self.call_s, call_override_s)


def baseline_cache_dir(profile: Profile) -> Path:
    return (diffbench_home() / "cache" / "baselines" / profile.name).resolve()


def baseline_key(baseline_code: str, profile: Profile, device: str, inputs: list[EvalInput]) -> str:
    blob = json.dumps([baseline_code, profile.name, device, [i.key() for i in inputs]])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cached_baseline(folder: Path, count: int) -> BaselineRecord | None:
    paths = [folder / f"sample-{i}-0.png" for i in range(count)]
    meta = folder / "times.json"
    if not (meta.is_file() and all(p.is_file() for p in paths)):
        return None
    times = json.loads(meta.read_text())
    return BaselineRecord(paths, times["load_s"], times["call_s"])


def make_baseline(child: SolutionChild, folder: Path, baseline_code: str, inputs: list[EvalInput]) -> BaselineRecord:
    """Load the baseline in `child` and make its image for every input (first call untimed); cache them."""
    answer = child.load(baseline_code, "baseline.py")
    folder.mkdir(parents=True, exist_ok=True)
    paths, times, inside = [], [], answer["load_seconds"]
    for i, inp in enumerate(inputs):
        reply, waited = child.generate(inp, f"sample-{i}")
        inside += waited
        shutil.copy(reply["images"][0], folder / f"sample-{i}-0.png")
        paths.append(folder / f"sample-{i}-0.png")
        times.append(reply["seconds"])
    calls = times[1:] or times  # the first call allocates (and on a GPU compiles kernels)
    record = BaselineRecord(paths, answer["load_seconds"], median(calls), inside)
    (folder / "times.json").write_text(json.dumps({"load_s": record.load_s, "call_s": record.call_s}))
    return record


def baseline_in(child: SolutionChild, folder: Path, baseline_code: str, inputs: list[EvalInput]) -> BaselineRecord:
    """Load the baseline in `child`: its images and times from the cache in `folder`, made there on a miss."""
    record = cached_baseline(folder, len(inputs))
    if record is None:
        return make_baseline(child, folder, baseline_code, inputs)
    child.load(baseline_code, "baseline.py")
    return record


# ---- quality --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QualityScores:
    metric: str  # what scored: fidelity to the baseline, or CLIP
    scores: list[float]
    base_scores: list[float]  # empty where the baseline's images were not made (CLIP, levels 1-3)
    psnr_db: list[float] | None = None  # fidelity: each pair's PSNR (inf where identical)

    @property
    def loss(self) -> float:
        return quality_loss(self.base_scores, self.scores)

    @property
    def mean_psnr_db(self) -> float | None:
        finite = [p for p in self.psnr_db or [] if p != float("inf")]
        return fmean(finite) if finite else None


def score_quality(
    profile: Profile, model_id: str, device: str, inputs: list[EvalInput], baseline: list[Path] | None,
    candidate: list[Path],
) -> QualityScores:  # fmt: skip
    """The candidate's images scored, with the baseline's where made: fidelity to the baseline or CLIP score."""
    if profile.quality_metric == "fidelity":
        if baseline is None:
            raise ValueError("fidelity needs the baseline's images")
        scale = fidelity_scale(model_id)
        pairs = [fidelity(Image.open(b), Image.open(c), scale) for b, c in zip(baseline, candidate, strict=True)]
        label = (
            f"fidelity to the baseline (PSNR, logistic midpoint {scale.midpoint_db:.1f} dB, "
            f"width {scale.width_db:.2f} dB; not CLIP)"
        )
        return QualityScores(label, [s for _, s in pairs], [1.0] * len(pairs), [p for p, _ in pairs])
    scorer = clip_scorer(QUALITY_MODEL_ID, device)
    texts = [i.text() for i in inputs]
    scores = [scorer.score(Image.open(c), t) for c, t in zip(candidate, texts, strict=True)]
    base = [scorer.score(Image.open(b), t) for b, t in zip(baseline, texts, strict=True)] if baseline else []
    return QualityScores(f"CLIP score ({QUALITY_MODEL_ID})", scores, base)


# ---- speed ----------------------------------------------------------------------------------------------------
def timed_speedup(base: list[list[float]], cand: list[list[float]]) -> float:
    """U (equation 2) over the timing inputs, each input's seconds taken as its median across rounds."""
    return speedup([median(t) for t in base], [median(t) for t in cand])


@dataclass
class Timings:
    """Per timing input, the baseline's and the candidate's seconds across rounds, and the waits around them."""

    base: list[list[float]]
    cand: list[list[float]]
    waited: list[float] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return timed_speedup(self.base, self.cand)

    @property
    def latency_s(self) -> float:
        return median([s for t in self.cand for s in t])

    @property
    def baseline_s(self) -> float:
        return median([s for t in self.base for s in t])


# A call in a child: (input, name) -> (the worker's answer, the seconds the parent waited).
Call = Callable[[EvalInput, str], tuple[dict, float]]


def interleave(baseline: Call, candidate: Call, plan: InputPlan) -> Timings:
    """Warm both children, then time them call by call, alternating which goes first on each input."""
    for k, warm in enumerate(plan.warmups):
        baseline(warm, f"{WARMUP}{k}")
        candidate(warm, f"{WARMUP}{k}")
    n = len(plan.rounds[0]) if plan.rounds else 0
    timings = Timings([[] for _ in range(n)], [[] for _ in range(n)])
    for rep, fresh in enumerate(plan.rounds):
        for i, inp in enumerate(fresh):
            order = [(baseline, timings.base), (candidate, timings.cand)]
            for call, sink in order if (rep + i) % 2 == 0 else order[::-1]:
                answer, waited = call(inp, f"timed-{rep}-{i}")
                sink[i].append(answer["seconds"])
                timings.waited.append(waited)
    return timings


# ---- a search's live baseline ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    loss: float
    speedup: float
    latency_s: float
    baseline_s: float
    mean_psnr_db: float | None = None
    warnings: list[str] = field(default_factory=list)  # methods not asked for that did nothing (behaviour.py)
    warmup_s: float | None = None  # the first call's wall seconds: compile time where the module compiles


def checked(child: SolutionChild, asked: Collection[str] = (), warnings: dict[str, str] | None = None) -> Call:
    """A candidate's generate() that fails as the judge fails it: a broken behaviour rule on a quality or timed
    call is a SolutionError; warm-up calls are not checked, as in the judge. Effect rules hold in full for the
    methods `asked`; another method that did nothing goes into `warnings` (behaviour.py)."""

    def call(inp: EvalInput, name: str) -> tuple[dict, float]:
        answer, waited = child.generate(inp, name)
        if not name.startswith(WARMUP):
            if (problem := behaviour_problem(answer, asked)) is not None:
                raise SolutionError(problem)
            if warnings is not None:
                warnings.update({k: w for k, w in behaviour_warnings(answer, asked).items() if k not in warnings})
        return answer, waited

    return call


class LiveBaseline:
    """A baseline in one live child for a whole search; each candidate measured against it by the protocol."""

    def __init__(
        self, folder: Path, profile: Profile, model_id: str, baseline_code: str, conditioning: Conditioning,
        protocol: ProtocolSizes, seed: int, device: str = "cpu", limits: Limits | None = None,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.profile = profile
        self.model_id = model_id
        self.baseline_code = baseline_code
        self.protocol = protocol
        self.device = device
        self.limits = limits or Limits()
        self.conditioning = conditioning
        self.plan = draw_plan(conditioning, protocol, seed, device)
        self.baseline_times: list[float] = []  # every timed baseline call of the search
        self._child: SolutionChild | None = None
        self.record: BaselineRecord | None = None

    def __enter__(self) -> LiveBaseline:
        shutil.rmtree(self.folder, ignore_errors=True)
        cache = baseline_cache_dir(self.profile) / baseline_key(
            self.baseline_code, self.profile, self.device, self.plan.quality
        )
        self._child = SolutionChild(self.folder / "baseline", self.profile, self.limits, device=self.device)
        self._child.__enter__()
        self.record = baseline_in(self._child, cache, self.baseline_code, self.plan.quality)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is not None:
            self._child.__exit__(*exc)

    @property
    def baseline_s(self) -> float:
        """The baseline's median timed call so far (its cached call time before any candidate ran)."""
        assert self.record is not None
        return median(self.baseline_times) if self.baseline_times else self.record.call_s

    @property
    def time_limits(self) -> TimeLimits:
        assert self.record is not None
        return self.record.limits()

    def _baseline_call(self, inp: EvalInput, name: str) -> tuple[dict, float]:
        assert self._child is not None
        answer, waited = self._child.generate(inp, name)
        self.baseline_times.append(answer["seconds"])
        return answer, waited

    def fresh_timing(self, seed: int, protocol: ProtocolSizes) -> InputPlan:
        """This search's quality inputs (the baseline's images are made for them) with warm-ups and timing rounds
        drawn afresh from `seed` at `protocol`'s timing size, as the judge draws secret ones for every judging."""
        fresh = draw_plan(self.conditioning, protocol, seed, self.device)
        return InputPlan(self.plan.quality, fresh.warmups, fresh.rounds)

    def measure(
        self, source: str, name: str, plan: InputPlan | None = None, asked: Collection[str] = ()
    ) -> Measurement:
        """L and U of one candidate module (timed on `plan`'s rounds, else the search's); raises SolutionError when
        it does not run or breaks a rule. `asked`: the methods the task or the user asked for, whose effect rules
        hold in full."""
        assert self.record is not None
        plan = plan or self.plan
        work = self.folder / name
        shutil.rmtree(work, ignore_errors=True)
        hidden = (baseline_cache_dir(self.profile),)  # as in the judge: no candidate reads the baseline's images
        with SolutionChild(work, self.profile, self.limits, hidden, self.device, self.time_limits) as child:
            child.load(source)
            warnings: dict[str, str] = {}
            call = checked(child, asked, warnings)
            images = [Path(call(inp, f"sample-{i}")[0]["images"][0]) for i, inp in enumerate(self.plan.quality)]
            quality = score_quality(
                self.profile, self.model_id, self.device, self.plan.quality, self.record.images, images
            )
            timings = interleave(self._baseline_call, call, plan)
        shutil.rmtree(work, ignore_errors=True)
        return Measurement(
            loss=quality.loss, speedup=timings.speedup, latency_s=timings.latency_s, baseline_s=timings.baseline_s,
            mean_psnr_db=quality.mean_psnr_db, warnings=list(warnings.values()), warmup_s=child.warmup_s,
        )  # fmt: skip


__all__ = [
    "AGENT_SEED", "CALIBRATION_SEED", "SMOKE_SEED", "InputPlan", "LiveBaseline", "Measurement", "ProtocolSizes",
    "QualityScores", "SolutionError", "TimeLimits", "Timings", "draw_plan", "interleave", "quality_loss",
    "score_quality", "speedup", "timed_speedup",
]  # fmt: skip
