"""DiT class-to-image (facebook/DiT-XL-2-256), baseline

Solution contract: `load_pipeline(device)` builds the pipeline (not timed); `generate(pipe, request)` makes the
images for one request (timed). Composed by diffbench from its knowledge base.
"""

import torch
from diffusers import DiTPipeline

from diffusers import DPMSolverMultistepScheduler

MODEL_ID = "facebook/DiT-XL-2-256"
NUM_INFERENCE_STEPS = 30


def load_pipeline(device: str):
    pipe = DiTPipeline.from_pretrained(MODEL_ID)
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(
        pipe.scheduler.config, algorithm_type="dpmsolver++", solver_order=2
    )
    return pipe



def generate(pipe, request: dict) -> list:
    generator = torch.Generator("cpu").manual_seed(request["seed"])
    result = pipe(
        class_labels=[request["class_label"]],
        num_inference_steps=NUM_INFERENCE_STEPS,
        generator=generator,
    )
    return result.images
