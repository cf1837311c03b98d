"""Child side of `diffbench models check`: load one id under a profile, generate once per conditioning kind.

Run as `python -m diffbench.models.check_worker MODEL_ID --profile P --steps N --result FILE` with the
profile's environment (the parent sets it). Writes a JSON list of rows to FILE.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from diffbench.models.families import QUALITY_MODEL_ID, Conditioning, Family, family_of
from diffbench.models.profiles import Profile, get_profile


def targets(model_id: str) -> list[tuple[str, Conditioning]]:
    """(pipeline id, conditioning) pairs that exercise `model_id`: a ControlNet runs in its family's default."""
    fam: Family = family_of(model_id)
    if model_id == fam.controlnet_id:
        return [(fam.default.id, Conditioning.CANNY)]
    return [(model_id, c) for c in fam.conditionings if c is not Conditioning.CANNY]


def check_pipeline(model_id: str, profile: Profile, steps: int) -> list[dict[str, Any]]:
    import diffusers  # noqa: F401  (imported before the clock starts: "load s" is loading, not importing)

    from diffbench.images import synthetic_photo
    from diffbench.models.loading import default_resolution, default_video_shape, generation_kwargs, load_pipeline

    rows = []
    for pipeline_id, conditioning in targets(model_id):
        row: dict[str, Any] = {"id": model_id, "conditioning": str(conditioning)}
        start = time.perf_counter()
        pipe = load_pipeline(pipeline_id, conditioning, profile)
        row["load_s"] = time.perf_counter() - start
        width, frames = None, None
        if conditioning.video:
            width, resolution, frames = default_video_shape(pipeline_id, profile)
        else:
            resolution = default_resolution(pipeline_id, profile)
        kwargs = generation_kwargs(pipeline_id, conditioning, resolution, steps, seed=0,
                                   image=synthetic_photo(resolution), width=width, frames=frames)  # fmt: skip
        start = time.perf_counter()
        out = pipe(**kwargs)
        row["generate_s"] = time.perf_counter() - start
        if conditioning.video:  # WanPipeline: a batch of videos, each a (frames, height, width, 3) array in [0, 1]
            video = out.frames[0]
            row["image_size"], row["frames"] = [video.shape[2], video.shape[1]], video.shape[0]
        else:
            row["image_size"] = list(out.images[0].size)
        row["ok"] = True
        rows.append(row)
    return rows


def check_quality_model(profile: Profile) -> list[dict[str, Any]]:
    """Load the CLIP quality model and score one image against one caption (random weights in tiny-cpu)."""
    import torch
    from transformers import CLIPModel, CLIPProcessor  # imported before the clock starts

    from diffbench.images import synthetic_photo
    from diffbench.models.loading import ModelNotAvailableError, require

    require(QUALITY_MODEL_ID, profile)
    start = time.perf_counter()
    try:
        model = CLIPModel.from_pretrained(QUALITY_MODEL_ID).eval()
        processor = CLIPProcessor.from_pretrained(QUALITY_MODEL_ID)
    except OSError as err:
        raise ModelNotAvailableError(profile.missing_model_message(QUALITY_MODEL_ID)) from err
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    inputs = processor(text=["a photo of a field"], images=[synthetic_photo(256)], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model(**inputs)
    return [
        {
            "id": QUALITY_MODEL_ID,
            "conditioning": "quality model",
            "load_s": load_s,
            "generate_s": time.perf_counter() - start,
            "image_size": None,
            "clip_logit": float(out.logits_per_image[0, 0]),
            "ok": True,
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_id")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    profile = get_profile(args.profile, args.device)
    try:
        if args.model_id == QUALITY_MODEL_ID:
            rows = check_quality_model(profile)
        else:
            rows = check_pipeline(args.model_id, profile, args.steps)
    except Exception as err:  # reported as this id's row; the parent goes on with the next id
        rows = [{"id": args.model_id, "ok": False, "error": f"{type(err).__name__}: {err}"}]
    args.result.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
