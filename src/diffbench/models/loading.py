"""Loading registry models under a profile, with errors that say what is missing and how to get it.

Processes that load models must run with `profile.env()` in their environment (set by the parent when it
spawns them, or by `activate(profile)` before huggingface_hub is imported), so that the unmodified
`XPipeline.from_pretrained(REAL_ID)` resolves to the profile's store, offline.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PIL import Image

from diffbench.errors import DiffbenchError
from diffbench.images import canny_edges
from diffbench.models.families import Conditioning, checkpoint, family_of
from diffbench.models.profiles import Profile


class ModelNotAvailableError(DiffbenchError, RuntimeError):
    """A model the code asked for is not in the profile's store."""


def activate(profile: Profile) -> None:
    """Point this process at the profile's store; must run before huggingface_hub is first imported."""
    if "huggingface_hub" in sys.modules and os.environ.get("HF_HUB_CACHE") != str(profile.hub_cache):
        raise RuntimeError(
            "activate(profile) must run before huggingface_hub (or diffusers/transformers) is imported: "
            "the hub reads its cache location once, at import"
        )
    os.environ.update(profile.env())


def require(model_id: str, profile: Profile) -> None:
    if not profile.store.has(model_id):
        raise ModelNotAvailableError(profile.missing_model_message(model_id))


def default_resolution(model_id: str, profile: Profile) -> int:
    """The resolution a model runs at by default under this profile (stand-ins are smaller than the real ones)."""
    if profile.builds_standins:
        from diffbench.models.standins.recipes import recipe

        resolution = recipe(model_id).resolution
        assert resolution is not None, f"{model_id} makes no images"
        return resolution
    return checkpoint(model_id).resolution


def default_video_shape(model_id: str, profile: Profile) -> tuple[int, int, int]:
    """A video model's default (width, height, frames) under this profile: the stand-in's (a real frame size, 5
    frames) or the model card's."""
    if profile.builds_standins:
        from diffbench.models.standins.recipes import recipe

        shape = recipe(model_id).video_shape
        assert shape is not None, f"{model_id} makes no video"
        return shape
    ck = checkpoint(model_id)
    assert ck.width is not None and ck.frames is not None, f"{model_id} makes no video"
    return ck.width, ck.resolution, ck.frames


def load_pipeline(model_id: str, conditioning: Conditioning, profile: Profile, dtype: str | None = None) -> Any:
    """The family's pipeline for `conditioning`, loaded with unmodified `from_pretrained(model_id)`."""
    import diffusers
    import torch

    fam = family_of(model_id)
    if conditioning not in fam.pipelines:
        raise ValueError(f"{fam.display} has no {conditioning} pipeline; it supports {', '.join(fam.pipelines)}")
    # The profile, not whatever this process's environment says, decides where models come from.
    common = {"dtype": getattr(torch, dtype or profile.dtype), "cache_dir": profile.hub_cache}
    extra: dict[str, Any] = {}
    try:
        require(model_id, profile)
        if conditioning is Conditioning.CANNY:
            assert fam.controlnet_id is not None
            require(fam.controlnet_id, profile)
            extra["controlnet"] = diffusers.ControlNetModel.from_pretrained(fam.controlnet_id, **common)
        pipeline_class = getattr(diffusers, fam.pipelines[conditioning])
        pipe = pipeline_class.from_pretrained(model_id, **common, **extra)
    except OSError as err:  # what the hub raises for a missing or incomplete snapshot
        raise ModelNotAvailableError(f"{profile.missing_model_message(model_id)} ({err.__class__.__name__})") from err
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(profile.device)


def generation_kwargs(
    model_id: str,
    conditioning: Conditioning,
    resolution: int,
    steps: int,
    seed: int,
    prompt: str = "a photo of a red car parked on a city street",
    image: Image.Image | None = None,
    class_label: int = 207,
    width: int | None = None,
    frames: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for one plain call of the family's pipeline (what a baseline solution does); a video
    call's frame is `width` x `resolution`, `frames` of them."""
    import torch

    kwargs: dict[str, Any] = {
        "num_inference_steps": steps,
        "generator": torch.Generator("cpu").manual_seed(seed),
    }
    fam = family_of(model_id)
    if conditioning is Conditioning.CLASS:
        return {**kwargs, "class_labels": [class_label]}
    kwargs["prompt"] = prompt
    if conditioning.video:
        assert width is not None and frames is not None, "a video call needs its width and frame count"
        kwargs.update(height=resolution, width=width, num_frames=frames)
        if conditioning is Conditioning.IMAGE_TO_VIDEO:
            assert image is not None, "image-to-video needs its first frame"
            kwargs["image"] = image.resize((width, resolution))
        return kwargs
    if conditioning is Conditioning.IMAGE:
        assert image is not None, "image-to-image needs an init image"
        return {**kwargs, "image": image.resize((resolution, resolution)), "strength": 0.75}
    kwargs.update(height=resolution, width=resolution)
    if conditioning is Conditioning.CANNY:
        assert image is not None, "ControlNet-canny needs a source photo"
        kwargs["image"] = canny_edges(image.resize((resolution, resolution)))
    if fam.key.startswith("pixart"):
        kwargs["clean_caption"] = False  # caption cleaning needs beautifulsoup4 and ftfy, and only warns without
    return kwargs
