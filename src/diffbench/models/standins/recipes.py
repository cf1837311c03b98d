"""Recipes for the tiny stand-ins: one per real id, as data, plus the function that builds it.

A recipe's revision (the 40-hex name of its stored snapshot) hashes its parameters, the source of the builder
code in this folder and the versions of torch, diffusers and transformers. The store knows a stand-in is
current when `refs/main` equals today's revision, so any change that could alter a stand-in makes
`diffbench models build` rebuild exactly the ids it affects, with no version number to remember.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffbench.models import families as fam
from diffbench.models.standins.clip_model import build_clip
from diffbench.models.standins.flow_pipelines import (
    FLUX_DEV_SCHEDULER,
    FLUX_SCHNELL_SCHEDULER,
    SD35_SCHEDULER,
    build_flux,
    build_sd3,
)
from diffbench.models.standins.qwen_image_pipeline import QWEN_IMAGE_SCHEDULER, build_qwen_image
from diffbench.models.standins.transformer_pipelines import build_dit, build_pixart
from diffbench.models.standins.unet_pipelines import (
    build_controlnet,
    build_stable_diffusion,
    build_stable_diffusion_xl,
)
from diffbench.models.standins.wan_pipelines import WAN_SCHEDULER, build_wan

# Files of this folder that do not shape what is built (a recipe's parameters are hashed as data).
_NOT_BUILDER_CODE = {"build.py", "__init__.py", "recipes.py"}
# Modules that hold builders: a revision hashes its own builder's module and none of the others.
_BUILDER_MODULES = {
    "unet_pipelines",
    "transformer_pipelines",
    "flow_pipelines",
    "qwen_image_pipeline",
    "clip_model",
    "wan_pipelines",
}

# Published scheduler configs of the real checkpoints (the parts that shape the trajectory).
_SD_BETAS = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
}
_SD_SCHEDULE = {**_SD_BETAS, "steps_offset": 1, "set_alpha_to_one": False, "prediction_type": "epsilon"}
_PNDM = {**_SD_SCHEDULE, "skip_prk_steps": True}
_LINEAR_BETAS = {
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
}
_PIXART_DPM = {
    **_LINEAR_BETAS,
    "algorithm_type": "dpmsolver++",
    "solver_order": 2,
    "prediction_type": "epsilon",
    "lower_order_final": True,
}

# Damping (see damping.py): cross-attention outputs x0.1 and the denoiser output x1.0 make fidelity fall
# steadily with aggressiveness on SD1.5 (docs/benchmarks.md, the fidelity ladder).
_DAMPING = {"output": 1.0, "cross_attention": 0.1}

# The U-Net stand-ins run at their checkpoint's real resolution; a VAE with 16x (SDXL: 32x) downsampling keeps
# their latents at 32-48 px, so a 50-step image costs seconds on a CPU.
_SD_VAE = [8, 16, 32, 64, 64]
_SD_HINT = [4, 8, 16, 32, 32]  # a ControlNet's hint encoder downsamples as much as its VAE
_SDXL_VAE = [8, 8, 16, 32, 64, 64]
_SDXL_HINT = [4, 4, 8, 16, 32, 32]

_SD15 = {
    "seed": 15,
    "resolution": 512,
    "unet_channels": [32, 64, 128, 128],
    "attention_heads": 2,
    "text_hidden": 64,
    "vae_channels": _SD_VAE,
    "scheduler": "PNDMScheduler",
    "scheduler_config": _PNDM,
    "damping": _DAMPING,
}

_SD21_COMMON = {
    "unet_channels": [32, 64, 128, 128],
    "attention_heads": [1, 2, 4, 4],
    "linear_projection": True,
    "text_hidden": 64,
    "text_act": "gelu",
    "vae_channels": _SD_VAE,
    "damping": _DAMPING,
}

_SDXL = {
    "seed": 10,
    "xl": True,
    "resolution": 1024,
    "unet_channels": [32, 64, 128],
    "attention_heads": [1, 2, 4],
    "text_hidden": 32,
    "text_hidden_2": 64,
    "text_projection_2": 32,
    "time_embed_dim": 8,
    "vae_channels": _SDXL_VAE,
    "scheduler": "EulerDiscreteScheduler",
    "scheduler_config": {
        **_SD_SCHEDULE,
        "interpolation_type": "linear",
        "timestep_spacing": "leading",
        "use_karras_sigmas": False,
    },
    "damping": _DAMPING,
}

# Hidden size 2 x 48 = 96: PixArt's resolution/aspect-ratio embedding splits it in three, as the real 1152 does.
_DIT_COMMON = {
    "heads": 2,
    "head_dim": 48,
    "layers": 6,
    "vae_channels": [16, 32, 64, 64],
    "scheduler": "DDIMScheduler",
    "scheduler_config": {**_LINEAR_BETAS, "set_alpha_to_one": True, "steps_offset": 0},
    "damping": _DAMPING,
}

_PIXART_COMMON = {
    "heads": 2,
    "head_dim": 48,
    "layers": 4,
    "text_hidden": 32,
    "vae_channels": [16, 32, 64, 64],
    "scheduler": "DPMSolverMultistepScheduler",
    "scheduler_config": _PIXART_DPM,
    "damping": _DAMPING,
}

# The 1024 checkpoints keep sample_size 128 (so resolution binning and the 1024-MS size conditioning work as
# on the real model) and are made narrower and shallower to keep 4096-token attention affordable on a CPU.
_PIXART_1024 = {"resolution": 1024, "head_dim": 12, "layers": 2, "vae_channels": [8, 16, 32, 32]}

# The flow-matching families run at their real 1024 px through a 32x VAE (16 latent channels): 32x32 latents,
# 256 image tokens after FLUX's 2x2 packing or SD3's 2x2 patches. Sized so that the transformer takes most of a
# call's time, as on the real models (denoiser share 0.75-0.85 measured on the CPU, VAE and encoders the rest).
# flow_pipelines.flow_vae writes out components.vae's recipe with 16 latent channels rather than adding a parameter
# to components.vae: every builder's revision hashes components.py, so editing it would rebuild every paper
# stand-in and void its fidelity anchors and calibration.
_FLOW_COMMON = {
    "resolution": 1024,
    "vae_channels": [8, 8, 8, 16, 32, 32],
    "heads": 3,
    "head_dim": 32,
    "clip_hidden": 32,
    "text_hidden": 64,
    "damping": _DAMPING,
}
_FLUX = {**_FLOW_COMMON, "layers": 3, "single_layers": 6}
_SD35 = {**_FLOW_COMMON, "clip_hidden_2": 32, "scheduler_config": SD35_SCHEDULER}

# Qwen-Image: its causal 3D VAE (conv3d, 5 s per 1024 px decode on this CPU whatever its width) costs far more than
# the 16-channel 2D VAE of FLUX.1 and SD3.5; the transformer is made wider, and still takes only about half of a
# 50-step call (flow_euler at 28 steps: 1.26x, methods check), where the real model's 20B transformer takes most.
_QWEN_IMAGE = {
    "resolution": 1024,
    "vocab_size": 600,
    "text_hidden": 64,
    "heads": 4,
    "head_dim": 32,
    "layers": 6,
    "vae_base_dim": 8,
    "vae_dims": [1, 1, 1, 2, 4, 4],
    "scheduler_config": QWEN_IMAGE_SCHEDULER,
    # The output projection is amplified, not damped: at x1 the random transformer's velocity barely depends on the
    # latent, so Euler at 5 of 50 steps still lands at 50 dB (a scale so steep that any rounding fails it). At x16
    # half the steps give 47.5 dB and a tenth 31 dB, as SD3.5's stand-ins (45 / 29 dB): docs/quality.md.
    "damping": {**_DAMPING, "output": 16.0},
}

# Wan (wan_pipelines.py): 832x480 (WanPipeline's default, the 480P size of every Wan checkpoint but TI2V-5B) at 5
# frames through a 16x VAE: 2 latent frames of 15x26 tokens after the 2x2 patches. TI2V-5B at its only size,
# 1280x704, through a residual 48-channel VAE at 32x (the real one 16x): 2 x 11x20 tokens. The causal 3D VAE is what
# a CPU cannot afford: its decoder took 17.6 s for 17 frames at 832x480 and still 7.4 s at a quarter of the
# channels and one residual block a level (2026-12-07), so the frame count is 5 (a 50-step 1.3B call: 4 s, 2.7 s of
# it decoding, at 2 transformer layers; 6 layers give the transformer about half). The 14B stand-ins are deeper
# than the 1.3B one; A14B holds two experts of that size. Scheduler: diffusers' default for Wan at 480P
# (flow_shift 3.0), 5.0 for the 720P-only TI2V-5B.
_WAN_COMMON = {
    "resolution": 480,
    "width": 832,
    "frames": fam.CLIP_FRAMES,
    "conditioning": "text-to-video",
    "latent_channels": 16,
    "text_hidden": 32,
    "heads": 3,
    "head_dim": 24,  # 8 + 8 + 8 for the 3D RoPE's frame, height and width axes
    "freq_dim": 32,
    "layers": 6,
    "vae_base_dim": 8,
    "vae_res_blocks": 0,  # image-to-video encodes its first frame: its encoder needs one (below)
    "vae_dims": [1, 1, 2, 4, 4],
    "scheduler_config": WAN_SCHEDULER,
    "damping": _DAMPING,
}
_WAN_14B = {**_WAN_COMMON, "layers": 8}
_WAN_TI2V = {**_WAN_COMMON, "resolution": 704, "width": 1280, "latent_channels": 48, "vae_residual": True,
             "expand_timesteps": True, "scheduler_config": {**WAN_SCHEDULER, "flow_shift": 5.0}}  # fmt: skip

Builder = Callable[[Path, dict[str, Any]], None]


@dataclass(frozen=True)
class Recipe:
    model_id: str
    build: Builder
    params: dict[str, Any]

    @property
    def resolution(self) -> int | None:
        """The stand-in's default resolution (pixels; a video's frame height); None for models that make no images."""
        return self.params.get("resolution")

    @property
    def video_shape(self) -> tuple[int, int, int] | None:
        """A video stand-in's default (width, height, frames); None for the image models."""
        if "frames" not in self.params:
            return None
        return self.params["width"], self.params["resolution"], self.params["frames"]

    @property
    def revision(self) -> str:
        """40-hex revision: the hash of what this recipe builds and of the code and libraries that build it."""
        blob = json.dumps(
            {
                "builder": self.build.__name__,
                "params": self.params,
                "code": _builder_fingerprint(self.build.__module__.rsplit(".", 1)[-1]),
            },
            sort_keys=True,
        )
        return hashlib.sha1(blob.encode()).hexdigest()


