"""Stand-ins for the UNet families (SD1.5, SD2.1, SDXL) and their canny ControlNets.

Each keeps the real block layout (which blocks carry cross-attention), latent channels, VAE factor and
conditioning path (SDXL: two text encoders and added time ids), at a fraction of the width.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diffusers import (
    ControlNetModel,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)

from diffbench.models.standins.components import (
    clip_text_encoder,
    clip_text_encoder_with_projection,
    scheduler,
    seeded,
    vae,
)
from diffbench.models.standins.damping import damp_denoiser, wake_zero_convs
from diffbench.models.standins.tokenizers import tiny_clip_tokenizer

SD_DOWN = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")
SD_UP = ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")
SDXL_DOWN = ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D")
SDXL_UP = ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D")
SDXL_TIME_IDS = 6  # original size, crop top-left, target size: two numbers each


UNET_SEED_OFFSET = 1000  # the UNet has its own seed, so a ControlNet can rebuild exactly the pipeline's UNet


def latent_size(p: dict[str, Any]) -> int:
    """The latent side at the stand-in's resolution: the VAE halves the image once per level after the first."""
    return p["resolution"] // 2 ** (len(p["vae_channels"]) - 1)


def sd_unet(p: dict[str, Any]) -> UNet2DConditionModel:
    seeded(p["seed"] + UNET_SEED_OFFSET)
    unet = UNet2DConditionModel(
        sample_size=latent_size(p),
        in_channels=4,
        out_channels=4,
        down_block_types=SD_DOWN,
        up_block_types=SD_UP,
        block_out_channels=tuple(p["unet_channels"]),
        layers_per_block=1,
        attention_head_dim=p["attention_heads"],
        cross_attention_dim=p["text_hidden"],
        use_linear_projection=p.get("linear_projection", False),
        upcast_attention=p.get("upcast_attention", False),
    ).eval()
    damp_denoiser(unet, ("conv_out",), **p["damping"])
    return unet


def sdxl_unet(p: dict[str, Any]) -> UNet2DConditionModel:
    time_embed = p["time_embed_dim"]
    seeded(p["seed"] + UNET_SEED_OFFSET)
    unet = UNet2DConditionModel(
        sample_size=latent_size(p),
        in_channels=4,
        out_channels=4,
        down_block_types=SDXL_DOWN,
        up_block_types=SDXL_UP,
        block_out_channels=tuple(p["unet_channels"]),
        layers_per_block=1,
        transformer_layers_per_block=1,
        attention_head_dim=tuple(p["attention_heads"]),
        cross_attention_dim=p["text_hidden"] + p["text_hidden_2"],
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=time_embed,
        projection_class_embeddings_input_dim=SDXL_TIME_IDS * time_embed + p["text_projection_2"],
    ).eval()
    damp_denoiser(unet, ("conv_out",), **p["damping"])
    return unet


def build_stable_diffusion(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_clip_tokenizer()
    pipe = StableDiffusionPipeline(
        vae=vae(p["resolution"], p["vae_channels"], scaling_factor=0.18215),
        text_encoder=clip_text_encoder(tokenizer, p["text_hidden"], act=p.get("text_act", "quick_gelu")),
        tokenizer=tokenizer,
        unet=sd_unet(p),
        scheduler=scheduler(p["scheduler"], p["scheduler_config"]),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)


def build_stable_diffusion_xl(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_clip_tokenizer()
    tokenizer_2 = tiny_clip_tokenizer(pad_token="!")
    pipe = StableDiffusionXLPipeline(
        vae=vae(p["resolution"], p["vae_channels"], scaling_factor=0.13025, force_upcast=True),
        text_encoder=clip_text_encoder(tokenizer, p["text_hidden"]),
        text_encoder_2=clip_text_encoder_with_projection(tokenizer_2, p["text_hidden_2"], p["text_projection_2"]),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=sdxl_unet(p),
        scheduler=scheduler(p["scheduler"], p["scheduler_config"]),
        force_zeros_for_empty_prompt=True,
    )
    pipe.save_pretrained(folder, safe_serialization=True)


def build_controlnet(folder: Path, p: dict[str, Any]) -> None:
    """A ControlNet derived from its base model's stand-in UNet, as real ControlNets are trained from it."""
    base = p["base"]
    unet = sdxl_unet(base) if base.get("xl") else sd_unet(base)
    seeded(p["seed"])
    controlnet = ControlNetModel.from_unet(
        unet, conditioning_embedding_out_channels=tuple(p["conditioning_channels"])
    ).eval()
    wake_zero_convs(controlnet, hint_std=p["hint_std"], residual_std=p["residual_std"])
    controlnet.save_pretrained(folder, safe_serialization=True)
