"""Tiny components shared by the stand-in pipelines: text encoders, VAE and schedulers."""

from __future__ import annotations

from typing import Any

import diffusers
import torch
from diffusers import AutoencoderKL
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
)


def seeded(seed: int) -> None:
    torch.manual_seed(seed)


def clip_text_config(tokenizer: CLIPTokenizer, hidden: int, projection_dim: int, act: str) -> CLIPTextConfig:
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=tokenizer.model_max_length,
        projection_dim=projection_dim,
        hidden_act=act,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def clip_text_encoder(tokenizer: CLIPTokenizer, hidden: int, act: str = "quick_gelu") -> CLIPTextModel:
    return CLIPTextModel(clip_text_config(tokenizer, hidden, hidden, act)).eval()


def clip_text_encoder_with_projection(
    tokenizer: CLIPTokenizer, hidden: int, projection_dim: int, act: str = "gelu"
) -> CLIPTextModelWithProjection:
    return CLIPTextModelWithProjection(clip_text_config(tokenizer, hidden, projection_dim, act)).eval()


def t5_encoder(tokenizer: T5Tokenizer, d_model: int) -> T5EncoderModel:
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=d_model // 2,
        d_ff=2 * d_model,
        num_layers=2,
        num_heads=2,
        relative_attention_num_buckets=8,
        feed_forward_proj="gated-gelu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    return T5EncoderModel(config).eval()


def vae(sample_size: int, channels: list[int], scaling_factor: float, force_upcast: bool = False) -> AutoencoderKL:
    """A VAE with one level per entry of `channels` (n levels downsample by 2**(n-1)) and 4 latent channels.

    Four levels keep the real 8x factor (DiT, PixArt). The U-Net stand-ins use five or six levels (16x, 32x) so
    that they run at their checkpoint's real resolution while their latents stay as small as a CPU can afford."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(channels),
        up_block_types=("UpDecoderBlock2D",) * len(channels),
        block_out_channels=tuple(channels),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=sample_size,
        scaling_factor=scaling_factor,
        force_upcast=force_upcast,
    ).eval()


def scheduler(class_name: str, config: dict[str, Any]):
    """A scheduler from the real checkpoint's published config (`clip_sample` is always written explicitly:
    `DDIMScheduler.from_config` of a config without it defaults to True and silently changes the trajectory)."""
    cls = getattr(diffusers, class_name)
    return cls.from_config({"clip_sample": False, **config})
