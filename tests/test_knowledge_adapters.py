"""The adapters in diffbench.knowledge.adapters: what broke without them, and that they really act."""

import pytest
from diffusers.hooks import FirstBlockCacheConfig, PyramidAttentionBroadcastConfig, apply_first_block_cache
from diffusers.hooks import apply_pyramid_attention_broadcast as apply_pab

from diffbench.images import psnr
from diffbench.knowledge.adapters import (
    CFG_TENSORS,
    TruncateGuidance,
    enable_first_block_cache,
    enable_pyramid_attention_broadcast,
    pin_sdpa_backend,
)
from diffbench.models.families import Conditioning
from diffbench.models.loading import generation_kwargs, load_pipeline

DIT = "facebook/DiT-XL-2-256"
PIXART = "PixArt-alpha/PixArt-XL-2-512x512"
SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def dit(profile):
    return load_pipeline(DIT, Conditioning.CLASS, profile)


def run(pipe, model_id, conditioning, steps=12, seed=0, resolution=256):
    return pipe(**generation_kwargs(model_id, conditioning, resolution, steps, seed)).images[0]


def count_computations(module):
    """Count real runs of `module.forward`. (A forward pre-hook would not do: it fires on every __call__, even
    when a diffusers hook answers from its cache without computing.) Install before the caching hook."""
    calls = []
    forward = module.forward

    def counting(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    module.forward = counting
    return calls


# --- what broke: pinned, so that a diffusers release that fixes it is noticed --------------------------------


def test_plain_first_block_cache_fails_on_dit(profile):
    pipe = dit(profile)
    apply_first_block_cache(pipe.transformer, FirstBlockCacheConfig(threshold=0.05))
    with pytest.raises(Exception):  # noqa: B017  (the hook finds no cache context; the exact error is diffusers')
        run(pipe, DIT, Conditioning.CLASS, steps=2)


def test_documented_pab_callback_does_not_exist_on_dit(profile):
    pipe = dit(profile)
    config = PyramidAttentionBroadcastConfig(
        spatial_attention_block_skip_range=2, current_timestep_callback=lambda: pipe.current_timestep
    )
    apply_pab(pipe.transformer, config)
    with pytest.raises(AttributeError, match="current_timestep"):
        run(pipe, DIT, Conditioning.CLASS, steps=2)


@pytest.mark.parametrize(("model_id", "conditioning"), [(PIXART, Conditioning.TEXT), (DIT, Conditioning.CLASS)])
def test_set_attention_backend_does_not_reach_these_models(profile, model_id, conditioning):
    from diffbench.knowledge.detection import attention_modules

    transformer = load_pipeline(model_id, conditioning, profile).transformer
    transformer.set_attention_backend("_native_math")
    assert all(not hasattr(a.processor, "_attention_backend") for a in attention_modules(transformer))


# --- the adapters act -----------------------------------------------------------------------------------------


def test_first_block_cache_skips_blocks_and_forgets_between_images(profile):
    pipe = dit(profile)
    tail = count_computations(pipe.transformer.transformer_blocks[-1])
    reference = run(pipe, DIT, Conditioning.CLASS)
    full_calls = len(tail)
    enable_first_block_cache(pipe.transformer, threshold=0.5)
    tail.clear()
    first = run(pipe, DIT, Conditioning.CLASS)
    assert 0 < len(tail) < full_calls
    second = run(pipe, DIT, Conditioning.CLASS)
    assert psnr(first, second) == float("inf")  # no cached residual leaks from one image into the next
    assert psnr(reference, first) < float("inf")


def test_pyramid_attention_broadcast_skips_self_attention(profile):
    pipe = dit(profile)
    attn = pipe.transformer.transformer_blocks[0].attn1
    processor = attn.processor
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return processor(*args, **kwargs)

    attn.set_processor(counting)
    run(pipe, DIT, Conditioning.CLASS, steps=20)
    full = len(calls)
    enable_pyramid_attention_broadcast(pipe.transformer, spatial_skip=3, cross_skip=None, timestep_range=(100, 800))
    calls.clear()
    run(pipe, DIT, Conditioning.CLASS, steps=20)
    assert 0 < len(calls) < full


def test_sdpa_pin_is_in_force(profile):
    pipe = dit(profile)
    reference = run(pipe, DIT, Conditioning.CLASS, steps=3)
    pin_sdpa_backend(pipe.transformer, "math")
    assert psnr(reference, run(pipe, DIT, Conditioning.CLASS, steps=3)) > 40
    pipe = dit(profile)
    pin_sdpa_backend(pipe.transformer, "efficient")  # a CUDA-only kernel: on a CPU no kernel is left to run
    with pytest.raises(RuntimeError):
        run(pipe, DIT, Conditioning.CLASS, steps=2)


def test_cfg_truncation_halves_the_batch_after_the_fraction(profile):
    from diffusers import DDIMScheduler

    pipe = load_pipeline(SD15, Conditioning.TEXT, profile)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)  # one UNet call per step (PNDM makes one more)
    batches = []
    pipe.unet.register_forward_pre_hook(lambda m, args: batches.append(args[0].shape[0]))
    kwargs = generation_kwargs(SD15, Conditioning.TEXT, 256, 10, 0)
    pipe(
        **kwargs,
        callback_on_step_end=TruncateGuidance(0.5, CFG_TENSORS["sd"]),
        callback_on_step_end_tensor_inputs=CFG_TENSORS["sd"],
    )
    assert batches == [2] * 6 + [1] * 4
    assert pipe.guidance_scale == 0.0
