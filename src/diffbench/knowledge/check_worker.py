"""Child side of `diffbench methods check`: one family's method variants against its plain baseline.

Run as `python -m diffbench.knowledge.check_worker FAMILY --variants JSON --profile P --steps N --reps R
--result FILE` with the profile's environment. A variant is a method with parameters, e.g.
`{"label": "deepcache[cache_interval=5]", "method": "deepcache", "params": {"cache_interval": 5}}`.

Every solution is composed from the knowledge base, loaded and warmed up. The timed calls then go
round-robin (baseline, variant a, variant b, ..., repeated R times) on the same request, so drift in machine
speed hits all alike and the baseline is timed R times per family, not per variant. This is the judge's
protocol (evaluation/measure.py) reduced to one input and run in one process, so that a family's dozen methods
share one baseline: U is the protocol's `timed_speedup` over that input. A variant whose build or
call fails is reported and dropped; the others go on. A method with a CPU step hint (e.g. half precision) is
compared with a baseline at the same step count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from diffbench.evaluation.inputs import NEGATIVE_PROMPT
from diffbench.evaluation.measure import timed_speedup
from diffbench.evaluation.observers import Observers
from diffbench.evaluation.quality import pair_fidelity
from diffbench.evaluation.trace import TRACER
from diffbench.images import synthetic_photo
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.models.families import FAMILIES
from diffbench.models.loading import default_resolution, default_video_shape
from diffbench.models.profiles import Profile, get_profile
from diffbench.solution_module import write_and_import

WARMUP_STEPS = 3
PROMPT = "a photo of a red car parked on a city street"


class BuiltVariant:
    """One composed solution, built, with its timings and last image."""

    def __init__(self, name: str, source: str, device: str, request: dict) -> None:
        TRACER.install()
        self.module: ModuleType = write_and_import(source, Path(f"{name}.py"))
        self.pipe = self.module.load_pipeline(device)
        self.request = request
        self.times: list[float] = []
        self.image: Any = None
        self.detected: dict[str, Any] = {}
        # The warm-up call is traced as the judge's worker traces every call: methods chosen at call time (an
        # attention-kernel context, a guidance callback) are found only in a call's trace.
        observers = Observers(self.pipe)
        observers.reset()
        self._warm_up()
        self.traced_methods: dict[str, Any] = observers.report()["methods"]

    def _warm_up(self) -> None:
        steps = self.module.NUM_INFERENCE_STEPS
        self.module.NUM_INFERENCE_STEPS = min(steps, WARMUP_STEPS)  # compiles, allocates, fills caches
        try:
            self.module.generate(self.pipe, self.request)
        finally:
            self.module.NUM_INFERENCE_STEPS = steps

    def timed_call(self) -> None:
        start = time.perf_counter()
        images = self.module.generate(self.pipe, self.request)
        self.times.append(time.perf_counter() - start)
        self.image = images[0]
        # The detectors read the pipeline right after its own call, before another candidate runs: cache-dit
        # 1.5.3 wraps the pipeline *class*'s __call__, so a call of any other pipeline of that class resets the
        # per-call statistics it keeps on this pipeline's transformer (its cached steps read 0 afterwards).
        self.detected = {**self.traced_methods, **load_knowledge().detect_all(self.pipe)}

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)


def error_text(err: BaseException) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1]
    return f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})"


def baseline_steps(profile: Profile, method_key: str, steps: int) -> int:
    hints = load_knowledge().method(method_key).check
    return hints.cpu_steps if hints and hints.cpu_steps and profile.device == "cpu" else steps


def check_family(family_key: str, variants: list[dict], profile: Profile, steps: int, reps: int) -> list[dict]:
    kb = load_knowledge()
    fam = FAMILIES[family_key]
    model_id = fam.default.id
    conditioning = fam.plain_conditioning
    width = frames = None
    if conditioning.video:  # the stand-in's frame size and count (a real frame size, 5 frames)
        width, resolution, frames = default_video_shape(model_id, profile)
    else:
        resolution = default_resolution(model_id, profile)
    request = {
        "seed": 0,
        "prompt": PROMPT,
        "negative_prompt": NEGATIVE_PROMPT,
        "class_label": 207,
        "image": synthetic_photo(resolution),
    }

    def build(name: str, n_steps: int, applied: list[Applied]) -> BuiltVariant:
        source = compose(kb, model_id, conditioning, resolution, n_steps, applied, width=width, frames=frames)
        return BuiltVariant(name, source, profile.device, request)

    rows: dict[str, dict[str, Any]] = {}
    baselines: dict[int, BuiltVariant] = {}
    accelerated: dict[str, BuiltVariant] = {}
    for n, variant in enumerate(variants):
        label, key = variant["label"], variant["method"]
        params = kb.method(key).resolve(variant.get("params"), family_key)
        n_steps = baseline_steps(profile, key, steps)
        rows[label] = {"method": key, "variant": label, "params": params, "steps": n_steps}
        try:
            if n_steps not in baselines:
                baselines[n_steps] = build(f"baseline_{n_steps}", n_steps, [])
            accelerated[label] = build(f"variant_{n}", n_steps, [Applied(key, params)])
        except Exception as err:
            rows[label].update(ok=False, error=f"build or warm-up failed: {error_text(err)}")
    for _ in range(reps):
        for candidate in baselines.values():
            candidate.timed_call()
        for label, candidate in list(accelerated.items()):
            try:
                candidate.timed_call()
            except Exception as err:
                rows[label].update(ok=False, error=f"call failed: {error_text(err)}")
                del accelerated[label]
    for label, candidate in accelerated.items():
        row = rows[label]
        key = row["method"]
        base = baselines[row["steps"]]
        detected = candidate.detected
        pair = pair_fidelity(base.image, candidate.image)
        row.update(
            baseline_s=base.median_s,
            method_s=candidate.median_s,
            speedup=timed_speedup([base.times], [candidate.times]),  # one input, its median across rounds
            psnr_db=pair.psnr_db,
            ssim=pair.ssim,
            method_steps=candidate.module.NUM_INFERENCE_STEPS,
            detected=detected.get(key),
            ok=key in detected,
        )
        if key not in detected:
            row["error"] = f"the method's detector did not find it on the built pipeline (found {sorted(detected)})"
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("family")
    parser.add_argument("--variants", required=True, help="JSON list of {label, method, params}")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    profile = get_profile(args.profile, args.device)
    rows = check_family(args.family, json.loads(args.variants), profile, args.steps, args.reps)
    args.result.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
