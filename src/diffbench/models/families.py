"""The model-family registry: real hub ids, pipeline classes and defaults for every family DiffBench covers.

Facts here describe the *real* checkpoints (resolution, scheduler, prediction type) as published on the hub.
The tiny stand-ins of the `tiny-cpu` profile keep each family's architecture classes and conditioning path
but run at smaller resolutions; their recipes live in `diffbench.models.standins`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from diffbench.errors import DiffbenchError


class Conditioning(StrEnum):
    TEXT = "text-to-image"
    IMAGE = "image-to-image"
    CLASS = "class-to-image"
    CANNY = "controlnet-canny"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"

    @property
    def video(self) -> bool:
        return self in (Conditioning.TEXT_TO_VIDEO, Conditioning.IMAGE_TO_VIDEO)


SECOND_EXPERT = "transformer_2"  # the pipeline attribute of Wan 2.2 A14B's low-noise expert (see boundary_ratio)


class Checkpoint(BaseModel):
    """One pipeline repository on the hub and its published defaults."""

    model_config = ConfigDict(frozen=True)

    id: str
    resolution: int
    scheduler: str
    prediction_type: Literal["epsilon", "v_prediction", "flow"] = "epsilon"
    steps: int | None = Field(default=None, description="the step count the model card's example uses")
    guidance_scale: float | None = Field(default=None, description="the guidance scale the model card uses")
    width: int | None = Field(default=None, description="a video checkpoint's frame width (resolution: its height)")
    frames: int | None = Field(default=None, description="a video checkpoint's frame count in the model card")
    boundary_ratio: float | None = Field(
        default=None, description="Wan 2.2 A14B: the share of the schedule the high-noise expert runs"
    )


class Family(BaseModel):
    """A model family: shared architecture, pipeline classes per conditioning kind, and its checkpoints."""

    model_config = ConfigDict(frozen=True)

    key: str
    display: str
    backbone: Literal["unet", "transformer"]
    denoiser_class: str
    text_encoders: tuple[str, ...]
    latent_channels: int = 4
    vae_scale_factor: int = 8
    checkpoints: tuple[Checkpoint, ...]
    pipelines: dict[Conditioning, str]
    controlnet_id: str | None = None
    guidance_argument: str = Field(
        default="guidance_scale",
        description="the call's keyword for the model card's guidance (Qwen-Image's true CFG: true_cfg_scale)",
    )
    shares_templates_with: str | None = Field(
        default=None,
        description="the family whose method templates this one uses where it has none of its own (same hooks)",
    )
    suite: Literal["paper", "extended", "video"] = Field(
        default="paper",
        description="paper: the six families of the paper's 604 tasks; extended: those added since; video: Wan 2.1/2.2 "
        "(the video suite)",
    )

    @property
    def conditionings(self) -> tuple[Conditioning, ...]:
        return tuple(self.pipelines)

    @property
    def default(self) -> Checkpoint:
        return self.checkpoints[0]

    @property
    def plain_conditioning(self) -> Conditioning:
        """What a plain generation of this family is conditioned on: a class label for DiT, text for the image
        families, a video family's one conditioning."""
        for kind in (Conditioning.CLASS, Conditioning.TEXT):
            if kind in self.pipelines:
                return kind
        return next(iter(self.pipelines))


SD15 = Family(
    key="sd15",
    display="SD1.5",
    backbone="unet",
    denoiser_class="UNet2DConditionModel",
    text_encoders=("CLIPTextModel",),
    checkpoints=(
        Checkpoint(id="stable-diffusion-v1-5/stable-diffusion-v1-5", resolution=512, scheduler="PNDMScheduler"),
    ),
    pipelines={
        Conditioning.TEXT: "StableDiffusionPipeline",
        Conditioning.IMAGE: "StableDiffusionImg2ImgPipeline",
        Conditioning.CANNY: "StableDiffusionControlNetPipeline",
    },
    controlnet_id="lllyasviel/sd-controlnet-canny",
)

