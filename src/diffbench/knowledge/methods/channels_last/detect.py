import torch

from diffbench.knowledge.detection import denoiser


def detect(pipe):
    unet = denoiser(pipe) if getattr(pipe, "unet", None) is not None else None
    weight = getattr(getattr(unet, "conv_in", None), "weight", None)
    if weight is None or weight.is_contiguous() or not weight.is_contiguous(memory_format=torch.channels_last):
        return None
    return {"memory_format": "channels_last"}
