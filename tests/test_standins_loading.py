"""The stand-ins load the way people's code loads real checkpoints: fp16 variants where the real repository has
them, the generic loaders, and the `device_map` forms diffusers accepts for a pipeline."""

import pytest
import torch
from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image, DiffusionPipeline

from diffbench.models.families import FAMILIES
from diffbench.models.standins.build import VARIANTS

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


@pytest.mark.parametrize("model_id", sorted(VARIANTS))
def test_the_fp16_variant_loads_in_half_precision(profile, model_id):
    pipe = DiffusionPipeline.from_pretrained(model_id, torch_dtype=torch.float16, variant="fp16")
    assert pipe.unet.dtype == torch.float16 and pipe.text_encoder.dtype == torch.float16


def test_the_default_weights_stay_full_precision_next_to_the_variant(profile):
    pipe = DiffusionPipeline.from_pretrained(SD15)
    assert pipe.unet.dtype == torch.float32 and pipe.text_encoder.dtype == torch.float32


def test_a_repository_without_variants_refuses_one_as_the_real_one_does(profile):
    with pytest.raises(ValueError, match="variant"):
        DiffusionPipeline.from_pretrained("facebook/DiT-XL-2-256", variant="fp16")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_generic_loader_builds_each_familys_pipeline(profile, family):
    fam = FAMILIES[family]
    for checkpoint in fam.checkpoints:
        pipe = DiffusionPipeline.from_pretrained(checkpoint.id)
        assert type(pipe).__name__ == fam.pipelines[fam.plain_conditioning]


def test_the_auto_pipelines_pick_the_conditioning(profile):
    assert type(AutoPipelineForText2Image.from_pretrained(SD15)).__name__ == "StableDiffusionPipeline"
    assert type(AutoPipelineForImage2Image.from_pretrained(SD15)).__name__ == "StableDiffusionImg2ImgPipeline"
    assert type(AutoPipelineForText2Image.from_pretrained("PixArt-alpha/PixArt-XL-2-512x512")).__name__ == (
        "PixArtAlphaPipeline"
    )


@pytest.mark.parametrize("device_map", ["cpu", "balanced"])
def test_device_map_strategies_load(profile, device_map):
    pipe = DiffusionPipeline.from_pretrained(SD15, device_map=device_map)
    assert pipe.unet.device.type == "cpu"


def test_an_indexed_device_map_is_refused_by_diffusers_itself(profile):
    """docs/contract.md: `device_map="cuda:1"` is not a pipeline strategy in diffusers 0.42; use `.to(device)`."""
    with pytest.raises(NotImplementedError, match="not supported"):
        DiffusionPipeline.from_pretrained(SD15, device_map="cuda:1")
