"""Quality scores: CLIP score on real weights (`cuda`), fidelity to the baseline on stand-ins (`tiny-cpu`).

A stand-in's CLIP model has random weights, so under `tiny-cpu` quality is judged by how faithfully the
candidate reproduces the baseline's image for the same input, mapped to a score in [0, 1] (1: identical). It is
never called CLIP.

The mapping is a logistic in PSNR whose midpoint and width are set per checkpoint, because stand-ins differ in
how far their images move under the same acceleration (SDXL's loses 17 dB more than PixArt's at 5 steps). Each
checkpoint's scale is anchored on its own step ladder against the 50-step DDIM image: DDIM at 25 steps (real
models lose about nothing, ~1% CLIP score) scores L = 1%, DDIM at 5 steps (real models fall apart) scores
L = 30%; the flow-matching families (FLUX.1, SD3.5, Qwen-Image) are anchored the same way on their own sampler, half and
a tenth of the model card's steps against all of them. `scripts/measure_fidelity_scale.py` measures the
anchors and writes `data/fidelity_scale.json`;
docs/quality.md shows that under this mapping moderate methods stay well under 5% and over-acceleration lands
well over it.

A video (Wan) is scored on the same scale from one PSNR per video (`video_fidelity`): the frames' (their mean
squared error against the baseline's same frames, each frame's PSNR reported) or, where lower, the motion's (the
frame-to-frame changes against the baseline's), so a video whose frames are each close but flicker or freeze
scores as far as its motion is off. On `cuda` a video's CLIP score is the mean over its frames.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from diffbench.errors import DiffbenchError
from diffbench.images import Output, psnr, ssim

SCALE_FILE = Path(__file__).parent / "data" / "fidelity_scale.json"
# The anchors: (setting, the loss L it should score), both measured against DDIM at 50 steps.
ANCHORS = {"moderate": ("DDIM 25 steps", 0.01), "over": ("DDIM 5 steps", 0.30)}
# Absolute quality (stage 2) thresholds by profile: the mean score a candidate must reach.
ABSOLUTE_THRESHOLD = {"fidelity": 0.5, "clip-score": 20.0}


class MissingScaleError(DiffbenchError):
    pass


@dataclass(frozen=True)
class FidelityScale:
    """score = logistic((PSNR - midpoint) / width); identical images score 1."""

    midpoint_db: float
    width_db: float

    @classmethod
    def from_anchors(cls, moderate_db: float, over_db: float) -> FidelityScale:
        """The logistic through the two anchors: L(moderate_db) and L(over_db) as ANCHORS says."""
        if not moderate_db > over_db:
            raise ValueError(f"the moderate anchor ({moderate_db:.2f} dB) must be above the over one ({over_db:.2f})")
        z_moderate = _logit(1 - ANCHORS["moderate"][1])
        z_over = _logit(1 - ANCHORS["over"][1])
        width = (moderate_db - over_db) / (z_moderate - z_over)
        return cls(midpoint_db=moderate_db - z_moderate * width, width_db=width)

    def score(self, psnr_db: float) -> float:
        if math.isinf(psnr_db):
            return 1.0
        return 1.0 / (1.0 + math.exp(-(psnr_db - self.midpoint_db) / self.width_db))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@cache
def _scales() -> dict[str, Any]:
    if not SCALE_FILE.is_file():
        return {}
    return json.loads(SCALE_FILE.read_text())["checkpoints"]


def fidelity_scale(model_id: str) -> FidelityScale:
    entry = _scales().get(model_id)
    if entry is None:
        raise MissingScaleError(
            f"no fidelity scale for {model_id}; measure it with `.venv/bin/python scripts/measure_fidelity_scale.py`"
        )
    return FidelityScale(midpoint_db=entry["midpoint_db"], width_db=entry["width_db"])


# Where a candidate's frame errors are independent of each other, its frame-to-frame changes carry twice their
# power: the motion's PSNR is the frames' less 10*log10(2) dB. That much is added back, so the two read alike.
TEMPORAL_OFFSET_DB = 10 * math.log10(2)


def _db(mse: float) -> float:
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@dataclass(frozen=True)
class VideoFidelity:
    """How close a video is to the baseline's for the same input: per frame and in its motion."""

    frame_db: list[float]  # each frame's PSNR against the baseline's same frame (inf where identical)
    frames_db: float  # the PSNR of the frames' mean squared error
    temporal_db: float  # the PSNR of the frame-to-frame changes against the baseline's, + TEMPORAL_OFFSET_DB

    @property
    def psnr_db(self) -> float:
        """The video's PSNR: its frames', or its motion's where that is lower (flicker, frozen frames)."""
        return min(self.frames_db, self.temporal_db)


