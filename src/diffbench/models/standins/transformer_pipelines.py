"""Stand-ins for the transformer families: DiT (class-conditioned) and PixArt-alpha / PixArt-Sigma (T5 text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diffusers import (
    DiTPipeline,
    DiTTransformer2DModel,
    PixArtAlphaPipeline,
    PixArtSigmaPipeline,
    PixArtTransformer2DModel,
)

from diffbench.models.standins.components import scheduler, seeded, t5_encoder, vae
from diffbench.models.standins.damping import damp_denoiser
from diffbench.models.standins.imagenet_labels import imagenet_id2label
from diffbench.models.standins.tokenizers import tiny_t5_tokenizer

LEARNED_SIGMA_CHANNELS = 8  # DiT and PixArt predict noise and variance: 2 x 4 latent channels


def build_dit(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    transformer = DiTTransformer2DModel(
        num_attention_heads=p["heads"],
        attention_head_dim=p["head_dim"],
        in_channels=4,
        out_channels=LEARNED_SIGMA_CHANNELS,
        num_layers=p["layers"],
        sample_size=p["resolution"] // 8,
        patch_size=2,
        num_embeds_ada_norm=1000,
    ).eval()
    damp_denoiser(transformer, ("proj_out_2",), **p["damping"])
    pipe = DiTPipeline(
        transformer=transformer,
        vae=vae(p["resolution"], p["vae_channels"], scaling_factor=0.18215),
        scheduler=scheduler(p["scheduler"], p["scheduler_config"]),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    # DiTPipeline takes id2label at __init__ but does not save it; the real checkpoints carry it in
    # model_index.json, from where from_pretrained passes it back to __init__.
    index = folder / "model_index.json"
    index.write_text(json.dumps({**json.loads(index.read_text()), "id2label": imagenet_id2label()}, indent=2))


def build_pixart(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_t5_tokenizer()
    text_encoder = t5_encoder(tokenizer, p["text_hidden"])
    transformer = PixArtTransformer2DModel(
        num_attention_heads=p["heads"],
        attention_head_dim=p["head_dim"],
        in_channels=4,
        out_channels=LEARNED_SIGMA_CHANNELS,
        num_layers=p["layers"],
        cross_attention_dim=p["heads"] * p["head_dim"],
        caption_channels=p["text_hidden"],
        sample_size=p["resolution"] // 8,
        patch_size=2,
        norm_type="ada_norm_single",
        use_additional_conditions=p["additional_conditions"],
        interpolation_scale=p.get("interpolation_scale"),
    ).eval()
    damp_denoiser(transformer, ("proj_out",), **p["damping"])
    pipeline_class = PixArtSigmaPipeline if p["sigma"] else PixArtAlphaPipeline
    pipe = pipeline_class(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae(p["resolution"], p["vae_channels"], scaling_factor=p["vae_scaling"]),
        transformer=transformer,
        scheduler=scheduler(p["scheduler"], p["scheduler_config"]),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
