"""Stand-in for the quality model `openai/clip-vit-base-patch16`: a tiny random CLIP with its processor.

Its scores mean nothing (random weights); it exists so that the `cuda` profile's loading and scoring code
runs offline in tests. The `tiny-cpu` profile judges quality by fidelity instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

from diffbench.models.standins.components import clip_text_config, seeded
from diffbench.models.standins.tokenizers import tiny_clip_tokenizer

CLIP_IMAGE_SIZE = 224
CLIP_PATCH = 16


def build_clip(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_clip_tokenizer()
    text = clip_text_config(tokenizer, p["hidden"], p["projection"], act="quick_gelu").to_dict()
    vision = {
        "hidden_size": p["hidden"],
        "intermediate_size": 2 * p["hidden"],
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": CLIP_IMAGE_SIZE,
        "patch_size": CLIP_PATCH,
        "projection_dim": p["projection"],
    }
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=p["projection"])).eval()
    # The PIL processor: the default one needs torchvision, which has no CPU build here.
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": CLIP_IMAGE_SIZE},
        crop_size={"height": CLIP_IMAGE_SIZE, "width": CLIP_IMAGE_SIZE},
    )
    model.save_pretrained(folder, safe_serialization=True)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
