from pathlib import Path

import pytest

from diffbench.models.device import DeviceUnavailableError
from diffbench.models.profiles import UnknownProfileError, get_profile


def test_tiny_cpu_store_lives_under_diffbench_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DIFFBENCH_HOME", str(tmp_path))
    prof = get_profile("tiny-cpu")
    assert prof.hub_cache == tmp_path / "tiny-cpu" / "hub"
    assert (prof.device, prof.quality_metric, prof.builds_standins) == ("cpu", "fidelity", True)


def test_default_home_is_under_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("DIFFBENCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert get_profile().hub_cache == tmp_path / "diffbench" / "tiny-cpu" / "hub"


def test_cuda_uses_the_users_hub_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    prof = get_profile("cuda")
    assert prof.hub_cache == Path(tmp_path) / "hub"
    assert (prof.device, prof.quality_metric, prof.builds_standins) == ("cuda", "clip-score", False)


def test_profile_env_is_offline_and_points_at_the_store():
    prof = get_profile("tiny-cpu")
    env = prof.env()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["HF_HUB_CACHE"] == str(prof.hub_cache)
    assert env["DIFFBENCH_PROFILE"] == "tiny-cpu"


def test_missing_model_messages_say_how_to_get_the_model():
    tiny = get_profile("tiny-cpu").missing_model_message("facebook/DiT-XL-2-256")
    assert "facebook/DiT-XL-2-256" in tiny and "'tiny-cpu'" in tiny
    assert "diffbench models build --profile tiny-cpu" in tiny
    cuda = get_profile("cuda").missing_model_message("facebook/DiT-XL-2-256")
    assert "'cuda'" in cuda and "hub cache" in cuda and "hf download facebook/DiT-XL-2-256" in cuda


def test_unknown_profile():
    with pytest.raises(UnknownProfileError, match=r"unknown profile .gpu.; known: tiny-cpu, tiny-cuda, cuda"):
        get_profile("gpu")


def test_three_named_profiles_are_three_independent_choices():
    tiny_cuda = get_profile("tiny-cuda")
    assert (tiny_cuda.source, tiny_cuda.device, tiny_cuda.quality_metric) == ("stand-ins", "cuda", "fidelity")
    assert tiny_cuda.hub_cache == get_profile("tiny-cpu").hub_cache  # the same stand-ins, another device
    cuda = get_profile("cuda")
    assert (cuda.source, cuda.quality_metric) == ("hub-cache", "clip-score")


def test_device_overrides_the_profiles_device_and_every_description_names_all_three():
    prof = get_profile("cuda", "cpu")
    assert (prof.name, prof.device, prof.quality_metric) == ("cuda", "cpu", "clip-score")
    assert prof.describe() == "profile cuda (real weights (your hub cache), device cpu, quality clip-score)"
    assert get_profile("tiny-cuda", "cuda:1").device == "cuda:1"
    assert get_profile("tiny-cpu").facts() == {
        "profile": "tiny-cpu",
        "device": "cpu",
        "weights": "stand-ins",
        "quality": "fidelity",
    }
    assert get_profile("tiny-cpu").env()["DIFFBENCH_DEVICE"] == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "CUDA", "cuda:", "mps:0"])
def test_an_unknown_device_is_one_clear_error(bad):
    with pytest.raises(DeviceUnavailableError, match=r"unknown device .*use cpu, cuda or cuda:N"):
        get_profile("tiny-cpu", bad)


def test_a_cuda_device_on_a_machine_without_one_names_what_is_missing(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError, match=r"profile 'tiny-cuda' runs on cuda, but this machine has no"):
        get_profile("tiny-cuda").require_device()
    get_profile("tiny-cuda", "cpu").require_device()  # the same profile's code on the CPU is fine
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(DeviceUnavailableError, match=r"device cuda:2 does not exist; this machine has 2"):
        get_profile("cuda", "cuda:2").require_device()
    get_profile("cuda", "cuda:1").require_device()
