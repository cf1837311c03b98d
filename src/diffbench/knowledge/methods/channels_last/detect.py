import torch

from diffbench.knowledge.detection import denoiser, every_call


def detect(pipe):
    unet = denoiser(pipe) if getattr(pipe, "unet", None) is not None else None
    weight = getattr(getattr(unet, "conv_in", None), "weight", None)
    if weight is None or weight.is_contiguous() or not weight.is_contiguous(memory_format=torch.channels_last):
        return None
    return {"memory_format": "channels_last"}


RULE = "effect-memory-format"
MEASURES = "the memory format of the UNet's first convolution weight at every denoiser call"


def effect(pipe, trace):
    return every_call(trace, lambda call: call.channels_last is True, "run with channels_last weights")
