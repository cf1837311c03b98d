"""Adapters that let diffusers' caching hooks run on pipelines that were not written for them.

What broke (diffusers 0.42.1): Pyramid Attention Broadcast and FirstBlockCache are hooks that expect the
*pipeline* to cooperate. PAB asks for a `current_timestep_callback`, and the documented one,
`lambda: pipe.current_timestep`, does not exist on DiTPipeline or the PixArt pipelines. FirstBlockCache keeps
its state in a cache context that only `CacheMixin` pipelines open (`with transformer.cache_context(...)`
around each denoiser call); DiT and PixArt transformers are not `CacheMixin`, so the hook has no context and
fails. Instead of forking diffusers, `DenoiserObserver` wraps the transformer's forward once: it records the
timestep of each call, opens a cache context around it, and resets the hooks' state when a new image starts
(the timestep goes up), so no cached activation of one image is reused for the next.
Pinned by tests/test_knowledge_adapters.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from diffusers.hooks import (
    FirstBlockCacheConfig,
    HookRegistry,
    PyramidAttentionBroadcastConfig,
    apply_first_block_cache,
    apply_pyramid_attention_broadcast,
)
from diffusers.hooks.hooks import CacheContext, _set_cache_context
from torch import nn

_ATTRIBUTE = "_diffbench_observer"


class DenoiserObserver:
    def __init__(self, transformer: nn.Module) -> None:
        self.transformer = transformer
        self.timestep = -1
        self._forward = transformer.forward
        transformer.forward = self.forward

    @classmethod
    def attach(cls, transformer: nn.Module) -> DenoiserObserver:
        observer = getattr(transformer, _ATTRIBUTE, None)
        if observer is None:
            observer = cls(transformer)
            setattr(transformer, _ATTRIBUTE, observer)
        return observer

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        t = kwargs.get("timestep", args[1] if len(args) > 1 else None)
        t = int(t.flatten()[0].item()) if isinstance(t, torch.Tensor) else int(t if t is not None else -1)
        if t > self.timestep >= 0:  # sampling runs timesteps downwards: a rise means a new image
            HookRegistry.check_if_exists_or_initialize(self.transformer).reset_stateful_hooks(recurse=True)
        self.timestep = t
        _set_cache_context(self.transformer, CacheContext("diffbench", timestep=t))
        try:
            return self._forward(*args, **kwargs)
        finally:
            _set_cache_context(self.transformer, None)


def current_timestep(transformer: nn.Module) -> Callable[[], int]:
    """A `current_timestep_callback` for pipelines that do not publish `pipe.current_timestep`."""
    observer = DenoiserObserver.attach(transformer)
    return lambda: observer.timestep


def enable_pyramid_attention_broadcast(
    transformer: nn.Module, spatial_skip: int, cross_skip: int | None, timestep_range: tuple[int, int]
) -> None:
    config = PyramidAttentionBroadcastConfig(
        spatial_attention_block_skip_range=spatial_skip,
        spatial_attention_timestep_skip_range=timestep_range,
        cross_attention_block_skip_range=cross_skip,
        cross_attention_timestep_skip_range=timestep_range,
        current_timestep_callback=current_timestep(transformer),
    )
    apply_pyramid_attention_broadcast(transformer, config)


def enable_first_block_cache(transformer: nn.Module, threshold: float) -> None:
    apply_first_block_cache(transformer, FirstBlockCacheConfig(threshold=threshold))
    DenoiserObserver.attach(transformer)


# --- SDPA kernel ---------------------------------------------------------------------------------------------
# What broke: `model.set_attention_backend(...)` (diffusers 0.42) only reaches attention processors built on the
# attention dispatcher. UNet2DConditionModel, DiTTransformer2DModel and PixArtTransformer2DModel still use
# AttnProcessor2_0, so the call is a silent no-op on all of them. PyTorch's own
# `sdpa_kernel` context picks the kernel every scaled_dot_product_attention call uses; this wrapper applies it
# around each denoiser call.

SDPA_BACKENDS = {
    "flash": "FLASH_ATTENTION",
    "efficient": "EFFICIENT_ATTENTION",
    "math": "MATH",
    "cudnn": "CUDNN_ATTENTION",
}


def pin_sdpa_backend(denoiser: nn.Module, backend: str) -> None:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    kernel = getattr(SDPBackend, SDPA_BACKENDS[backend])
    forward = denoiser.forward

    def pinned_forward(*args: Any, **kwargs: Any) -> Any:
        with sdpa_kernel(kernel):
            return forward(*args, **kwargs)

    denoiser.forward = pinned_forward
    denoiser._diffbench_sdpa_backend = backend


# --- classifier-free-guidance truncation ---------------------------------------------------------------------
# diffusers documents this as a `callback_on_step_end` recipe ("dynamic classifier-free guidance"): after a
# fraction of the steps, drop the unconditional half of the batch and set the guidance scale to 0. SDXL also
# carries pooled text embeddings and time ids in the doubled batch.

CFG_TENSORS = {"sd": ["prompt_embeds"], "sdxl": ["prompt_embeds", "add_text_embeds", "add_time_ids"]}


class TruncateGuidance:
    def __init__(self, fraction: float, tensors: list[str]) -> None:
        self.fraction = fraction
        self.tensors = tensors

    def __call__(self, pipe: Any, step_index: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        pipe._diffbench_cfg_truncation = self.fraction
        if step_index == int(pipe.num_timesteps * self.fraction) and pipe.do_classifier_free_guidance:
            for name in self.tensors:
                callback_kwargs[name] = callback_kwargs[name].chunk(2)[-1]
            pipe._guidance_scale = 0.0
        return callback_kwargs