@functools.cache
def _builder_fingerprint(module: str) -> str:
    """The library versions, the helper files of this folder and the builder's own module: a new family's
    builder module (or its recipe) leaves every other stand-in's revision as it was."""
    import diffusers
    import torch
    import transformers

    h = hashlib.sha1(f"{torch.__version__} {diffusers.__version__} {transformers.__version__}".encode())
    folder = Path(__file__).parent
    for f in sorted(folder.iterdir()):
        another_builder = f.suffix == ".py" and f.stem in _BUILDER_MODULES and f.stem != module
        if f.suffix in (".py", ".json") and f.name not in _NOT_BUILDER_CODE and not another_builder:
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _recipes() -> dict[str, Recipe]:
    # SD2.1 (v-prediction, 768 px): with cross-attention at x0.1 its text path steers so hard that T-GATE,
    # which drops guidance after its gate step, drifted further (33 dB) than UniPC at 5 steps (36 dB); at x0.03
    # T-GATE keeps 44 dB while the step ladder is unchanged (docs/quality.md).
    sd21 = {
        **_SD21_COMMON,
        "seed": 21,
        "resolution": 768,
        "upcast_attention": True,
        "damping": {**_DAMPING, "cross_attention": 0.03},
    }
    sd21["scheduler"], sd21["scheduler_config"] = (
        "DDIMScheduler",
        {**_SD_SCHEDULE, "prediction_type": "v_prediction"},
    )
    sd21_base = {
        **_SD21_COMMON,
        "seed": 22,
        "resolution": 512,
        "scheduler": "PNDMScheduler",
        "scheduler_config": _PNDM,
    }
    pixart = {
        "PixArt-alpha/PixArt-XL-2-512x512": {"seed": 40, "resolution": 512, "additional_conditions": False},
        "PixArt-alpha/PixArt-XL-2-1024-MS": {"seed": 41, **_PIXART_1024, "additional_conditions": True},
        "PixArt-alpha/PixArt-Sigma-XL-2-512-MS": {
            "seed": 42,
            "resolution": 512,
            "additional_conditions": False,
        },
        "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS": {
            "seed": 43,
            **_PIXART_1024,
            "additional_conditions": False,
            "interpolation_scale": 2,
        },
    }
    recipes = [
        Recipe(fam.SD15.default.id, build_stable_diffusion, _SD15),
        Recipe(
            fam.SD15.controlnet_id or "",
            build_controlnet,
            {"seed": 16, "base": _SD15, "conditioning_channels": _SD_HINT, "hint_std": 1.0, "residual_std": 0.1},
        ),
        Recipe("stabilityai/stable-diffusion-2-1", build_stable_diffusion, sd21),
        Recipe("stabilityai/stable-diffusion-2-1-base", build_stable_diffusion, sd21_base),
        Recipe(fam.SDXL.default.id, build_stable_diffusion_xl, _SDXL),
        Recipe(
            fam.SDXL.controlnet_id or "",
            build_controlnet,
            {"seed": 11, "base": _SDXL, "conditioning_channels": _SDXL_HINT, "hint_std": 1.0, "residual_std": 0.1},
        ),
        Recipe("facebook/DiT-XL-2-256", build_dit, {**_DIT_COMMON, "seed": 30, "resolution": 256}),
        Recipe("facebook/DiT-XL-2-512", build_dit, {**_DIT_COMMON, "seed": 31, "resolution": 512}),
        *(
            Recipe(
                model_id,
                build_pixart,
                {
                    **_PIXART_COMMON,
                    **extra,
                    "sigma": "Sigma" in model_id,
                    # PixArt-alpha ships the SD VAE, PixArt-Sigma the SDXL one.
                    "vae_scaling": 0.13025 if "Sigma" in model_id else 0.18215,
                },
            )
            for model_id, extra in pixart.items()
        ),
        Recipe(
            "black-forest-labs/FLUX.1-dev",
            build_flux,
            # Output projection x3, as Qwen-Image's x16 below: at x1 the trajectory barely depended on the step count
            # (25 of 50 steps 52.5 dB, 5 of 50 37.9 dB), so the fidelity scale was so steep (midpoint 34.6 dB) that
            # bf16's rounding over 50 steps (34-36 dB) failed absolute quality. At x3: 45.7 / 27.8 dB, as SD3.5's
            # stand-ins (45 / 29 dB), and bf16 over 50 steps 32.3 dB (one prompt, /tmp sweep, 2026-11-28).
            {
                **_FLUX,
                "seed": 60,
                "guidance": True,
                "scheduler_config": FLUX_DEV_SCHEDULER,
                "damping": {**_DAMPING, "output": 3.0},
            },
        ),
        Recipe(
            "black-forest-labs/FLUX.1-schnell",
            build_flux,
            {**_FLUX, "seed": 61, "guidance": False, "scheduler_config": FLUX_SCHNELL_SCHEDULER},
        ),
        # 3.5 large: 38 MMDiT layers, none with dual attention; 3.5 medium: 24 layers, dual attention in 0-12.
        Recipe(
            "stabilityai/stable-diffusion-3.5-large",
            build_sd3,
            {**_SD35, "seed": 62, "layers": 6, "dual_attention_layers": 0},
        ),
        Recipe(
            "stabilityai/stable-diffusion-3.5-medium",
            build_sd3,
            {**_SD35, "seed": 63, "layers": 6, "dual_attention_layers": 3},
        ),
        Recipe("Qwen/Qwen-Image", build_qwen_image, {**_QWEN_IMAGE, "seed": 64}),
        Recipe("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", build_wan, {**_WAN_COMMON, "seed": 70}),
        Recipe("Wan-AI/Wan2.1-T2V-14B-Diffusers", build_wan, {**_WAN_14B, "seed": 71}),
        Recipe("Wan-AI/Wan2.2-TI2V-5B-Diffusers", build_wan, {**_WAN_TI2V, "seed": 72}),
        Recipe("Wan-AI/Wan2.2-T2V-A14B-Diffusers", build_wan, {**_WAN_14B, "seed": 73, "boundary_ratio": 0.875}),
        Recipe(
            "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
            build_wan,
            {**_WAN_14B, "seed": 74, "boundary_ratio": 0.9, "conditioning": "image-to-video", "vae_res_blocks": 1},
        ),
        Recipe(fam.QUALITY_MODEL_ID, build_clip, {"seed": 50, "hidden": 32, "projection": 32}),
    ]
    return {r.model_id: r for r in recipes}


RECIPES: dict[str, Recipe] = _recipes()


def recipe(model_id: str) -> Recipe:
    try:
        return RECIPES[model_id]
    except KeyError:
        raise fam.UnknownModelError(f"no tiny stand-in recipe for {model_id!r}; known: {', '.join(RECIPES)}") from None
