"""The Qwen-Image stand-in: a Qwen2.5-VL text encoder read through the pipeline's chat template, the Wan-style
causal 3D VAE (AutoencoderKLQwenImage) and the MMDiT QwenImageTransformer2DModel. Real architecture classes and
conditioning path (the pipeline drops the template's first 34 tokens, the system prompt, as it does for the real
tokenizer), tiny sizes, damped output, saved so that unmodified `QwenImagePipeline.from_pretrained` loads it.

Its own builder module (recipes._BUILDER_MODULES), so adding it left every other stand-in's revision as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diffusers import (
    AutoencoderKLQwenImage,
    FlowMatchEulerDiscreteScheduler,
    QwenImagePipeline,
    QwenImageTransformer2DModel,
)
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2Tokenizer
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from diffbench.models.standins.components import seeded
from diffbench.models.standins.damping import scale_module
from diffbench.models.standins.tokenizers import _T5_WORDS

# Qwen/Qwen-Image scheduler/scheduler_config.json: dynamic shifting on the image's token count, exponential.
QWEN_IMAGE_SCHEDULER = {"base_image_seq_len": 256, "base_shift": 0.5, "max_image_seq_len": 8192, "max_shift": 0.9,
                        "num_train_timesteps": 1000, "shift": 1.0, "shift_terminal": 0.02,
                        "time_shift_type": "exponential", "use_dynamic_shifting": True}  # fmt: skip
# The special tokens of Qwen2.5-VL the pipeline's template and the encoder's config name.
_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|video_pad|>"]

# QwenImagePipeline.__init__ sets this on the instance (diffusers 0.42.1, pipeline_qwenimage.py); a test checks that
# the built pipeline still uses it and drops exactly its system prefix.
PROMPT_TEMPLATE = (
    "<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial "
    "relationships of the objects and background:<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
)


def tiny_qwen2_tokenizer(vocab_size: int) -> Qwen2Tokenizer:
    """A byte-level BPE with Qwen2's pre-tokenizer, trained on the pipeline's prompt template and common prompt
    words: the template's system prefix is 34 tokens, as with the real tokenizer, so the pipeline's fixed
    `prompt_template_encode_start_idx` drops exactly the system prompt."""
    trainer_tokenizer = Tokenizer(models.BPE())
    trainer_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=_SPECIALS,
        show_progress=False,
    )
    corpus = [PROMPT_TEMPLATE.format(" ".join(_T5_WORDS))] * 3 + [" ".join(_T5_WORDS)] * 2
    trainer_tokenizer.train_from_iterator(corpus, trainer)
    model = json.loads(trainer_tokenizer.to_str())["model"]
    return Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=[tuple(m) for m in model["merges"]],
        additional_special_tokens=_SPECIALS[1:],
    )


def qwen25_vl_encoder(tokenizer: Qwen2Tokenizer, hidden: int) -> Qwen2_5_VLForConditionalGeneration:
    """Qwen2.5-VL with a two-layer language model (multimodal RoPE over its head dim) and a one-block vision tower
    that text-to-image never calls."""
    head_dim = hidden // 2
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": 2048,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0,
                                "mrope_section": [head_dim // 8, 3 * head_dim // 16, 3 * head_dim // 16]},
            "bos_token_id": ids("<|endoftext|>"),
            "eos_token_id": ids("<|im_end|>"),
        },
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2,
                       "out_hidden_size": hidden, "fullatt_block_indexes": [0]},
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
    )
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def qwen_image_vae(p: dict[str, Any]) -> AutoencoderKLQwenImage:
    """The causal 3D VAE with one level per `vae_dims` entry (the real one: [1, 2, 4, 4], 8x); the stand-in's extra
    levels (32x) keep a 1024 px image at 32x32 latents, 256 tokens after the 2x2 packing, as for FLUX.1 and SD3.5."""
    dims = p["vae_dims"]
    return AutoencoderKLQwenImage(
        base_dim=p["vae_base_dim"],
        z_dim=16,
        dim_mult=dims,
        num_res_blocks=1,
        temperal_downsample=[False, True, True] + [False] * (len(dims) - 4),
    ).eval()


def build_qwen_image(folder: Path, p: dict[str, Any]) -> None:
    seeded(p["seed"])
    tokenizer = tiny_qwen2_tokenizer(p["vocab_size"])
    text_encoder = qwen25_vl_encoder(tokenizer, p["text_hidden"])
    head_dim = p["head_dim"]
    transformer = QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=16 * 4,  # latents are packed 2x2
        out_channels=16,
        num_layers=p["layers"],
        attention_head_dim=head_dim,
        num_attention_heads=p["heads"],
        joint_attention_dim=p["text_hidden"],
        axes_dims_rope=(head_dim // 4, 3 * head_dim // 8, 3 * head_dim // 8),
    ).eval()
    scale_module(transformer.proj_out, p["damping"]["output"])
    pipe = QwenImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**p["scheduler_config"]),
        vae=qwen_image_vae(p),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
