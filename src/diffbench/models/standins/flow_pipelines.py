"""Stand-ins for the flow-matching transformer families of the extended suite: FLUX.1 (CLIP + T5, guidance
embedding on dev, few-step schnell) and Stable Diffusion 3.5 (two CLIP encoders with projection + T5, MMDiT with
dual attention and RMS q/k norm). Real architecture classes and conditioning paths, tiny sizes, damped outputs,
saved so that unmodified `from_pretrained` loads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diffusers import (
    AutoencoderKL,
    FlowMatchEulerDiscreteScheduler,
    FluxPipeline,
    FluxTransformer2DModel,
    SD3Transformer2DModel,
    StableDiffusion3Pipeline,
)

from diffbench.models.standins.components import (
    clip_text_encoder,
    clip_text_encoder_with_projection,
    seeded,
    t5_encoder,
)
from diffbench.models.standins.damping import scale_module
from diffbench.models.standins.tokenizers import tiny_clip_tokenizer, tiny_t5_tokenizer

FLOW_LATENT_CHANNELS = 16  # FLUX.1, SD3.5 and Qwen-Image all use a 16-channel VAE

# The published scheduler configs (scheduler/scheduler_config.json of each repository), built as they are (the
# helper in components.py adds clip_sample, which FlowMatchEulerDiscreteScheduler does not take).
FLUX_DEV_SCHEDULER = {"base_image_seq_len": 256, "base_shift": 0.5, "max_image_seq_len": 4096, "max_shift": 1.15,
                      "num_train_timesteps": 1000, "shift": 3.0, "use_dynamic_shifting": True}  # fmt: skip
FLUX_SCHNELL_SCHEDULER = {"base_image_seq_len": 256, "base_shift": 0.5, "max_image_seq_len": 4096,
                          "max_shift": 1.15, "num_train_timesteps": 1000, "shift": 1.0,
                          "use_dynamic_shifting": False}  # fmt: skip
SD35_SCHEDULER = {"num_train_timesteps": 1000, "shift": 3.0}


def flow_vae(p: dict[str, Any], scaling_factor: float, shift_factor: float) -> AutoencoderKL:
    """The 16-channel VAE with the real checkpoint's scaling and shift factors (components.vae's, wider)."""
    channels = p["vae_channels"]
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(channels),
        up_block_types=("UpDecoderBlock2D",) * len(channels),
        block_out_channels=tuple(channels),
        layers_per_block=1,
        latent_channels=FLOW_LATENT_CHANNELS,
        norm_num_groups=8,
        sample_size=p["resolution"],
        scaling_factor=scaling_factor,
        shift_factor=shift_factor,
    ).eval()


def build_flux(folder: Path, p: dict[str, Any]) -> None:
    """FLUX.1-dev (`guidance`: the distilled guidance embedding) or FLUX.1-schnell."""
    seeded(p["seed"])
    tokenizer, tokenizer_2 = tiny_clip_tokenizer(), tiny_t5_tokenizer()
    text_encoder = clip_text_encoder(tokenizer, p["clip_hidden"])
    text_encoder_2 = t5_encoder(tokenizer_2, p["text_hidden"])
    head_dim = p["head_dim"]
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=FLOW_LATENT_CHANNELS * 4,  # latents are packed 2x2
        num_layers=p["layers"],
        num_single_layers=p["single_layers"],
        attention_head_dim=head_dim,
        num_attention_heads=p["heads"],
        joint_attention_dim=p["text_hidden"],
        pooled_projection_dim=p["clip_hidden"],
        guidance_embeds=p["guidance"],
        axes_dims_rope=(head_dim // 4, 3 * head_dim // 8, 3 * head_dim // 8),
    ).eval()
    scale_module(transformer.proj_out, p["damping"]["output"])
    pipe = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**p["scheduler_config"]),
        vae=flow_vae(p, scaling_factor=0.3611, shift_factor=0.1159),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
    )
    pipe.save_pretrained(folder, safe_serialization=True)


def build_sd3(folder: Path, p: dict[str, Any]) -> None:
    """Stable Diffusion 3.5 (medium: dual attention in the first layers; large: none), RMS q/k norm."""
    seeded(p["seed"])
    tokenizer, tokenizer_2 = tiny_clip_tokenizer(), tiny_clip_tokenizer(pad_token="!")
    tokenizer_3 = tiny_t5_tokenizer()
    hidden_1, hidden_2 = p["clip_hidden"], p["clip_hidden_2"]
    text_encoder = clip_text_encoder_with_projection(tokenizer, hidden_1, hidden_1)
    text_encoder_2 = clip_text_encoder_with_projection(tokenizer_2, hidden_2, hidden_2)
    # The CLIP hidden states (hidden_1 + hidden_2 wide) are padded to T5's width and joined with T5's tokens.
    text_encoder_3 = t5_encoder(tokenizer_3, p["text_hidden"])
    assert p["text_hidden"] >= hidden_1 + hidden_2
    latent = p["resolution"] // 2 ** (len(p["vae_channels"]) - 1)
    transformer = SD3Transformer2DModel(
        sample_size=latent,
        patch_size=2,
        in_channels=FLOW_LATENT_CHANNELS,
        num_layers=p["layers"],
        attention_head_dim=p["head_dim"],
        num_attention_heads=p["heads"],
        joint_attention_dim=p["text_hidden"],
        caption_projection_dim=p["heads"] * p["head_dim"],
        pooled_projection_dim=hidden_1 + hidden_2,
        out_channels=FLOW_LATENT_CHANNELS,
        pos_embed_max_size=latent // 2,
        dual_attention_layers=tuple(range(p["dual_attention_layers"])),
        qk_norm="rms_norm",
    ).eval()
    scale_module(transformer.proj_out, p["damping"]["output"])
    pipe = StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(**p["scheduler_config"]),
        vae=flow_vae(p, scaling_factor=1.5305, shift_factor=0.0609),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        text_encoder_3=text_encoder_3,
        tokenizer_3=tokenizer_3,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
