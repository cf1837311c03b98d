"""A model that is not there gives one clear message naming the id and profile and how to get it."""

import pytest

from diffbench.models.families import Conditioning
from diffbench.models.loading import ModelNotAvailableError, load_pipeline
from diffbench.models.profiles import get_profile
from diffbench.models.standins.build import build_standins

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def test_missing_stand_in(empty_profile):
    with pytest.raises(ModelNotAvailableError) as err:
        load_pipeline(SD15, Conditioning.TEXT, empty_profile)
    message = str(err.value)
    assert SD15 in message and "'tiny-cpu'" in message and "diffbench models build --profile tiny-cpu" in message


def test_missing_controlnet_is_named(empty_profile):
    build_standins(empty_profile, ids=[SD15])
    with pytest.raises(ModelNotAvailableError, match="lllyasviel/sd-controlnet-canny"):
        load_pipeline(SD15, Conditioning.CANNY, empty_profile)


def test_damaged_snapshot_gives_the_same_clear_message(empty_profile):
    build_standins(empty_profile, ids=[SD15])
    snapshot = empty_profile.store.snapshot_dir(SD15)
    for weights in (snapshot / "unet").glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ModelNotAvailableError, match="diffbench models build"):
        load_pipeline(SD15, Conditioning.TEXT, empty_profile)


def test_cuda_profile_says_the_weights_are_not_in_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotAvailableError, match=r"not in the Hugging Face hub cache .*'cuda'.*hf download"):
        load_pipeline("facebook/DiT-XL-2-256", Conditioning.CLASS, get_profile("cuda"))


def test_wrong_conditioning_for_family(profile):
    with pytest.raises(ValueError, match="DiT has no text-to-image pipeline"):
        load_pipeline("facebook/DiT-XL-2-256", Conditioning.TEXT, profile)
