"""The stand-ins load through unmodified `from_pretrained(REAL_ID)` and keep each family's architecture."""

import subprocess
import sys

import diffusers
import pytest
import torch
from transformers import CLIPModel, CLIPProcessor, CLIPTextModelWithProjection, T5EncoderModel

from conftest import THREADS
from diffbench.images import synthetic_photo
from diffbench.models.families import FAMILIES, Conditioning
from diffbench.models.loading import generation_kwargs, load_pipeline
from diffbench.models.standins.unet_pipelines import SD_DOWN, SDXL_DOWN


def vae_factor(pipe) -> int:
    return 2 ** (len(pipe.vae.config.block_out_channels) - 1)


def test_plain_from_pretrained_in_a_fresh_process_loads_offline(profile):
    code = (
        "from diffusers import StableDiffusionPipeline\n"
        "p = StableDiffusionPipeline.from_pretrained('stable-diffusion-v1-5/stable-diffusion-v1-5')\n"
        "print(type(p.unet).__name__)\n"
    )
    env = {"PATH": "/usr/bin:/bin", **THREADS, **profile.env()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "UNet2DConditionModel"


@pytest.mark.parametrize("fam_key", ["sd15", "sd21", "sdxl"])
def test_unet_families(profile, fam_key):
    fam = FAMILIES[fam_key]
    for ck in fam.checkpoints:
        pipe = getattr(diffusers, fam.pipelines[Conditioning.TEXT]).from_pretrained(ck.id)
        assert type(pipe).__name__ == fam.pipelines[Conditioning.TEXT]
        assert type(pipe.unet).__name__ == fam.denoiser_class
        assert type(pipe.scheduler).__name__ == ck.scheduler
        assert pipe.scheduler.config.prediction_type == ck.prediction_type
        assert pipe.unet.config.in_channels == 4 and pipe.vae.config.latent_channels == 4
        # The U-Net stand-ins run at the real resolution; a deeper VAE keeps their latents CPU-sized.
        assert vae_factor(pipe) * pipe.unet.config.sample_size == ck.resolution
        assert vae_factor(pipe) in (16, 32)
        expected_down = SDXL_DOWN if fam_key == "sdxl" else SD_DOWN
        assert tuple(pipe.unet.config.down_block_types) == expected_down


def test_sdxl_keeps_two_text_encoders_and_added_time_ids(profile):
    pipe = diffusers.StableDiffusionXLPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
    assert isinstance(pipe.text_encoder_2, CLIPTextModelWithProjection)
    assert pipe.unet.config.addition_embed_type == "text_time"
    hidden = pipe.text_encoder.config.hidden_size + pipe.text_encoder_2.config.hidden_size
    assert pipe.unet.config.cross_attention_dim == hidden


def test_sd21_768_is_v_prediction_with_linear_projection(profile):
    pipe = diffusers.StableDiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-2-1")
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    assert pipe.unet.config.use_linear_projection


def test_dit_keeps_imagenet_ids(profile):
    pipe = diffusers.DiTPipeline.from_pretrained("facebook/DiT-XL-2-256")
    assert type(pipe.transformer).__name__ == "DiTTransformer2DModel"
    assert pipe.get_label_ids(["golden retriever", "tabby"]) == [207, 281]
    assert pipe.transformer.config.out_channels == 8  # learned sigma


@pytest.mark.parametrize(
    "model_id", [ck.id for k in ("pixart-alpha", "pixart-sigma") for ck in FAMILIES[k].checkpoints]
)
def test_pixart_keeps_t5_and_resolution_binning(profile, model_id):
    fam = FAMILIES["pixart-sigma" if "Sigma" in model_id else "pixart-alpha"]
    pipe = getattr(diffusers, fam.pipelines[Conditioning.TEXT]).from_pretrained(model_id)
    assert isinstance(pipe.text_encoder, T5EncoderModel)
    assert pipe.transformer.config.caption_channels == pipe.text_encoder.config.d_model
    expected_sample = 128 if "1024" in model_id else 64
    assert pipe.transformer.config.sample_size == expected_sample
    assert pipe.transformer.config.use_additional_conditions == (model_id == "PixArt-alpha/PixArt-XL-2-1024-MS")


def test_controlnet_is_derived_from_its_pipelines_unet(profile):
    pipe = load_pipeline("stable-diffusion-v1-5/stable-diffusion-v1-5", Conditioning.CANNY, profile)
    assert torch.equal(pipe.controlnet.conv_in.weight, pipe.unet.conv_in.weight)


def test_controlnet_output_depends_on_the_control_image(profile):
    model_id = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    pipe = load_pipeline(model_id, Conditioning.CANNY, profile)
    outs = []
    for seed in (1, 2):
        kwargs = generation_kwargs(model_id, Conditioning.CANNY, 256, steps=4, seed=0, image=synthetic_photo(256, seed))
        outs.append(pipe(**kwargs, output_type="np").images[0])
    assert abs(outs[0] - outs[1]).max() > 1e-2  # a clear change, not rounding noise


def test_quality_model_loads_with_its_processor(profile):
    model = CLIPModel.from_pretrained("openai/clip-vit-base-patch16")
    processor = CLIPProcessor.from_pretrained("openai/clip-vit-base-patch16")
    inputs = processor(text=["a cat"], images=[synthetic_photo(64)], return_tensors="pt", padding=True)
    with torch.no_grad():
        assert model(**inputs).logits_per_image.shape == (1, 1)


WAN_IDS = [ck.id for key in ("wan", "wan-i2v") for ck in FAMILIES[key].checkpoints]


@pytest.mark.parametrize("model_id", WAN_IDS)
def test_wan_stand_ins_load_through_the_wan_pipelines_at_a_real_frame_size_and_make_videos(profile, model_id):
    """Unmodified WanPipeline / WanImageToVideoPipeline.from_pretrained: UMT5, the causal 3D VAE, one expert or
    A14B's two switched at the published boundary, TI2V-5B's 48-channel VAE and per-token timesteps; a frame size
    the checkpoint runs (480P, TI2V-5B its 1280x704) and a video out. Both A14B experts take steps of one call."""
    from diffbench.models.families import checkpoint, family_of
    from diffbench.models.loading import default_video_shape

    fam, ck = family_of(model_id), checkpoint(model_id)
    conditioning = fam.plain_conditioning
    pipe = load_pipeline(model_id, conditioning, profile)
    assert type(pipe).__name__ == fam.pipelines[conditioning] and conditioning.video
    assert type(pipe.transformer).__name__ == fam.denoiser_class
    assert type(pipe.text_encoder).__name__ == "UMT5EncoderModel"
    assert type(pipe.scheduler).__name__ == ck.scheduler
    assert pipe.scheduler.config.prediction_type == "flow_prediction" and pipe.scheduler.config.use_flow_sigmas
    assert pipe.config.boundary_ratio == ck.boundary_ratio
    assert (pipe.transformer_2 is not None) == (ck.boundary_ratio is not None)
    assert pipe.config.expand_timesteps == ("TI2V" in model_id)
    assert pipe.vae.config.z_dim == (48 if "TI2V" in model_id else 16)
    width, height, frames = default_video_shape(model_id, profile)
    assert (width, height) in {(832, 480), (ck.width, ck.resolution)} and frames == 5
    experts = [m for m in (pipe.transformer, pipe.transformer_2) if m is not None]
    calls = [0] * len(experts)
    for i, expert in enumerate(experts):
        expert.register_forward_hook(lambda *_, i=i: calls.__setitem__(i, calls[i] + 1))
    steps = 4
    kwargs = generation_kwargs(model_id, conditioning, height, steps, seed=0, image=synthetic_photo(height),
                               width=width, frames=5)  # fmt: skip
    video = pipe(**kwargs, output_type="np").frames[0]
    assert video.shape == (5, height, width, 3)
    assert all(c > 0 for c in calls) and sum(calls) == steps * 2  # classifier-free guidance: two passes a step
