"""Build a composed solution module in-process (trusted project templates only) and run it once."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from diffbench.evaluation.observers import Observers
from diffbench.evaluation.trace import TRACER
from diffbench.images import synthetic_photo
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.models.families import FAMILIES, Conditioning
from diffbench.models.loading import default_resolution, default_video_shape
from diffbench.models.profiles import Profile
from diffbench.solution_module import write_and_import

_counter = itertools.count()


def default_conditioning(family: str) -> Conditioning:
    return FAMILIES[family].plain_conditioning


def build(
    profile: Profile,
    tmp: Path,
    family: str,
    methods: list[tuple[str, dict]],
    steps: int = 2,
    run: bool = True,
    allow_conflicts: bool = False,
    traced: bool = False,
    replace: tuple[str, str] | None = None,
) -> Any:
    """The built pipeline (after one call when `run`); with `traced`, (pipeline, what the call's trace showed:
    the judge worker's observers' report). `replace` edits the composed source (old, new) before it is imported."""
    kb = load_knowledge()
    model_id = FAMILIES[family].default.id
    conditioning = default_conditioning(family)
    video: dict[str, int] = {}
    if conditioning.video:  # the stand-in's frame size and count
        width, resolution, frames = default_video_shape(model_id, profile)
        video = {"width": width, "frames": frames}
    else:
        resolution = default_resolution(model_id, profile)
    applied = [Applied(k, p) for k, p in methods]
    source = compose(kb, model_id, conditioning, resolution, steps, applied, allow_conflicts=allow_conflicts, **video)
    if replace is not None:
        assert replace[0] in source, replace
        source = source.replace(*replace)
    module = write_and_import(source, tmp / f"solution_{next(_counter)}.py")
    if traced:
        TRACER.install()
    pipe = module.load_pipeline("cpu")
    observers = Observers(pipe) if traced else None
    if observers is not None:
        observers.reset()
    if run:
        request = {"seed": 0, "prompt": "a red car", "class_label": 207, "image": synthetic_photo(resolution)}
        module.generate(pipe, request)
    return (pipe, observers.report()) if observers is not None else pipe