SD21 = Family(
    key="sd21",
    display="SD2.1",
    backbone="unet",
    denoiser_class="UNet2DConditionModel",
    text_encoders=("CLIPTextModel",),
    checkpoints=(
        Checkpoint(
            id="stabilityai/stable-diffusion-2-1",
            resolution=768,
            scheduler="DDIMScheduler",
            prediction_type="v_prediction",
        ),
        Checkpoint(id="stabilityai/stable-diffusion-2-1-base", resolution=512, scheduler="PNDMScheduler"),
    ),
    pipelines={
        Conditioning.TEXT: "StableDiffusionPipeline",
        Conditioning.IMAGE: "StableDiffusionImg2ImgPipeline",
    },
)

SDXL = Family(
    key="sdxl",
    display="SDXL",
    backbone="unet",
    denoiser_class="UNet2DConditionModel",
    text_encoders=("CLIPTextModel", "CLIPTextModelWithProjection"),
    checkpoints=(
        Checkpoint(id="stabilityai/stable-diffusion-xl-base-1.0", resolution=1024, scheduler="EulerDiscreteScheduler"),
    ),
    pipelines={
        Conditioning.TEXT: "StableDiffusionXLPipeline",
        Conditioning.IMAGE: "StableDiffusionXLImg2ImgPipeline",
        Conditioning.CANNY: "StableDiffusionXLControlNetPipeline",
    },
    controlnet_id="diffusers/controlnet-canny-sdxl-1.0",
)

DIT = Family(
    key="dit",
    display="DiT",
    backbone="transformer",
    denoiser_class="DiTTransformer2DModel",
    text_encoders=(),
    checkpoints=(
        Checkpoint(id="facebook/DiT-XL-2-256", resolution=256, scheduler="DDIMScheduler"),
        Checkpoint(id="facebook/DiT-XL-2-512", resolution=512, scheduler="DDIMScheduler"),
    ),
    pipelines={Conditioning.CLASS: "DiTPipeline"},
)

PIXART_ALPHA = Family(
    key="pixart-alpha",
    display="PixArt-alpha",
    backbone="transformer",
    denoiser_class="PixArtTransformer2DModel",
    text_encoders=("T5EncoderModel",),
    checkpoints=(
        Checkpoint(id="PixArt-alpha/PixArt-XL-2-512x512", resolution=512, scheduler="DPMSolverMultistepScheduler"),
        Checkpoint(id="PixArt-alpha/PixArt-XL-2-1024-MS", resolution=1024, scheduler="DPMSolverMultistepScheduler"),
    ),
    pipelines={Conditioning.TEXT: "PixArtAlphaPipeline"},
)

PIXART_SIGMA = Family(
    key="pixart-sigma",
    display="PixArt-Sigma",
    backbone="transformer",
    denoiser_class="PixArtTransformer2DModel",
    text_encoders=("T5EncoderModel",),
    checkpoints=(
        Checkpoint(
            id="PixArt-alpha/PixArt-Sigma-XL-2-512-MS",
            resolution=512,
            scheduler="DPMSolverMultistepScheduler",
        ),
        Checkpoint(
            id="PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
            resolution=1024,
            scheduler="DPMSolverMultistepScheduler",
        ),
    ),
    pipelines={Conditioning.TEXT: "PixArtSigmaPipeline"},
)

