"""`diffbench models build`: build every stand-in that is missing or whose recipe changed, with the weight
variants its real repository publishes."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from diffbench.errors import DiffbenchError
from diffbench.models.profiles import Profile
from diffbench.models.standins.recipes import RECIPES, recipe

# Weight variants the real repositories publish: SD1.5, SD2.1 and SDXL ship `*.fp16.safetensors` beside the
# full-precision files, and `from_pretrained(..., variant="fp16")` (in many published snippets) needs them. DiT,
# PixArt and the ControlNets here publish none. A variant is a copy of the same weights in another dtype, so it
# is not part of a stand-in's revision (the weights, and what was measured on them, do not change).
VARIANTS = {
    "stable-diffusion-v1-5/stable-diffusion-v1-5": ("fp16",),
    "stabilityai/stable-diffusion-2-1": ("fp16",),
    "stabilityai/stable-diffusion-2-1-base": ("fp16",),
    "stabilityai/stable-diffusion-xl-base-1.0": ("fp16",),
}
_VARIANT_DTYPES = {"fp16": "float16"}


def variant_files(folder: Path, variant: str) -> list[Path]:
    return sorted(folder.rglob(f"*.{variant}.safetensors"))


def add_variants(folder: Path, variants: Iterable[str]) -> None:
    """Save each variant's weight files into a stand-in's snapshot (its configs stay those of the full weights:
    transformers writes the dtype into config.json, which must keep saying float32)."""
    import torch
    from diffusers import DiffusionPipeline

    for variant in variants:
        if variant_files(folder, variant):
            continue
        pipe = DiffusionPipeline.from_pretrained(folder, torch_dtype=getattr(torch, _VARIANT_DTYPES[variant]))
        with tempfile.TemporaryDirectory() as tmp:
            pipe.save_pretrained(tmp, safe_serialization=True, variant=variant)
            for saved in variant_files(Path(tmp), variant):
                target = folder / saved.relative_to(tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(saved, target)


@dataclass(frozen=True)
class BuildOutcome:
    model_id: str
    status: Literal["built", "current"]
    seconds: float
    size_mib: float
    revision: str


def folder_size_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def build_standins(profile: Profile, force: bool = False, ids: Iterable[str] | None = None) -> list[BuildOutcome]:
    if not profile.builds_standins:
        raise DiffbenchError(
            f"profile {profile.name!r} uses real weights from {profile.hub_cache}; it has no stand-ins to build"
        )
    store = profile.store
    outcomes = []
    for model_id in ids if ids is not None else RECIPES:
        r = recipe(model_id)
        start = time.perf_counter()
        variants = VARIANTS.get(model_id, ())
        if force or not store.has(model_id, r.revision):
            folder = store.write(model_id, r.revision, lambda folder, r=r: r.build(folder, r.params))
            status: Literal["built", "current"] = "built"
        else:
            folder = store.snapshot_dir(model_id)
            status = "current"
        assert folder is not None
        if any(not variant_files(folder, v) for v in variants):
            add_variants(folder, variants)
            status = "built"
        outcomes.append(
            BuildOutcome(model_id, status, time.perf_counter() - start, folder_size_mib(folder), r.revision)
        )
    return outcomes
