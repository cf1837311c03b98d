"""Profiles: where models come from, which device and dtype they run on, and what judges quality.

Everything that depends on "which world are we in" asks the profile, and every printed figure names it.

- `tiny-cpu`: tiny random-weight stand-ins that the project builds itself (`diffbench models build`), saved in a
  hub-cache layout under the real ids in a project-owned folder and loaded offline. Quality is *fidelity* to
  the baseline output (PSNR/SSIM), because a random CLIP scores nothing meaningful.
- `cuda`: the user's real weights in their own Hugging Face hub cache, on a GPU; quality is CLIP score.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from diffbench.errors import DiffbenchError
from diffbench.models.store import HubCacheStore

QualityMetric = Literal["fidelity", "clip-score"]


class UnknownProfileError(DiffbenchError, LookupError):
    pass


def diffbench_home() -> Path:
    """The project's own folder: `$DIFFBENCH_HOME`, else `$XDG_CACHE_HOME/diffbench`, else `~/.cache/diffbench`."""
    if home := os.environ.get("DIFFBENCH_HOME"):
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "diffbench"


def user_hub_cache() -> Path:
    """The user's Hugging Face hub cache, as huggingface_hub resolves it (HF_HUB_CACHE, HF_HOME, default)."""
    if cache := os.environ.get("HF_HUB_CACHE"):
        return Path(cache).expanduser()
    hf_home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    return Path(hf_home).expanduser() / "hub"


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Literal["tiny-cpu", "cuda"]
    summary: str
    device: str
    dtype: str
    hub_cache: Path
    builds_standins: bool
    quality_metric: QualityMetric

    @property
    def store(self) -> HubCacheStore:
        return HubCacheStore(self.hub_cache)

    def env(self) -> dict[str, str]:
        """Environment for any process that loads models under this profile: offline, pointed at the store."""
        return {
            "DIFFBENCH_HOME": str(diffbench_home()),
            "HF_HUB_CACHE": str(self.hub_cache),
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            # transformers warns at import that torchvision is missing (there is no CPU build): not news.
            "TRANSFORMERS_VERBOSITY": "error",
            "DIFFBENCH_PROFILE": self.name,
        }

    def missing_model_message(self, model_id: str) -> str:
        """One clear sentence: which id, which profile, where it was looked for, and how to get it."""
        if self.builds_standins:
            return (
                f"model {model_id!r} is not built for profile {self.name!r} (looked in {self.hub_cache}); "
                f"build the stand-ins with `diffbench models build --profile {self.name}`"
            )
        return (
            f"model {model_id!r} is not in the Hugging Face hub cache for profile {self.name!r} "
            f"(looked in {self.hub_cache}); its real weights are needed: run `hf download {model_id}` on a machine "
            f"with network access, or point HF_HUB_CACHE (or HF_HOME) at a cache that holds them"
        )


def tiny_cpu() -> Profile:
    return Profile(
        name="tiny-cpu",
        summary="tiny random-weight stand-ins under the real ids, CPU, fidelity to the baseline as quality",
        device="cpu",
        dtype="float32",
        hub_cache=diffbench_home() / "tiny-cpu" / "hub",
        builds_standins=True,
        quality_metric="fidelity",
    )


def cuda() -> Profile:
    return Profile(
        name="cuda",
        summary="real weights from the user's Hugging Face hub cache, on a CUDA GPU, CLIP score as quality",
        device="cuda",
        dtype="float32",
        hub_cache=user_hub_cache(),
        builds_standins=False,
        quality_metric="clip-score",
    )


PROFILES = {"tiny-cpu": tiny_cpu, "cuda": cuda}
DEFAULT_PROFILE = "tiny-cpu"


def get_profile(name: str = DEFAULT_PROFILE) -> Profile:
    try:
        return PROFILES[name]()
    except KeyError:
        raise UnknownProfileError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
