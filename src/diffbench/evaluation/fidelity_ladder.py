"""The fidelity ladder: does fidelity to the 50-step output fall steadily as settings get more aggressive?

This is the property that makes the damped stand-ins usable as a quality signal in the `tiny-cpu` profile.
Measured on SD1.5 (DDIM, 50 steps as the reference): fewer DDIM steps, and DeepCache at growing intervals.
Runs in the calling process, which must have activated the profile (`diffbench.models.loading.activate`).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from diffbench.evaluation.quality import pair_fidelity
from diffbench.models.families import SD15, Conditioning
from diffbench.models.loading import default_resolution, generation_kwargs, load_pipeline
from diffbench.models.profiles import Profile

LADDER_PROMPTS = (
    "a photo of a red car parked on a city street",
    "two dogs playing in the snow",
    "a bowl of fruit on a wooden table",
)
DDIM_STEPS = (40, 30, 20, 10)
DEEPCACHE_INTERVALS = (2, 3, 5, 10)


@dataclass(frozen=True)
class Rung:
    setting: str
    psnr_db: float
    ssim: float


def ladder(profile: Profile, prompts: Sequence[str] = LADDER_PROMPTS) -> dict[str, list[Rung]]:
    """Mean PSNR/SSIM against DDIM-50 over `prompts` (seed i for prompt i), for each rung of both ladders."""
    from DeepCache import DeepCacheSDHelper
    from diffusers import DDIMScheduler

    model_id = SD15.default.id
    pipe = load_pipeline(model_id, Conditioning.TEXT, profile)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    resolution = default_resolution(model_id, profile)

    def images(steps: int) -> list[Any]:
        return [
            pipe(**generation_kwargs(model_id, Conditioning.TEXT, resolution, steps, seed, prompt=p)).images[0]
            for seed, p in enumerate(prompts)
        ]

    reference = images(50)

    def rung(setting: str, run: Callable[[], list[Any]]) -> Rung:
        pairs = [pair_fidelity(r, g) for r, g in zip(reference, run(), strict=True)]
        return Rung(setting, statistics.mean(p.psnr_db for p in pairs), statistics.mean(p.ssim for p in pairs))

    steps = [rung(f"DDIM {s} steps", lambda s=s: images(s)) for s in DDIM_STEPS]
    helper = DeepCacheSDHelper(pipe=pipe)
    caching = []
    for interval in DEEPCACHE_INTERVALS:
        helper.set_params(cache_interval=interval, cache_branch_id=0)
        helper.enable()
        try:
            caching.append(rung(f"DeepCache interval {interval}", lambda: images(50)))
        finally:
            helper.disable()
    return {"ddim_steps": steps, "deepcache_interval": caching}


def strictly_decreasing(rungs: Sequence[Rung]) -> bool:
    return all(a.psnr_db > b.psnr_db for a, b in itertools.pairwise(rungs))