# Beyond the paper: the flow-matching transformer families people run in 2026 (the extended suite). Steps and
# guidance are the model cards' examples: FLUX.1-dev 50 steps at guidance 3.5 (a distilled guidance embedding, one
# transformer call per step), FLUX.1-schnell 4 steps without guidance, SD3.5 large 28 steps at 3.5 and medium 40
# at 4.5 (classifier-free guidance), Qwen-Image 50 steps at true_cfg_scale 4.0 (true classifier-free guidance with
# the card's negative prompt " "). Qwen-Image runs at 1024 px, its diffusers pipeline's default size
# (default_sample_size 128 x 8); the model card's square example uses 1328.
FLUX = Family(
    key="flux",
    display="FLUX.1",
    backbone="transformer",
    denoiser_class="FluxTransformer2DModel",
    text_encoders=("CLIPTextModel", "T5EncoderModel"),
    latent_channels=16,
    checkpoints=(
        Checkpoint(
            id="black-forest-labs/FLUX.1-dev",
            resolution=1024,
            scheduler="FlowMatchEulerDiscreteScheduler",
            prediction_type="flow",
            steps=50,
            guidance_scale=3.5,
        ),
        Checkpoint(
            id="black-forest-labs/FLUX.1-schnell",
            resolution=1024,
            scheduler="FlowMatchEulerDiscreteScheduler",
            prediction_type="flow",
            steps=4,
            guidance_scale=0.0,
        ),
    ),
    pipelines={Conditioning.TEXT: "FluxPipeline"},
    suite="extended",
)

SD35 = Family(
    key="sd35",
    display="SD3.5",
    backbone="transformer",
    denoiser_class="SD3Transformer2DModel",
    text_encoders=("CLIPTextModelWithProjection", "CLIPTextModelWithProjection", "T5EncoderModel"),
    latent_channels=16,
    checkpoints=(
        Checkpoint(
            id="stabilityai/stable-diffusion-3.5-large",
            resolution=1024,
            scheduler="FlowMatchEulerDiscreteScheduler",
            prediction_type="flow",
            steps=28,
            guidance_scale=3.5,
        ),
        Checkpoint(
            id="stabilityai/stable-diffusion-3.5-medium",
            resolution=1024,
            scheduler="FlowMatchEulerDiscreteScheduler",
            prediction_type="flow",
            steps=40,
            guidance_scale=4.5,
        ),
    ),
    pipelines={Conditioning.TEXT: "StableDiffusion3Pipeline"},
    suite="extended",
)

# A CacheMixin transformer whose pipeline opens cache contexts (cond, uncond) as FluxPipeline does: the diffusers
# cache hooks' FLUX templates apply unchanged.
QWEN_IMAGE = Family(
    key="qwen-image",
    display="Qwen-Image",
    backbone="transformer",
    denoiser_class="QwenImageTransformer2DModel",
    text_encoders=("Qwen2_5_VLForConditionalGeneration",),
    latent_channels=16,
    checkpoints=(
        Checkpoint(
            id="Qwen/Qwen-Image",
            resolution=1024,
            scheduler="FlowMatchEulerDiscreteScheduler",
            prediction_type="flow",
            steps=50,
            guidance_scale=4.0,
        ),
    ),
    pipelines={Conditioning.TEXT: "QwenImagePipeline"},
    guidance_argument="true_cfg_scale",
    shares_templates_with="flux",
    suite="extended",
)


# Video (issue 34): Wan 2.1 and 2.2, the models 2026's acceleration projects target first. The registry and the
# stand-ins came first, then frame lists in the contract and video quality; methods and tasks follow. Frame sizes, frame
# counts, steps and guidance are the model cards' examples: Wan 2.1 1.3B at 480P (832x480, WanPipeline's default size),
# 14B at 720P, both 81 frames, 50 steps, guidance 5.0; Wan 2.2 TI2V-5B at its 1280x704, 121 frames, 50 steps, guidance
# 5.0; Wan 2.2 A14B (two experts: the high-noise one while the timestep is at least 0.875 of the training range in
# text-to-video, 0.9 in image-to-video) at 720P, 81 frames, 40 steps, guidance 4.0 (text) and 3.5 (image).
def _wan(
    model_id: str, size: str, frames: int, steps: int, guidance: float, boundary: float | None = None
) -> Checkpoint:
    width, height = map(int, size.split("x"))
    return Checkpoint(id=model_id, resolution=height, width=width, frames=frames, steps=steps, guidance_scale=guidance,
                      boundary_ratio=boundary, scheduler="UniPCMultistepScheduler", prediction_type="flow")  # fmt: skip