def video_fidelity(baseline: list[Image.Image], candidate: list[Image.Image]) -> VideoFidelity:
    if len(baseline) != len(candidate):
        raise ValueError(f"videos differ in frame count: {len(baseline)} vs {len(candidate)}")
    if any(b.size != c.size for b, c in zip(baseline, candidate, strict=True)):
        raise ValueError(f"videos differ in frame size: {baseline[0].size} vs {candidate[0].size}")
    base = np.stack([np.asarray(f.convert("RGB"), dtype=np.float64) for f in baseline])
    cand = np.stack([np.asarray(f.convert("RGB"), dtype=np.float64) for f in candidate])
    per_frame = ((base - cand) ** 2).mean(axis=(1, 2, 3))
    motion = (np.diff(base, axis=0) - np.diff(cand, axis=0)) ** 2
    temporal = _db(float(motion.mean())) + TEMPORAL_OFFSET_DB if len(baseline) > 1 else math.inf
    return VideoFidelity([_db(float(m)) for m in per_frame], _db(float(per_frame.mean())), temporal)


def output_psnr(baseline: Output, candidate: Output) -> float:
    """PSNR in dB of one output against the baseline's: an image's, or a video's (`VideoFidelity.psnr_db`)."""
    if isinstance(baseline, Image.Image) and isinstance(candidate, Image.Image):
        return psnr(baseline, candidate)
    if isinstance(baseline, list) and isinstance(candidate, list):
        return video_fidelity(baseline, candidate).psnr_db
    raise ValueError("one output is an image and the other a video")


@dataclass(frozen=True)
class PairFidelity:
    """How close one output is to the baseline's for the same input, before any scale."""

    psnr_db: float  # inf where identical
    ssim: float  # a video's: the mean over its frames


def pair_fidelity(baseline: Output, candidate: Output) -> PairFidelity:
    """PSNR and SSIM of one pair (images.py's metrics): what the methods check and the stand-ins' fidelity ladder
    report; the judge maps the PSNR through the checkpoint's scale (`fidelity`)."""
    if isinstance(baseline, list) and isinstance(candidate, list):
        pairs = zip(baseline, candidate, strict=False)  # output_psnr refuses unequal frame counts first
        return PairFidelity(output_psnr(baseline, candidate), float(np.mean([ssim(b, c) for b, c in pairs])))
    return PairFidelity(output_psnr(baseline, candidate), ssim(baseline, candidate))  # type: ignore[arg-type]


def fidelity(baseline: Output, candidate: Output, scale: FidelityScale) -> tuple[float, float]:
    """(PSNR in dB, score) of a candidate's output against the baseline's output for the same input."""
    value = output_psnr(baseline, candidate)
    return value, scale.score(value)


class ClipScorer:
    """CLIP score as torchmetrics defines it, 100 * max(cos(image, text), 0), with transformers' CLIPModel
    (torchmetrics' own CLIPScore breaks on transformers 5)."""

    def __init__(self, model_id: str, device: str = "cpu") -> None:
        import torch
        from transformers import CLIPModel, CLIPProcessor

        self.torch = torch
        self.device = device
        self.model = CLIPModel.from_pretrained(model_id).to(device).eval()
        self.processor = CLIPProcessor.from_pretrained(model_id)

    @staticmethod
    def _embedding(output: Any) -> Any:
        """transformers 5 returns an output object whose `pooler_output` is the projected embedding; 4.x a tensor."""
        return output if hasattr(output, "norm") else output.pooler_output

    def cosine(self, image: Image.Image, text: str) -> float:
        torch = self.torch
        inputs = self.processor(text=[text], images=[image], return_tensors="pt", padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.no_grad():
            image_emb = self._embedding(self.model.get_image_features(pixel_values=inputs["pixel_values"]))
            text_emb = self._embedding(
                self.model.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"))
            )
        image_emb = image_emb / image_emb.norm(dim=-1, keepdim=True)
        text_emb = text_emb / text_emb.norm(dim=-1, keepdim=True)
        return float((image_emb * text_emb).sum())

    def score(self, output: Output, text: str) -> float:
        """An image's CLIP score; a video's, the mean over its frames."""
        if isinstance(output, list):
            return float(np.mean([self.score(frame, text) for frame in output]))
        return 100.0 * max(self.cosine(output, text), 0.0)


@cache
def clip_scorer(model_id: str, device: str) -> Any:
    return ClipScorer(model_id, device)
