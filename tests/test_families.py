import pytest

from diffbench.models.families import (
    FAMILIES,
    QUALITY_MODEL_ID,
    SUITES,
    Conditioning,
    UnknownModelError,
    all_model_ids,
    checkpoint,
    families_of,
    family_of,
    task_families,
)

REQUIRED_IDS = {
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "lllyasviel/sd-controlnet-canny",
    "stabilityai/stable-diffusion-2-1",
    "stabilityai/stable-diffusion-2-1-base",
    "stabilityai/stable-diffusion-xl-base-1.0",
    "diffusers/controlnet-canny-sdxl-1.0",
    "facebook/DiT-XL-2-256",
    "facebook/DiT-XL-2-512",
    "PixArt-alpha/PixArt-XL-2-512x512",
    "PixArt-alpha/PixArt-XL-2-1024-MS",
    "PixArt-alpha/PixArt-Sigma-XL-2-512-MS",
    "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
    "openai/clip-vit-base-patch16",
    # the extended suite's families (issue 17)
    "black-forest-labs/FLUX.1-dev",
    "black-forest-labs/FLUX.1-schnell",
    "stabilityai/stable-diffusion-3.5-large",
    "stabilityai/stable-diffusion-3.5-medium",
    "Qwen/Qwen-Image",
    # video (issue 34): in the registry with stand-ins, no tasks yet
    "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    "Wan-AI/Wan2.1-T2V-14B-Diffusers",
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
    "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
}


def test_registry_holds_every_required_id_once():
    ids = all_model_ids()
    assert set(ids) == REQUIRED_IDS
    assert len(ids) == len(set(ids))


def test_six_paper_families_and_the_extended_ones():
    assert [f.key for f in families_of("paper")] == ["sd15", "sd21", "sdxl", "dit", "pixart-alpha", "pixart-sigma"]
    assert [f.key for f in families_of("extended")] == ["flux", "sd35", "qwen-image"]
    assert [f.key for f in families_of("video")] == ["wan", "wan-i2v"]
    assert [f.key for suite in SUITES for f in families_of(suite)] == list(FAMILIES)
    assert [f.key for f in task_families()] == list(FAMILIES)  # every family has tasks and the agent reads it
    assert all(c.video for key in ("wan", "wan-i2v") for c in FAMILIES[key].conditionings)
    with pytest.raises(UnknownModelError, match="unknown suite"):
        families_of("2027")
    c = Conditioning
    assert set(FAMILIES["sd15"].conditionings) == {c.TEXT, c.IMAGE, c.CANNY}
    assert set(FAMILIES["sdxl"].conditionings) == {c.TEXT, c.IMAGE, c.CANNY}
    assert set(FAMILIES["sd21"].conditionings) == {c.TEXT, c.IMAGE}
    assert FAMILIES["dit"].conditionings == (c.CLASS,)
    assert FAMILIES["pixart-sigma"].pipelines[c.TEXT] == "PixArtSigmaPipeline"


def test_published_defaults():
    sd21 = checkpoint("stabilityai/stable-diffusion-2-1")
    assert (sd21.resolution, sd21.prediction_type) == (768, "v_prediction")
    wan = checkpoint("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert (wan.width, wan.resolution, wan.frames, wan.steps, wan.guidance_scale) == (832, 480, 81, 50, 5.0)
    assert checkpoint("Wan-AI/Wan2.2-T2V-A14B-Diffusers").boundary_ratio == 0.875
    assert checkpoint("stabilityai/stable-diffusion-2-1-base").resolution == 512
    assert checkpoint("stabilityai/stable-diffusion-xl-base-1.0").scheduler == "EulerDiscreteScheduler"
    assert checkpoint("PixArt-alpha/PixArt-Sigma-XL-2-1024-MS").resolution == 1024
    # the model cards' examples
    dev, schnell = checkpoint("black-forest-labs/FLUX.1-dev"), checkpoint("black-forest-labs/FLUX.1-schnell")
    assert (dev.steps, dev.guidance_scale, schnell.steps, schnell.guidance_scale) == (50, 3.5, 4, 0.0)
    large = checkpoint("stabilityai/stable-diffusion-3.5-large")
    medium = checkpoint("stabilityai/stable-diffusion-3.5-medium")
    assert (large.steps, large.guidance_scale, medium.steps, medium.guidance_scale) == (28, 3.5, 40, 4.5)
    assert {dev.scheduler, large.scheduler} == {"FlowMatchEulerDiscreteScheduler"}


def test_controlnet_ids_belong_to_their_family():
    assert family_of("lllyasviel/sd-controlnet-canny").key == "sd15"
    assert family_of("diffusers/controlnet-canny-sdxl-1.0").key == "sdxl"


def test_unknown_id_names_the_id_and_lists_known_ones():
    with pytest.raises(UnknownModelError, match=r"unknown model id 'runwayml/sd-9'.*stable-diffusion-v1-5"):
        family_of("runwayml/sd-9")
    with pytest.raises(UnknownModelError):
        checkpoint(QUALITY_MODEL_ID)
