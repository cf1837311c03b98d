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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from diffbench.errors import DiffbenchError
from diffbench.images import psnr, ssim

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


@dataclass(frozen=True)
class PairFidelity:
    """How close one image is to the baseline's for the same input, before any scale."""

    psnr_db: float  # inf where identical
    ssim: float


def pair_fidelity(baseline: Image.Image, candidate: Image.Image) -> PairFidelity:
    """PSNR and SSIM of one pair (images.py's metrics): what the methods check and the stand-ins' fidelity ladder
    report; the judge maps the PSNR through the checkpoint's scale (`fidelity`)."""
    return PairFidelity(psnr(baseline, candidate), ssim(baseline, candidate))


def fidelity(baseline: Image.Image, candidate: Image.Image, scale: FidelityScale) -> tuple[float, float]:
    """(PSNR in dB, score) of a candidate image against the baseline's image for the same input."""
    value = psnr(baseline, candidate)
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

    def score(self, image: Image.Image, text: str) -> float:
        return 100.0 * max(self.cosine(image, text), 0.0)


@cache
def clip_scorer(model_id: str, device: str) -> Any:
    return ClipScorer(model_id, device)
