"""The flow-matching stand-ins (issue 17, work in progress): built tiny, loaded by unmodified `from_pretrained`,
they generate at the asked size through the real conditioning path, and their transformers take diffusers' cache
hooks (`enable_cache`)."""

from __future__ import annotations

import pytest
import torch

from diffbench.models.standins.flow_pipelines import (
    FLUX_DEV_SCHEDULER,
    FLUX_SCHNELL_SCHEDULER,
    SD35_SCHEDULER,
    build_flux,
    build_sd3,
)

TINY = {"seed": 0, "resolution": 256, "vae_channels": [8, 8, 16, 16], "heads": 2, "head_dim": 16,
        "clip_hidden": 32, "text_hidden": 64, "damping": {"output": 0.1}}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["dev", "schnell"])
def test_flux_stand_in_loads_and_generates(tmp_path, variant):
    from diffusers import FirstBlockCacheConfig, FluxPipeline

    config = FLUX_DEV_SCHEDULER if variant == "dev" else FLUX_SCHNELL_SCHEDULER
    build_flux(tmp_path, {**TINY, "layers": 1, "single_layers": 2, "guidance": variant == "dev",
                          "scheduler_config": config})  # fmt: skip
    pipe = FluxPipeline.from_pretrained(tmp_path)
    assert pipe.transformer.config.guidance_embeds is (variant == "dev")
    kwargs = {"guidance_scale": 3.5} if variant == "dev" else {"guidance_scale": 0.0}
    image = pipe("a lighthouse", height=128, width=128, num_inference_steps=2, max_sequence_length=64,
                 generator=torch.Generator().manual_seed(0), **kwargs).images[0]  # fmt: skip
    assert image.size == (128, 128)
    pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=0.2))
    assert pipe("a lighthouse", height=128, width=128, num_inference_steps=2, max_sequence_length=64,
                **kwargs).images[0].size == (128, 128)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("dual", [3, 0])  # 3.5 medium: dual attention in its first layers; large: none
def test_sd35_stand_in_loads_and_generates(tmp_path, dual):
    from diffusers import StableDiffusion3Pipeline

    build_sd3(tmp_path, {**TINY, "clip_hidden_2": 32, "layers": 3, "dual_attention_layers": dual,
                         "scheduler_config": SD35_SCHEDULER})  # fmt: skip
    pipe = StableDiffusion3Pipeline.from_pretrained(tmp_path)
    assert pipe.transformer.config.dual_attention_layers == list(range(dual))
    image = pipe("a lighthouse", height=128, width=128, num_inference_steps=2, max_sequence_length=64,
                 generator=torch.Generator().manual_seed(0)).images[0]  # fmt: skip
    assert image.size == (128, 128)


def test_qwen2_tokenizer_drops_exactly_the_system_prompt():
    """QwenImagePipeline drops a fixed 34 tokens (its system prompt) from the encoder's output: the stand-in's
    tokenizer splits the pipeline's own template so that the user's words are what remains."""
    from diffusers import QwenImagePipeline

    from diffbench.models.standins.qwen_image_pipeline import PROMPT_TEMPLATE, tiny_qwen2_tokenizer

    tokenizer = tiny_qwen2_tokenizer(600)
    pipe = QwenImagePipeline(scheduler=None, vae=None, text_encoder=None, tokenizer=tokenizer, transformer=None)
    assert pipe.prompt_template_encode == PROMPT_TEMPLATE
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(PROMPT_TEMPLATE.format("a red cat"))["input_ids"])
    kept = tokens[pipe.prompt_template_encode_start_idx :]
    assert kept[:3] == ["a", "Ġred", "Ġcat"]
    assert tokens[pipe.prompt_template_encode_start_idx - 1] == "Ċ"  # the end of "<|im_start|>user\n"


@pytest.mark.slow
def test_qwen_image_stand_in_loads_and_generates_with_true_cfg(tmp_path):
    from diffusers import FirstBlockCacheConfig, QwenImagePipeline

    from diffbench.models.standins.qwen_image_pipeline import QWEN_IMAGE_SCHEDULER, build_qwen_image

    build_qwen_image(tmp_path, {"seed": 0, "vocab_size": 600, "text_hidden": 32, "heads": 2, "head_dim": 16,
                                "layers": 2, "vae_base_dim": 4, "vae_dims": [1, 1, 2, 2],
                                "scheduler_config": QWEN_IMAGE_SCHEDULER, "damping": {"output": 0.1}})  # fmt: skip
    pipe = QwenImagePipeline.from_pretrained(tmp_path)
    assert pipe.vae_scale_factor == 8
    calls = []
    pipe.transformer.register_forward_hook(lambda *_: calls.append(1))

    def run(**kwargs):
        return pipe("a lighthouse", height=128, width=128, num_inference_steps=2, true_cfg_scale=4.0,
                    generator=torch.Generator().manual_seed(0), **kwargs).images[0]  # fmt: skip

    assert run(negative_prompt=" ").size == (128, 128)
    assert len(calls) == 4  # true classifier-free guidance: two transformer calls per step
    pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=0.2))
    assert run(negative_prompt=" ").size == (128, 128)
