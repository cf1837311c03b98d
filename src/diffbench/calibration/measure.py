"""Measuring one configuration against its baseline: quality loss L and speedup U (not yet the judge's timing
protocol, which interleaves two live children; issue 16 unifies them).

The baseline runs in one confined child for the whole search of its pipeline: its images for the validation
inputs are made once, and it is timed again after every trial, so baseline and candidate times interleave and a
drift of the machine shows in both. Each trial's candidate runs in a fresh confined child: one warm-up call, then
one call per validation input, whose images give L and whose times give U and the latency. A call that breaks
one of the judge's behaviour rules (work left running, a method that took no effect) fails the candidate, as the
judge would.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, median

from PIL import Image

from diffbench.evaluation.behaviour import behaviour_problem
from diffbench.evaluation.child import SolutionChild, SolutionError
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.metrics import quality_loss
from diffbench.evaluation.quality import clip_scorer, fidelity, fidelity_scale
from diffbench.models.families import QUALITY_MODEL_ID
from diffbench.models.profiles import Profile


@dataclass(frozen=True)
class Measurement:
    loss: float
    speedup: float
    latency_s: float
    baseline_s: float
    mean_psnr_db: float | None = None


class Bench:
    """One baseline pipeline under calibration: its child, its images, its running list of call times."""

    def __init__(
        self,
        folder: Path,
        profile: Profile,
        model_id: str,
        baseline_code: str,
        inputs: list[EvalInput],
        warmup: EvalInput,
        device: str = "cpu",
    ) -> None:
        self.folder = folder
        self.profile = profile
        self.model_id = model_id
        self.inputs = inputs
        self.warmup = warmup
        self.device = device
        self.baseline_code = baseline_code
        self.baseline_times: list[float] = []
        self.baseline_images: list[Path] = []
        self._child: SolutionChild | None = None
        self._next = 0

    def __enter__(self) -> Bench:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._child = SolutionChild(self.folder / "baseline", self.profile, device=self.device).__enter__()
        self._child.load(self.baseline_code, "baseline.py")
        self._child.generate(self.warmup, "warmup")
        for i, inp in enumerate(self.inputs):
            answer, _ = self._child.generate(inp, f"sample-{i}")
            self.baseline_images.append(Path(answer["images"][0]))
            self.baseline_times.append(answer["seconds"])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is not None:
            self._child.__exit__(*exc)

    def time_baseline_once(self) -> None:
        assert self._child is not None
        inp = self.inputs[self._next % len(self.inputs)]
        self._next += 1
        answer, _ = self._child.generate(inp, "timing")
        self.baseline_times.append(answer["seconds"])

    def measure(self, source: str, name: str) -> Measurement:
        """L and U of one candidate module; raises SolutionError when it does not run."""
        work = self.folder / name
        shutil.rmtree(work, ignore_errors=True)
        images: list[Path] = []
        times: list[float] = []
        with SolutionChild(work, self.profile, device=self.device) as child:
            child.load(source)
            child.generate(self.warmup, "warmup")
            for i, inp in enumerate(self.inputs):
                answer, _ = child.generate(inp, f"sample-{i}")
                if (problem := behaviour_problem(answer)) is not None:  # what the judge would reject it for
                    raise SolutionError(problem)
                images.append(Path(answer["images"][0]))
                times.append(answer["seconds"])
        self.time_baseline_once()
        loss, psnr_db = self._loss(images)
        shutil.rmtree(work, ignore_errors=True)
        base = median(self.baseline_times)
        cand = median(times)
        return Measurement(loss=loss, speedup=base / cand, latency_s=cand, baseline_s=base, mean_psnr_db=psnr_db)

    def _loss(self, images: list[Path]) -> tuple[float, float | None]:
        pairs = list(zip(self.baseline_images, images, strict=True))
        if self.profile.quality_metric == "fidelity":
            scale = fidelity_scale(self.model_id)
            results = [fidelity(Image.open(b), Image.open(c), scale) for b, c in pairs]
            finite = [p for p, _ in results if p != float("inf")]
            return quality_loss([1.0] * len(results), [s for _, s in results]), (fmean(finite) if finite else None)
        scorer = clip_scorer(QUALITY_MODEL_ID, self.device)
        texts = [i.prompt or f"a photo of class {i.class_label}" for i in self.inputs]
        base = [scorer.score(Image.open(b), t) for (b, _), t in zip(pairs, texts, strict=True)]
        cand = [scorer.score(Image.open(c), t) for (_, c), t in zip(pairs, texts, strict=True)]
        return quality_loss(base, cand), None


__all__ = ["Bench", "Measurement", "SolutionError"]
