"""The one measurement protocol: how the judge, calibration, the agent and the methods check measure L and U.

- **Inputs.** Quality inputs, untimed warm-ups and timing rounds are drawn from one seed by `draw_plan` (the judge
  draws a secret seed; calibration and the agent use their fixed seeds, below).
- **Time limits.** A candidate's limits scale with its baseline's measured load and call times (`TimeLimits`):
  a multiple of each, with a floor; its first call, the warm-up where compilation happens, gets the compile budget.
- **Baseline images.** Made once per (baseline code, profile, device, inputs) and cached with the baseline's load
  and call times (`BaselineRecord`, `cached_baseline`).
- **Quality.** Fidelity to the baseline on stand-ins, CLIP score on real weights (`score_quality`); L is the
  paper's equation 1 over the same inputs.
- **Speed.** Baseline and candidate, each live in its own child, after untimed warm-up calls, alternate call by
  call on fresh inputs, the order swapping every input (`interleave`). U is the paper's equation 2, a ratio of
  means, taken over each timing input's median across rounds (`timed_speedup`): the median keeps one call that
  the machine interrupted from moving the mean (docs/evaluation.md). Latency is the median candidate call.

The measuring object that applies this protocol, for the judge and for the searches alike, is
`evaluation/measuring.py`'s `MeasuringSession`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean, median

from diffbench.evaluation.child import SolutionError
from diffbench.evaluation.inputs import EvalInput, draw_inputs
from diffbench.evaluation.limits import TimeLimits
from diffbench.evaluation.metrics import quality_loss, speedup
from diffbench.evaluation.quality import clip_scorer, fidelity, fidelity_scale, output_psnr
from diffbench.images import read_output
from diffbench.models.device import is_cuda
from diffbench.models.families import QUALITY_MODEL_ID, Conditioning
from diffbench.models.profiles import Profile, diffbench_home

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

    def save(self, folder: Path) -> None:
        """Its times beside its images in `folder` (cached_baseline reads them back)."""
        (folder / "times.json").write_text(json.dumps({"load_s": self.load_s, "call_s": self.call_s}))

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


# ---- quality --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QualityScores:
    metric: str  # what scored: fidelity to the baseline, or CLIP
    scores: list[float]
    base_scores: list[float]  # empty where the baseline's images were not made (CLIP, levels 1-3)
    psnr_db: list[float] | None = None  # each pair's PSNR (inf where identical): fidelity's, or beside a video's CLIP

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
    """The candidate's outputs (images or videos) scored, with the baseline's where made: fidelity to the baseline
    or CLIP score (a video's: the mean over its frames, each video's PSNR against the baseline's reported beside)."""
    if profile.quality_metric == "fidelity":
        if baseline is None:
            raise ValueError("fidelity needs the baseline's images")
        scale = fidelity_scale(model_id)
        pairs = [fidelity(read_output(b), read_output(c), scale) for b, c in zip(baseline, candidate, strict=True)]
        label = (
            f"fidelity to the baseline (PSNR, logistic midpoint {scale.midpoint_db:.1f} dB, "
            f"width {scale.width_db:.2f} dB; not CLIP)"
        )
        return QualityScores(label, [s for _, s in pairs], [1.0] * len(pairs), [p for p, _ in pairs])
    scorer = clip_scorer(QUALITY_MODEL_ID, device)
    texts = [i.text() for i in inputs]
    outputs = [read_output(c) for c in candidate]
    scores = [scorer.score(c, t) for c, t in zip(outputs, texts, strict=True)]
    if not baseline:
        return QualityScores(f"CLIP score ({QUALITY_MODEL_ID})", scores, [])
    base_outputs = [read_output(b) for b in baseline]
    base = [scorer.score(b, t) for b, t in zip(base_outputs, texts, strict=True)]
    videos = any(isinstance(c, list) for c in outputs)
    beside = [output_psnr(b, c) for b, c in zip(base_outputs, outputs, strict=True)] if videos else None
    label = f"CLIP score ({QUALITY_MODEL_ID}{', the mean over frames' if videos else ''})"
    return QualityScores(label, scores, base, beside)


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
TimedCall = Callable[[EvalInput, str], tuple[dict, float]]


def interleave(baseline: TimedCall, candidate: TimedCall, plan: InputPlan) -> Timings:
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


@dataclass(frozen=True)
class Measurement:
    """One candidate measured in a search (measuring.py `MeasuringSession.measure`)."""

    loss: float
    speedup: float
    latency_s: float
    baseline_s: float
    mean_psnr_db: float | None = None
    warnings: list[str] = field(default_factory=list)  # methods not asked for that did nothing (behaviour.py)
    warmup_s: float | None = None  # the first call's wall seconds: compile time where the module compiles


__all__ = [
    "AGENT_SEED", "CALIBRATION_SEED", "SMOKE_SEED", "InputPlan", "Measurement", "ProtocolSizes",
    "QualityScores", "SolutionError", "TimeLimits", "Timings", "draw_plan", "interleave", "quality_loss",
    "score_quality", "speedup", "timed_speedup",
]  # fmt: skip