_WAN_ARCHITECTURE: dict = {"backbone": "transformer", "denoiser_class": "WanTransformer3DModel",
                           "text_encoders": ("UMT5EncoderModel",), "latent_channels": 16, "suite": "video"}  # fmt: skip
WAN = Family(
    key="wan",
    display="Wan",
    **_WAN_ARCHITECTURE,
    checkpoints=(
        _wan("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "832x480", 81, 50, 5.0),
        _wan("Wan-AI/Wan2.1-T2V-14B-Diffusers", "1280x720", 81, 50, 5.0),
        _wan("Wan-AI/Wan2.2-TI2V-5B-Diffusers", "1280x704", 121, 50, 5.0),
        _wan("Wan-AI/Wan2.2-T2V-A14B-Diffusers", "1280x720", 81, 40, 4.0, boundary=0.875),
    ),
    pipelines={Conditioning.TEXT_TO_VIDEO: "WanPipeline"},
)
WAN_I2V = Family(
    key="wan-i2v",
    display="Wan image-to-video",
    **_WAN_ARCHITECTURE,
    checkpoints=(_wan("Wan-AI/Wan2.2-I2V-A14B-Diffusers", "1280x720", 81, 40, 3.5, boundary=0.9),),
    pipelines={Conditioning.IMAGE_TO_VIDEO: "WanImageToVideoPipeline"},
    shares_templates_with="wan",
)

FAMILIES: dict[str, Family] = {
    f.key: f for f in (SD15, SD21, SDXL, DIT, PIXART_ALPHA, PIXART_SIGMA, FLUX, SD35, QWEN_IMAGE, WAN, WAN_I2V)
}
SUITES = ("paper", "extended", "video")  # the task suites
# A video's frame count where nobody states one: the video suite's clips and the agent's default, 5 frames (a clip
# a CPU can afford; Wan's VAE takes 4k+1 frames; the model cards make 81, and 121 for TI2V-5B).
CLIP_FRAMES = 5


def task_families() -> list[Family]:
    """The families the task suites, the request reader and the agent cover (every family of the registry)."""
    return [f for f in FAMILIES.values() if f.suite in SUITES]


def families_of(suite: str) -> list[Family]:
    """The families of one task suite, in registry order."""
    if suite not in SUITES:
        raise UnknownModelError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    return [f for f in FAMILIES.values() if f.suite == suite]


# The model that scores absolute quality (CLIP score) in the `cuda` profile.
QUALITY_MODEL_ID = "openai/clip-vit-base-patch16"


class UnknownModelError(DiffbenchError, LookupError):
    """A model id or family key that the registry does not know."""


def family(key: str) -> Family:
    try:
        return FAMILIES[key]
    except KeyError:
        raise UnknownModelError(f"unknown model family {key!r}; known: {', '.join(FAMILIES)}") from None


def family_of(model_id: str) -> Family:
    """The family a pipeline or ControlNet id belongs to."""
    for fam in FAMILIES.values():
        if model_id == fam.controlnet_id or any(c.id == model_id for c in fam.checkpoints):
            return fam
    raise UnknownModelError(f"unknown model id {model_id!r}; known: {', '.join(all_model_ids())}")


def checkpoint(model_id: str) -> Checkpoint:
    for c in family_of(model_id).checkpoints:
        if c.id == model_id:
            return c
    raise UnknownModelError(f"{model_id!r} is a ControlNet, not a pipeline checkpoint")


def all_model_ids() -> list[str]:
    """Every id the project stores: pipeline checkpoints, ControlNets and the quality model."""
    ids: list[str] = []
    for fam in FAMILIES.values():
        ids.extend(c.id for c in fam.checkpoints)
        if fam.controlnet_id:
            ids.append(fam.controlnet_id)
    ids.append(QUALITY_MODEL_ID)
    return ids
