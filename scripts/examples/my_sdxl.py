"""A user's own SDXL baseline as most published snippets write it: the checkpoint's default (Euler) scheduler,
30 steps, fp16 weights where a GPU is there. The exact route: `diffagent solve "..." --baseline my_sdxl.py`."""

import torch
from diffusers import StableDiffusionXLPipeline

MODEL_ID = "stabilityai/stable-diffusion-xl-base-1.0"


def load_pipeline(device: str):
    pipe = StableDiffusionXLPipeline.from_pretrained(MODEL_ID, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def generate(pipe, request: dict) -> list:
    generator = torch.Generator("cpu").manual_seed(request["seed"])
    result = pipe(
        prompt=request["prompt"],
        negative_prompt=request.get("negative_prompt"),
        num_inference_steps=30,
        height=1024,
        width=1024,
        generator=generator,
    )
    return result.images
