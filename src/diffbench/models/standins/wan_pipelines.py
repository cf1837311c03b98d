"""The Wan 2.1 / 2.2 stand-ins: a UMT5 text encoder read through a T5 tokenizer, the causal 3D VAE
(AutoencoderKLWan) and WanTransformer3DModel, one or two of them (Wan 2.2 A14B: a high-noise expert `transformer`
and a low-noise expert `transformer_2`, switched at `boundary_ratio`). Real architecture classes and conditioning
path, tiny sizes, damped output, saved so that unmodified `WanPipeline.from_pretrained` and
`WanImageToVideoPipeline.from_pretrained` load them.

Sizes: the frame size is a real one of the checkpoint (832x480, the 480P size every Wan 2.1/2.2 checkpoint but the
720P-only TI2V-5B runs and WanPipeline's default; TI2V-5B at its 1280x704); the frame count is what a CPU affords
(5 frames, 2 latent frames, where the model cards use 81 or 121; recipes.py says why). The VAE gets one more
level than the real one (16x rather than 8x; TI2V-5B's residual VAE 32x rather than 16x), so a 50-step video costs
seconds on a CPU.

Its own builder module (recipes._BUILDER_MODULES), so adding it left every other stand-in's revision as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diffusers import (
    AutoencoderKLWan,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import T5Tokenizer, UMT5Config, UMT5EncoderModel

from diffbench.models.standins.components import seeded, t5_encoder
from diffbench.models.standins.damping import damp_denoiser
from diffbench.models.standins.tokenizers import tiny_t5_tokenizer

# diffusers' documented default for Wan (docs: "By default, Wan uses the UniPCMultistepScheduler(prediction_type=
# "flow_prediction", use_flow_sigmas=True, flow_shift=3.0)"); 720P checkpoints are run at flow_shift 5.0.
WAN_SCHEDULER = {"num_train_timesteps": 1000, "prediction_type": "flow_prediction", "use_flow_sigmas": True,
                 "flow_shift": 3.0, "solver_order": 2, "solver_type": "bh2", "final_sigmas_type": "zero",
                 "lower_order_final": True, "timestep_spacing": "linspace"}  # fmt: skip
I2V_EXTRA_CHANNELS = 20  # WanImageToVideoPipeline (no image encoder): 4 mask channels + 16 of the encoded condition


def umt5_encoder(tokenizer: T5Tokenizer, d_model: int) -> UMT5EncoderModel:
    """UMT5 with the configuration of the T5 stand-ins' encoder (components.t5_encoder: components.py is hashed into
    every stand-in's revision, so it gains no function for UMT5 here)."""
    t5 = t5_encoder(tokenizer, d_model).config.to_dict()
    shared = {k: v for k, v in t5.items() if k not in ("model_type", "architectures", "transformers_version")}
    return UMT5EncoderModel(UMT5Config(**shared)).eval()


def wan_vae(p: dict[str, Any]) -> AutoencoderKLWan:
    """One level per `vae_dims` entry (each but the last downsamples 2x; the real one: [1, 2, 4, 4], 8x).
    `residual`: Wan 2.2's VAE (48 latent channels, a 2x2 patchify before the encoder)."""
    dims, z = p["vae_dims"], p["latent_channels"]
    residual = bool(p.get("vae_residual"))
    levels = 2 ** (len(dims) - 1) * (2 if residual else 1)
    return AutoencoderKLWan(
        base_dim=p["vae_base_dim"],
        z_dim=z,
        dim_mult=dims,
        num_res_blocks=p["vae_res_blocks"],  # the decoder has one more a level (the real VAE: 2, 3 in the decoder)
        temperal_downsample=[False, True, True] + [False] * (len(dims) - 4),
        latents_mean=[0.0] * z,
        latents_std=[1.0] * z,
        is_residual=residual,
        patch_size=2 if residual else None,
        in_channels=12 if residual else 3,  # the residual VAE sees and returns 2x2-patchified frames: 3 x 4 channels
        out_channels=12 if residual else 3,
        scale_factor_spatial=levels,
    ).eval()


def wan_transformer(p: dict[str, Any], in_channels: int) -> WanTransformer3DModel:
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=p["heads"],
        attention_head_dim=p["head_dim"],  # split in three for the 3D RoPE (frames, height, width)
        in_channels=in_channels,
        out_channels=p["latent_channels"],
        text_dim=p["text_hidden"],
        freq_dim=p["freq_dim"],
        ffn_dim=2 * p["heads"] * p["head_dim"],
        num_layers=p["layers"],
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
    ).eval()
    damp_denoiser(transformer, ("proj_out",), **p["damping"])
    return transformer


def build_wan(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_t5_tokenizer()
    image_to_video = p["conditioning"] == "image-to-video"
    in_channels = p["latent_channels"] + (I2V_EXTRA_CHANNELS if image_to_video else 0)
    experts = [wan_transformer(p, in_channels) for _ in range(2 if p.get("boundary_ratio") else 1)]
    components: dict[str, Any] = {
        "tokenizer": tokenizer,
        "text_encoder": umt5_encoder(tokenizer, p["text_hidden"]),
        "vae": wan_vae(p),
        "scheduler": UniPCMultistepScheduler.from_config(p["scheduler_config"]),
        "transformer": experts[0],
        "transformer_2": experts[1] if len(experts) == 2 else None,
        "boundary_ratio": p.get("boundary_ratio"),
        "expand_timesteps": bool(p.get("expand_timesteps")),
    }
    pipe = WanImageToVideoPipeline(**components) if image_to_video else WanPipeline(**components)
    pipe.save_pretrained(folder, safe_serialization=True)
