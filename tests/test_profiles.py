from pathlib import Path

import pytest

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
    with pytest.raises(UnknownProfileError, match="unknown profile .gpu.; known: tiny-cpu, tiny-cuda, cuda"):
        get_profile("gpu")
