"""Quality scores: CLIP score on real weights (`cuda`), fidelity to the baseline on stand-ins (`tiny-cpu`).

A stand-in's CLIP model has random weights, so under `tiny-cpu` quality is judged by how faithfully the
candidate reproduces the baseline's image for the same input, mapped to a score in [0, 1] (1: identical). The
mapping is chosen so that the relative loss L behaves as CLIP-score loss does on real models (docs/quality.md
holds the measurements behind it); it is never called CLIP.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from PIL import Image

from diffbench.images import psnr

# Fidelity score: a logistic in PSNR (dB), normalised so that an identical image scores 1.
FIDELITY_MIDPOINT_DB = 24.0
FIDELITY_WIDTH_DB = 3.0
# Absolute quality (stage 2) thresholds by profile: the mean score a candidate must reach.
ABSOLUTE_THRESHOLD = {"fidelity": 0.5, "clip-score": 20.0}


def fidelity_score(psnr_db: float) -> float:
    """Score in [0, 1] from PSNR against the baseline image: 1 for identical, 0.5 at the midpoint."""
    if math.isinf(psnr_db):
        return 1.0
    raw = 1.0 / (1.0 + math.exp(-(psnr_db - FIDELITY_MIDPOINT_DB) / FIDELITY_WIDTH_DB))
    return min(1.0, raw)


def fidelity(baseline: Image.Image, candidate: Image.Image) -> tuple[float, float]:
    """(PSNR in dB, score) of a candidate image against the baseline's image for the same input."""
    value = psnr(baseline, candidate)
    return value, fidelity_score(value)


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

    def score(self, image: Image.Image, text: str) -> float:
        torch = self.torch
        inputs = self.processor(text=[text], images=[image], return_tensors="pt", padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.no_grad():
            image_emb = self.model.get_image_features(pixel_values=inputs["pixel_values"])
            text_emb = self.model.get_text_features(
                input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask")
            )
        image_emb = image_emb / image_emb.norm(dim=-1, keepdim=True)
        text_emb = text_emb / text_emb.norm(dim=-1, keepdim=True)
        return float(100.0 * torch.clamp((image_emb * text_emb).sum(), min=0.0))


@cache
def clip_scorer(model_id: str, device: str) -> Any:
    return ClipScorer(model_id, device)
