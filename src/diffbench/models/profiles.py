"""Profiles: three independent choices under one name, and every printed figure names all three.

- where models come from (`source`): the project's tiny random-weight **stand-ins** under the real ids
  (`diffbench models build`), or the user's own Hugging Face **hub cache** with real weights;
- which **device** runs them: `cpu`, `cuda` or `cuda:N` (`--device` overrides the profile's default on every
  command that runs models);
- which **quality metric** judges them: *fidelity* to the baseline's output (a random-weight CLIP scores nothing
  meaningful, so stand-ins are judged this way) or CLIP score (real weights).

Named profiles: `tiny-cpu` (stand-ins, CPU, fidelity; the default), `tiny-cuda` (stand-ins, GPU, fidelity: what a
GPU check needs, no weights), `cuda` (real weights, GPU, CLIP score).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from diffbench.errors import DiffbenchError
from diffbench.models.device import describe_hardware, require_device, validate_device
from diffbench.models.store import HubCacheStore

QualityMetric = Literal["fidelity", "clip-score"]
ModelSource = Literal["stand-ins", "hub-cache"]


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

    name: Literal["tiny-cpu", "tiny-cuda", "cuda"]
    summary: str
    source: ModelSource
    device: str
    dtype: str
    hub_cache: Path
    quality_metric: QualityMetric

    @property
    def builds_standins(self) -> bool:
        return self.source == "stand-ins"

    @property
    def weights(self) -> str:
        """What produced a figure, in words every report prints."""
        return "stand-ins (tiny random weights)" if self.builds_standins else "real weights (your hub cache)"

    @property
    def store(self) -> HubCacheStore:
        return HubCacheStore(self.hub_cache)

    def with_device(self, device: str | None) -> Profile:
        """The same profile on another device (`--device cuda:1`, or `--device cpu` to run cuda code on a CPU)."""
        if device is None or device == self.device:
            return self
        return self.model_copy(update={"device": validate_device(device)})

    def require_device(self) -> None:
        """One clear error when this profile's device is not on this machine."""
        require_device(self.device, self.name)

    def describe(self) -> str:
        """'profile tiny-cuda (stand-ins (tiny random weights), device cuda, quality fidelity)'."""
        return f"profile {self.name} ({self.weights}, device {self.device}, quality {self.quality_metric})"

    def platform(self) -> str:
        """The machine and the weights a figure was measured with, as a level-5 prompt states it: 'a 2-core AMD EPYC
        CPU running the tiny-cpu stand-in weights'."""
        hardware = describe_hardware(self.device)
        if self.builds_standins:
            return f"{hardware} running the {self.name} stand-in weights"
        return f"{hardware} (fp32 baseline, real weights)"

    def facts(self) -> dict[str, str]:
        """The same, for JSON output and result files."""
        return {"profile": self.name, "device": self.device, "weights": self.source, "quality": self.quality_metric}

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
            "DIFFBENCH_DEVICE": self.device,
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


def standin_store() -> Path:
    """The stand-ins' hub cache, shared by every stand-in profile (the same files run on CPU and GPU)."""
    return diffbench_home() / "tiny-cpu" / "hub"


def _standins_on(name: Literal["tiny-cpu", "tiny-cuda"], device: str, summary: str) -> Profile:
    return Profile(
        name=name,
        summary=summary,
        source="stand-ins",
        device=device,
        dtype="float32",
        hub_cache=standin_store(),
        quality_metric="fidelity",
    )


def tiny_cpu() -> Profile:
    summary = "tiny random-weight stand-ins under the real ids, CPU, fidelity to the baseline as quality"
    return _standins_on("tiny-cpu", "cpu", summary)


def tiny_cuda() -> Profile:
    summary = "the same stand-ins on a CUDA GPU, fidelity to the baseline as quality: a GPU check with no weights"
    return _standins_on("tiny-cuda", "cuda", summary)


def cuda() -> Profile:
    return Profile(
        name="cuda",
        summary="real weights from the user's Hugging Face hub cache, on a CUDA GPU, CLIP score as quality",
        source="hub-cache",
        device="cuda",
        dtype="float32",
        hub_cache=user_hub_cache(),
        quality_metric="clip-score",
    )


PROFILES = {"tiny-cpu": tiny_cpu, "tiny-cuda": tiny_cuda, "cuda": cuda}
DEFAULT_PROFILE = "tiny-cpu"


def get_profile(name: str = DEFAULT_PROFILE, device: str | None = None) -> Profile:
    """The named profile, on `device` when given (validated, not yet checked against this machine)."""
    try:
        profile = PROFILES[name]()
    except KeyError:
        raise UnknownProfileError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
    return profile.with_device(device)
