"""DiT class-to-image (facebook/DiT-XL-2-256), reference for L2

Solution contract: `load_pipeline(device)` builds the pipeline (not timed); `generate(pipe, request)` makes the
images for one request (timed). Composed by diffbench from its knowledge base.
"""

import torch
from diffusers import DiTPipeline

from diffusers import DPMSolverMultistepScheduler
from diffusers.hooks import FirstBlockCacheConfig, apply_first_block_cache
from diffusers.hooks import HookRegistry
from diffusers.models.cache_utils import CacheMixin

MODEL_ID = "facebook/DiT-XL-2-256"
NUM_INFERENCE_STEPS = 30


def open_cache_context(transformer):
    """FirstBlockCache keeps its state in a cache context, which only CacheMixin pipelines open around their
    denoiser calls; DiT and PixArt do not, so open one around every call of the transformer."""
    forward = transformer.forward

    def forward_in_cache_context(*args, **kwargs):
        with CacheMixin.cache_context(transformer, "denoise"):
            return forward(*args, **kwargs)

    transformer.forward = forward_in_cache_context


def load_pipeline(device: str):
    pipe = DiTPipeline.from_pretrained(MODEL_ID)
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, algorithm_type="dpmsolver++", solver_order=2
    )
    apply_first_block_cache(pipe.transformer, FirstBlockCacheConfig(threshold=0.14))
    open_cache_context(pipe.transformer)
    return pipe



def generate(pipe, request: dict) -> list:
    generator = torch.Generator("cpu").manual_seed(request["seed"])
    HookRegistry.check_if_exists_or_initialize(pipe.transformer).reset_stateful_hooks()  # a new image: nothing cached
    result = pipe(
        class_labels=[request["class_label"]],
        num_inference_steps=NUM_INFERENCE_STEPS,
        generator=generator,
    )
    return result.images
