"""Composing solution modules: a family's plain pipeline plus the knowledge base's method templates.

A method template (`methods/<key>/templates/*.py.j2`) is Jinja rendered with the method's parameters and
the target's facts, then split into sections marked by lines `#: <section>`:
    imports      import lines (a line two methods share is written once)
    helpers      module-level definitions (functions a method's code calls), after the constants
    load_kwargs  keyword arguments for `from_pretrained`, one per line (`dtype=torch.float16,`)
    after_load   statements run after the pipeline is built and moved; `pipe` is in scope and may be rebound
    call         what is called instead of `pipe` (e.g. `pipe.tgate`)
    call_kwargs  keyword arguments added to that call, one per line
    before_call  statements in `generate` before the call (a line two methods share is written once)
    call_context a context manager the call runs inside (`sdpa_kernel(SDPBackend.MATH)`), one at most
A parameter named `num_inference_steps` sets the module's step count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from diffbench.knowledge.loader import KnowledgeBase, KnowledgeError
from diffbench.knowledge.schedulers import SchedulerSpec
from diffbench.models.families import SECOND_EXPERT, Conditioning, checkpoint, family_of

SECTIONS = ("imports", "helpers", "load_kwargs", "after_load", "call", "call_kwargs", "before_call", "call_context")
SHARED = ("imports", "before_call")  # sections whose repeated lines are written once
_MARKER = re.compile(r"^#:\s*(\w+)\s*$")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
_SKELETON = Path(__file__).with_name("solution.py.j2")


@dataclass(frozen=True)
class Applied:
    """One method as applied: its key and fully resolved parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def render_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {name: [] for name in SECTIONS}
    current: str | None = None
    for line in text.splitlines():
        if m := _MARKER.match(line):
            if m.group(1) not in sections:
                raise KnowledgeError(f"unknown template section {m.group(1)!r}; expected one of {SECTIONS}")
            current = m.group(1)
        elif current is not None and (line.strip() or current == "helpers"):
            sections[current].append(line.rstrip())
        elif line.strip() and not line.lstrip().startswith("#"):
            raise KnowledgeError(f"template line outside any section: {line!r}")
    return sections


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def compose(
    kb: KnowledgeBase,
    model_id: str,
    conditioning: Conditioning,
    resolution: int,
    steps: int,
    methods: list[Applied] | None = None,
    title: str | None = None,
    allow_conflicts: bool = False,
    scheduler: SchedulerSpec | None = None,
    strength: float | None = None,
    guidance_scale: float | None = None,
    width: int | None = None,
    frames: int | None = None,
) -> str:
    """The source of a solution module for `model_id` with `methods` applied in order.

    `scheduler` installs any diffusers scheduler first (a user's own pipeline's; the knowledge base's samplers are
    methods), `strength` (image-to-image, default 0.75) and `guidance_scale` (default: the model card's where the
    registry records one, FLUX.1, SD3.5 and Qwen-Image (its true_cfg_scale), else the pipeline's) are the
    call's. A video module (Wan) makes `frames` frames of `width` x `resolution` and returns them as PIL frame lists.
    Declared conflicts are refused; `allow_conflicts` exists so tests can show what a conflict breaks."""
    conditioning = Conditioning(conditioning)  # callers may pass its string value
    fam = family_of(model_id)
    if conditioning not in fam.pipelines:
        raise KnowledgeError(f"{fam.display} has no {conditioning} pipeline")
    if conditioning.video != (frames is not None):
        raise KnowledgeError(f"a {conditioning} module needs {'its' if conditioning.video else 'no'} frame count")
    if guidance_scale is None and model_id != fam.controlnet_id:
        guidance_scale = checkpoint(model_id).guidance_scale  # the model card's, where the registry records one
    denoiser = "unet" if fam.backbone == "unet" else "transformer"
    # Wan 2.2 A14B's two experts: the pipeline calls the second below its boundary, so a method goes on both
    two_experts = model_id != fam.controlnet_id and checkpoint(model_id).boundary_ratio is not None
    facts = {
        "family": fam.key,
        "model_id": model_id,
        "conditioning": str(conditioning),
        "pipeline_class": fam.pipelines[conditioning],
        "denoiser": denoiser,
        "denoisers": [denoiser, SECOND_EXPERT] if two_experts else [denoiser],  # what a method goes on
        "resolution": resolution,
        "width": width or resolution,
        "frames": frames,
        "guidance_argument": fam.guidance_argument,
    }
    keys = [a.key for a in methods or []]
    for i, key in enumerate(keys):
        for other in keys[i + 1 :]:
            conflict = kb.method(key).conflicts_with(other) or kb.method(other).conflicts_with(key)
            if conflict and not allow_conflicts:
                raise KnowledgeError(f"methods {key!r} and {other!r} conflict: {conflict.reason}")
    merged: dict[str, list[str]] = {name: [] for name in SECTIONS}
    if scheduler is not None:
        merged["imports"], merged["after_load"] = scheduler.code()
    for applied in methods or []:
        method = kb.method(applied.key)
        params = method.resolve(applied.params, fam.key)
        if reason := method.why_unsupported(fam.key, str(conditioning), params):  # the family, or these settings
            raise KnowledgeError(f"method {applied.key!r} does not apply to {fam.display} {conditioning}: {reason}")
        steps = params.get("num_inference_steps", steps)
        template = _ENV.from_string(kb.template_path(applied.key, fam.key).read_text())
        for name, lines in render_sections(template.render(**facts, **params)).items():
            if name == "helpers" and lines:
                lines = ["", "", *_strip_blank(lines)]
            merged[name].extend(line for line in lines if name not in SHARED or line not in merged[name])
    if len(merged["call"]) > 1:
        raise KnowledgeError(f"two methods replace the pipeline call: {merged['call']}")
    if len(merged["call_context"]) > 1:
        raise KnowledgeError(f"two methods wrap the pipeline call: {merged['call_context']}")

    def block(name: str, indent: str) -> str:
        return "".join(f"{indent}{line}\n" for line in merged[name])

    load_kwargs = "".join(", " + line.strip().rstrip(",") for line in merged["load_kwargs"])
    return _ENV.from_string(_SKELETON.read_text()).render(
        **facts,
        title=title or f"{fam.display} {conditioning}",
        controlnet_id=fam.controlnet_id,
        steps=steps,
        imports=block("imports", ""),
        load_kwargs=load_kwargs,
        after_load=block("after_load", "    "),
        call=merged["call"][0].strip() if merged["call"] else "pipe",
        call_kwargs=block("call_kwargs", "        "),
        helpers="".join(f"{line}\n" for line in merged["helpers"]),
        before_call=block("before_call", "    "),
        call_context=merged["call_context"][0].strip() if merged["call_context"] else None,
        strength=0.75 if strength is None else strength,
        guidance_scale=guidance_scale,
    )
