"""Child side of `diffbench methods check`: one (method, family) pair against the family's plain baseline.

Run as `python -m diffbench.knowledge.check_worker METHOD FAMILY --profile P --steps N --reps R --result FILE`
with the profile's environment. Both solutions are composed from the knowledge base, loaded, warmed up, and
timed in interleaved repetitions on the same request; the method's image is compared with the baseline's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from diffbench.images import psnr, ssim, synthetic_photo
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.models.families import FAMILIES, Conditioning
from diffbench.models.loading import default_resolution
from diffbench.models.profiles import get_profile

WARMUP_STEPS = 3
PROMPT = "a photo of a red car parked on a city street"


def load_module(path: Path, source: str) -> ModuleType:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(module: ModuleType, pipe: Any, request: dict) -> tuple[float, Any]:
    start = time.perf_counter()
    images = module.generate(pipe, request)
    return time.perf_counter() - start, images[0]


def warm_up(module: ModuleType, pipe: Any, request: dict) -> None:
    steps = module.NUM_INFERENCE_STEPS
    module.NUM_INFERENCE_STEPS = min(steps, WARMUP_STEPS)  # compiles, allocates, fills caches
    try:
        module.generate(pipe, request)
    finally:
        module.NUM_INFERENCE_STEPS = steps


def check_pair(method_key: str, family_key: str, profile_name: str, steps: int, reps: int) -> dict[str, Any]:
    profile = get_profile(profile_name)
    kb = load_knowledge()
    method = kb.method(method_key)
    if method.check and method.check.cpu_steps and profile.device == "cpu":
        steps = method.check.cpu_steps
    fam = FAMILIES[family_key]
    model_id = fam.default.id
    conditioning = Conditioning.CLASS if Conditioning.CLASS in fam.pipelines else Conditioning.TEXT
    resolution = default_resolution(model_id, profile)
    baseline = load_module(Path("baseline.py"), compose(kb, model_id, conditioning, resolution, steps))
    accelerated = load_module(
        Path("accelerated.py"), compose(kb, model_id, conditioning, resolution, steps, [Applied(method_key)])
    )
    request = {"seed": 0, "prompt": PROMPT, "class_label": 207, "image": synthetic_photo(resolution)}
    base_pipe = baseline.load_pipeline(profile.device)
    acc_pipe = accelerated.load_pipeline(profile.device)
    warm_up(baseline, base_pipe, request)
    warm_up(accelerated, acc_pipe, request)
    base_times, acc_times = [], []
    for _ in range(reps):  # interleaved, so drift in machine speed hits both alike
        t, base_image = timed(baseline, base_pipe, request)
        base_times.append(t)
        t, acc_image = timed(accelerated, acc_pipe, request)
        acc_times.append(t)
    detected = kb.detect_all(acc_pipe)
    row = {
        "baseline_s": statistics.median(base_times),
        "method_s": statistics.median(acc_times),
        "speedup": statistics.median(base_times) / statistics.median(acc_times),
        "psnr_db": psnr(base_image, acc_image),
        "ssim": ssim(base_image, acc_image),
        "steps": steps,
        "method_steps": accelerated.NUM_INFERENCE_STEPS,
        "detected": detected.get(method_key),
        "ok": method_key in detected,
    }
    if not row["ok"]:
        row["error"] = f"the method's detector did not find it on the built pipeline (found {sorted(detected)})"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method")
    parser.add_argument("family")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    try:
        row = check_pair(args.method, args.family, args.profile, args.steps, args.reps)
    except Exception as err:  # reported as this pair's row; the parent goes on
        row = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    args.result.write_text(json.dumps(row))


if __name__ == "__main__":
    main()
