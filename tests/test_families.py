import pytest

from diffbench.models.families import (
    FAMILIES,
    QUALITY_MODEL_ID,
    Conditioning,
    UnknownModelError,
    all_model_ids,
    checkpoint,
    family_of,
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
}


def test_registry_holds_every_required_id_once():
    ids = all_model_ids()
    assert set(ids) == REQUIRED_IDS
    assert len(ids) == len(set(ids))


def test_six_families_with_their_conditionings():
    assert set(FAMILIES) == {"sd15", "sd21", "sdxl", "dit", "pixart-alpha", "pixart-sigma"}
    c = Conditioning
    assert set(FAMILIES["sd15"].conditionings) == {c.TEXT, c.IMAGE, c.CANNY}
    assert set(FAMILIES["sdxl"].conditionings) == {c.TEXT, c.IMAGE, c.CANNY}
    assert set(FAMILIES["sd21"].conditionings) == {c.TEXT, c.IMAGE}
    assert FAMILIES["dit"].conditionings == (c.CLASS,)
    assert FAMILIES["pixart-sigma"].pipelines[c.TEXT] == "PixArtSigmaPipeline"


def test_published_defaults():
    sd21 = checkpoint("stabilityai/stable-diffusion-2-1")
    assert (sd21.resolution, sd21.prediction_type) == (768, "v_prediction")
    assert checkpoint("stabilityai/stable-diffusion-2-1-base").resolution == 512
    assert checkpoint("stabilityai/stable-diffusion-xl-base-1.0").scheduler == "EulerDiscreteScheduler"
    assert checkpoint("PixArt-alpha/PixArt-Sigma-XL-2-1024-MS").resolution == 1024


def test_controlnet_ids_belong_to_their_family():
    assert family_of("lllyasviel/sd-controlnet-canny").key == "sd15"
    assert family_of("diffusers/controlnet-canny-sdxl-1.0").key == "sdxl"


def test_unknown_id_names_the_id_and_lists_known_ones():
    with pytest.raises(UnknownModelError, match=r"unknown model id 'runwayml/sd-9'.*stable-diffusion-v1-5"):
        family_of("runwayml/sd-9")
    with pytest.raises(UnknownModelError):
        checkpoint(QUALITY_MODEL_ID)
